"""Build README.md from nbs/index.ipynb (nbdev_readme needs Quarto, which these machines lack).

    python tools/readme.py          # write README.md
    python tools/readme.py --check  # exit 1 when README.md is out of date
"""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def render(nb_path=ROOT / "nbs" / "index.ipynb"):
    nb = json.loads(Path(nb_path).read_text())
    parts = ["<!-- generated from nbs/index.ipynb by tools/readme.py: edit the notebook, not this file -->"]
    for c in nb["cells"]:
        src = "".join(c["source"]).strip()
        if not src or src.startswith("#| hide"): continue
        if c["cell_type"] == "markdown":
            lines = src.split("\n")
            if lines[0].startswith("> "): lines[0] = lines[0][2:]  # nbdev summary line
            parts.append("\n".join(lines))
        else: parts.append("```python\n" + src + "\n```")
    return "\n\n".join(parts) + "\n"

if __name__ == "__main__":
    text = render()
    if "--check" in sys.argv:
        if (ROOT / "README.md").read_text() != text:
            sys.exit("README.md is out of date with nbs/index.ipynb: run `make readme` (python tools/readme.py)")
    else: (ROOT / "README.md").write_text(text)
