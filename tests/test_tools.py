"The analysis scripts of tools/ on inputs whose answers are known."
import json, subprocess, sys
from pathlib import Path
import numpy as np, pandas as pd

ROOT = Path(__file__).resolve().parents[1]

def test_flat_horizon_recovers_a_known_curve(tmp_path):
    """Two curves f = floor + b / t sampled every 50 iterations to 2,000. The fitted change over the last 20% of T is
    (f(T) - f(0.8 T)) / f(T) = -(b / 4T) / (floor + b / T): for 10 + 1000 / t it is -1.2% at T = 2,000, already under
    2% (the horizon is the run's own T); for 1 + 20000 / t it is under 2% from T = 20000 (0.25 / 0.02 - 1) = 230,000."""
    t = np.arange(0, 2001, 50.0)
    run = tmp_path / "run"; run.mkdir()
    f = lambda t, lo, b: lo + b / np.maximum(t, 1)
    pd.DataFrame({"label": ["a"] * len(t) + ["b"] * len(t), "iteration": np.r_[t, t],
                  "fid": np.r_[f(t, 10, 1000), f(t, 1, 20000)]}).to_csv(run / "curves.csv", index=False)
    out = subprocess.run([sys.executable, str(ROOT / "tools/flat_horizon.py"), str(run)], capture_output=True, text=True,
                         check=True).stdout
    rows = {r["curve"]: r for r in json.loads(out.strip().splitlines()[-1])}
    a, b = rows["a"], rows["b"]
    assert abs(a["floor"] - 10) < 1e-3 and abs(a["c"] - 1) < 1e-4, a
    assert a["horizon"] == 2000 and abs(a["change_at_T"] - (-250 / 2000 / (10 + 1000 / 2000))) < 1e-6, a
    assert abs(b["floor"] - 1) < 1e-3 and abs(b["horizon"] / 230_000 - 1) < 0.01, b  # (the search grid's step: 0.35%)
