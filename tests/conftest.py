import os, subprocess, sys, time
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

def shared_data():
    "The developers' shared data folder beside the repository, or None."
    p = ROOT.parent / "shared" / "data"
    return p if p.is_dir() else None

@pytest.fixture
def mnist_root():
    p = shared_data()
    if p is None or not (p / "MNIST" / "raw").is_dir():
        pytest.skip("../shared/data/MNIST is absent (only the developers' machines have it)")
    return p


LPC = str(BIN / "lpc-book")

@pytest.fixture(scope="session")
def env(tmp_path_factory):
    "Environment of CLI runs: a fresh cache, one torch thread (tiny nets on a shared CPU), no display."
    cache = tmp_path_factory.mktemp("cache")
    return dict(os.environ, LPC_BOOK_CACHE=str(cache), PYTHONHASHSEED="0", MPLBACKEND="Agg", OMP_NUM_THREADS="1")

def cli(args, env, timeout=900, check=True):
    "Run `lpc-book ARGS` from the repository root."
    r = subprocess.run([LPC, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if check: assert r.returncode == 0, f"lpc-book {' '.join(args)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r

@pytest.fixture(scope="session")
def smoke_runs(env, tmp_path_factory):
    "Every experiment of the smoke profile, run once through papermill with `lpc-book run all` (shared by the tests)."
    out = tmp_path_factory.mktemp("runs")
    t0 = time.time()
    r = cli(["run", "all", "--profile", "smoke", "--no-progress", "-p", "out_dir", str(out)], env, timeout=1800)
    print(f"smoke profile: {time.time() - t0:.0f} s\n{r.stdout}")
    return out
