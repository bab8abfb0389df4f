"""The run store under faults: damaged records, kills at any instant, stale and contended locks, missing and damaged
checkpoints, bad input refused before any run folder, duplicates, partial failures."""
import contextlib, io, json, os, signal, subprocess, sys, textwrap, time
from pathlib import Path
import pytest
import torch
from conftest import ROOT, LPC, cli

import lpc_book.jobs as J
from lpc_book.cli import main
from lpc_book.io import atomic_write, atomic_write_json, previous_path
from lpc_book.runs import Run, start_run, list_runs, lock_state, LOCK_FILE

def call(argv):
    "`lpc-book ARGV` in this process: (exit code, stdout, stderr)."
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): code = main(argv)
    return code, out.getvalue(), err.getvalue()

def files(folder):
    "Every file under `folder` with its bytes."
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(Path(folder).rglob("*")) if p.is_file()}

@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LPC_BOOK_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"

@pytest.fixture
def launched(monkeypatch):
    "`lpc-book resume` up to the launch: the runs it would execute (with the lock it holds), none executed."
    seen = []
    def fake(run_dir, root=None, progress=False, lock=None):
        seen.append((Path(run_dir), lock_state(run_dir)))
        return Run(run_dir).finish()
    monkeypatch.setattr(J, "run_queued", fake)
    return seen

def holder(run_dir):
    "Another process that holds the run's lock (a live run elsewhere), until killed."
    p = subprocess.Popen([sys.executable, "-c", "import fcntl, os, sys, time; fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT); "
                          "fcntl.flock(fd, fcntl.LOCK_EX); os.ftruncate(fd, 0); os.write(fd, b'{\"pid\": %d}' % os.getpid()); print(1, flush=True); "
                          "time.sleep(120)", str(Path(run_dir) / LOCK_FILE)], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "1"
    return p

# ---------------------------------------------------------------- damaged records

def test_damaged_json_is_skipped_with_its_file_and_problem(tmp_path, cache, launched):
    "A truncated or non-object metrics.json, or a folder without config.json: list shows damaged, resume refuses, the report skips it."
    out = tmp_path / "runs"
    good = start_run("lpc_vs_baselines", {"out_dir": str(out)}).finish()
    cut = start_run("lpc_vs_baselines", {"out_dir": str(out)}); cut.release()
    (cut.path / "metrics.json").write_text(json.dumps({"status": "running", "results": [1, 2]})[:25])
    arr = start_run("lpc_vs_baselines", {"out_dir": str(out)}); arr.release()
    (arr.path / "metrics.json").write_text("[]")
    early = out / "lpc_vs_baselines" / "20260101-000000-000000"; early.mkdir()  # killed before config.json (old code)
    code, text, err = call(["list", "--out-dir", str(out)])
    assert code == 0, err
    lines = {l.split()[1]: l for l in text.splitlines()[1:]}
    assert lines[good.id].split()[2] == "ok" and all(lines[r].split()[2] == "damaged" for r in (cut.id, arr.id, early.name)), text
    assert "metrics.json: not valid JSON" in lines[cut.id] and "metrics.json: holds an array" in lines[arr.id], text
    assert "config.json: missing" in lines[early.name], text
    for r in (cut.path, arr.path, early):
        code, _, err = call(["resume", str(r), "--no-progress"])
        assert code == 2 and "is damaged" in err and str(r) in err, err
    assert launched == []
    from lpc_book.report import build_report
    err = io.StringIO()
    with contextlib.redirect_stderr(err): report = build_report(ROOT, out=tmp_path / "report", runs_dir=out)
    skipped = [l for l in err.getvalue().splitlines() if "skipping the damaged run folder" in l]
    assert len(skipped) == 3 and any(f"{cut.path / 'metrics.json'}: not valid JSON" in l for l in skipped), err.getvalue()
    listed = (report / "runs.ipynb").read_text()  # the runs page lists the good run, and none of the damaged ones
    assert good.id in listed and not any(r in listed for r in (cut.id, arr.id, early.name)), listed[:500]

def test_list_of_a_folder_that_does_not_exist_is_an_error(tmp_path):
    code, _, err = call(["list", "--out-dir", str(tmp_path / "nonexistent")])
    assert code == 2 and "no such folder" in err, err
    (tmp_path / "f").write_text("")
    assert call(["list", "--out-dir", str(tmp_path / "f")])[0] == 2

# ---------------------------------------------------------------- locks

def test_stale_lock_is_resumed_and_a_held_one_refused(tmp_path, cache, launched):
    "A `running` run recorded by another host (or a PID now someone else's) resumes; one whose lock a live process holds does not."
    out = tmp_path / "runs"
    r = start_run("lpc_vs_baselines", {"out_dir": str(out)}); r.release()  # its process "died"
    r.log(host="another-machine", pid=1)  # what a restarted container, or a reused PID, leaves behind
    assert Run(r.path).status == "interrupted"
    p = holder(r.path)  # a second resume, or a run executing on another node
    try:
        assert Run(r.path).status == "running"
        code, _, err = call(["resume", str(r.path), "--no-progress"])
        assert code == 2 and "is locked by pid" in err and "nothing to resume" in err, err
        code, _, err = call(["resume", str(r.path), "--no-progress", "--force"])  # a held lock is never overridden
        assert code == 2 and "is locked by pid" in err, err
    finally: p.kill(); p.wait()
    assert Run(r.path).status == "interrupted" and launched == []
    code, text, err = call(["resume", str(r.path), "--no-progress"])
    assert code == 0, err
    assert launched == [(r.path, "held")]  # executed while this resume held the lock
    assert lock_state(r.path) == "free" and Run(r.path).status == "ok"

def test_queued_run_of_a_dead_launcher_is_interrupted_and_undecidable_needs_force(tmp_path, cache, launched, monkeypatch):
    monkeypatch.setattr(J, "slurm_states", lambda ids: None)  # no scheduler to ask here (CI's one-node Slurm would say "unknown job")
    out = tmp_path / "runs"
    q = J.queue_run("lpc_vs_baselines", "smoke", {"out_dir": str(out)})
    assert J.TrackedRun(q.path).status == "queued"      # its launcher (this process) holds its lock
    q.release(); assert J.TrackedRun(q.path).status == "interrupted"
    J.update_launcher(q, kind="slurm", job_id="99_0")    # a Slurm job that Slurm does not report here
    code, _, err = call(["resume", str(q.path), "--no-progress"])
    assert code == 2 and "Slurm job 99_0" in err and "--force" in err, err
    code, text, err = call(["resume", str(q.path), "--no-progress", "--force"])
    assert code == 0 and launched == [(q.path, "held")], err

# ---------------------------------------------------------------- checkpoints

def _ckpt(path, it):
    atomic_write(path, lambda t: torch.save({"iteration": it}, t))

def test_resume_says_which_checkpoint_and_refuses_to_restart_silently(tmp_path, cache, launched):
    out = tmp_path / "runs"
    r = start_run("lpc_vs_baselines", {"out_dir": str(out), "method": ["lpc", "vae"], "checkpoint_every": 5})
    atomic_write_json(r.path / "progress.json", dict(label="vae", config=2, n_configs=2, iteration=12, total=40))
    r.log(results=[dict(method="lpc", status="ok")]); r.fail("killed"); run = str(r.path)
    # missing: every checkpoint gone (another $LPC_BOOK_CACHE): refused, naming where it looked
    code, text, err = call(["resume", run, "--no-progress"])
    assert code == 2 and f"no checkpoint in {r.checkpoint_dir}" in text + err and "--restart" in err, (text, err)
    assert "LPC_BOOK_CACHE" in err and launched == []
    # both checkpoints there: it says from which iteration each goes on
    lpc, vae = r.checkpoint_dir / "lpc.pt", r.checkpoint_dir / "vae.pt"
    for it in (5, 10, 40): _ckpt(lpc, it)
    for it in (5, 10): _ckpt(vae, it)
    code, text, err = call(["resume", run, "--no-progress"])
    assert code == 0, err
    assert f"lpc: continues from checkpoint {lpc} (iteration 40)" in text and f"vae: continues from checkpoint {vae} (iteration 10)" in text, text
    # damaged (truncated): the previous one takes its place, said with both paths
    r.fail("killed again"); vae.write_bytes(vae.read_bytes()[:200])
    code, text, err = call(["resume", run, "--no-progress"])
    assert code == 0, err
    assert f"checkpoint {vae} is damaged" in text and f"{previous_path(vae)} (iteration 5)" in text, text
    assert torch.load(vae, weights_only=True)["iteration"] == 5 and vae.with_name("vae.pt.damaged").exists()
    # damaged and no good previous one: refused with its path, --restart trains it again
    r.fail("and again"); vae.write_bytes(b"PK\x03\x04junk"); previous_path(vae).unlink()
    code, text, err = call(["resume", run, "--no-progress"])
    assert code == 2 and f"vae's checkpoint {vae} is damaged" in err and "--restart" in err, err
    code, text, err = call(["resume", run, "--no-progress", "--restart"])
    assert code == 0 and not vae.exists() and lpc.exists(), err
    assert len(launched) == 3

# ---------------------------------------------------------------- bad input, before any folder

def _unwritable(tmp_path):
    "A folder no file can be created in (as root, whom permissions do not stop: /sys)."
    if os.geteuid() == 0: return Path("/sys/lpc_book_runs")
    d = tmp_path / "ro"; d.mkdir(); d.chmod(0o500); return d / "runs"

def _profile(tmp_path, text):
    p = tmp_path / "prof.yaml"; p.write_text(textwrap.dedent(text)); return str(p)

BAD = {  # name: (extra argv, environment, what the message names)
    "eval_samples 1": (["-p", "eval_samples", "1"], {}, "'eval_samples' = 1"),
    "eval_curve_samples 1": (["-e", "convergence", "-p", "eval_curve_samples", "1"], {}, "'eval_curve_samples' = 1"),
    "ll_examples 1": (["-p", "ll_examples", "1"], {}, "'ll_examples' = 1"),
    "bdmc_examples 1": (["-p", "bdmc_examples", "1"], {}, "'bdmc_examples' = 1"),
    "ll_check_temps >= ll_temps": (["-p", "ll_check_temps", "60"], {}, "'ll_check_temps' = 60"),
    "device cuda without CUDA": (["-p", "device", "cuda"], {}, "no CUDA device"),
    "cache under a file": ([], {"LPC_BOOK_CACHE": "{tmp}/file/cache"}, "the cache folder ($LPC_BOOK_CACHE)"),
    "cache unwritable": ([], {"LPC_BOOK_CACHE": "{ro}"}, "the cache folder ($LPC_BOOK_CACHE)"),
    "out_dir empty": (["-p", "out_dir", "''"], {}, "'out_dir' = ''"),
    "out_dir the book's folder": (["-p", "out_dir", "."], {}, "the book's folder"),
    "out_dir above the book": (["-p", "out_dir", ".."], {}, "the book's folder"),
    "out_dir in the sources": (["-p", "out_dir", "lpc_book/runs"], {}, "inside the book's lpc_book/"),
    "out_dir under a file": (["-p", "out_dir", "{tmp}/file/runs"], {}, "is a file, not a folder"),
    "out_dir unwritable": (["-p", "out_dir", "{ro}"], {}, "is not writable"),
    "duplicate methods": (["-p", "method", "[lpc, lpc]"], {}, "'method' = ['lpc', 'lpc'] lists 'lpc' twice"),
    "duplicate step sizes": (["-e", "precondition", "-p", "step_sizes", "[0.01, 1e-2]"], {}, "'step_sizes'"),
    "duplicate warm starts": (["-e", "warm_start", "-p", "encoder_divergences", "[none, none]"], {}, "'encoder_divergences'"),
    "renamed field": (["-e", "warm_start", "-p", "warm_start", "reverse"], {}, '"warm_start" was renamed "encoder_divergence"'),
    "renamed sweep": (["-e", "warm_start", "-p", "warm_starts", "[none]"], {}, '"warm_starts" was renamed "encoder_divergences"'),
    "renamed field in a profile": (["--profile", "P:common:\n  warm_start: reverse\n"], {}, '"warm_start" was renamed'),
    "profile syntax error": (["--profile", "P:experiments: [lpc_vs_baselines\ncommon: {}\n"], {}, "line 2: not valid YAML"),
    "profile common a list": (["--profile", "P:common:\n  - n_train: 5\n"], {}, "line 2: 'common' must be a mapping"),
    "profile not a mapping": (["--profile", "P:- lpc_vs_baselines\n"], {}, "line 1: expected a mapping"),
    "profile unknown section": (["--profile", "P:common: {}\nlpc_vs_baseline:\n  iterations: 3\n"], {}, "line 2: unknown section"),
    "profile unknown experiment": (["-e", "all", "--profile", "P:experiments: [lpc_vs_baseline]\n"], {}, "line 1: unknown experiment"),
}

@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_is_refused_before_any_run_folder(tmp_path, monkeypatch, case):
    "Each check that used to fail late (or not at all) now fails first, naming the value, and nothing is created."
    argv, envs, says = BAD[case]
    if case == "device cuda without CUDA" and torch.cuda.is_available(): pytest.skip("this machine has CUDA")
    (tmp_path / "file").write_text("a file")
    fill = lambda s: s.replace("{tmp}", str(tmp_path)).replace("{ro}", str(_unwritable(tmp_path)))
    out, cache = tmp_path / "runs", tmp_path / "cache"; out.mkdir(); cache.mkdir()
    monkeypatch.setenv("LPC_BOOK_CACHE", str(cache))
    for k, v in envs.items(): monkeypatch.setenv(k, fill(v))
    argv = [fill(a) for a in argv]
    exp = "lpc_vs_baselines"
    if "-e" in argv: i = argv.index("-e"); exp = argv[i + 1]; del argv[i:i + 2]
    if "--profile" in argv and argv[argv.index("--profile") + 1].startswith("P:"):
        i = argv.index("--profile") + 1; argv[i] = _profile(tmp_path, argv[i][2:])
    for jobs in ([], ["--jobs", "2"]):  # one after another, and side by side (queued folders)
        args = ["run", exp, "--no-progress", "-p", "out_dir", str(out), *argv, *jobs]
        code, text, err = call(args)
        assert code == 2 and says in err, (case, code, err)
        assert list(out.iterdir()) == [] and list(cache.iterdir()) == [], f"{case}: something was created"

# ---------------------------------------------------------------- partial failure

def test_partial_failure_is_named(tmp_path, cache):
    out = tmp_path / "runs"
    r = start_run("lpc_vs_baselines", {"out_dir": str(out), "method": ["lpc", "vae"]})
    r.log(results=[dict(method="lpc", status="ok", fid=10.0),
                   dict(method="vae", status="failed", error=dict(type="NonFiniteLossError", message="loss is nan"))])
    r.finish()
    assert (Run(r.path).status, Run(r.path).outcome, Run(r.path).metrics["failed_rows"]) == ("ok", "partial", ["vae"])
    code, text, _ = call(["list", "--out-dir", str(out)])
    assert " partial " in text and "failed rows: vae (NonFiniteLossError)" in text, text
    assert J.run_line(Run(r.path)).endswith("partial (failed rows: vae (NonFiniteLossError))")
    code, _, err = call(["resume", str(r.path)])
    assert code == 2 and "is partial" in err, err

# ---------------------------------------------------------------- kills at any instant (papermill runs)

HOOK = '''
import json, os, signal, sys
_spec = os.environ.get("LPC_TEST_KILL")  # "who|file|n|status|tree": SIGKILL at the n-th rename onto `file` (a JSON record with that status)
if _spec:
    _who, _name, _n, _status, _tree = _spec.split("|")
    if _who == ("kernel" if "JPY_PARENT_PID" in os.environ else "launcher"):  # (jupyter_client sets it for its kernels)
        _seen, _replace = [0], os.replace
        def _replace_or_die(src, dst, *a, **k):
            if os.path.basename(str(dst)) == _name and (not _status or json.load(open(src)).get("status") == _status):
                _seen[0] += 1
                if _seen[0] == int(_n):
                    if _tree: os.kill(os.getppid(), signal.SIGKILL)  # its launcher too: everything dies at once
                    os.kill(os.getpid(), signal.SIGKILL)
            return _replace(src, dst, *a, **k)
        os.replace = _replace_or_die
'''

def test_kill_at_any_instant_then_resume(env, tmp_path):
    """SIGKILL before config.json, before the notebook trains, during training and during the final write: each time
    nothing half-written is left, the earlier run is byte-identical, and resume ends at the uninterrupted result."""
    hook = tmp_path / "hook"; hook.mkdir(); (hook / "sitecustomize.py").write_text(HOOK)
    out = tmp_path / "runs"; exp = out / "lpc_vs_baselines"
    args = ["run", "lpc_vs_baselines", "--no-progress", "-p", "method", "[lpc]", "-p", "iterations", "20",
            "-p", "checkpoint_every", "5", "-p", "eval_samples", "16", "-p", "ll_examples", "2", "-p", "ll_temps", "5",
            "-p", "bdmc_examples", "0", "-p", "out_dir", str(out)]
    def killed(argv, spec):
        e = dict(env, PYTHONPATH=str(hook), LPC_TEST_KILL=spec)
        r = subprocess.run([LPC, *argv], cwd=ROOT, env=e, capture_output=True, text=True, timeout=600)
        assert r.returncode == -signal.SIGKILL, (spec, r.returncode, r.stdout[-2000:], r.stderr[-2000:])
        return r
    def status(run):
        code, text, err = call(["list", "--out-dir", str(out)])
        assert code == 0, err
        return next(l.split()[2] for l in text.splitlines() if run.name in l)
    cli(args, env)                                                       # the uninterrupted run, the reference
    (ref,) = list(exp.iterdir()); before = files(ref)
    ref_rows = json.loads((ref / "metrics.json").read_text())["results"]
    killed(args, "launcher|config.json|1||")                             # 1. before config.json is in place
    assert [p for p in exp.iterdir() if not p.name.startswith(".")] == [ref]  # no run folder appeared (a hidden .new one)
    killed(args, "kernel|metrics.json|1||tree")                          # 2. config.json written, nothing trained yet
    (run,) = [p for p in exp.iterdir() if not p.name.startswith(".") and p != ref]
    assert json.loads((run / "config.json").read_text())["params"]["iterations"] == 20 and status(run) == "interrupted"
    killed(["resume", str(run), "--no-progress"], "kernel|lpc.pt|2||tree")  # 3. during training (at its 2nd checkpoint)
    assert status(run) == "interrupted"
    r = killed(["resume", str(run), "--no-progress"], "kernel|metrics.json|1|ok|tree")  # 4. the final write
    assert "lpc: continues from checkpoint" in r.stdout and "(iteration 5)" in r.stdout, r.stdout
    assert status(run) == "interrupted"
    for f in run.glob("*.json"): json.loads(f.read_text())               # every record complete
    p = subprocess.Popen([LPC, "resume", str(run), "--no-progress"], cwd=ROOT, env=env, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # 5. resumed to the end...
    t0 = time.time()
    while lock_state(run) != "held" and p.poll() is None and time.time() - t0 < 300: time.sleep(0.2)
    code, _, err = call(["resume", str(run), "--no-progress"])           # ... while a second resume is refused
    stdout, stderr = p.communicate(timeout=600)
    assert code == 2 and "is locked by pid" in err, err
    assert p.returncode == 0 and "(iteration 20)" in stdout, (stdout, stderr[-2000:])
    met = json.loads((run / "metrics.json").read_text())
    assert met["status"] == "ok" and status(run) == "ok", met
    same = lambda row: {k: v for k, v in row.items() if "seconds" not in k}
    assert [same(x) for x in met["results"]] == [same(x) for x in ref_rows]  # the uninterrupted result, bit for bit
    assert files(ref) == before                                          # the earlier run untouched
