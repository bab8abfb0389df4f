"""How much of a domain FID is its ruler: the same samples of a run's models, scored under the domain classifier of
seed c and the 1,000-image test reference subset of seed r, for c, r in {0, 1, 2} (the run itself used c = r = its seed).

    python tools/fid_ruler.py runs/lpc_vs_baselines/RUN_ID [--seeds 0 1 2]   # needs the run's checkpoints in the cache

Prints one line per (model, c, r), then all of them as one JSON line. The c = r = seed line reproduces the
run's own FID (a check that the samples are the run's).
"""
import argparse, itertools, json
from pathlib import Path
import torch
from lpc_book.data import load_dataset
from lpc_book.experiment import build_model, load_data
from lpc_book.io import cache_dir
from lpc_book.quality import sample_quality

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("run", type=Path)
ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
a = ap.parse_args()
cfg = json.loads((a.run / "config.json").read_text())
params, ck = cfg["params"], cache_dir() / cfg["checkpoint_dir"]
data = load_data(params)
out = {}
for pt in sorted(ck.glob("*.pt")):
    model, _ = build_model(params, data)
    model.load_state_dict(torch.load(pt, map_location="cpu", weights_only=False)["model"]); model.eval()
    g = torch.Generator().manual_seed(params["seed"] + 12345)  # the draws of lpc_book.experiment.evaluate
    n = params["eval_samples"]
    with torch.no_grad(): s = torch.cat([model.sample(min(500, n - i), rng=g) for i in range(0, n, 500)])
    for c, r in itertools.product(a.seeds, repeat=2):
        ref = load_dataset(params["dataset"], root=params["data_root"], n_test=min(n, len(data.u8_test)), seed=r).u8_test
        q = sample_quality(s, reference=ref, dataset=params["dataset"], root=params["data_root"], metrics=("fid",),
                           scale=data.scale, seed=c)
        out[f"{pt.stem} classifier {c} reference {r}"] = round(q["fid"], 2)
        print(f"{pt.stem:16s} classifier seed {c}  reference seed {r}  FID {q['fid']:.2f}", flush=True)
print(json.dumps(out))
