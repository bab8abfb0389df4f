"The flow-prior experiment (Xie et al.'s five tasks) end to end through the CLI, at smoke size."
import json, math, os, subprocess, time
from pathlib import Path
import pytest
from conftest import ROOT, BIN

TASK_COLUMNS = ["fid", "kid_mean",                                   # 1. generation
                "recon_mse",                                         # 2. reconstruction
                "inpaint_centre_mse", "inpaint_random_mse",          # 3. inpainting
                "anomaly_auroc", "anomaly_auprc",                    # 4. anomaly detection
                "recovery_noise_mse", "recovery_occlusion_mse"]      # 5. unsupervised recovery
DESCENDED = ["recon_mse", "inpaint_centre_mse", "inpaint_random_mse", "anomaly_auroc", "recovery_noise_mse",
             "recovery_occlusion_mse"]  # the numbers behind a test-time descent: each also at half its steps
FIGURES = ["task1_generation", "task2_reconstruction", "task3_inpainting_centre", "task3_inpainting_random",
           "task4_anomaly", "task5_recovery_noise", "task5_recovery_occlusion"]

from conftest import cli

@pytest.fixture(scope="module")
def smoke_run(env, tmp_path_factory):
    """The flow_prior experiment at smoke size, run here rather than taken from conftest.smoke_runs: under
    pytest-xdist this file may run on another worker, which would make the whole smoke profile again."""
    out = tmp_path_factory.mktemp("flow_runs")
    cli(["run", "flow_prior", "--profile", "smoke", "--no-progress", "-p", "out_dir", str(out)], env, timeout=900)
    (run,) = sorted((out / "flow_prior").iterdir())
    return run

def test_smoke_metrics(smoke_run):
    met = json.loads((smoke_run / "metrics.json").read_text())
    assert met["status"] == "ok", met.get("error")
    rows = {r["config"]: r for r in met["results"]}
    assert set(rows) == {"abp_flow", "abp_normal"}
    assert rows["abp_flow"]["prior"] == "flow" and rows["abp_normal"]["prior"] == "normal"
    for m, r in rows.items():
        assert r["status"] == "ok", (m, r.get("error"))
        for k in TASK_COLUMNS:
            assert isinstance(r.get(k), float) and math.isfinite(r[k]), (m, k, r.get(k))
        assert 0 <= r["anomaly_auroc"] <= 1 and 0 < r["anomaly_rate"] < 1
        assert r["descent_energy_drop"] > 0, (m, r["descent_energy_drop"])  # every test-time descent moved
        moved = {f"unconverged_{k}" for k in DESCENDED if abs(r[k] - r[f"{k}_half"]) > r[f"{k}_se"]}
        assert moved == {f for f in r["flags"] if f.startswith("unconverged_")}, (m, r["flags"])  # flagged as the rule says
        assert all(r[f"{k}_steps"] == 40 for k in DESCENDED), r  # test_steps (the default), never extended without test_steps_max
        assert r["sgd_iterations"] == 40
    assert met["eval"]["extractor"] == "domain" and met["eval"]["reference_split"] == "test"
    assert len(met["claims"]) == 8
    cfg = json.loads((smoke_run / "config.json").read_text())
    assert cfg["params"]["profile"] == "smoke" and cfg["params"]["method"] == ["abp"]
    assert cfg["params"]["priors"] == ["flow", "normal"] and cfg["params"]["lr"] == 0.001  # the smoke profile's rate

def test_smoke_files(smoke_run, env):
    for name in FIGURES: assert (smoke_run / f"{name}.png").stat().st_size > 1000, name
    assert (smoke_run / "history_abp_flow.csv").exists() and (smoke_run / "notebook.ipynb").exists()
    for f in smoke_run.iterdir(): assert f.stat().st_size < 2_000_000, f
    assert not list(smoke_run.glob("*.pt")), "checkpoints must stay out of the run folder"
    ck = Path(env["LPC_BOOK_CACHE"]) / json.loads((smoke_run / "config.json").read_text())["checkpoint_dir"]
    assert {p.name for p in ck.glob("*.pt")} == {"abp_flow.pt", "abp_normal.pt", "abp_flow_without_9.pt", "abp_normal_without_9.pt"}

def test_resume_reuses_checkpoints(smoke_run, env):
    "A resumed run loads each configuration's final checkpoint (no training left) and reproduces every number."
    met_path = smoke_run / "metrics.json"
    before = json.loads(met_path.read_text())
    met = dict(before, status="failed", error={"type": "Test", "message": "marked failed to allow resume"})
    met_path.write_text(json.dumps(met))
    cli(["resume", str(smoke_run), "--no-progress"], env)
    after = json.loads(met_path.read_text())
    assert after["status"] == "ok" and after["resumed"] is True
    for a, b in zip(before["results"], after["results"]):
        for k in TASK_COLUMNS + ["sgd_iterations", "decoder_grad_evals"]: assert a[k] == b[k], (a["config"], k, a[k], b[k])

def test_cli_rejects_unknown_method(env, tmp_path):
    r = cli(["run", "flow_prior", "-p", "method", "[abp, gan]", "-p", "out_dir", str(tmp_path)], env, check=False)
    assert r.returncode == 2 and "'method'" in r.stderr, r.stderr
    assert not list(tmp_path.iterdir())

def test_cli_rejects_odd_latent_dim_with_a_flow_before_any_run(env, tmp_path):
    r = cli(["run", "flow_prior", "-p", "latent_dim", "5", "-p", "out_dir", str(tmp_path)], env, check=False)
    assert r.returncode == 2 and "latent_dim=5" in r.stderr and "even" in r.stderr, r.stderr
    assert not list(tmp_path.iterdir())
