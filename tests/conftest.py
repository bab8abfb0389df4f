import os, sys
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
