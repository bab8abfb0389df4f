"""How long a profile's study took, from its run folders: per experiment and seed, the minutes of one core each run
took (its notebook process's `cpu_seconds`), summed over a table's parts.

    python tools/profile_time.py [--profile cpu] [--runs runs] [--seeds 3] [--jobs 2] [--with frontier]

The runs are the report's (`seed_runs`: the newest design of each experiment). A run made before runs recorded
`cpu_seconds` counts the wall time from its creation (config.json `created`) to its last write (metrics.json
`updated`), marked `w`: minutes of one core only when each run had a core of its own, inflated when more runs than
cores shared the machine, and counting any time a resumed run stood still. A resumed run is marked `*`: its CPU time
is a lower bound (a session's time after its last write is lost), its wall time an upper one. The last lines sum the
experiments per seed (the smallest and largest seed of each) and give the wall time of `--seeds` seeds run `--jobs`
at a time, one core each.
"""
import argparse, json, sys
from datetime import datetime
from lpc_book.runs import list_runs, profile_entries
from lpc_book.report import seed_runs

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("--profile", default="cpu")
ap.add_argument("--runs", default="runs")
ap.add_argument("--seeds", type=int, default=3, help="seeds of the wall-time estimate")
ap.add_argument("--jobs", type=int, default=2, help="runs at a time in the wall-time estimate (one core each)")
ap.add_argument("--with", dest="extra", nargs="*", default=[], help="experiments run by name, added to the profile's")
a = ap.parse_args()

def minutes(run)->tuple[float, str]:
    "Minutes of CPU (or, before runs recorded it, of wall time: mark `w`), and `*` if the run was resumed."
    mark = "*" if run.metrics.get("resumed") else ""
    if run.metrics.get("cpu_seconds") is not None: return run.metrics["cpu_seconds"] / 60, mark
    t0 = datetime.fromisoformat(run.config["created"]); t1 = datetime.fromisoformat(run.metrics["updated"])
    return (t1 - t0).total_seconds() / 60, "w" + mark

runs = list_runs(a.runs)
out, lo, hi = {}, 0.0, 0.0
for exp in [e for e, _ in profile_entries(a.profile)] + a.extra:
    by = seed_runs(runs, exp, a.profile)
    if not by: print(f"{exp:18s} no ok runs of profile {a.profile!r} in {a.runs}"); continue
    per = {}
    for s, r in by.items():
        parts = getattr(r, "parts", [r])  # an assembled table's runs, or the run
        m = [minutes(p) for p in parts]
        per[s] = (sum(x for x, _ in m), "".join(sorted({c for _, k in m for c in k})), [p.id for p in parts])
    mins = [v[0] for v in per.values()]
    lo, hi = lo + min(mins), hi + max(mins)
    shown = ", ".join(f"seed {s} {v[0]:.0f}{v[1]}" for s, v in per.items())
    print(f"{exp:18s} {min(mins):4.0f}-{max(mins):4.0f} min   ({shown})")
    out[exp] = {str(s): {"minutes": round(v[0], 1), "marks": v[1], "runs": v[2]} for s, v in per.items()}
wall = lambda m: m * a.seeds / a.jobs / 60
print(f"{'per seed':18s} {lo:4.0f}-{hi:4.0f} min = {lo / 60:.1f}-{hi / 60:.1f} core-hours; "
      f"{a.seeds} seeds, {a.jobs} at a time: {wall(lo):.1f}-{wall(hi):.1f} h")
print(json.dumps({"profile": a.profile, "experiments": out, "per_seed_minutes": [round(lo, 1), round(hi, 1)]}))
