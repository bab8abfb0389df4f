"""Time to the VAE's quality: the book's default LPC against the VAE on MNIST, one seed, by the frontier's definition.

The VAE trains until its FID curve is flat (`lpc_book.stats.plateau`: a fitted change under 2% over the last 20% of
its seconds, with at least `plateau_points` evaluations there; `--cap` seconds at most). Its plateau FID is the
target F* (the median of its last 20%) and its training seconds are the budget T; LPC then trains for the same T.
Both use the cpu profile's frontier settings (`lpc_book.experiment.train_timed`, the code path of the frontier
notebook: the book's LPC of that profile (its `method_params`), latent 16, width 16, Adam, batch 64,
the learned sigma, domain-FID of `eval_curve_samples` samples every `eval_every_seconds` training seconds with the
clock paused). Reported:

* t = the first training second (and SGD iteration) at which the FID is at or below F*, interpolated between the two
  evaluations that bracket it (`lpc_book.stats.first_crossing`), for the VAE and for LPC;
* whether LPC's crossing holds: its own tail level (median of its last 20%) at most F* + 2 s, s one evaluation's
  noise (the scatter of the VAE's flat tail about its fitted line);
* `time_ratio` = t(LPC) / t(VAE) and `iteration_ratio` (a lower bound, `reached: false`, when LPC does not get there);
* seconds per SGD iteration of each, and LPC's chain diagnostics (acceptance, distance, energy drop).

One seed: the frontier experiment (`lpc-book run frontier --profile cpu --seeds 0,1,2`) gives the intervals.
"""
from __future__ import annotations
import argparse, math, time
import torch
from common import set_threads, header, summary, finish

# the LPC configuration timed: the book's LPC under the cpu profile (`make_method("lpc", P)`: the profile's
# method_params), with these fields set on top (empty: as the profile has it)
LPC_FIELDS: dict = {}


def run(quick=False, suffix="", cap=None):
    t0 = time.perf_counter()
    set_threads()
    from lpc_book.data import dev_data_root
    from lpc_book.runs import profile_params
    from lpc_book.experiment import load_data, train_timed, chain_summary
    from lpc_book.methods import make_method
    from lpc_book.stats import first_crossing, plateau
    res = header("cost_quality", quick, suffix)
    root = dev_data_root()
    if root is None or not (root / "MNIST").is_dir():
        res.update(description=__doc__.strip(), skipped="../shared/data/MNIST not found")
        finish(res, t0, "cost_quality" + suffix); return res
    cap = cap or (60.0 if quick else 600.0)
    over = dict(data_root=str(root), train_seconds=cap, eval_every_seconds=5.0 if quick else 15.0,
                eval_curve_samples=300 if quick else 1000, plateau_points=3 if quick else 5)
    P = profile_params("frontier", "cpu", over)  # the convergence experiment trains to an iteration horizon since #33
    data = load_data(P)
    lpc = make_method("lpc", P, **LPC_FIELDS)
    res.update(description=__doc__.strip(), definition="frontier", lpc_method=lpc.config(),
               settings={k: P[k] for k in ("latent_dim", "width", "batch_size", "lr", "enc_lr", "sigma_lr", "likelihood",
                                           "sigma", "eval_every_seconds", "eval_curve_samples", "plateau_points",
                                           "train_seconds", "seed")}, fid="domain (mnist classifier)")
    out = {}
    for name, method, secs, flat in (("vae", make_method("vae", P), cap, True), ("lpc", lpc, None, False)):
        l, curve, stopped = train_timed(P, data, method, name, seconds=secs or out["vae"]["seconds"], until_flat=flat,
                                        progress=False)
        secs_it = [b["seconds"] - a["seconds"] for a, b in zip([{"seconds": 0.0}] + l.history[:-1], l.history)]
        out[name] = dict(curve=[{k: c[k] for k in ("seconds", "iteration", "fid", "decoder_grad_evals")} for c in curve],
                         iterations=l.iteration, seconds=l.seconds, flat=bool(stopped), cost=dict(l.cost),
                         seconds_per_iteration=summary(secs_it) | {"values": None},
                         chain={k: v for k, v in chain_summary(l.history).items()} if name == "lpc" else None)
        print(f"  {name}: {l.iteration} it in {l.seconds:.1f} s, FID {curve[-1]['fid']:.2f}", flush=True)
    v, lp = out["vae"], out["lpc"]
    col = lambda c, k: [p[k] for p in c["curve"]]
    plat = plateau(col(v, "seconds"), col(v, "fid"))
    target, noise = plat["level"], plat["noise"] if math.isfinite(plat["noise"]) else 0.0
    cross = lambda c: {k: first_crossing(col(c, k), col(c, "fid"), target) for k in ("seconds", "iteration")}
    cv, cl = cross(v), cross(lp)
    tail = plateau(col(lp, "seconds"), col(lp, "fid"))["level"]
    held = bool(cl["seconds"].reached and tail <= target + 2 * noise)
    res.update(vae=v, lpc=lp, target_fid=target, vae_plateau=plat, budget_seconds=v["seconds"], lpc_tail_fid=tail,
               vae_to_target={k: c.as_dict() for k, c in cv.items()}, lpc_to_target={k: c.as_dict() for k, c in cl.items()},
               reached=bool(cl["seconds"].reached), held=held,
               time_ratio=cl["seconds"].x / cv["seconds"].x, iteration_ratio=cl["iteration"].x / cv["iteration"].x,
               ratio_kind="measured" if held else "lower bound (LPC's crossing did not hold, or never came, by T)",
               per_iteration_cost_ratio=lp["seconds_per_iteration"]["median"] / v["seconds_per_iteration"]["median"])
    path = finish(res, t0, "cost_quality" + suffix)
    print(f"  F* {target:.2f} (VAE flat: {plat['flat']}) at {cv['seconds'].x:.1f} s / {cv['iteration'].x:.0f} it; LPC "
          f"{'held' if held else 'did not hold' if cl['seconds'].reached else 'did not reach it'} at "
          f"{cl['seconds'].x:.1f} s: time ratio {res['time_ratio']:.2f}, iteration ratio {res['iteration_ratio']:.3f} -> {path}")
    return res


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true"); ap.add_argument("--suffix", default="")
    ap.add_argument("--cap", type=float, help="the VAE's cap in training seconds (default 600; --quick 60)")
    a = ap.parse_args()
    run(a.quick, a.suffix, a.cap)
