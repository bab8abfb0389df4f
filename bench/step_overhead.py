"""Step overhead: one Langevin step of `lpc_book.samplers.langevin` against the bare decoder passes it cannot avoid.

For a conv decoder (`make_decoder`) in a `LatentModel` with a Gaussian likelihood and a standard-normal prior, on a
fixed batch x and latents z0, we time

* `bare_full`: repetitions of the minimal work of one evaluation of LPC's chain, `zl = z.detach().requires_grad_();
  E = model.energy(x, zl); E.sum().backward()` (energy, one backward giving grad_z and every theta-gradient);
* `bare_z`: the same with `torch.autograd.grad(E.sum(), zl)` (z-gradient only: sampling without learning);
* `langevin(...)` with K moves for ULA, preconditioned ULA and MALA, with `params=` (LPC's learning step, theta's
  gradient then added to the caller's `.grad` with `add_grads`, as LPC does) and without (pure sampling), per step =
  time of the call / K (argument checks, diagnostics and gradient settling included).

The overhead ratio of a sampler is its per-step time divided by the per-step time of the minimal work it has to do,
(n_full * bare_full + n_z * bare_z) / K, with the evaluation counts of a chain of K moves (`common.evaluations`). The
current sampler evaluates z_0 and every new state: K + 1 full evaluations for ULA / preconditioned with params; for
MALA with params 1 full (z_0) + K z-only (the proposals) + K full (the kept state again, with theta); K + 1 z-only
without params. (The samplers before the redesign, e.g. 399e23b and 17556df, left z_K unevaluated: K full, K full +
K z for MALA, K z for ULA without params, K + 1 z for MALA without; their figures use those counts.) Ideal 1.0,
target <= 1.10. Variants are interleaved within each repetition (in a rotating order), so that the machine's load
drifts hit all of them alike, and ratios are taken per repetition (paired) and then summarised by the median over
repetitions. Wall-clock and process CPU time are both recorded; with one torch thread the CPU time is the less
load-sensitive of the two.

`--paired OLD` measures the sampler's own cost per step (the synthetic energy below) of OLD and of the current
sampler (or `--impl`) interleaved in one process, and their ratio per repetition: the before/after figure under the
same load.
"""
from __future__ import annotations
import argparse, time
import torch
from common import set_threads, header, summary, Timer, finish, load_impl, chain_call, api_of, evaluations

from lpc_book.models import make_decoder, LatentModel, make_likelihood, StandardNormal, count_params
from lpc_book.samplers import langevin

SHAPES = {"8x8": (1, 8, 8), "28x28": (1, 28, 28), "32x32": (3, 32, 32)}
LATENT = {"8x8": 8, "28x28": 16, "32x32": 32}
WIDTHS = (8, 32)
BATCHES = (64, 256)
STEP = {"ula": 1e-3, "preconditioned": 1e-3, "mala": 1e-3}
# variant -> (sampler, with params); its reference work: `common.evaluations`
VARIANTS = {
    "ula": ("ula", True), "preconditioned": ("preconditioned", True), "mala": ("mala", True),
    "ula_sample": ("ula", False), "mala_sample": ("mala", False),
}
DEFAULT_VARIANTS = ("ula", "preconditioned", "mala", "ula_sample")


def build(shape_name, width, batch, seed=0):
    torch.manual_seed(seed)
    shape, d = SHAPES[shape_name], LATENT[shape_name]
    dec = make_decoder(shape, d, width=width)
    model = LatentModel(dec, make_likelihood("gaussian"), StandardNormal(d))
    x = torch.rand(batch, *shape) * 2 - 1
    z0 = torch.randn(batch, d)
    return model, x, z0


def reference(variant, t, K, api="new"):
    "Per-step minimal work for `variant` from the bare per-step timings t = {'bare_full': .., 'bare_z': ..}."
    n = evaluations(api, variant, K)
    return (n["full"] * t["bare_full"] + n["z"] * t["bare_z"]) / K


def time_config(shape_name, width, batch, K, reps, variants, budget=None, langevin=langevin):
    """Time the bare passes and the samplers on one configuration. `reps` repetitions (after a short warm-up), or,
    with `budget` seconds, as many as fit (between `reps` and 3 * `reps`)."""
    model, x, z0 = build(shape_name, width, batch)
    params = list(model.parameters())
    energy = lambda z: model.energy(x, z)
    run_chain, api = chain_call(langevin), api_of(langevin)

    def bare_full(k):
        for _ in range(k):
            zl = z0.detach().requires_grad_()
            model.energy(x, zl).sum().backward()

    def bare_z(k):
        for _ in range(k):
            zl = z0.detach().requires_grad_()
            torch.autograd.grad(model.energy(x, zl).sum(), zl)

    def sampler(v):
        method, with_params = VARIANTS[v]
        g = torch.Generator().manual_seed(1)
        return lambda k: run_chain(energy, z0, k, STEP[method], method, g, params if with_params else None)

    fns = {"bare_full": bare_full, "bare_z": bare_z, **{v: sampler(v) for v in variants}}
    names = list(fns)
    for n in names: fns[n](2)  # warm-up (allocator, first-call costs)
    wall = {n: [] for n in names}; cpu = {n: [] for n in names}
    t_start, r = time.perf_counter(), 0
    while r < reps or (budget and r < 3 * reps and (time.perf_counter() - t_start) * (r + 1) / r < budget):
        order = names[r % len(names):] + names[:r % len(names)]
        for n in order:
            for p in params: p.grad = None
            with Timer() as tm: fns[n](K)
            wall[n].append(tm.wall / K); cpu[n].append(tm.cpu / K)
        r += 1
    for p in params: p.grad = None
    out = dict(shape=SHAPES[shape_name], latent_dim=LATENT[shape_name], width=width, batch=batch, K=K, reps=r,
               decoder_params=count_params(model.decoder), api=api,
               evaluations={v: evaluations(api, v, K) for v in variants},
               per_step_ms={n: summary([1e3 * v for v in wall[n]]) for n in names},
               per_step_cpu_ms={n: summary([1e3 * v for v in cpu[n]]) for n in names}, ratio={}, ratio_cpu={})
    for v in variants:
        for key, tt in (("ratio", wall), ("ratio_cpu", cpu)):
            paired = [tt[v][i] / reference(v, {k: tt[k][i] for k in ("bare_full", "bare_z")}, K, api) for i in range(r)]
            out[key][v] = summary(paired)
    return derive(out, variants)


def derive(c, variants):
    "Ratio of the minimum times over repetitions (the least-disturbed runs), beside the median of paired ratios."
    mins = {n: v["min"] for n, v in c["per_step_ms"].items()}
    c["ratio_of_min"] = {v: mins[v] / reference(v, mins, c["K"], c.get("api", "old")) for v in variants}
    return c


def _synthetic_fns(impls, variants, K, n_calls):
    """The timed blocks of the synthetic benchmark: the bare passes and, per implementation and variant, `n_calls`
    chains of K moves, on E = |w * z|^2 (B = 64, d = 16, one parameter w)."""
    w = torch.nn.Parameter(torch.randn(16))
    z0 = torch.randn(64, 16)
    en = lambda z: ((z * w) ** 2).sum(1)
    gen = torch.Generator().manual_seed(0)
    def bare_full():
        for _ in range(n_calls * K): zl = z0.detach().requires_grad_(); en(zl).sum().backward()
    def bare_z():
        for _ in range(n_calls * K): zl = z0.detach().requires_grad_(); torch.autograd.grad(en(zl).sum(), zl)
    fns = {"bare_full": bare_full, "bare_z": bare_z}
    for name, lv in impls.items():
        run_chain = chain_call(lv)
        for v in variants:
            method, with_params = VARIANTS[v]
            def f(run_chain=run_chain, method=method, ps=[w] if with_params else None):  # bound now, not late
                for _ in range(n_calls): run_chain(en, z0, K, 1e-3, method, gen, ps)
            fns[f"{name}:{v}" if name else v] = f
    for f in fns.values(): f()  # warm-up
    return fns, w


def _time_blocks(fns, w, reps, K, n_calls):
    "CPU microseconds per step of each block, `reps` times, in a rotating order (load drifts hit every block alike)."
    names = list(fns)
    t = {n: [] for n in names}
    for r in range(reps):
        for n in names[r % len(names):] + names[:r % len(names)]:
            w.grad = None
            with Timer() as tm: fns[n]()
            t[n].append(1e6 * tm.cpu / (n_calls * K))
    return t


def synthetic(langevin=langevin, K=20, reps=9, n_calls=25, variants=DEFAULT_VARIANTS):
    """The sampler's own per-step cost: `langevin` on an energy that costs almost nothing (E = |w * z|^2, B = 64,
    d = 16, one parameter), minus the bare passes it must make on it (its own evaluation count), in microseconds per
    step (minimum and median over `reps` repetitions of `n_calls` calls of K steps, CPU time). This is the overhead
    every step adds whatever the model."""
    api = api_of(langevin)
    fns, w = _synthetic_fns({"": langevin}, variants, K, n_calls)
    t = _time_blocks(fns, w, reps, K, n_calls)
    out = dict(K=K, reps=reps, n_calls=n_calls, api=api, evaluations={v: evaluations(api, v, K) for v in variants},
               per_step_us={n: summary(v) for n, v in t.items()}, overhead_us={})
    for v in variants:
        for stat in ("min", "median"):
            ref = reference(v, {k: out["per_step_us"][k][stat] for k in ("bare_full", "bare_z")}, K, api)
            out["overhead_us"].setdefault(v, {})[stat] = out["per_step_us"][v][stat] - ref
        own = [t[v][i] - reference(v, {k: t[k][i] for k in ("bare_full", "bare_z")}, K, api) for i in range(reps)]
        out["overhead_us"][v]["paired"] = summary(own)
    return out


def paired_synthetic(impls, K=20, reps=15, n_calls=25, variants=DEFAULT_VARIANTS):
    """The sampler's own per-step cost of several implementations (name -> langevin), all blocks interleaved in one
    process; per repetition, own cost = the chain's time per step - its minimal work from that repetition's bare
    passes, and the ratio of each implementation's own cost to the first one's (paired)."""
    fns, w = _synthetic_fns(impls, variants, K, n_calls)
    t = _time_blocks(fns, w, reps, K, n_calls)
    bare = lambda i, stat=None: ({k: t[k][i] for k in ("bare_full", "bare_z")} if stat is None else
                                 {k: summary(t[k])[stat] for k in ("bare_full", "bare_z")})
    out = dict(K=K, reps=reps, n_calls=n_calls, variants=list(variants), per_step_us={n: summary(v) for n, v in t.items()},
               implementations={}, own_us={}, ratio_to_first={})
    first = next(iter(impls))
    own = {}
    for name, lv in impls.items():
        api = api_of(lv)
        out["implementations"][name] = dict(path=getattr(lv, "path", "lpc_book.samplers"), api=api,
                                            evaluations={v: evaluations(api, v, K) for v in variants})
        for v in variants:
            key = f"{name}:{v}"
            own[key] = [t[key][i] - reference(v, bare(i), K, api) for i in range(reps)]
            out["own_us"].setdefault(name, {})[v] = dict(
                min=summary(t[key])["min"] - reference(v, bare(None, "min"), K, api),
                median=summary(t[key])["median"] - reference(v, bare(None, "median"), K, api), paired=summary(own[key]))
    for name in impls:
        if name == first: continue
        for v in variants:
            out["ratio_to_first"].setdefault(name, {})[v] = dict(
                paired=summary([a / b for a, b in zip(own[f"{name}:{v}"], own[f"{first}:{v}"])]),
                of_min=out["own_us"][name][v]["min"] / out["own_us"][first][v]["min"],
                of_median=out["own_us"][name][v]["paired"]["median"] / out["own_us"][first][v]["paired"]["median"])
    return out


def _steps_for(s, w, b):
    "20 steps per timed call for configurations whose bare pass is cheap, 10 for the expensive ones."
    model, x, z0 = build(s, w, b)
    zl = z0.requires_grad_()
    model.energy(x, zl).sum().backward()  # warm
    with Timer() as tm: model.energy(x, zl).sum().backward()
    return 20 if tm.wall < 0.015 else 10


def run_paired(old, quick=False, suffix="", impl=None, reps=None, variants=DEFAULT_VARIANTS, n_calls=None):
    "The sampler's own cost per step, OLD (a samplers.py) against the current one (or `impl`), into step_overhead_paired.json."
    t0 = time.perf_counter()
    set_threads()
    res = header("step_overhead_paired", quick)
    impls = {"before": load_impl(old), "after": load_impl(impl) if impl else langevin}
    res.update(description=paired_synthetic.__doc__.strip(), before=str(old), after=str(impl or "lpc_book.samplers"))
    res["synthetic"] = syn = paired_synthetic(impls, reps=reps or (5 if quick else 30), variants=variants,
                                              n_calls=n_calls or (25 if quick else 10))
    for v in variants:
        b, a, q = syn["own_us"]["before"][v], syn["own_us"]["after"][v], syn["ratio_to_first"]["after"][v]
        print(f"  {v:>15}: own cost us/step, before {b['min']:6.1f} (median {b['paired']['median']:6.1f}) -> after "
              f"{a['min']:6.1f} (median {a['paired']['median']:6.1f}); after / before: paired median "
              f"{q['paired']['median']:.2f} [{q['paired']['q25']:.2f}, {q['paired']['q75']:.2f}], of minima {q['of_min']:.2f}",
              flush=True)
    finish(res, t0, "step_overhead_paired" + suffix)
    return res


def run(quick=False, suffix="", variants=DEFAULT_VARIANTS, K=None, reps=None, budget=None, impl=None,
        synthetic_only=False):
    """All configurations. K steps per timed call: 20 (the LPC default) when a bare pass takes < 15 ms, else 10
    (the per-call costs are then negligible anyway); `reps` repetitions at least, more within `budget` s per config."""
    t0 = time.perf_counter()
    set_threads()
    reps = reps or (3 if quick else 5)
    budget = budget if budget is not None else (0 if quick else 12)
    res = header("step_overhead", quick)
    lv = load_impl(impl) if impl else langevin
    res.update(description=__doc__.strip(), min_reps=reps, budget_s=budget, step_sizes=STEP, target=1.10, configs=[],
               implementation=str(impl or "lpc_book.samplers"), api=api_of(lv), loss_pass=getattr(lv, "loss_pass", False))
    res["synthetic"] = syn = synthetic(lv, reps=5 if quick else 9)
    print("  sampler's own cost per step (us, min over reps): " +
          " ".join(f"{v} {syn['overhead_us'][v]['min']:.0f}" for v in variants), flush=True)
    if synthetic_only: shapes = ()
    else: shapes = ("8x8", "28x28") if quick else tuple(SHAPES)
    batches = (64,) if quick else BATCHES
    for s in shapes:
        for w in WIDTHS:
            for b in batches:
                k = K or (10 if quick else _steps_for(s, w, b))
                c = time_config(s, w, b, k, reps, variants, budget, langevin=lv)
                c["name"] = f"{s} w{w} B{b}"
                res["configs"].append(c)
                print(f"  {c['name']:>16}: bare {c['per_step_ms']['bare_full']['median']:8.2f} ms/step | " +
                      " ".join(f"{v} {c['ratio'][v]['median']:.3f} (cpu {c['ratio_cpu'][v]['median']:.3f}, "
                               f"min {c['ratio_of_min'][v]:.3f})" for v in variants), flush=True)
    finish(res, t0, "step_overhead" + suffix)
    return res


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true"); ap.add_argument("--suffix", default="")
    ap.add_argument("--K", type=int); ap.add_argument("--reps", type=int); ap.add_argument("--budget", type=float)
    ap.add_argument("--impl", help="path of another samplers.py to benchmark (e.g. a saved 'before' version)")
    ap.add_argument("--synthetic-only", action="store_true", help="only the sampler's own per-step cost")
    ap.add_argument("--n-calls", type=int, help="--paired: chains per timed block (default 10)")
    ap.add_argument("--paired", metavar="OLD", help="only the sampler's own per-step cost of OLD (a samplers.py) and of "
                    "the current one (or --impl), interleaved in one process -> step_overhead_paired.json")
    a = ap.parse_args()
    if a.paired: run_paired(a.paired, a.quick, a.suffix, a.impl, a.reps, n_calls=a.n_calls)
    else: run(a.quick, a.suffix, K=a.K, reps=a.reps, budget=a.budget, impl=a.impl, synthetic_only=a.synthetic_only)
