"""Round-trip notebooks through plain percent-format text, for editing with a text editor or a script.

    python tools/nbsrc.py py2nb SRC.py DEST.ipynb   # percent script -> notebook (outputs of unchanged code cells kept)
    python tools/nbsrc.py nb2py SRC.ipynb DEST.py   # notebook -> percent script

Cells start with `# %%` (code) or `# %% [markdown]` (markdown; every line starts with `# `).
The notebook is the source of truth: scripts made by nb2py are scratch copies and are not committed.
"""
import hashlib, json, re, sys
from pathlib import Path

KERNEL = {"kernelspec": {"display_name": "python3", "language": "python", "name": "python3"}}

def _cells_from_py(text):
    cells, kind, buf, meta = [], None, [], {}
    def flush():
        if kind is None: return
        lines = list(buf)
        while lines and not lines[-1].strip(): lines.pop()
        while lines and not lines[0].strip(): lines.pop(0)
        if kind == "markdown": lines = [l[2:] if l.startswith("# ") else l.lstrip("#") for l in lines]
        src = "\n".join(lines)
        cells.append({"cell_type": kind, "metadata": meta, "source": src})
    for line in text.splitlines():
        if line.startswith("# %%"):
            flush(); buf = []
            kind = "markdown" if "[markdown]" in line else "code"
            m = re.search(r"tags=(\[.*?\])", line)
            meta = {"tags": json.loads(m.group(1))} if m else {}
        else: buf.append(line)
    flush()
    return cells

def _split(src): 
    lines = src.split("\n")
    return [l + "\n" for l in lines[:-1]] + [lines[-1]] if src else []

def py2nb(src, dest):
    cells = _cells_from_py(Path(src).read_text())
    old = {}
    if Path(dest).exists():
        for c in json.loads(Path(dest).read_text())["cells"]:
            if c["cell_type"] == "code": old["".join(c["source"])] = c.get("outputs", [])
    nb_cells, seen = [], set()
    for i, c in enumerate(cells):
        cid = hashlib.sha1(c["source"].encode()).hexdigest()[:8]
        if cid in seen: cid = hashlib.sha1(f"{i}:{c['source']}".encode()).hexdigest()[:8]
        seen.add(cid)
        cell = {"cell_type": c["cell_type"], "id": cid, "metadata": c["metadata"], "source": _split(c["source"])}
        if c["cell_type"] == "code": cell.update(execution_count=None, outputs=old.get(c["source"], []))
        nb_cells.append(cell)
    nb = {"cells": nb_cells, "metadata": KERNEL, "nbformat": 4, "nbformat_minor": 5}
    Path(dest).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")

def nb2py(src, dest):
    out = []
    for c in json.loads(Path(src).read_text())["cells"]:
        s = "".join(c["source"])
        if c["cell_type"] == "markdown":
            out.append("# %% [markdown]\n" + "\n".join("# " + l if l else "#" for l in s.split("\n")))
        else:
            tags = c.get("metadata", {}).get("tags")
            out.append("# %%" + (f" tags={json.dumps(tags)}" if tags else "") + "\n" + s)
    Path(dest).write_text("\n\n".join(out) + "\n")

if __name__ == "__main__":
    cmd, a, b = sys.argv[1:4]
    {"py2nb": py2nb, "nb2py": nb2py}[cmd](a, b)
