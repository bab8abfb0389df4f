"""How long a run's FID curves would have to train to be flat: each curve of each run, fitted with a + b t^(-c) over
its points past `--from` iterations, extrapolated to the first T at which the fitted change over the last 20% of T
is under 2% of the level (the rule of `lpc_book.stats.plateau`).

    python tools/flat_horizon.py runs/flow_prior/RUN [RUN ...] [--x iteration] [--from 400] [--tol 0.02]

An extrapolation, not a measurement: it says how far a budget is from the rule if the curve keeps the shape it had,
to size the next runs, and is no evidence of where the curve goes. Use it on smooth curves (the weights' average,
`weight_average`): on the last iterate's, the scatter swamps the fit. Prints a line per (run, curve): the fit, the
residuals' standard deviation, the fitted change over the last 20% at the run's own T and at 2T and 4T, and the
horizon T; then all of it as one JSON line.
"""
import argparse, json, math
from pathlib import Path
import numpy as np, pandas as pd
from scipy.optimize import curve_fit

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("runs", type=Path, nargs="+", help="run folders with a curves.csv")
ap.add_argument("--x", default="iteration", help="the curve's axis: iteration, seconds or decoder_grad_evals")
ap.add_argument("--from", dest="start", type=float, default=400, help="fit the points at x >= this")
ap.add_argument("--tol", type=float, default=0.02)
ap.add_argument("--tail", type=float, default=0.2)
ap.add_argument("--max-factor", type=float, default=1000, help="search T up to this multiple of the run's own")
a = ap.parse_args()

def power(t, lo, b, c): return lo + b * t ** (-c)
def change(p, T): return (power(T, *p) - power((1 - a.tail) * T, *p)) / power(T, *p)

out = []
for run in a.runs:
    f = run / "curves.csv"
    if not f.exists(): raise SystemExit(f"{run} has no curves.csv (runs with curve_every or a timed budget have one)")
    df = pd.read_csv(f)
    key = next(k for k in ("label", "method", "config") if k in df.columns)
    for lab, g in df.groupby(key, sort=False):
        g = g[g[a.x] >= a.start]
        if len(g) < 5: print(f"{run.name} {lab}: {len(g)} points past {a.start:g}, too few to fit"); continue
        t, y = g[a.x].to_numpy(float), g["fid"].to_numpy(float)
        try: p, _ = curve_fit(power, t, y, p0=(y.min() / 2, (y[0] - y.min() / 2) * t[0] ** 0.7, 0.7),
                              bounds=([0, 0, 0.01], [np.inf, np.inf, 5]), maxfev=20000)
        except RuntimeError as e: print(f"{run.name} {lab}: no fit ({e})"); continue
        T0 = float(t[-1])
        Ts = np.geomspace(T0, a.max_factor * T0, 2000)
        ok = [T for T in Ts if abs(change(p, T)) < a.tol]
        r = dict(run=run.name, curve=lab, floor=float(p[0]), b=float(p[1]), c=float(p[2]),
                 resid_sd=float(np.std(y - power(t, *p), ddof=3)), T=T0,
                 change_at_T=float(change(p, T0)), change_at_2T=float(change(p, 2 * T0)), change_at_4T=float(change(p, 4 * T0)),
                 horizon=float(ok[0]) if ok else math.inf)
        out.append(r)
        print(f"{run.name} {lab}: FID ~ {r['floor']:.1f} + {r['b']:.3g} x^-{r['c']:.2f} (resid sd {r['resid_sd']:.2f}); "
              f"change over the last {a.tail:.0%}: {r['change_at_T']:+.1%} at {T0:g}, {r['change_at_2T']:+.1%} at 2x, "
              f"{r['change_at_4T']:+.1%} at 4x; under {a.tol:.0%} from {a.x} {r['horizon']:.3g}")
print(json.dumps(out))
