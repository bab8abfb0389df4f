"""CPU seconds per 2,000 SGD iterations of a flow_prior run's models, timed on one thread from the run's checkpoints
(so with the run's own settings: chains, learning rate, `weight_average`), to size longer runs.

    python tools/flow_iteration_time.py runs/flow_prior/RUN_ID [--iterations 200] [--priors flow normal]

It needs the run's checkpoints in the cache. Each model trains 10 iterations to warm up, then `--iterations` more,
timed with the process's CPU clock and the wall clock; the checkpoints are not written. Prints a line per prior.
"""
import argparse, json, time
from pathlib import Path
import torch
from lpc_book.experiment import load_data, make_learner
from lpc_book.io import cache_dir
from lpc_book.methods import make_method

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("run", type=Path)
ap.add_argument("--iterations", type=int, default=200)
ap.add_argument("--priors", nargs="+", choices=["flow", "normal"], default=["flow", "normal"])
a = ap.parse_args()
torch.set_num_threads(1)
cfg = json.loads((a.run / "config.json").read_text())
P = cfg["params"]
data = load_data(P)
for prior in a.priors:
    ck = cache_dir() / cfg["checkpoint_dir"] / f"{P['method'][0]}_{prior}.pt"
    l = make_learner(P, data, make_method(P["method"][0], P, init=P["chain_init"]), {"kind": "xie", "prior": prior},
                     progress=False).load_checkpoint(ck)
    l.fit(10)
    c0, w0 = time.process_time(), time.perf_counter()
    l.fit(a.iterations)
    cpu, wall = (time.process_time() - c0) * 2000 / a.iterations, (time.perf_counter() - w0) * 2000 / a.iterations
    print(f"{a.run.name} {prior}: {cpu:.0f} CPU s ({wall:.0f} wall s) per 2,000 iterations, one thread")
