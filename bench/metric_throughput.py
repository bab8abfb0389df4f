"""Metric throughput: seconds for one `lpc_book.quality.sample_quality` call computing FID only.

* domain-FID of 10,000 generated 28x28 images against the MNIST test split (features of the project's MNIST
  classifier),
* Inception-FID of 500 generated images against 1,000 images of the same split (torch-fidelity's InceptionV3 with
  its batch norm folded into the convolutions and channels-last activations, `lpc_book.quality.register_fused_inception`;
  `--unfused` times torch-fidelity's own module; the images are upsampled to 299x299 RGB inside the extractor).

The generated images are decoder samples of a fresh (untrained) MNIST model, new for each repetition, so that no
feature cache can help; the reference statistics are cached by torch-fidelity after the first call, which is the
steady state of training-time evaluation, so a first call with 100 generated images is a discarded warm-up (its time,
which includes the reference's features when they were not cached yet, is recorded apart).
Needs ../shared/data (MNIST) and, for Inception, its weights (see `lpc_book.quality.inception_weights`); a missing
piece is recorded as skipped.
"""
from __future__ import annotations
import argparse, time, traceback
import torch
from common import set_threads, header, summary, Timer, finish


def _samples(n, seed):
    from lpc_book.models import make_decoder, LatentModel, make_likelihood, StandardNormal
    torch.manual_seed(seed)
    model = LatentModel(make_decoder((1, 28, 28), 16, width=16), make_likelihood("discretised_gaussian", sigma=0.1),
                        StandardNormal(16))
    out = []
    for i in range(0, n, 1000): out.append(model.sample(min(1000, n - i), rng=torch.Generator().manual_seed(seed + i)))
    return torch.cat(out)


def _one(extractor, n, reps, root, fused=True, n_reference=None):
    from lpc_book.quality import sample_quality
    times, fids, first = [], [], None
    for r in range(reps + 1):
        x = _samples(n if r else 100, 1000 * r)  # r = 0: a small warm-up call that caches the reference statistics
        with Timer() as tm:
            res = sample_quality(x, extractor=extractor, dataset="mnist", root=root, metrics=("fid",),
                                 n_reference=n_reference, fused_inception=fused)
        if r == 0: first = tm.wall
        else: times.append(tm.wall); fids.append(res["fid"])
    return dict(extractor=extractor, n_generated=n, n_reference=res["n_reference"], reps=reps,
                weights_sha256=res.get("weights_sha256"), inception_network=res.get("inception_network"),
                seconds=summary(times), first_call_seconds=first, first_call_n_generated=100, fid_values=fids,
                samples_per_second=n / summary(times)["median"])


def run(quick=False, suffix="", fused=True):
    t0 = time.perf_counter()
    set_threads()
    res = header("metric_throughput", quick)
    res.update(description=__doc__.strip(), results={}, fused_inception=fused)
    from lpc_book.data import dev_data_root
    root = dev_data_root()
    # Inception on one CPU thread costs ~0.15-0.2 s an image here (fused; ~0.27 s unfused): three timed calls of 500
    # against 1,000 reference images (the warm-up computes the reference features once). 500, not 1,000: the
    # throughput is per image, and three calls of 1,000 took make bench from a cold cache to 31 minutes (2026-12-07)
    plan = [("domain", 10_000, 2 if quick else 3, None), ("inception", 100 if quick else 500, 2 if quick else 3,
                                                             100 if quick else 1_000)]
    for ext, n, reps, n_ref in plan:
        key = f"{ext}_fid_{n}"
        if root is None or not (root / "MNIST").is_dir():
            res["results"][key] = dict(skipped="../shared/data/MNIST not found"); continue
        try:
            res["results"][key] = r = _one(ext, n, reps, root, fused, n_ref)
            print(f"  {key}: {r['seconds']['median']:.1f} s (median of {reps}; first call {r['first_call_seconds']:.1f} s)",
                  flush=True)
        except Exception as e:  # e.g. Inception weights unavailable offline
            res["results"][key] = dict(skipped=f"{type(e).__name__}: {e}", traceback=traceback.format_exc(limit=3))
            print(f"  {key}: skipped ({type(e).__name__}: {e})", flush=True)
    finish(res, t0, "metric_throughput" + suffix)
    return res


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true"); ap.add_argument("--suffix", default="")
    ap.add_argument("--unfused", action="store_true",
                    help="torch-fidelity's own Inception module (before the batch-norm folding and channels-last)")
    a = ap.parse_args()
    run(a.quick, a.suffix, fused=not a.unfused)
