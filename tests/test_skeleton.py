"Package metadata, the console script, the notebook/package sync check."
import os, shutil, subprocess, sys
from pathlib import Path
import pytest
from conftest import ROOT, BIN

def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)

def test_console_script_help_and_version():
    r = run([str(BIN / "lpc-book"), "--help"])
    assert r.returncode == 0 and "usage: lpc-book" in r.stdout
    r = run([str(BIN / "lpc-book"), "--version"])
    import lpc_book
    assert r.returncode == 0 and r.stdout.strip() == f"lpc_book {lpc_book.__version__}"

def test_non_editable_install_is_importable(tmp_path):
    "`pip install .` (not editable) gives an importable package with a version and the console script."
    target = tmp_path / "site"
    r = run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
             "--target", str(target), str(ROOT)])
    assert r.returncode == 0, r.stderr
    elsewhere = tmp_path / "elsewhere"; elsewhere.mkdir()
    env = dict(os.environ, PYTHONPATH=str(target))
    r = run([sys.executable, "-c", "import lpc_book, lpc_book.data; print(lpc_book.__version__, lpc_book.__file__)"],
            cwd=elsewhere, env=env)
    assert r.returncode == 0, r.stderr
    version, path = r.stdout.split()
    assert version.count(".") == 2 and str(target) in path
    assert (target / "bin" / "lpc-book").exists()

def _copy_project(dst):
    for f in ("settings.ini", "setup.py", "README.md"): shutil.copy(ROOT / f, dst / f)
    for d in ("nbs", "lpc_book", "tools"):
        shutil.copytree(ROOT / d, dst / d, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))

def test_check_sync_passes_on_the_repository():
    r = run([sys.executable, str(ROOT / "tools" / "check_sync.py")])
    assert r.returncode == 0, r.stdout + r.stderr

def test_check_sync_fails_on_unexported_change(tmp_path):
    "Changing an exported cell without running nbdev_export must make `make test` fail."
    import json
    _copy_project(tmp_path)
    nb_path = tmp_path / "nbs" / "00_data.ipynb"
    nb = json.loads(nb_path.read_text())
    cell = next(c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).startswith("#| export")
                and "def to_float" in "".join(c["source"]))
    cell["source"] = [l.replace('"Scale 8-bit images to floats."', '"Scale 8-bit images to floats (edited)."') for l in cell["source"]]
    nb_path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    r = run([sys.executable, str(tmp_path / "tools" / "check_sync.py")])
    assert r.returncode == 1 and "lpc_book/data.py differs" in r.stdout, r.stdout + r.stderr

def test_check_sync_fails_on_unclean_notebook(tmp_path):
    import json
    _copy_project(tmp_path)
    nb_path = tmp_path / "nbs" / "index.ipynb"
    nb = json.loads(nb_path.read_text())
    nb["cells"][0]["metadata"]["scrolled"] = True
    nb_path.write_text(json.dumps(nb, indent=1) + "\n")
    r = run([sys.executable, str(tmp_path / "tools" / "check_sync.py")])
    assert r.returncode == 1 and "index.ipynb is not clean" in r.stdout, r.stdout

def test_readme_is_generated_from_index():
    r = run([sys.executable, str(ROOT / "tools" / "readme.py"), "--check"])
    assert r.returncode == 0, r.stderr
    assert "make test" in (ROOT / "README.md").read_text()
