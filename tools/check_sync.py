"""Fail when lpc_book/ differs from what nbdev_export makes from nbs/, or when a notebook is not clean.

Runs nbdev_export and nbdev_clean on a copy in a temporary folder, so the working tree is never touched.
    python tools/check_sync.py
"""
import filecmp, shutil, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

def _files(d, pattern):
    return {p.relative_to(d) for p in Path(d).rglob(pattern) if "__pycache__" not in p.parts and ".ipynb_checkpoints" not in p.parts}

def main():
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for f in ("settings.ini", "setup.py"): shutil.copy(ROOT / f, tmp / f)
        shutil.copytree(ROOT / "nbs", tmp / "nbs", ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        shutil.copytree(ROOT / "lpc_book", tmp / "lpc_book", ignore=shutil.ignore_patterns("__pycache__"))
        for p in _files(tmp / "lpc_book", "*.py"):
            if p.name != "__init__.py": (tmp / "lpc_book" / p).unlink()
        subprocess.run([str(BIN / "nbdev_export")], cwd=tmp, check=True)
        have, want = _files(ROOT / "lpc_book", "*.py"), _files(tmp / "lpc_book", "*.py")
        for p in sorted(have - want): problems.append(f"lpc_book/{p} is not made by any notebook")
        for p in sorted(want - have): problems.append(f"lpc_book/{p} is missing: run nbdev_export")
        for p in sorted(have & want):
            if not filecmp.cmp(ROOT / "lpc_book" / p, tmp / "lpc_book" / p, shallow=False):
                problems.append(f"lpc_book/{p} differs from its notebook: run nbdev_export (never edit lpc_book/ by hand)")
        subprocess.run([str(BIN / "nbdev_clean"), "--fname", str(tmp / "nbs")], cwd=tmp, check=True)
        for p in sorted(_files(ROOT / "nbs", "*.ipynb")):
            if not filecmp.cmp(ROOT / "nbs" / p, tmp / "nbs" / p, shallow=False):
                problems.append(f"nbs/{p} is not clean: run nbdev_clean (or make export)")
    if problems:
        print("\n".join(["check_sync: FAILED"] + ["  " + p for p in problems])); return 1
    print("check_sync: lpc_book/ matches nbs/ and notebooks are clean"); return 0

if __name__ == "__main__": sys.exit(main())
