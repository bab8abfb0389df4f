"""The Slurm launcher against a real one-node Slurm (`make slurm-up`): a job array of smoke runs, a USR1 requeue that
resumes bitwise, scancel then resume, Slurm's own refusal of a bad partition; earlier runs untouched throughout."""
import json, os, shutil, subprocess, time
from pathlib import Path
import pytest
from conftest import ROOT, LPC, cli
from test_jobs import small_profile

def _no_slurm():
    "Why the Slurm tests cannot run here, or None. They submit only to the project's one-node cluster (tools/slurm.sh)."
    if shutil.which("sbatch") is None: return "Slurm's sbatch is not on PATH"
    try: r = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as e: return f"sinfo failed ({e})"
    if r.returncode or not {"idle", "mixed", "allocated"} & set(r.stdout.split()):
        return f"no Slurm node takes jobs ({(r.stderr or r.stdout).strip() or 'sinfo lists none'})"
    conf = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True, timeout=20).stdout
    name = next((l.split("=", 1)[1].strip() for l in conf.splitlines() if l.startswith("ClusterName")), None)
    if name != "lpcbook" and not os.environ.get("LPC_BOOK_TEST_ANY_SLURM"):
        return (f"this Slurm (ClusterName={name}) is not the project's one-node test cluster, and the tests submit jobs "
                "only to that one (set LPC_BOOK_TEST_ANY_SLURM=1 to use this one)")

REASON = _no_slurm()
pytestmark = pytest.mark.skipif(REASON is not None, reason=f"{REASON}; start this machine's one-node Slurm with "
                                                          "`make slurm-up` (root; CI does it)")

def load(p, name): return json.loads((Path(p) / name).read_text())
def runs_in(out): return sorted(p for p in Path(out).glob("*/*") if p.is_dir())
def files(run): return {p.name: p.read_bytes() for p in Path(run).iterdir() if p.is_file()}
def by_seed(runs, exp): return {load(r, "config.json")["params"]["seed"]: r for r in runs if r.parent.name == exp}

def wait_for(pred, timeout, what):
    t0 = time.time()
    while not pred():
        if time.time() - t0 > timeout: raise TimeoutError(what)
        time.sleep(0.2)

def statuses(out, env):
    "run id -> the status `lpc-book list` shows."
    rows = cli(["list", "--out-dir", str(out)], env).stdout.splitlines()[1:]
    return {row.split()[1]: row.split()[2] for row in rows}

@pytest.fixture(scope="module")
def profile(tmp_path_factory):
    "The smoke profile cut to two experiments: LPC alone for 100 iterations (a checkpoint every 10), one warm start."
    return small_profile(tmp_path_factory.mktemp("profile") / "smoke_two.yaml", ["lpc_vs_baselines", "warm_start"],
                         common={"eval_samples": 64},
                         lpc_vs_baselines={"method": ["lpc"], "iterations": 100, "checkpoint_every": 10},
                         warm_start={"encoder_divergences": ["jeffreys"], "iterations": 20})

@pytest.fixture(scope="module")
def four(env, profile, tmp_path_factory):
    "Two experiments times two seeds submitted as one job array and waited for, watching `lpc-book list` meanwhile."
    out = tmp_path_factory.mktemp("slurm_runs")
    t0 = time.time()
    p = subprocess.Popen([LPC, "run", "all", "--profile", str(profile), "--seeds", "0,1", "--launcher", "slurm", "--wait",
                          "-p", "out_dir", str(out)], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    seen = {}
    while p.poll() is None:
        for rid, s in statuses(out, env).items(): seen.setdefault(rid, set()).add(s)
        time.sleep(2)
    stdout, stderr = p.communicate()
    print(f"four smoke jobs on Slurm, submitted and finished in {time.time() - t0:.0f} s")
    return dict(out=out, code=p.returncode, stdout=stdout, stderr=stderr, seen=seen,
                files={r: files(r) for r in runs_in(out)})

def test_four_smoke_jobs_as_one_array(four):
    assert four["code"] == 0, four["stdout"] + four["stderr"]
    runs = runs_in(four["out"])
    assert len(runs) == 4 and {r.parent.name for r in runs} == {"lpc_vs_baselines", "warm_start"}
    for exp in ("lpc_vs_baselines", "warm_start"): assert set(by_seed(runs, exp)) == {0, 1}
    jobs = {load(r, "config.json")["launcher"]["job_id"] for r in runs}
    assert len(jobs) == 4 and len({j.split("_")[0] for j in jobs}) == 1, jobs   # one array of four tasks
    for r in runs:
        met = load(r, "metrics.json")
        assert met["status"] == "ok" and met["resumed"] is False and met["results"], met.get("error")
        assert (r / "notebook.ipynb").exists() and list(r.glob("*.csv"))
        assert Path(load(r, "config.json")["launcher"]["log"]).exists()
    assert four["stdout"].strip().splitlines()[-1] == "0 pending, 0 running, 4 done, 0 failed", four["stdout"]
    seen = set().union(*four["seen"].values())
    assert {"queued", "running"} <= seen, four["seen"]   # two CPUs: two jobs wait while two run

@pytest.fixture(scope="module")
def stopped(env, profile, four, tmp_path_factory):
    """The LPC runs again, seeds 0 and 1, as two jobs: seed 0 gets USR1 mid-training (submitit requeues it); seed 1 is
    cancelled, shows `interrupted` in `lpc-book list`, and is resumed as a new Slurm job while seed 0 waits."""
    out = tmp_path_factory.mktemp("stopped_runs")
    t0 = time.time()
    cli(["run", "lpc_vs_baselines", "--profile", str(profile), "--seeds", "0,1", "--launcher", "slurm",
         "-p", "out_dir", str(out)], env)
    submit_s = time.time() - t0
    runs = by_seed(runs_in(out), "lpc_vs_baselines")
    for seed, cmd in [(0, ["scancel", "--signal=USR1"]), (1, ["scancel"])]:
        ckpt = Path(env["LPC_BOOK_CACHE"]) / load(runs[seed], "config.json")["checkpoint_dir"] / "lpc.pt"  # relative to the cache root
        wait_for(ckpt.exists, 300, f"a first checkpoint of seed {seed}")
        assert load(runs[seed], "metrics.json")["status"] == "running"
        subprocess.run([*cmd, load(runs[seed], "config.json")["launcher"]["job_id"]], check=True)
    wait_for(lambda: statuses(out, env).get(runs[1].name) == "interrupted", 120, "list to say interrupted")
    # `list` may say interrupted (the kernel's guard, or its process gone) a moment before the job's SIGTERM handler
    # has written the typed record: wait for that record rather than reading the file at once
    wait_for(lambda: (load(runs[1], "metrics.json").get("error") or {}).get("type") == "SIGTERM", 120,
             "the job's SIGTERM record")
    cancelled = load(runs[1], "metrics.json")
    cli(["resume", str(runs[1]), "--launcher", "slurm"], env)
    return dict(out=out, runs=runs, submit_s=submit_s, cancelled=cancelled)

def _results(run): return load(run, "metrics.json")["results"][0]

def wait_ended(run, what):
    "Wait until the run has ended and so has its Slurm job (papermill writes the executed notebook after the status)."
    from lpc_book.jobs import track, ended
    wait_for(lambda: ended(track([run])[0]), 300, what)

def _same_training(a, b, env):
    "The two runs' final checkpoints hold the same tensors, and their numbers are the same."
    import torch
    ca, cb = (torch.load(Path(env["LPC_BOOK_CACHE"]) / load(r, "config.json")["checkpoint_dir"] / "lpc.pt", weights_only=True)
              for r in (a, b))
    for part in ("model", "encoder"):
        assert ca[part].keys() == cb[part].keys()
        for k in ca[part]: assert torch.equal(ca[part][k], cb[part][k]), (part, k)
    ra, rb = _results(a), _results(b)
    for k in ("fid", "log_px", "recon_mse", "sgd_iterations", "decoder_grad_evals"): assert ra[k] == rb[k], (k, ra[k], rb[k])

def test_usr1_requeues_and_resumes_bitwise(stopped, four, env):
    "The job sent USR1 is requeued by submitit and resumes from its checkpoint: the same parameters as without the stop."
    assert stopped["submit_s"] < 30  # `run --launcher slurm` returns once submitted
    run = stopped["runs"][0]
    wait_ended(run, "the requeued job to finish")
    met = load(run, "metrics.json")
    assert met["status"] == "ok" and met["requeued"] == 1 and met["resumed"] is True, met
    assert "Requeued job" in Path(load(run, "config.json")["launcher"]["log"]).read_text()
    _same_training(by_seed(runs_in(four["out"]), "lpc_vs_baselines")[0], run, env)
    stopped["usr1_files"] = files(run)

def test_scancel_leaves_interrupted_then_resume(stopped, four, env):
    "A cancelled job's run is `interrupted`; `lpc-book resume --launcher slurm` completes it, bitwise as if never stopped."
    assert stopped["cancelled"]["status"] == "interrupted" and stopped["cancelled"]["error"]["type"] == "SIGTERM"
    run = stopped["runs"][1]
    wait_ended(run, "the resumed job to finish")
    met = load(run, "metrics.json")
    assert met["status"] == "ok" and met["resumed"] is True and "requeued" not in met and met["error"] is None, met
    _same_training(by_seed(runs_in(four["out"]), "lpc_vs_baselines")[1], run, env)

def test_bad_partition_and_earlier_runs_untouched(stopped, four, env, tmp_path):
    "Slurm's own answer for an unknown partition, before anything is created; no earlier run changed on the way."
    r = cli(["run", "lpc_vs_baselines", "--launcher", "slurm", "--slurm-partition", "nosuch", "-p", "out_dir", str(tmp_path)],
            env, check=False)
    assert r.returncode == 2 and "nosuch" in r.stderr and "invalid partition" in r.stderr.lower(), r.stderr
    assert list(tmp_path.iterdir()) == []
    for run, before in four["files"].items(): assert files(run) == before, run
    assert files(stopped["runs"][0]) == stopped["usr1_files"]
