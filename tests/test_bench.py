"""The benchmarks' plumbing: the committed table is generated from the committed JSON, a smoke-sized step-overhead
run writes complete JSON (also for the "before" sampler taken from git), and bad input fails fast.

Speed itself is measured by `make bench`, never asserted here."""
import importlib.util, json, os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BEFORE = "399e23b"  # the commit whose samplers.py is the "before" of the step-overhead optimisation


def _run_module():
    spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod


def _git_show(rev, path):
    try: return subprocess.run(["git", "show", f"{rev}:{path}"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError): return None


def test_committed_table_is_generated_from_the_committed_json():
    text = _run_module().render_readme()
    for section in ("## 1. Step overhead", "## 2. Cost to quality", "## 3. Metric throughput", "## 4. Seconds per SGD"):
        assert section in text, section
    assert text == (BENCH / "results" / "README.md").read_text(), "run `python bench/run.py --readme` and commit"


def test_results_record_machine_threads_and_repetitions():
    for name in ("step_overhead", "cost_quality", "metric_throughput"):
        r = json.loads((BENCH / "results" / f"{name}.json").read_text())
        assert r["machine"]["torch_num_threads"] >= 1 and r["machine"]["cpu_count"] >= 1, name
        assert not r.get("quick"), f"{name}.json is a --quick run"
    so = json.loads((BENCH / "results" / "step_overhead.json").read_text())
    assert {c["name"].split()[0] for c in so["configs"]} == {"8x8", "28x28", "32x32"}
    assert all(c["reps"] >= 5 and c["ratio"]["ula"]["n"] == c["reps"] for c in so["configs"])
    mt = json.loads((BENCH / "results" / "metric_throughput.json").read_text())
    assert all(v["seconds"]["n"] >= 3 for v in mt["results"].values() if not v.get("skipped"))


def _bench(script, *args, tmp_path):
    env = {**os.environ, "LPC_BENCH_RESULTS": str(tmp_path), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, str(BENCH / script), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)


def test_step_overhead_smoke_writes_json(tmp_path):
    p = _bench("step_overhead.py", "--quick", "--synthetic-only", "--suffix", "_t", tmp_path=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    r = json.loads((tmp_path / "step_overhead_t.json").read_text())
    assert r["quick"] and r["machine"]["torch_num_threads"] == 1 and r["loadavg_end"] is not None
    for v in ("ula", "preconditioned", "mala", "ula_sample"):
        s = r["synthetic"]["per_step_us"][v]
        assert s["n"] == 5 and 0 < s["min"] <= s["median"], (v, s)


def test_before_sampler_from_git_gets_the_old_loss_pass(tmp_path):
    src = _git_show(BEFORE, "lpc_book/samplers.py")
    if src is None: pytest.skip(f"git history with {BEFORE} not available (shallow clone?)")
    impl = tmp_path / "samplers_before.py"; impl.write_text(src)
    sys.path.insert(0, str(BENCH))
    try:
        import torch
        from step_overhead import load_impl
        lv = load_impl(impl)
        w = torch.nn.Parameter(torch.ones(3))
        energy = lambda z: ((z * w) ** 2).sum(1)
        stats = {}
        z = lv(energy, torch.zeros(4, 3), 2, 1e-2, generator=torch.Generator().manual_seed(0), params=[w], stats=stats)
        assert torch.isclose(stats["energy"], energy(z).mean())  # the extra pass LPC made for its loss back then
        assert w.grad is not None and w.grad.shape == (3,)
    finally: sys.path.remove(str(BENCH))


def test_before_needs_a_real_revision(tmp_path):
    p = subprocess.run([sys.executable, str(BENCH / "run.py"), "--before", "no-such-revision", "--readme"], cwd=ROOT,
                       env={**os.environ, "LPC_BENCH_RESULTS": str(tmp_path)}, capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "no-such-revision" in p.stderr, p.stderr
    assert not list(tmp_path.iterdir())
