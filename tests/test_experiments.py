"The experiment book end to end: papermill runs at smoke size, the CLI, resume after SIGKILL, bad parameters, failures."
import json, os, signal, subprocess, sys, time
from pathlib import Path
import numpy as np
import pytest
from conftest import ROOT, BIN

from conftest import LPC, cli

def runs_of(out, exp):
    return sorted(p for p in (Path(out) / exp).iterdir() if p.is_dir()) if (Path(out) / exp).exists() else []

@pytest.mark.parametrize("exp", ["lpc_vs_baselines", "warm_start", "precondition", "convergence", "frontier", "hierarchy"])
def test_smoke_run_folder(smoke_runs, exp):
    (run,) = runs_of(smoke_runs, exp)
    cfg = json.loads((run / "config.json").read_text())
    met = json.loads((run / "metrics.json").read_text())
    assert met["status"] == "ok", met.get("error")
    assert met["torch_threads"] >= 1  # the intra-op threads the run trained with
    assert met["cpu_seconds"] > 1  # the notebook process's CPU time (imports and training at least)
    for k in ("params", "package_version", "git_commit", "seed", "device", "torch_version", "checkpoint_dir"):
        assert k in cfg, k
    assert cfg["params"]["profile"] == "smoke" and cfg["params"]["dataset"] == "digits"
    assert met["results"] and all("status" in r for r in met["results"])
    assert (run / "notebook.ipynb").exists() and list(run.glob("*.png")) and list(run.glob("*.csv"))
    for f in run.iterdir(): assert f.stat().st_size < 2_000_000, f
    assert not list(run.glob("*.pt")), "checkpoints must stay out of the run folder"
    if exp == "lpc_vs_baselines":
        from lpc_book.methods import METHODS
        assert {r["method"] for r in met["results"]} == set(METHODS) | {"lpc_prior_k10"}  # the smoke profile's prior_steps
        assert (run / "lpc_prior_vs_k.png").exists()
        assert all(r["fid_se"] > 0 for r in met["results"] if r["status"] == "ok"), met["results"]  # FID's own error
        for r in met["results"]:  # every row measured the same way: AIS log p(x) with its error, chains diagnosed
            assert r["log_px_estimator"] == "ais" and r["log_px_se"] > 0, r
            assert len(r["log_px_examples"]) == cfg["params"]["ll_examples"], r  # per image, for paired comparisons
            if r["method"] not in ("vae", "iwae"): assert "chain_accept_prob" in r and "flags" in r, r
        ev = met["eval"]
        assert ev["extractor"] == "domain" and ev["n_generated"] > 0 and ev["reference_split"] == "test"
    if exp == "convergence":  # every method to one horizon N: what the claims' rules read (lpc_book.claims)
        rows = {r["method"]: r for r in met["results"]}
        assert set(rows) == {"vae", "lpc", "lpc_k1", "lpc_tuned"} and met["vae_fid_at_horizon"] > 0, rows.keys()
        assert {r["sgd_iterations"] for r in rows.values()} == {cfg["params"]["iterations"]}
        for m in ("lpc", "lpc_k1", "lpc_tuned"):
            assert rows[m]["curve_fid_at_vae_seconds"] > 0 and "iteration_to_vae_fid" in rows[m] and "chain_distance" in rows[m]
        assert all(r["fid_se"] > 0 and r["cpu_seconds"] > 0 for r in rows.values()), rows
    if exp == "frontier":  # every configuration at the same training seconds, timed to the VAE's plateau FID
        rows = {r["label"]: r for r in met["results"]}
        assert {"vae", "iwae"} <= set(rows) and rows["vae"]["time_ratio"] == 1.0, rows.keys()
        lpc = [r for r in rows.values() if r["kind"] == "lpc"]
        assert {r["sampler"] for r in lpc} == {"ula", "preconditioned"} and any(r["burn_in"] == r["K"] for r in lpc)
        assert all(r["predicted_sec_per_it"] > 0 and r["seconds"] >= 2.0 for r in lpc), lpc
        assert set(met["step_sizes"]) == {"ula", "preconditioned"} and (run / "sweep.csv").exists()
        persistent = [r for r in lpc if r["start"] == "persistent"]  # persistent chains, measured against the proposal
        assert {r["sampler"] for r in persistent} == {"ula", "preconditioned"}, persistent
        assert all(r["moves"] in (True, False) and r["chain_proposal_distance"] > 0 and 0 <= r["chain_refreshed"] <= 1
                   for r in persistent), persistent
        assert any("chains do inference" in k for k in met["claims"]), met["claims"]
    if exp == "hierarchy":  # MCPC's model, binarised digits, every method with the main table's evaluation and per-layer chains
        p = cfg["params"]
        assert (p["hierarchy"], p["sizes"], p["likelihood"], p["binarize"]) == ("mcpc", [20, 128, 128], "bernoulli", True)
        rows = {r["method"]: r for r in met["results"]}
        assert set(rows) == {"mcpc", "lpc", "pc", "vae", "iwae"} and all(r["status"] == "ok" for r in rows.values()), rows
        for m, r in rows.items():
            assert r["fid_se"] > 0 and r["log_px_estimator"] == "ais" and r["log_px_se"] > 0 and "bdmc_gap" in r, r
            assert r["layer_scales"] == [1.0, 1.0] and r["cpu_seconds"] > 0, r  # MCPC's fixed unit scales
            if m in ("vae", "iwae"): continue
            assert "flags" in r and {f"chain_layer_distance_{l}" for l in (1, 2, 3)} <= set(r), r
            assert {f"chain_layer_energy_drop_{l}" for l in (1, 2, 3, "x")} <= set(r), r
        mc = p["method_params"]["mcpc"]  # its PC phase and both Langevin phases, per iteration
        assert rows["mcpc"]["decoder_grad_evals"] == p["iterations"] * (mc["pc_steps"] + mc["mix_steps"] + mc["sample_steps"] + 1)
        assert (run / "layers.png").exists() and set(met["summary"]) >= {"mcpc", "lpc"}

def test_list_shows_runs(smoke_runs, env):
    r = cli(["list", "--out-dir", str(smoke_runs)], env)
    assert r.stdout.count(" ok") >= 4

BAD = [("dataset", "imagenet"), ("method", "gan"), ("method", "[lpc, gan]"), ("iterations", "-5"), ("iterations", "2.5"),
       ("batch_size", "0"), ("n_steps", "abc"), ("step_size", "-0.1"), ("step_size", ".inf"), ("sampler", "hmc"), ("adapt_steps", "-1"),
       ("encoder_divergence", "kl"), ("seed", "-1"), ("device", "tpu"), ("eval_samples", "0"), ("fid_extractor", "clip"),
       ("latent_dim", "true"), ("width", "null"), ("n_train", "0"), ("lr", "0"), ("likelihood", "poisson"),
       ("beta", "1.5"), ("no_such_param", "1")]

@pytest.mark.parametrize("name,value", BAD)
def test_cli_rejects_bad_parameter(tmp_path, capsys, name, value):
    "In-process (the CLI's main), so each case costs milliseconds; nothing starts and nothing is created."
    from lpc_book.cli import main
    code = main(["run", "lpc_vs_baselines", "-p", name, value, "-p", "out_dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and repr(name) in err, err
    assert not list(tmp_path.iterdir()), "nothing may be created for a rejected parameter set"

def test_cli_rejects_bad_parameter_in_a_subprocess(env, tmp_path):
    r = cli(["run", "warm_start", "-p", "encoder_divergences", "[none, kl]", "-p", "out_dir", str(tmp_path)], env, check=False)
    assert r.returncode == 2 and "'encoder_divergences'" in r.stderr, r.stderr
    r = cli(["run", "all", "--profile", "nosuch"], env, check=False)
    assert r.returncode == 2 and "available profiles" in r.stderr, r.stderr

@pytest.mark.parametrize("exp,name,value", [("warm_start", "encoder_divergences", ["none", "kl"]),
                                             ("precondition", "step_sizes", [0.01, -1.0]),
                                             ("convergence", "curve_every", 0)])
def test_notebook_rejects_bad_parameter_in_first_cells(env, tmp_path, exp, name, value):
    "Run directly through papermill (no CLI check): the notebook itself stops before any training."
    import papermill as pm
    out = tmp_path / "out.ipynb"
    with pytest.raises(pm.PapermillExecutionError) as e:
        pm.execute_notebook(str(ROOT / "nbs" / "experiments" / f"{exp}.ipynb"), str(out), kernel_name="python3",
                            parameters={name: value, "out_dir": str(tmp_path / "runs")}, cwd=str(ROOT), progress_bar=False)
    assert e.value.ename == "ParameterError" and repr(name) in e.value.evalue
    nb = json.loads(out.read_text())
    executed = [c for c in nb["cells"] if c["cell_type"] == "code" and c.get("execution_count")]
    assert len(executed) <= 4  # _before, parameters, injected parameters, begin()

def test_diverging_configuration_fails_with_typed_error(env, tmp_path):
    r = cli(["run", "lpc_vs_baselines", "--profile", "smoke", "--no-progress", "-p", "method", "[lpc]",
             "-p", "step_size", "1e6", "-p", "sampler", "ula", "-p", "adapt_steps", "0", "-p", "out_dir", str(tmp_path)],
            env, check=False)
    assert r.returncode == 1
    (run,) = runs_of(tmp_path, "lpc_vs_baselines")
    met = json.loads((run / "metrics.json").read_text())
    assert met["status"] == "failed" and met["error"]["type"] == "LangevinDivergenceError", met
    assert "step" in met["error"] and met["error"]["step_size"] == 1e6
    assert (run / "notebook.ipynb").exists()

def _wait_for(pred, timeout, what):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if pred(): return
        time.sleep(0.5)
    raise TimeoutError(what)

def test_sigkill_then_resume(env, tmp_path):
    "A run killed mid-training leaves every earlier file intact; `list` says interrupted; `resume` completes it identically."
    out = tmp_path / "runs"
    args = ["run", "lpc_vs_baselines", "--profile", "smoke", "--no-progress", "-p", "method", "[lpc]",
            "-p", "iterations", "150", "-p", "checkpoint_every", "10", "-p", "eval_samples", "64", "-p", "out_dir", str(out)]
    cli(args, env)                                   # an earlier, complete run (also the reference result)
    (ref,) = runs_of(out, "lpc_vs_baselines")
    ref_files = {p.name: p.read_bytes() for p in ref.iterdir() if p.is_file()}
    p = subprocess.Popen([LPC, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         start_new_session=True)
    try:
        def killed_dir():
            rs = [r for r in runs_of(out, "lpc_vs_baselines") if r != ref]
            return rs[0] if rs else None
        _wait_for(lambda: killed_dir() is not None and (killed_dir() / "config.json").exists(), 300, "run folder")
        run = killed_dir()
        ckdir = Path(env["LPC_BOOK_CACHE"]) / json.loads((run / "config.json").read_text())["checkpoint_dir"]
        _wait_for(lambda: (ckdir / "lpc.pt").exists(), 300, "first checkpoint")
        time.sleep(1.0)
        kernel_pid = json.loads((run / "metrics.json").read_text())["pid"]  # the kernel runs the training
        os.kill(kernel_pid, signal.SIGKILL)
        os.killpg(p.pid, signal.SIGKILL)
    finally:
        p.wait(60)
    time.sleep(0.5)
    assert {q.name: q.read_bytes() for q in ref.iterdir() if q.is_file()} == ref_files
    for f in run.glob("*.json"): json.loads(f.read_text())   # complete, readable
    assert json.loads((run / "metrics.json").read_text())["status"] == "running"
    lst = cli(["list", "--out-dir", str(out)], env).stdout
    assert run.name in lst and "interrupted" in lst.split(run.name)[1].split("\n")[0], lst
    cli(["resume", str(run), "--no-progress"], env)
    met = json.loads((run / "metrics.json").read_text())
    assert met["status"] == "ok" and met["resumed"] is True
    a, b = json.loads(ref_files["metrics.json"])["results"][0], met["results"][0]
    for k in ("fid", "log_px", "recon_mse", "sgd_iterations", "decoder_grad_evals"):
        assert a[k] == b[k], (k, a[k], b[k])          # bitwise-identical training gives identical numbers

def test_paper_profile_starts_on_cpu(env, tmp_path):
    "The paper profile (CelebA-64, paper-sized nets, batch 64) starts and runs a few iterations on CPU (fake images)."
    root = tmp_path / "data"; root.mkdir()
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(160, 3, 64, 64), dtype=np.uint8)
    np.savez(root / "celeba64_c148_s64.npz", xtr=x[:128], ytr=np.zeros(128, np.int64), xte=x[128:], yte=np.zeros(32, np.int64))
    r = cli(["run", "lpc_vs_baselines", "--profile", "paper", "--no-progress", "-p", "data_root", str(root),
             "-p", "method", "[lpc]", "-p", "iterations", "2", "-p", "n_steps", "3", "-p", "eval_samples", "8",
             "-p", "ll_examples", "2", "-p", "ll_chains", "2", "-p", "ll_temps", "3", "-p", "bdmc_examples", "2",
             "-p", "fid_extractor", "inception", "-p", "out_dir", str(tmp_path / "runs")], env, timeout=900, check=False)
    (run,) = runs_of(tmp_path / "runs", "lpc_vs_baselines")
    met = json.loads((run / "metrics.json").read_text())
    assert met["status"] == "ok", (met.get("error"), r.stdout[-2000:], r.stderr[-2000:])
    cfg = json.loads((run / "config.json").read_text())["params"]
    assert (cfg["batch_size"], cfg["latent_dim"], cfg["dataset"]) == (64, 40, "celeba64")
    assert met["results"][0]["sgd_iterations"] == 2
