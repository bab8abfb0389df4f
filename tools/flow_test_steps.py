"""Whether the flow prior's test-time descents have finished: a flow_prior run's models (main and anomaly, per prior)
re-evaluated on the four inference tasks at each of several `test_steps` K, from the run's checkpoints.

    python tools/flow_test_steps.py runs/flow_prior/RUN_ID [--steps 400 800] [--tasks inpainting] [--priors flow]

It needs the run's checkpoints in the cache.

`lpc_book.flow_tasks.run_flow_tasks` records every task's number at K and at K/2, so each K here also shows K/2.
The procedure that chose the cpu profile's `test_steps`: double K until no task of either prior is flagged
`unconverged_<task>` (its second half of descent moved its number by more than its standard error). Prints one
line per (K, prior, task): the number at K/2 and K, its standard error and the flag; then flow minus N(0, I) per
task and K (the same starts and corruptions: a paired difference of means); then all of it as one JSON line.
"""
import argparse, json, time
from pathlib import Path
import torch
from lpc_book.experiment import load_data, make_learner
from lpc_book.flow_tasks import run_flow_tasks
from lpc_book.io import cache_dir
from lpc_book.methods import make_method

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("run", type=Path)
ap.add_argument("--steps", type=int, nargs="+", default=[400, 800])
ap.add_argument("--tasks", nargs="+", default=["reconstruction", "inpainting", "anomaly", "recovery"],
                choices=["reconstruction", "inpainting", "anomaly", "recovery"],
                help="a subset of the four inference tasks (e.g. inpainting only: a third of the time)")
ap.add_argument("--priors", nargs="+", choices=["flow", "normal"], help="a subset of the run's priors")
ap.add_argument("--threads", type=int, default=1)
a = ap.parse_args()
torch.set_num_threads(a.threads)
cfg = json.loads((a.run / "config.json").read_text())
P, ck = cfg["params"], cache_dir() / cfg["checkpoint_dir"]
data = load_data(P)
TASKS = tuple(a.tasks)

def model(label, prior):
    "A trained model of the run, from its checkpoint."
    path = ck / f"{label}.pt"
    if not path.exists(): raise SystemExit(f"no checkpoint {path}: this tool needs the run's checkpoints in the cache")
    L = make_learner(P, data, make_method(P["method"][0], P, init=P["chain_init"]), {"kind": "xie", "prior": prior},
                     progress=False, device="cpu")
    L.load_checkpoint(path)
    return L.model

out = {}
priors = [p for p in P["priors"] if a.priors is None or p in a.priors]
for prior in priors:
    label = f"{P['method'][0]}_{prior}"
    main = model(label, prior)
    anomaly = model(f"{label}_without_{P['anomaly_class']}", prior) if "anomaly" in TASKS else None
    for K in a.steps:
        t0 = time.time()
        row, _ = run_flow_tasks(main, anomaly, {**P, "test_steps": K}, data, tasks=TASKS)
        out[f"{prior} K={K}"] = row
        for k in [k[:-5] for k in row if k.endswith("_half")]:
            flag = "unconverged" if f"unconverged_{k}" in row["descent_flags"] else ""
            print(f"K={K:5d} {prior:7s} {k:24s} K/2 {row[k + '_half']:.4f}  K {row[k]:.4f}  se {row[k + '_se']:.4f}  {flag}",
                  flush=True)
        print(f"K={K:5d} {prior:7s} descent energy drop >= {row['descent_energy_drop']:.0f} nats ({time.time() - t0:.0f} s)",
              flush=True)
if {"flow", "normal"} <= set(priors):
    for K in a.steps:
        f, n = out[f"flow K={K}"], out[f"normal K={K}"]
        print(f"K={K:5d} flow - N(0, I): " + ", ".join(f"{k} {f[k] - n[k]:+.4f}" for k in f if f"{k}_half" in f))
print(json.dumps(out, default=str))
