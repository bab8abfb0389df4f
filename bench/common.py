"""Shared helpers for the benchmarks: machine description, repeated timing, statistics, JSON output.

Every benchmark process pins torch to one intra-op thread (the development machine is shared; see README) and
records the thread count, the load average before and after, and the machine it ran on.
"""
from __future__ import annotations
import json, os, platform, statistics, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("LPC_BENCH_RESULTS") or ROOT / "bench" / "results")  # tests redirect it
if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))

import torch


def set_threads(n: int | None = None) -> int:
    "Pin torch to `n` intra-op threads (default: $LPC_BENCH_THREADS, else 1); returns the count in use."
    n = int(os.environ.get("LPC_BENCH_THREADS", "1")) if n is None else n
    torch.set_num_threads(n)
    return torch.get_num_threads()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"): return line.split(":", 1)[1].strip()
    except OSError: pass
    return platform.processor() or "unknown"


def machine() -> dict:
    "Where and how the numbers were taken."
    try: import lpc_book; ver = lpc_book.__version__
    except Exception: ver = None
    return dict(platform=platform.platform(), python=platform.python_version(), cpu_model=cpu_model(),
                cpu_count=os.cpu_count(), torch=torch.__version__, torch_num_threads=torch.get_num_threads(),
                torch_num_interop_threads=torch.get_num_interop_threads(), cuda=torch.cuda.is_available(),
                lpc_book=ver, hostname=platform.node())


def loadavg() -> list[float] | None:
    try: return [round(v, 2) for v in os.getloadavg()]
    except OSError: return None


def summary(xs: list[float]) -> dict:
    "Median and spread of repeated measurements."
    xs = sorted(float(x) for x in xs)
    n = len(xs)
    q = (lambda p: xs[min(n - 1, max(0, round(p * (n - 1))))]) if n else (lambda p: float("nan"))
    return dict(median=statistics.median(xs) if n else float("nan"), q25=q(0.25), q75=q(0.75),
                min=xs[0] if n else float("nan"), max=xs[-1] if n else float("nan"), n=n, values=xs)


class Timer:
    "Wall-clock (perf_counter) and process CPU time of a block; with one torch thread, CPU time is robust to load."
    def __enter__(self):
        self.w0, self.c0 = time.perf_counter(), time.process_time(); return self
    def __exit__(self, *a):
        self.wall, self.cpu = time.perf_counter() - self.w0, time.process_time() - self.c0


def write_json(obj: dict, name: str) -> Path:
    "Write results atomically to bench/results/NAME.json."
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(obj, indent=1))
    os.replace(tmp, path)
    return path


def header(name: str, quick: bool) -> dict:
    return dict(benchmark=name, quick=quick, started=time.strftime("%Y-%m-%dT%H:%M:%S%z"), machine=machine(),
                loadavg_start=loadavg(), argv=sys.argv)


def footer(res: dict, t0: float) -> dict:
    res["loadavg_end"] = loadavg()
    res["seconds"] = round(time.perf_counter() - t0, 1)
    return res


def finish(res: dict, t0: float, name: str) -> Path:
    "Record the thread count, the load average and the duration, write NAME.json, and say where."
    res["torch_num_threads"] = torch.get_num_threads()
    path = write_json(footer(res, t0), name)
    print(f"  -> {path} ({res['seconds']} s)")
    return path


# ---- old and new samplers side by side -------------------------------------------------------------------------
# `lpc_book/samplers.py` before the sampler redesign (e.g. 399e23b, 17556df) had `langevin(..., method=, stats=)`,
# added theta's chain-averaged gradient into the caller's `.grad` and returned the final latents (or the K states
# after each move). Since then `langevin(..., sampler=)` returns a `ChainResult` and leaves `.grad` alone. Two entry
# points make either usable through the new calling convention:
#   * `load_impl(path)` -> a `langevin` returning a `ChainResult` (what `lpc_book.methods.LPC` calls);
#   * `chain_call(langevin)` -> run(energy, z0, K, eta, sampler, generator, params): the unit the step-overhead
#     benchmark times, "one chain, theta's gradient in the caller's .grad" (old: one native call; new: the call and
#     `add_grads`, exactly what LPC does with it), with no adapter work in between.
# The two APIs also differ in the work a chain does (`evaluations`): the old chains evaluated z_0..z_{K-1} (K
# evaluations, z_K never evaluated); the new ones evaluate z_0..z_K (K + 1).

def _load_module(path):
    "A copy of samplers.py as a module inside the `lpc_book` package (its relative imports, e.g. `.parallel`, resolve)."
    import hashlib, importlib.util, lpc_book
    name = f"lpc_book._bench_samplers_{hashlib.sha1(str(Path(path).resolve()).encode()).hexdigest()[:10]}"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses and pickling look the module up by name
    spec.loader.exec_module(mod)
    return mod


def api_of(langevin) -> str:
    "'old' (method=, stats=, returns a tensor) or 'new' (sampler=, returns a ChainResult)."
    import inspect
    if getattr(langevin, "api", None): return langevin.api
    return "old" if "method" in inspect.signature(langevin).parameters else "new"


def evaluations(api: str, variant: str, K: int) -> dict:
    """Energy-gradient evaluations of one chain of K moves: `full` (energy, one backward w.r.t. z and theta) and `z`
    (z-gradient only), for `variant` (see step_overhead.VARIANTS) and burn_in = 0.

    new: ULA / preconditioned with params evaluate z_0..z_K with theta (K + 1 full); MALA with params evaluates z_0
    with theta, each of the K proposals for z only and the kept state again with theta (1 + K full, K z); without
    params every sampler makes K + 1 z-only evaluations (z_0 and the K new states or proposals).
    old: z_0..z_{K-1}: K full for ULA / preconditioned, K full + K z for MALA, K z for ULA without params, K + 1 z for
    MALA without params (z_0 and the K proposals)."""
    if api not in ("old", "new"): raise ValueError(api)
    new = api == "new"
    return {"ula": dict(full=K + new, z=0), "preconditioned": dict(full=K + new, z=0),
            "mala": dict(full=K + new, z=K), "ula_sample": dict(full=0, z=K + new),
            "mala_sample": dict(full=0, z=K + 1)}[variant]


def chain_call(langevin):
    "The timed unit of the step-overhead benchmark through one convention: run(energy, z0, K, eta, sampler, generator, params)."
    raw = getattr(langevin, "raw", langevin)
    if api_of(langevin) == "old":
        def run(energy, z0, K, eta, sampler, generator, params=None):
            raw(energy, z0, K, eta, method=sampler, generator=generator, params=params)
    else:
        import inspect
        from lpc_book.samplers import add_grads
        noise = "rng" if "rng" in inspect.signature(raw).parameters else "generator"  # generator= before 93ab88b
        def run(energy, z0, K, eta, sampler, generator, params=None):
            res = raw(energy, z0, K, eta, sampler=sampler, params=params, **{noise: generator})
            if params is not None: add_grads(params, res.theta_grad)
    return run


def _adapt_old(old, has_energy: bool):
    """The new `langevin` interface over an old one. Honest about cost: the old chain runs as it did (its K
    evaluations), theta's gradient is taken out of `.grad` the way the new sampler hands it back, the states gain
    z_0 in front; what the old sampler did not compute is not computed here either and is NaN in the result
    (`energy0`; `accept_prob` of ULA / preconditioned), except the final energy, which LPC logs as its loss: the
    sampler of 17556df reported the mean energy of the last evaluated state (z_{K-1}) at no cost, given here for
    every chain; older samplers (399e23b) reported none, and LPC then paid one more energy pass, made here."""
    from lpc_book.samplers import ChainResult

    def langevin_impl(energy, z0, n_steps, step_size, *, sampler="ula", rng=None, generator=None,
                      return_chain=False, params=None, diagnose=True, **kw):
        # `diagnose` (the new sampler's optional acceptance of ULA/preconditioned moves) has no old counterpart
        if rng is not None:
            if getattr(rng, "world", 1) != 1: raise ValueError("the old samplers have no sharded noise (world > 1)")
            generator = rng.generator
        stats, B = {}, z0.shape[0]
        ps = list(params) if params is not None else None
        saved = [p.grad for p in ps] if ps else None
        if ps:
            for p in ps: p.grad = None  # the old sampler adds into .grad: collect it apart, as the new one does
        try: out = old(energy, z0, n_steps, step_size, method=sampler, generator=generator,
                       return_chain=return_chain, params=ps, stats=stats, **kw)
        finally:
            theta_grad = [p.grad if p.grad is not None else torch.zeros_like(p) for p in ps] if ps else None
            if ps:
                for p, g in zip(ps, saved): p.grad = g
        z = (out[-1] if n_steps else z0) if return_chain else out
        if has_energy and stats.get("energy") is not None: energy_K = stats["energy"].expand(B)
        else:
            with torch.no_grad(): energy_K = energy(z).detach()  # the pass LPC made for its loss back then
        nan = z0.new_full((B,), float("nan"))
        rate = stats.get("accept_rate")
        return ChainResult(z=z, energy=energy_K, energy0=nan, z0=z0,
                           trajectory=torch.cat([z0.detach()[None], out]) if return_chain else None,
                           theta_grad=theta_grad, grad_evals=stats.get("grad_evals", n_steps),
                           accept_prob=nan if rate is None else z0.new_full((B,), rate),
                           accept_rate=None if rate is None else z0.new_full((B,), rate),
                           step_size=float(step_size), sampler=sampler, n_steps=n_steps, diagnosed=rate is not None)
    return langevin_impl


def load_impl(path):
    """`langevin` of another copy of `lpc_book/samplers.py` (a saved version for before/after comparisons, or a
    scratch prototype), with the new calling convention and result (`ChainResult`) whatever its API. The returned
    function has `.api` ('old' / 'new'), `.raw` (the module's own `langevin`), `.path` and `.loss_pass` (True: an old
    sampler that reported no final energy, for which the adapter makes LPC's extra energy pass)."""
    mod = _load_module(path)
    raw = mod.langevin
    loss_pass = False
    if api_of(raw) == "new": f = lambda *a, **kw: raw(*a, **kw)
    else:
        loss_pass = 'stats["energy"]' not in Path(path).read_text()
        f = _adapt_old(raw, has_energy=not loss_pass)
    f.api, f.raw, f.path, f.loss_pass = api_of(raw), raw, str(path), loss_pass
    return f


def use_sampler(path) -> dict:
    """Make LPC (`lpc_book.methods`) use the `langevin` of another samplers.py (through `load_impl`, so an old one
    returns a `ChainResult` too); returns what was used: its path and API (the API says how many states a chain
    evaluates: old K, new K + 1)."""
    import lpc_book.methods
    if path: lpc_book.methods.langevin = load_impl(path)
    lv = lpc_book.methods.langevin
    return dict(implementation=str(path or "lpc_book.samplers"), sampler_api=api_of(lv),
                loss_pass=getattr(lv, "loss_pass", False))
