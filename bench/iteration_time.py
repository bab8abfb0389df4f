"""Seconds per SGD iteration of LPC (K = 5, 20, 50) and of the VAE, batch 64, the 28x28 conv decoder.

    python bench/iteration_time.py [--repeats 5] [--threads 1]

Writes bench/results/iteration_time.json. MNIST from ../shared/data when present, else random 28x28 images
(the cost does not depend on the pixel values).
"""
import argparse, time
import torch
from common import set_threads, header, summary, finish, use_sampler


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, help="torch threads (default: $LPC_BENCH_THREADS, else 1)")
    ap.add_argument("--steps", type=int, nargs="+", default=[5, 20, 50])
    ap.add_argument("--quick", action="store_true", help="one repetition")
    ap.add_argument("--suffix", default="", help="suffix of the JSON name")
    ap.add_argument("--impl", help="path of another samplers.py whose langevin LPC should use")
    a = ap.parse_args()
    t0 = time.perf_counter()
    used = use_sampler(a.impl)  # LPC's sampler from another samplers.py (before/after comparisons)
    if a.quick: a.repeats = 1
    set_threads(a.threads)
    from lpc_book.data import load_dataset, dev_data_root
    from lpc_book.models import LatentModel, make_decoder, make_encoder, DiscretisedGaussianLikelihood, StandardNormal, count_params
    from lpc_book.methods import make_method
    from lpc_book.training import Learner
    root = dev_data_root()
    if root is not None and (root / "MNIST" / "raw").exists(): data, src = load_dataset("mnist", root=root, n_train=2048), "mnist"
    else: data, src = torch.rand(2048, 1, 28, 28) * 2 - 1, "random"
    def learner(method):
        torch.manual_seed(0)
        dec = make_decoder((1, 28, 28), 16)
        m = LatentModel(dec, DiscretisedGaussianLikelihood(sigma=0.1), StandardNormal(16))
        return Learner(m, method, data, encoder=make_encoder((1, 28, 28), 16), batch_size=64, progress=False), count_params(dec)
    def per_iter(method, n):
        l, npar = learner(method); l.fit(1)  # warm-up
        ts = []
        for _ in range(a.repeats):
            t = time.perf_counter(); l.fit(n); ts.append((time.perf_counter() - t) / n)
        return summary(ts) | dict(iterations_each=n, decoder_params=npar)
    res = header("iteration_time", a.quick)
    res.update(description=__doc__.strip(), **used, batch_size=64, data=src, results={})
    res["results"]["vae"] = per_iter(make_method("vae"), 10)
    for k in a.steps:
        res["results"][f"lpc_K{k}"] = per_iter(make_method("lpc", n_steps=k, step_size=0.01, sampler="preconditioned",
                                                           warm_start="jeffreys"), 2 if k >= 20 else 4)
    for k, v in res["results"].items():
        print(f"{k:10s} {v['median'] * 1000:8.1f} ms / iteration  (min {v['min'] * 1000:.1f}, max {v['max'] * 1000:.1f})")
    finish(res, t0, "iteration_time" + a.suffix)

if __name__ == "__main__": main()
