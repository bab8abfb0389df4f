"""The package as a user installs it: `pip install .` into a fresh virtual environment outside the clone, then
`lpc-book run lpc_vs_baselines --profile smoke --root CLONE` runs (the Jupyter kernel that executes the notebooks comes
with the package); without the kernel, the command says what to install and leaves no run folder.

PyTorch, torchvision and everything they depend on (the CUDA libraries, numpy, sympy...: 5.7 GB) are linked from this
environment into a folder on the fresh environment's path rather than unpacked again: pip sees them installed, and
installs everything else the package declares (the Jupyter kernel, papermill, seaborn, scipy, pandas...) from the
wheels it finds. `LPC_FULL_INSTALL_TEST=1` installs PyTorch too."""
import json, os, re, shutil, subprocess, sys, time
from pathlib import Path
import pytest
from conftest import ROOT

SOURCE = ("setup.py", "settings.ini", "pyproject.toml", "MANIFEST.in", "README.md", "lpc_book")  # what pip builds from

def torch_closure(roots=("torch", "torchvision"))->set[Path]:
    """The site-packages entries (packages, their .libs and .dist-info) of `roots` and of everything they require,
    extras followed (torch asks for cuda-toolkit[cublas, ...]); pip and setuptools stay the fresh environment's own."""
    from importlib.metadata import distribution, PackageNotFoundError
    from packaging.requirements import Requirement
    seen, todo, entries = set(), [(r, "") for r in roots], set()
    while todo:
        name, extra = todo.pop()
        name = re.sub(r"[-_.]+", "-", name).lower()
        if (name, extra) in seen or name in ("pip", "setuptools"): continue
        seen.add((name, extra))
        try: d = distribution(name)
        except PackageNotFoundError: continue
        for r in map(Requirement, d.requires or []):
            if not r.marker or r.marker.evaluate({"extra": extra}): todo += [(r.name, "")] + [(r.name, e) for e in r.extras]
        site = Path(d.locate_file(""))
        entries |= {site / f.parts[0] for f in d.files or [] if f.parts[0] not in ("..", "__pycache__")}
    return {e for e in entries if e.exists()}

def _pip_env():
    return {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHONPATH"))} | {
        "PIP_DISABLE_PIP_VERSION_CHECK": "1", "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"}

@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    "A new virtual environment with `pip install` of a copy of the clone's source (the clone itself stays untouched)."
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"; src.mkdir()
    for f in SOURCE:
        (shutil.copytree if (ROOT / f).is_dir() else shutil.copy)(ROOT / f, src / f)
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    site = Path(subprocess.check_output([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip())
    if not os.environ.get("LPC_FULL_INSTALL_TEST"):
        heavy = tmp / "torch"; heavy.mkdir()
        for p in torch_closure(): (heavy / p.name).symlink_to(p)
        (site / "_lpc_book_test_torch.pth").write_text(f"{heavy}\n")
    t0 = time.time()
    r = subprocess.run([py, "-m", "pip", "install", "-q", "--no-compile", str(src)], env=_pip_env(), capture_output=True, text=True,
                       timeout=1800, cwd=tmp)
    if r.returncode and re.search(r"No matching distribution|Could not find a version|connection", r.stderr, re.I):
        pytest.skip(f"pip could not get the package's dependencies here: {r.stderr[-500:]}")
    assert r.returncode == 0, r.stderr[-3000:]
    print(f"pip install . into a fresh venv: {time.time() - t0:.0f} s")
    return venv, tmp

def lpc_book(venv, tmp, *args):
    return subprocess.run([venv / "bin" / "lpc-book", *args], env=_pip_env() | {"LPC_BOOK_CACHE": str(tmp / "cache")},
                          capture_output=True, text=True, timeout=1800, cwd=tmp)

def test_installed_lpc_book_runs_an_experiment(fresh):
    venv, tmp = fresh
    where = subprocess.check_output([venv / "bin" / "python", "-c", "import lpc_book; print(lpc_book.__file__)"], text=True,
                                    cwd=tmp)
    assert str(venv) in where, where  # the installed copy, not the clone
    out = tmp / "runs"
    r = lpc_book(venv, tmp, "run", "lpc_vs_baselines", "--profile", "smoke", "--root", str(ROOT), "--no-progress",
                 "-p", "out_dir", str(out))
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    (run,) = (out / "lpc_vs_baselines").iterdir()
    assert json.loads((run / "metrics.json").read_text())["status"] == "ok" and (run / "notebook.ipynb").exists()

def test_without_the_kernel_the_error_says_what_to_install(fresh):
    venv, tmp = fresh
    subprocess.run([venv / "bin" / "python", "-m", "pip", "uninstall", "-q", "-y", "ipykernel"], env=_pip_env(), check=True)
    out = tmp / "runs-nokernel"
    r = lpc_book(venv, tmp, "run", "lpc_vs_baselines", "--profile", "smoke", "--root", str(ROOT), "-p", "out_dir", str(out))
    assert r.returncode == 2 and "pip install ipykernel" in r.stderr and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert not out.exists() or not any(out.rglob("*")), "a failed start left a run folder"
