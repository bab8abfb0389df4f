"""Seconds per SGD iteration of the VAE and of LPC (Jeffreys warm start, preconditioned steps; K = 1, 5, 20 by
default), batch 64, the 28x28 conv nets of the cpu profile (latent 16, width 16); with one and with two intra-op threads.

    python bench/iteration_time.py [--repeats 5] [--steps 1 5 20] [--threads-list 1 2]

LPC is timed twice at every K: with the reverse-KL half of its warm start taken from the chain's start (`start`,
the default since 2026-12-03: no decoder pass of its own) and with a fresh reparameterised sample (`fresh`, the
behaviour before: one more decoder forward and backward per iteration). Every configuration is timed once per
repetition, in turn, so that the before and after figures are taken under the same load.

The cost model of the methods chapter is checked here under the same interleaving: c_theta (one decoder forward and
backward, with theta's gradient) and c_z (z's gradient only) are timed on the VAE learner's decoder once per
repetition beside the iterations, and every LPC row gets the prediction
s/it_VAE - c_theta + (K + 1) [f c_theta + (1 - f) c_z] + r c_z (f = 1 here, r = 1 for `fresh`) and its error.

With `--persistent` the rows are persistent chains instead (#37): at every K, LPC with fresh chains (`start`, the
reference), and persistent chains with the forward-KL warm start (`persist_fwd`, r = 0) and with the Jeffreys warm start
(`persist_jeff`, r = 1: its reverse-KL half draws a fresh sample), over a store of `--n-train` examples. Their
prediction adds the diagnostics' decoder forward pass c_E every `diagnose_every` = 5 iterations and the store's read
and write c_s, both timed beside the iterations (`decoder_pass_seconds(..., backward=False)`, `store_seconds`):
s/it_VAE - c_theta + (K + 1) c_theta + r c_z + c_E / 5 + c_s. Persistent rows run multiples of 5 iterations per
timing, so that each holds its share of diagnosed iterations. Written to iteration_time_persistent.json (or --suffix).

Writes bench/results/iteration_time.json. MNIST from ../shared/data when present, else random 28x28 images
(the cost does not depend on the pixel values).
"""
import argparse, time
import torch
from common import set_threads, header, summary, finish


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, help="torch threads of the single-thread-count run (default: $LPC_BENCH_THREADS, else 1)")
    ap.add_argument("--threads-list", type=int, nargs="+", default=None, help="thread counts to time (default: 1 2)")
    ap.add_argument("--steps", type=int, nargs="+", default=[1, 5, 20])
    ap.add_argument("--width", type=int, default=16, help="the conv nets' width (16: the cpu profile's MNIST model)")
    ap.add_argument("--quick", action="store_true", help="one repetition, K = 1 and 5")
    ap.add_argument("--suffix", default="", help="suffix of the JSON name")
    ap.add_argument("--persistent", action="store_true", help="persistent chains' rows (see above), not the start/fresh pairs")
    ap.add_argument("--n-train", type=int, default=2048, help="training examples (the persistent chains' store size)")
    ap.add_argument("--cpu-clock", action="store_true", help="time CPU seconds of this process (time.process_time), not "
                    "wall-clock: with one thread, robust to other work on a shared machine")
    a = ap.parse_args()
    t0 = time.perf_counter()
    clock = time.process_time if a.cpu_clock else time.perf_counter
    if a.quick: a.repeats, a.steps = 1, [k for k in a.steps if k <= 5]
    base = set_threads(a.threads)
    threads = a.threads_list or sorted({base, 2})
    from lpc_book.data import load_dataset, dev_data_root
    from lpc_book.models import LatentModel, make_decoder, make_encoder, DiscretisedGaussianLikelihood, StandardNormal, count_params
    from lpc_book.methods import make_method, decoder_pass_seconds, store_seconds
    from lpc_book.training import Learner
    root = dev_data_root()
    if root is not None and (root / "MNIST" / "raw").exists(): data, src = load_dataset("mnist", root=root, n_train=a.n_train), "mnist"
    else: data, src = torch.rand(a.n_train, 1, 28, 28) * 2 - 1, "random"
    x_batch = data.x_train[:64] if hasattr(data, "x_train") else data[:64]
    def learner(method):
        torch.manual_seed(0)
        dec = make_decoder((1, 28, 28), 16, width=a.width)
        m = LatentModel(dec, DiscretisedGaussianLikelihood(sigma=0.1), StandardNormal(16))
        return Learner(m, method, data, encoder=make_encoder((1, 28, 28), 16, width=a.width), batch_size=64, progress=False), count_params(dec)
    lpc = lambda k, fresh: make_method("lpc", n_steps=k, step_size=0.01, sampler="preconditioned", encoder_divergence="jeffreys",
                                       adapt_steps=0, reverse_from_start=not fresh)
    persist = lambda k, ws: make_method("lpc", n_steps=k, step_size=0.01, sampler="preconditioned", encoder_divergence=ws,
                                        adapt_steps=0, persistent=True)
    configs = {"vae": (lambda: make_method("vae"), 10)}
    for k in a.steps:
        if a.persistent:
            n = 5 if k >= 5 else 10
            configs[f"lpc_K{k}_start"] = (lambda k=k: lpc(k, False), n)
            for v, ws in (("persist_fwd", "forward"), ("persist_jeff", "jeffreys")):
                configs[f"lpc_K{k}_{v}"] = (lambda k=k, ws=ws: persist(k, ws), n)
            continue
        for v in ("start", "fresh"): configs[f"lpc_K{k}_{v}"] = (lambda k=k, v=v: lpc(k, v == "fresh"), 2 if k >= 20 else 4 if k >= 5 else 8)
    res = header("iteration_time", a.quick, a.suffix)
    res.update(description=__doc__.strip(), batch_size=64, width=a.width, latent_dim=16, data=src, threads=threads,
               n_train=a.n_train, persistent=a.persistent, repeats=a.repeats,
               clock="cpu (time.process_time)" if a.cpu_clock else "wall (time.perf_counter)", results={})
    for n_threads in threads:
        torch.set_num_threads(n_threads)
        runs = {}
        for name, (make, n) in configs.items():
            l, npar = learner(make()); l.fit(1)  # warm-up
            runs[name] = (l, n, npar, [])
        dec_model, passes = runs["vae"][0].model, {"pass_theta": [], "pass_z": []}
        if a.persistent: passes.update(pass_forward=[], store=[])
        z_batch = torch.randn(64, 16)
        time_pass = lambda full: decoder_pass_seconds(dec_model, x_batch, z_batch, theta=full, clock=clock)
        for _ in range(a.repeats):  # interleaved: every configuration (and the two passes) once per repetition
            for name, (l, n, _, ts) in runs.items():
                t = clock(); l.fit(n); ts.append((clock() - t) / n)
            passes["pass_theta"].append(time_pass(True)); passes["pass_z"].append(time_pass(False))
            if a.persistent:
                passes["pass_forward"].append(decoder_pass_seconds(dec_model, x_batch, z_batch, backward=False, clock=clock))
                passes["store"].append(store_seconds(a.n_train, 16, 64, reps=20, clock=clock))
        key = "" if n_threads == base else f"_threads{n_threads}"
        for name, (l, n, npar, ts) in runs.items():
            res["results"][name + key] = summary(ts) | dict(iterations_each=n, decoder_params=npar, threads=n_threads,
                                                          decoder_grad_evals_per_it=l.cost["decoder_grad_evals"] / l.iteration)
        for name, ts in passes.items(): res["results"][name + key] = summary(ts) | dict(threads=n_threads)
        c_th, c_z = (res["results"][f"{p}{key}"]["median"] for p in ("pass_theta", "pass_z"))
        vae_it = res["results"]["vae" + key]["median"]
        for name in runs:
            if not name.startswith("lpc_K"): continue
            k, r = int(name.split("_")[1][1:]), int(name.endswith("_fresh") or name.endswith("_jeff"))  # f = 1: all accumulated
            v = res["results"][name + key]
            v["predicted"] = vae_it - c_th + (k + 1) * c_th + r * c_z
            if "_persist_" in name:
                v["predicted"] += (res["results"][f"pass_forward{key}"]["median"] / runs[name][0].method.diagnose_every
                                   + res["results"][f"store{key}"]["median"])
            v["model_error"] = v["predicted"] / v["median"] - 1
    torch.set_num_threads(base)  # the machine record (at finish) names the base count
    res["base_threads"] = base
    vae = {t: res["results"]["vae" + ("" if t == base else f"_threads{t}")]["median"] for t in threads}
    for k, v in res["results"].items():
        t = v["threads"]
        v["vs_vae"] = v["median"] / vae[t]
        if k.startswith("pass_") or k.startswith("store"):
            print(f"{k:24s} {v['median'] * 1000:8.2f} ms / {'decoder pass' if k.startswith('pass_') else 'store read + write'}"); continue
        print(f"{k:24s} {v['median'] * 1000:8.1f} ms / iteration  (min {v['min'] * 1000:.1f}, max {v['max'] * 1000:.1f}; "
              f"{v['vs_vae']:.2f} x the VAE; {v['decoder_grad_evals_per_it']:.0f} decoder passes"
              + (f"; cost model {v['predicted'] * 1000:.1f}, {100 * v['model_error']:+.0f}%)" if "predicted" in v else ")"))
    finish(res, t0, "iteration_time" + (a.suffix or ("_persistent" if a.persistent else "")))

if __name__ == "__main__": main()
