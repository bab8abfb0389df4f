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
(n_full * bare_full + n_z * bare_z) / K, with the evaluation counts of a chain of K moves (`evaluations`): the
sampler evaluates z_0 and every new state, K + 1 full evaluations for ULA / preconditioned with params; for MALA
with params 1 full (z_0) + K z-only (the proposals) + K full (the kept state again, with theta); K + 1 z-only
without params. Ideal 1.0, target <= 1.10. Variants are interleaved within each repetition (in a rotating order), so
that the machine's load drifts hit all of them alike, and ratios are taken per repetition (paired) and then
summarised by the median over repetitions. Wall-clock and process CPU time are both recorded; with one torch thread
the CPU time is the less load-sensitive of the two.

The earlier figures are the committed JSON files (`step_overhead_before.json`: the sampler before the optimisation;
see bench/results/README.md); this script measures the package as it is.
"""
from __future__ import annotations
import argparse, time
import torch
from common import set_threads, header, summary, Timer, finish

from lpc_book.models import make_decoder, LatentModel, make_likelihood, StandardNormal, count_params
from lpc_book.samplers import langevin, add_grads

SHAPES = {"8x8": (1, 8, 8), "28x28": (1, 28, 28), "32x32": (3, 32, 32)}
LATENT = {"8x8": 8, "28x28": 16, "32x32": 32}
WIDTHS = (8, 32)
BATCHES = (64, 256)
STEP = {"ula": 1e-3, "preconditioned": 1e-3, "mala": 1e-3}
# variant -> (sampler, with params); its reference work: `evaluations`
VARIANTS = {
    "ula": ("ula", True), "preconditioned": ("preconditioned", True), "mala": ("mala", True),
    "ula_sample": ("ula", False), "mala_sample": ("mala", False),
}
DEFAULT_VARIANTS = ("ula", "preconditioned", "mala", "ula_sample")


def evaluations(variant: str, K: int) -> dict:
    """Energy-gradient evaluations of one chain of K moves of `variant` (burn_in = 0): `full` (energy, one backward
    w.r.t. z and theta) and `z` (z-gradient only). ULA / preconditioned with params evaluate z_0..z_K with theta
    (K + 1 full); MALA with params evaluates z_0 with theta, each of the K proposals for z only and the kept state
    again with theta (1 + K full, K z); without params every sampler makes K + 1 z-only evaluations (z_0 and the K
    new states or proposals). Their sum is the chain's `ChainResult.grad_evals`."""
    return {"ula": dict(full=K + 1, z=0), "preconditioned": dict(full=K + 1, z=0), "mala": dict(full=K + 1, z=K),
            "ula_sample": dict(full=0, z=K + 1), "mala_sample": dict(full=0, z=K + 1)}[variant]


def reference(variant, t, K):
    "Per-step minimal work of `variant` from the per-evaluation times of the bare passes t = {'bare_full': .., 'bare_z': ..}."
    n = evaluations(variant, K)
    return (n["full"] * t["bare_full"] + n["z"] * t["bare_z"]) / K


def chain(energy, z0, K, eta, sampler, rng, params=None):
    "The timed unit: one chain of K moves and, with `params`, theta's gradient added to `.grad` (what LPC does with it)."
    res = langevin(energy, z0, K, eta, sampler=sampler, rng=rng, params=params)
    if params is not None: add_grads(params, res.theta_grad)
    return res


def build(shape_name, width, batch, seed=0):
    torch.manual_seed(seed)
    shape, d = SHAPES[shape_name], LATENT[shape_name]
    dec = make_decoder(shape, d, width=width)
    model = LatentModel(dec, make_likelihood("gaussian"), StandardNormal(d))
    x = torch.rand(batch, *shape) * 2 - 1
    z0 = torch.randn(batch, d)
    return model, x, z0


def interleaved(fns, reps, K, params, budget=None):
    """Wall-clock and CPU seconds per step of each block `fns[name](K)`: `reps` repetitions, every block once per
    repetition in a rotating order (load drifts hit every block alike), `.grad` cleared before each; with `budget`
    seconds, as many repetitions as fit (between `reps` and 3 * `reps`)."""
    names = list(fns)
    for n in names: fns[n](2)  # warm-up (allocator, first-call costs)
    wall = {n: [] for n in names}; cpu = {n: [] for n in names}
    t_start, r = time.perf_counter(), 0
    while r < reps or (budget and r < 3 * reps and (time.perf_counter() - t_start) * (r + 1) / r < budget):
        for n in names[r % len(names):] + names[:r % len(names)]:
            for p in params: p.grad = None
            with Timer() as tm: fns[n](K)
            wall[n].append(tm.wall / K); cpu[n].append(tm.cpu / K)
        r += 1
    for p in params: p.grad = None
    return wall, cpu


def paired_ratios(times, variant, K):
    "The overhead ratio of `variant` in each repetition: its time per step / the minimal work from that repetition's bare passes."
    return [times[variant][i] / reference(variant, {k: times[k][i] for k in ("bare_full", "bare_z")}, K)
            for i in range(len(times[variant]))]


def time_config(shape_name, width, batch, K, reps, variants, budget=None):
    "Time the bare passes and the samplers on one configuration; per-step times and overhead ratios."
    model, x, z0 = build(shape_name, width, batch)
    params = list(model.parameters())
    energy = lambda z: model.energy(x, z)

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
        return lambda k: chain(energy, z0, k, STEP[method], method, g, params if with_params else None)

    fns = {"bare_full": bare_full, "bare_z": bare_z, **{v: sampler(v) for v in variants}}
    wall, cpu = interleaved(fns, reps, K, params, budget)
    out = dict(shape=SHAPES[shape_name], latent_dim=LATENT[shape_name], width=width, batch=batch, K=K,
               reps=len(wall["bare_full"]), decoder_params=count_params(model.decoder),
               evaluations={v: evaluations(v, K) for v in variants},
               per_step_ms={n: summary([1e3 * v for v in wall[n]]) for n in fns},
               per_step_cpu_ms={n: summary([1e3 * v for v in cpu[n]]) for n in fns},
               ratio={v: summary(paired_ratios(wall, v, K)) for v in variants},
               ratio_cpu={v: summary(paired_ratios(cpu, v, K)) for v in variants})
    return derive(out, variants)


def derive(c, variants):
    "Ratio of the minimum times over repetitions (the least-disturbed runs), wall and CPU, beside the medians of paired ratios."
    for key, times in (("ratio_of_min", "per_step_ms"), ("ratio_of_min_cpu", "per_step_cpu_ms")):
        mins = {n: v["min"] for n, v in c[times].items()}
        c[key] = {v: mins[v] / reference(v, mins, c["K"]) for v in variants}
    return c


def synthetic(K=20, reps=9, n_calls=25, variants=DEFAULT_VARIANTS):
    """The sampler's own per-step cost: `langevin` on an energy that costs almost nothing (E = |w * z|^2, B = 64,
    d = 16, one parameter), minus the bare passes it must make on it (its own evaluation count), in microseconds per
    step (minimum and median over `reps` repetitions of `n_calls` calls of K steps, CPU time). This is the overhead
    every step adds whatever the model."""
    w = torch.nn.Parameter(torch.randn(16))
    z0 = torch.randn(64, 16)
    en = lambda z: ((z * w) ** 2).sum(1)
    gen = torch.Generator().manual_seed(0)
    def bare(grad):
        def f(k):
            for _ in range(n_calls * k): zl = z0.detach().requires_grad_(); grad(en(zl).sum(), zl)
        return f
    def sampler(v):
        method, with_params = VARIANTS[v]
        def f(k):
            for _ in range(n_calls): chain(en, z0, k, 1e-3, method, gen, [w] if with_params else None)
        return f
    fns = {"bare_full": bare(lambda E, zl: E.backward()), "bare_z": bare(lambda E, zl: torch.autograd.grad(E, zl)),
           **{v: sampler(v) for v in variants}}
    _, cpu = interleaved(fns, reps, K, [w])
    t = {n: [1e6 * v / n_calls for v in ts] for n, ts in cpu.items()}  # us per step
    out = dict(K=K, reps=reps, n_calls=n_calls, evaluations={v: evaluations(v, K) for v in variants},
               per_step_us={n: summary(v) for n, v in t.items()}, overhead_us={})
    for v in variants:
        for stat in ("min", "median"):
            ref = reference(v, {k: out["per_step_us"][k][stat] for k in ("bare_full", "bare_z")}, K)
            out["overhead_us"].setdefault(v, {})[stat] = out["per_step_us"][v][stat] - ref
        own = [t[v][i] - reference(v, {k: t[k][i] for k in ("bare_full", "bare_z")}, K) for i in range(reps)]
        out["overhead_us"][v]["paired"] = summary(own)
    return out


def worst_estimate(res, v):
    """The worst configuration's overhead ratio of `v` estimated as 1 + (the sampler's own cost per step, minimum) /
    (the configuration's minimal work per step, minimum CPU time): the figure the target applies to."""
    own_ms = res["synthetic"]["overhead_us"][v]["min"] / 1e3
    return max(1 + own_ms / reference(v, {n: c["per_step_cpu_ms"][n]["min"] for n in ("bare_full", "bare_z")}, c["K"])
               for c in res["configs"])


def _steps_for(s, w, b):
    "20 steps per timed call for configurations whose bare pass is cheap, 10 for the expensive ones."
    model, x, z0 = build(s, w, b)
    zl = z0.requires_grad_()
    model.energy(x, zl).sum().backward()  # warm
    with Timer() as tm: model.energy(x, zl).sum().backward()
    return 20 if tm.cpu < 0.015 else 10


def run(quick=False, suffix="", variants=DEFAULT_VARIANTS, K=None, reps=None, budget=None, synthetic_only=False):
    """All configurations. K steps per timed call: 20 (the LPC default) when a bare pass takes < 15 ms of CPU, else
    10 (the per-call costs are then negligible anyway); `reps` repetitions at least, more within `budget` s per config."""
    t0 = time.perf_counter()
    set_threads()
    reps = reps or (3 if quick else 5)
    budget = budget if budget is not None else (0 if quick else 12)
    res = header("step_overhead", quick, suffix)
    res.update(description=__doc__.strip(), min_reps=reps, budget_s=budget, step_sizes=STEP, target=1.10, configs=[])
    res["synthetic"] = syn = synthetic(reps=5 if quick else 9, variants=variants)
    print("  sampler's own cost per step (us, min over reps): " +
          " ".join(f"{v} {syn['overhead_us'][v]['min']:.0f}" for v in variants), flush=True)
    shapes = () if synthetic_only else ("8x8", "28x28") if quick else tuple(SHAPES)
    batches = (64,) if quick else BATCHES
    for s in shapes:
        for w in WIDTHS:
            for b in batches:
                k = K or (10 if quick else _steps_for(s, w, b))
                c = time_config(s, w, b, k, reps, variants, budget)
                c["name"] = f"{s} w{w} B{b}"
                res["configs"].append(c)
                print(f"  {c['name']:>16}: bare {c['per_step_cpu_ms']['bare_full']['median']:8.2f} ms/step (cpu) | " +
                      " ".join(f"{v} {c['ratio_cpu'][v]['median']:.3f} (min {c['ratio_of_min_cpu'][v]:.3f}, wall "
                               f"{c['ratio'][v]['median']:.3f})" for v in variants), flush=True)
    if res["configs"]:
        res["worst_estimated"] = {v: worst_estimate(res, v) for v in variants}
        print("  worst configuration, estimated: " + " ".join(f"{v} {x:.3f}" for v, x in res["worst_estimated"].items()))
    finish(res, t0, "step_overhead" + suffix)
    return res


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true"); ap.add_argument("--suffix", default="")
    ap.add_argument("--K", type=int); ap.add_argument("--reps", type=int); ap.add_argument("--budget", type=float)
    ap.add_argument("--synthetic-only", action="store_true", help="only the sampler's own per-step cost")
    a = ap.parse_args()
    run(a.quick, a.suffix, K=a.K, reps=a.reps, budget=a.budget, synthetic_only=a.synthetic_only)
