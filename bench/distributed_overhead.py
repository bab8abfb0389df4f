"""Data-parallel overhead: wall-clock per SGD iteration of the same LPC training run on 1 process and on N processes
(torchrun, gloo on CPU), through `lpc_book.experiment.make_learner` and `lpc_book.distributed.fit_distributed`, with the
parameters of the main experiment (`lpc_book.params.check_experiment("lpc_vs_baselines", ...)`: its defaults, e.g. the
preconditioned sampler and 20 iterations of step-size adaptation, except the sizes set below).

Per-iteration times come from the learner's history (`seconds` is the training clock of rank 0, evaluation and
checkpoint writes excluded); the first `--warmup` iterations are dropped and the median of the rest is reported,
with its quartiles. The one-process run uses one torch thread (as each torchrun worker does: torchrun sets
OMP_NUM_THREADS=1) and, for reference, two. The launch overhead (process start, imports, data loading, rendezvous,
shutdown) is the launch's wall-clock minus the training clock. On a 2-core machine no speed-up is expected: two
processes each doing half the minibatch compete with the machine's other load, and pay one all-reduce per iteration.

    python bench/distributed_overhead.py [--iterations 40] [--nproc 2] [--quick]

writes bench/results/distributed.json.
"""
from __future__ import annotations
import argparse, statistics, tempfile, time
from pathlib import Path
import torch
from common import set_threads, header, summary, finish

from lpc_book.params import check_experiment
from lpc_book.methods import make_method
from lpc_book.experiment import make_learner, load_data, data_fingerprint
from lpc_book.distributed import fit_distributed


def per_iteration(history, warmup):
    "Seconds per iteration from the cumulative training clock of the history, first `warmup` dropped."
    t = [0.0] + [r["seconds"] for r in history]
    return [b - a for a, b in zip(t[:-1], t[1:])][warmup:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iterations", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--nproc", type=int, default=2)
    ap.add_argument("--method", default="lpc")
    ap.add_argument("--quick", action="store_true", help="10 iterations, for a smoke test")
    a = ap.parse_args()
    if a.quick: a.iterations, a.warmup = 10, 2
    t0 = time.perf_counter()
    res = header("distributed", a.quick)
    P = check_experiment("lpc_vs_baselines", dict(
        method=[a.method], dataset="digits", n_train=None, latent_dim=16, width=16, batch_size=64, n_steps=10,
        step_size=0.01, device="cpu", iterations=a.iterations, checkpoint_every=10 ** 6))
    res["config"] = dict(method=a.method, **{k: P[k] for k in ("dataset", "latent_dim", "width", "batch_size", "n_steps",
                                                               "step_size", "sampler", "adapt_steps", "encoder_divergence")},
                         iterations=a.iterations, warmup=a.warmup)
    data = load_data(P)
    meth = lambda: make_method(a.method, P)  # a fresh one per learner: LPC keeps its step-size adaptation's state
    runs = {}
    for threads in (1, 2):
        set_threads(threads)
        lrn = make_learner(P, data, meth(), progress=False).fit(a.iterations)
        runs[f"1 process, {threads} thread{'s' if threads > 1 else ''}"] = dict(
            processes=1, threads=threads, per_iteration=summary(per_iteration(lrn.history, a.warmup)),
            training_seconds=lrn.cost["seconds"])
    set_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        w0 = time.perf_counter()
        fit_distributed("lpc_book.experiment:experiment_learner",
                        dict(params=P, method=meth().config(), fingerprint=data_fingerprint(data)), a.nproc,
                        Path(tmp) / "ckpt.pt", a.iterations, checkpoint_every=10 ** 6, device="cpu", progress=False,
                        echo=False)
        wall = time.perf_counter() - w0
        lrn = make_learner(P, data, meth(), progress=False).load_checkpoint(Path(tmp) / "ckpt.pt")
    runs[f"{a.nproc} processes (torchrun, gloo), 1 thread each"] = dict(
        processes=a.nproc, threads=1, per_iteration=summary(per_iteration(lrn.history, a.warmup)),
        training_seconds=lrn.cost["seconds"], launch_wall_seconds=wall, launch_overhead_seconds=wall - lrn.cost["seconds"])
    res["runs"] = runs
    base = runs["1 process, 1 thread"]["per_iteration"]["median"]
    for k, r in runs.items():
        r["per_iteration"]["values"] = [round(v, 5) for v in r["per_iteration"]["values"]]
        r["speedup_vs_1_process_1_thread"] = base / r["per_iteration"]["median"]
        print(f"{k:45s} median {1e3 * r['per_iteration']['median']:7.1f} ms/iteration "
              f"(q25 {1e3 * r['per_iteration']['q25']:.1f}, q75 {1e3 * r['per_iteration']['q75']:.1f}); "
              f"speed-up {r['speedup_vs_1_process_1_thread']:.2f}"
              + (f"; launch overhead {r['launch_overhead_seconds']:.1f} s" if "launch_overhead_seconds" in r else ""))
    finish(res, t0, "distributed")


if __name__ == "__main__":
    main()
