"""The learned likelihood scale over training, and the sample quality it ends with (issue 14's sigma measurements).

    OMP_NUM_THREADS=1 .venv/bin/python tools/sigma_trajectory.py vae 300      # sigma 0.3 -> 1.13, FID ~238
    OMP_NUM_THREADS=1 .venv/bin/python tools/sigma_trajectory.py vae 1300     # ... -> 1.12 -> 0.65, FID ~52
    OMP_NUM_THREADS=1 .venv/bin/python tools/sigma_trajectory.py lpc 1200     # ... -> 1.07 -> 0.73, FID ~51
    ... --fixed-sigma (learn_sigma=False at 0.3), --out identity (a decoder without tanh: an ablation)
    ... --curve 250: FID of 1,000 samples (the same draws each time) every 250 iterations, with the training seconds
        (clock paused) and sigma: where the curve flattens (the VAE's plateau sets the study's budget T)

The cpu profile's lpc_vs_baselines parameters, one method, one process; prints sigma at ten points of training,
then FID and precision/recall of 1,000 samples (domain extractor), as the experiment computes them."""
import argparse, time
import torch
from lpc_book import experiment as E
from lpc_book.methods import make_method
from lpc_book.params import defaults
from lpc_book.quality import sample_quality
from lpc_book.runs import profile_params, project_root
from lpc_book.training import Callback

ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
ap.add_argument("method"); ap.add_argument("iterations", type=int)
ap.add_argument("--fixed-sigma", action="store_true"); ap.add_argument("--out", default="tanh", choices=["tanh", "identity"])
ap.add_argument("--curve", type=int, default=0, metavar="N", help="FID every N iterations (0: only at the end)")
a = ap.parse_args()
torch.set_num_threads(1)
P = {**defaults("lpc_vs_baselines"), **profile_params("lpc_vs_baselines", "cpu")}
P["data_root"] = str((project_root() / P["data_root"]).resolve())
if a.fixed_sigma: P["learn_sigma"] = False
data = E.load_data(P)
if a.out != "tanh":  # ablation: build_model always asks for tanh on the Gaussian likelihoods
    make_decoder = E.make_decoder
    E.make_decoder = lambda *args, **kw: make_decoder(*args, **{**kw, "out": a.out})
def fid(model, metrics=("fid",)):
    with torch.no_grad():
        s = model.eval().sample(1000, rng=torch.Generator().manual_seed(1)).clamp(-1, 1)
    model.train()
    return sample_quality(s, extractor=P.get("fid_extractor", "domain"), dataset=P["dataset"], metrics=metrics, root=P["data_root"])

class Curve(Callback):
    def on_batch_end(self, l):
        if a.curve and l.iteration % a.curve == 0:
            with l.paused_clock(): f = fid(l.model)["fid"]
            print(f"  it {l.iteration:6d}  {l.seconds:7.1f} s  sigma {float(l.history[-1]['sigma']):.3f}  FID {f:.4g}", flush=True)

learner = E.make_learner(P, data, make_method(a.method, P), progress=False, callbacks=[Curve()])
t0 = time.time(); learner.fit(a.iterations)
h = learner.history
print(f"{a.method} {a.iterations} it ({time.time() - t0:.0f} s), sigma:",
      [round(float(h[i]["sigma"]), 3) for i in range(0, a.iterations, max(1, a.iterations // 10))], round(float(h[-1]["sigma"]), 3))
q = fid(learner.model, ("fid", "prc"))
print({k: round(float(q[k]), 3) for k in ("fid", "precision", "recall")})
