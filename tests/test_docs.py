"""The text a newcomer reads first: the README (short, for users, its findings rendered from the runs, never typed)
and the experiment notebooks' parameters as papermill shows them."""
import os, re, subprocess, sys
from pathlib import Path
from conftest import ROOT, BIN

sys.path.insert(0, str(ROOT / "tools"))
import readme  # tools/readme.py: README.md and the parameters cells

RUN_ID = re.compile(r"\d{8}-\d{6}-[0-9a-f]{6}")  # a run folder's name, e.g. 20261207-111023-368755

def test_readme_is_short_and_types_no_finding():
    text = (ROOT / "README.md").read_text()
    words = len(re.sub(r"<!--.*?-->", "", text, flags=re.S).split())
    assert words < 1500, f"README.md has {words} words: the details belong in the chapters and on the website"
    assert not RUN_ID.search(text), f"README.md names a run ({RUN_ID.search(text).group(0)}): findings are rendered, not typed"
    for part in ("## Two commands", "make test", "make book", "pip install", "make_method(\"lpc\")", "--nproc", "--launcher slurm",
                 "8,000", "download=True", "What it found."):
        assert part in text, part
    assert text == readme.render(), "README.md is out of date: make readme"

def test_parameters_cells_list_every_default():
    "Each experiment notebook's parameters cell is lpc_book.params' defaults, and papermill --help-notebook shows them all."
    from lpc_book.params import experiment_schema, defaults
    assert readme.parameters_cells() == [], "the parameters cells differ from lpc_book.params: make readme"
    for nb in readme.experiment_notebooks():
        out = subprocess.run([BIN / "papermill", "--help-notebook", str(nb)], capture_output=True, text=True, check=True).stdout
        shown = dict(re.findall(r"^  (\w+): .*?\(default (.*?)\)(?= {2,}|$)", out, re.M))
        assert set(shown) == set(experiment_schema(nb.stem)) | {"run_dir", "resume"}, (nb.name, set(shown) ^ set(experiment_schema(nb.stem)))
        for k, v in defaults(nb.stem).items(): assert shown[k] == readme._literal(v), (nb.name, k, shown[k], v)

def test_make_lab_starts_as_root():
    out = subprocess.run(["make", "-n", "--no-print-directory", "lab"], cwd=ROOT, capture_output=True, text=True).stdout
    assert ("--allow-root" in out) == (os.geteuid() == 0), out
