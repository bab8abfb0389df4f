"""Write the book's generated text: README.md from nbs/index.ipynb (nbdev_readme needs Quarto, which these machines
lack), and the papermill `parameters` cell of every experiment notebook from the one home of the defaults,
`lpc_book.params` (so that `papermill --help-notebook` lists every parameter with its default).

    python tools/readme.py          # write README.md and the parameters cells
    python tools/readme.py --check  # exit 1 when either is out of date

A cell of index.ipynb with `#| output: asis` is run and its printed markdown goes into the README (what the book
found, counted from runs/ by lpc_book.report.findings); `#| echo: false` hides a cell's code, as on the website.
"""
import contextlib, io, json, os, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def _options(src):
    "A cell's `#| key: value` lines (as strings) and its source without them."
    opts = dict(re.findall(r"^#\|\s*([\w-]+)\s*:\s*(.*?)\s*$", src, re.M))
    return opts, "\n".join(l for l in src.split("\n") if not l.startswith("#|")).strip()

def _run(code):
    "What `code` prints, run from the book's folder."
    out, here = io.StringIO(), os.getcwd()
    try:
        os.chdir(ROOT)
        with contextlib.redirect_stdout(out): exec(compile(code, "index.ipynb", "exec"), {})
    finally: os.chdir(here)
    return out.getvalue().strip()

def render(nb_path=ROOT / "nbs" / "index.ipynb"):
    nb = json.loads(Path(nb_path).read_text())
    parts = ["<!-- generated from nbs/index.ipynb by tools/readme.py: edit the notebook, not this file -->"]
    for c in nb["cells"]:
        src = "".join(c["source"]).strip()
        if not src or src.startswith("#| hide"): continue
        if c["cell_type"] == "markdown":
            lines = src.split("\n")
            if lines[0].startswith("> "): lines[0] = lines[0][2:]  # nbdev summary line
            parts.append("\n".join(lines)); continue
        opts, code = _options(src)
        if opts.get("output") == "asis": parts.append(_run(code))
        elif opts.get("echo") != "false": parts.append("```python\n" + code + "\n```")
    return "\n\n".join(parts) + "\n"

# --- the experiment notebooks' parameters cells ---------------------------------------------------------------------

def _literal(v):
    "A default as Python source (double-quoted strings, as the notebooks write them)."
    if isinstance(v, str): return json.dumps(v)
    if isinstance(v, (list, tuple)): return "[" + ", ".join(_literal(x) for x in v) + "]"
    if isinstance(v, dict): return "{" + ", ".join(f"{_literal(k)}: {_literal(x)}" for k, x in v.items()) + "}"
    return repr(v)

def _annotation(p):
    "A parameter's type as an annotation papermill reads (`Optional[...]` quoted, so that Python does not evaluate it)."
    ts = p.type if isinstance(p.type, tuple) else (p.type,)
    t = "float" if float in ts else ts[0].__name__
    t = f"list[{t}]" if p.many and isinstance(p.default, (list, tuple)) else t
    return f'"Optional[{t}]"' if p.nullable else t

def parameters_cell(name):
    "The parameters cell of experiment `name`: every parameter of its schema at its default, with its help."
    from lpc_book.params import experiment_schema
    head = (f"# Parameters: every parameter of this experiment at its default, the smoke size (written from\n"
            f"# lpc_book.params.defaults(\"{name}\") by `make readme`; a test keeps them equal). A profile or -p NAME VALUE\n"
            f"# (`lpc-book run {name} --profile cpu -p seed 1`, or papermill's own -p) overrides them in the cell that\n"
            f"# papermill adds below this one. `papermill --help-notebook` lists them.")
    lines = [head]
    for k, p in experiment_schema(name).items():
        doc = re.sub(r"\s*=\s*", ": ", p.help)  # papermill skips a line with a second '='
        lines.append(f"{k}: {_annotation(p)} = {_literal(p.default)}" + (f"  # {doc}" if doc else ""))
    lines += ["run_dir: \"Optional[str]\" = None  # the run folder (set by lpc-book run and resume; None: a new one under out_dir)",
              "resume: bool = False  # continue the run in run_dir from its checkpoint (set by lpc-book resume)"]
    return "\n".join(lines)

def experiment_notebooks():
    return sorted((ROOT / "nbs" / "experiments").glob("*.ipynb"))

def parameters_cells(write=False):
    "The experiment notebooks whose parameters cell differs from `parameters_cell` (rewritten in place with `write`)."
    stale = []
    for nb_path in experiment_notebooks():
        nb = json.loads(nb_path.read_text())
        cell = next((c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])), None)
        if cell is None: stale.append(f"{nb_path.name}: no cell tagged 'parameters'"); continue
        want = parameters_cell(nb_path.stem)
        if "".join(cell["source"]) == want: continue
        stale.append(nb_path.name)
        if write:
            cell["source"] = want.splitlines(keepends=True)
            nb_path.write_text(json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n")  # as nbdev_clean writes
    return stale

if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        problems = []
        if (ROOT / "README.md").read_text() != text:
            problems.append("README.md is out of date with nbs/index.ipynb and runs/")
        if stale := parameters_cells():
            problems.append(f"the parameters cells of {', '.join(stale)} differ from lpc_book.params' defaults")
        if problems: sys.exit("; ".join(problems) + ": run `make readme` (python tools/readme.py)")
    else:
        (ROOT / "README.md").write_text(text)
        for name in parameters_cells(write=True): print(f"rewrote the parameters cell of nbs/experiments/{name}")
