"""Cost to quality: LPC (encoder warm start with the Jeffreys objective, preconditioned Langevin steps) against the
VAE, the same decoder and encoder, optimiser and data (MNIST from ../shared/data: 8,000 training digits).

The VAE trains for a fixed budget of training seconds; LPC trains until its FID is at or below the VAE's plateau
FID, or until a cap of `cap` times the VAE's budget. Both are evaluated on a common grid of training seconds (every
`budget / n_evals` s) with the training clock paused (`Learner.paused_clock`): domain-FID (features of the project's
MNIST classifier) of `n_eval` model samples against the 2,000 test digits. Reported:

* the FID curves against training seconds, SGD iterations and decoder gradient evaluations;
* the target F* = the VAE's plateau FID: the median of its evaluations in the last 20% of its budget
  (`lpc_book.stats.plateau`, which also says whether the VAE's curve was flat there);
* for each method, the first training second (and SGD iteration) at which its FID is at or below F*, linearly
  interpolated between the evaluations that bracket it (`lpc_book.stats.first_crossing`; brackets recorded);
* `time_ratio` = t(LPC) / t(VAE) and `iteration_ratio` = its(LPC) / its(VAE), both first-crossing times (if LPC
  does not get there within the cap, its time is a lower bound and `reached: false`);
* seconds per SGD iteration of each method (median and spread over all iterations).

One seed: the FID curve is a single training run (its Monte Carlo noise is the spread of FIDs between repeated
evaluations, recorded for the VAE's final model as `fid_eval_spread`).
"""
from __future__ import annotations
import argparse, time
import torch
from common import set_threads, header, summary, finish, use_sampler
from lpc_book.stats import first_crossing, plateau

# sigma_lr: the Learner's rate of the learned log sigma (its default since the redesign; before it, sigma used lr);
# adapt_steps=0: a fixed step size (LPC's default; the experiments' parameter default adapts for 20 iterations)
CONFIG = dict(latent_dim=16, width=16, batch_size=64, lr=1e-3, enc_lr=1e-3, sigma_lr=0.03,
              likelihood="discretised_gaussian", sigma=0.1, n_steps=10, step_size=0.01, sampler="preconditioned",
              adapt_steps=0, warm_start="jeffreys", seed=0)


def build(data, c):
    from lpc_book.models import make_decoder, make_encoder, LatentModel, make_likelihood, StandardNormal
    torch.manual_seed(c["seed"])
    dec = make_decoder(data.shape, c["latent_dim"], c["width"])
    model = LatentModel(dec, make_likelihood(c["likelihood"], sigma=c["sigma"], learn_sigma=True),
                        StandardNormal(c["latent_dim"]))
    return model, make_encoder(data.shape, c["latent_dim"], c["width"])


def make(name, c):
    from lpc_book.methods import make_method
    if name == "vae": return make_method("vae")
    return make_method("lpc", n_steps=c["n_steps"], step_size=c["step_size"], sampler=c["sampler"],
                       adapt_steps=c["adapt_steps"], warm_start=c["warm_start"], init="encoder_sample")


def fid_of(model, n, root, seed=123):
    from lpc_book.quality import sample_quality
    x = model.sample(n, generator=torch.Generator().manual_seed(seed))
    r = sample_quality(x, extractor="domain", dataset="mnist", root=root, metrics=("fid",))
    CLASSIFIER["sha256"] = r.get("weights_sha256")
    return r["fid"]

CLASSIFIER = {}  # the domain classifier's checksum, recorded in the results


def train(name, data, c, root, dt, max_seconds, n_eval, target=None):
    "Train `name` until `max_seconds` of training time (or FID <= target), evaluating every `dt` training seconds."
    from lpc_book.training import Learner, Callback
    curve = []

    class Eval(Callback):
        def __init__(self): self.next = dt
        def _eval(self, l):
            with l.paused_clock():
                t = time.perf_counter()
                f = fid_of(l.model, n_eval, root)
                curve.append(dict(seconds=round(l.seconds, 3), iterations=l.iteration, fid=f,
                                  decoder_grad_evals=l.cost["decoder_grad_evals"],
                                  encoder_grad_evals=l.cost["encoder_grad_evals"],
                                  eval_seconds=round(time.perf_counter() - t, 2)))
                print(f"    {name}: {l.seconds:6.1f} s, it {l.iteration:5d}, FID {f:8.3f}", flush=True)
            if target is not None and f <= target: l.stop = True
        def on_fit_start(self, l): self._eval(l)
        def on_batch_end(self, l):
            if l.seconds >= self.next:
                while self.next <= l.seconds: self.next += dt
                self._eval(l)
            if l.seconds >= max_seconds: l.stop = True
        def on_fit_end(self, l):
            if curve[-1]["iterations"] != l.iteration: self._eval(l)

    model, enc = build(data, c)
    learner = Learner(model, make(name, c), data.x_train, encoder=enc, batch_size=c["batch_size"], lr=c["lr"],
                      enc_lr=c["enc_lr"], sigma_lr=c["sigma_lr"], seed=c["seed"], device="cpu", callbacks=[Eval()],
                      progress=False)
    learner.fit(10 ** 7)
    secs = [r["seconds"] for r in learner.history]
    per_it = [b - a for a, b in zip([0.0] + secs[:-1], secs)]
    return learner, dict(curve=curve, iterations=learner.iteration, seconds=learner.seconds, cost=dict(learner.cost),
                         seconds_per_iteration=summary(per_it) | {"values": None})


def run(quick=False, suffix="", budget=None, cap=None, n_evals=None, n_eval=None, impl=None):
    t0 = time.perf_counter()
    used = use_sampler(impl)  # LPC's sampler from another samplers.py (before/after comparisons)
    set_threads()
    budget = budget or (15.0 if quick else 50.0)
    cap = cap or 4.0
    n_evals = n_evals or (4 if quick else 10)
    n_eval = n_eval or (500 if quick else 1000)
    res = header("cost_quality", quick)
    res.update(description=__doc__.strip(), config=CONFIG, **used, vae_budget_seconds=budget, lpc_cap=cap,
               eval_every_seconds=budget / n_evals, n_eval_samples=n_eval, fid="domain (mnist classifier)")
    from lpc_book.data import load_dataset, dev_data_root
    root = dev_data_root()
    if root is None or not (root / "MNIST").is_dir():
        res["skipped"] = "../shared/data/MNIST not found"
        finish(res, t0, "cost_quality" + suffix); return res
    data = load_dataset("mnist", root=root)
    dt = budget / n_evals
    vae_l, vae = train("vae", data, CONFIG, root, dt, budget, n_eval)
    final = vae["curve"][-1]
    vae["fid_eval_spread"] = summary([fid_of(vae_l.model, n_eval, root, seed=s) for s in (1, 2, 3)])
    secs, its, fids = ([q[k] for q in vae["curve"]] for k in ("seconds", "iterations", "fid"))
    plat = plateau(secs, fids)
    target = plat["level"]
    _, lpc = train("lpc", data, CONFIG, root, dt, cap * budget, n_eval, target=target)
    def crossing(curve):
        c = [first_crossing([q[k] for q in curve], [q["fid"] for q in curve], target) for k in ("seconds", "iterations")]
        return dict(seconds=c[0].as_dict(), iterations=c[1].as_dict(), reached=c[0].reached)
    cv, cl = crossing(vae["curve"]), crossing(lpc["curve"])
    res.update(vae=vae, lpc=lpc, target_fid=target, vae_plateau=plat, vae_to_target=cv, lpc_to_target=cl,
               reached=cl["reached"], lpc_seconds_to_target=cl["seconds"]["x"],
               lpc_iterations_to_target=cl["iterations"]["x"],
               time_ratio=cl["seconds"]["x"] / cv["seconds"]["x"],
               iteration_ratio=cl["iterations"]["x"] / cv["iterations"]["x"],
               ratio_definition="first-crossing times of the VAE's plateau FID (median of its last 20%), interpolated",
               ratio_kind="measured" if cl["reached"] else "lower bound (target not reached within the cap)",
               per_iteration_cost_ratio=lpc["seconds_per_iteration"]["median"] / vae["seconds_per_iteration"]["median"])
    res["domain_classifier_sha256"] = CLASSIFIER.get("sha256")
    path = finish(res, t0, "cost_quality" + suffix)
    print(f"  VAE plateau FID {target:.3f} (flat: {plat['flat']}), first reached at {cv['seconds']['x']:.1f} s / "
          f"{cv['iterations']['x']:.0f} it; LPC {'reached it' if cl['reached'] else 'did not reach it'} at "
          f"{cl['seconds']['x']:.1f} s / {cl['iterations']['x']:.0f} it: "
          f"time ratio {res['time_ratio']:.2f}, iteration ratio {res['iteration_ratio']:.3f} -> {path}")
    return res


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true"); ap.add_argument("--suffix", default="")
    ap.add_argument("--budget", type=float); ap.add_argument("--cap", type=float)
    ap.add_argument("--n-evals", type=int); ap.add_argument("--n-eval", type=int)
    ap.add_argument("--impl", help="path of another samplers.py whose langevin LPC should use")
    a = ap.parse_args()
    run(a.quick, a.suffix, a.budget, a.cap, a.n_evals, a.n_eval, a.impl)
