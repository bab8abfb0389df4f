"The local launcher: (experiment, seed) runs side by side with --jobs, and the errors given before anything starts."
import json
from pathlib import Path
import yaml
from conftest import ROOT, cli

def small_profile(path, experiments, common=None, **sections):
    "A profile file: the smoke profile's common parameters (updated with `common`), an experiment list, sections."
    from lpc_book.runs import load_profile
    base = load_profile("smoke", ROOT)["common"]
    path.write_text(yaml.safe_dump({"experiments": experiments, "common": {**base, **(common or {})}, **sections}))
    return path

def test_jobs_run_seeds_side_by_side(env, tmp_path):
    "`run all --seeds 3 --jobs 2`: one folder per (experiment, seed), side by side; a failed run makes the exit code 1."
    prof = small_profile(tmp_path / "pair.yaml", ["lpc_vs_baselines",  # fine, and then one that diverges at once
                                                  {"lpc_vs_baselines": {"step_size": 1e6, "sampler": "ula", "adapt_steps": 0}}],
                         common={"method": ["lpc"], "iterations": 20, "eval_samples": 64})
    out = tmp_path / "runs"
    r = cli(["run", "all", "--profile", str(prof), "--seeds", "3", "--jobs", "2", "-p", "out_dir", str(out)], env,
            check=False)
    assert r.returncode == 1, r.stdout + r.stderr
    runs = sorted((out / "lpc_vs_baselines").iterdir())
    got = sorted((json.loads((p / "metrics.json").read_text())["status"],
                  json.loads((p / "config.json").read_text())["params"].get("step_size"),
                  json.loads((p / "config.json").read_text())["params"]["seed"]) for p in runs)
    assert got == [("failed", 1e6, 3), ("ok", None, 3)], got  # (None: each method's own step)
    for p in runs:
        met, cfg = json.loads((p / "metrics.json").read_text()), json.loads((p / "config.json").read_text())
        assert met["resumed"] is False and (p / "notebook.ipynb").exists()
        assert Path(cfg["launcher"]["log"]).exists() and cfg["launcher"]["kind"] == "local"
        if met["status"] == "failed": assert met["error"]["type"] == "LangevinDivergenceError", met
    assert r.stdout.strip().splitlines()[-1] == "0 pending, 0 running, 1 done, 1 failed", r.stdout
    lst = cli(["list", "--out-dir", str(out)], env).stdout
    assert lst.count(" ok ") == 1 and lst.count(" failed ") == 1 and lst.count(" local ") == 2, lst

def test_outside_the_book(tmp_path, monkeypatch, capsys):
    "Outside a clone, `run` says it needs the book's folder and how to point to it; --root and $LPC_BOOK_ROOT do."
    from lpc_book.cli import main
    monkeypatch.chdir(tmp_path); monkeypatch.delenv("LPC_BOOK_ROOT", raising=False)
    assert main(["run", "lpc_vs_baselines"]) == 2
    err = capsys.readouterr().err
    assert "nbs/experiments" in err and "--root PATH" in err and "LPC_BOOK_ROOT" in err, err
    for how in (["--root", str(ROOT)], []):  # found: the parameters are checked next
        if not how: monkeypatch.setenv("LPC_BOOK_ROOT", str(ROOT))
        assert main(["run", "lpc_vs_baselines", *how, "-p", "iterations", "0", "-p", "out_dir", str(tmp_path)]) == 2
        assert "'iterations'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []

def test_slurm_launcher_without_slurm(tmp_path, monkeypatch, capsys):
    "--launcher slurm where sbatch is not on PATH: a clear error naming the local launcher, and nothing created."
    from lpc_book.cli import main
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert main(["run", "all", "--launcher", "slurm", "--seeds", "0,1", "-p", "out_dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "sbatch" in err and "--launcher local" in err and "make slurm-up" in err, err
    assert list(tmp_path.iterdir()) == []
