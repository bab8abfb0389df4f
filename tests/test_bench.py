"""The benchmarks' plumbing: the committed table is generated from the committed JSON, what the step-overhead
benchmark computes (the reference work counts the sampler's own evaluations, the overhead ratio is the chain's time
over that work), a smoke-sized run writes complete JSON, and the recorded figures are never overwritten.

Speed itself is measured by `make bench`, never asserted here."""
import importlib.util, json, os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"


def _run_module():
    spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def bench_path():
    sys.path.insert(0, str(BENCH))
    yield
    sys.path.remove(str(BENCH))


def _bench(script, *args, tmp_path, timeout=600):
    env = {**os.environ, "LPC_BENCH_RESULTS": str(tmp_path), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, str(BENCH / script), *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_committed_table_is_generated_from_the_committed_json():
    text = _run_module().render_readme()
    for section in ("## 1. Step overhead", "## 2. Cost to quality", "## 3. Metric throughput", "## 4. Seconds per SGD",
                    "## Where the other figures come from"):
        assert section in text, section
    assert text == (BENCH / "results" / "README.md").read_text(), "run `python bench/run.py --readme` and commit"


def test_results_record_machine_threads_and_repetitions():
    for name in ("step_overhead", "cost_quality", "metric_throughput"):
        r = json.loads((BENCH / "results" / f"{name}.json").read_text())
        assert r["machine"]["torch_num_threads"] >= 1 and r["machine"]["cpu_count"] >= 1, name
        assert not r.get("quick"), f"{name}.json is a --quick run"
    so = json.loads((BENCH / "results" / "step_overhead.json").read_text())
    assert {c["name"].split()[0] for c in so["configs"]} == {"8x8", "28x28", "32x32"}
    assert all(c["reps"] >= 5 and c["ratio_cpu"]["ula"]["n"] == c["reps"] for c in so["configs"])
    mt = json.loads((BENCH / "results" / "metric_throughput.json").read_text())
    assert all(v["seconds"]["n"] >= 3 for v in mt["results"].values() if not v.get("skipped"))


def test_the_readme_names_the_source_of_every_recorded_file():
    "Each committed JSON that `make bench` does not write is listed with its date and the command that wrote it."
    run = _run_module()
    text = (BENCH / "results" / "README.md").read_text()
    others = [p for p in (BENCH / "results").glob("*.json") if p.stem not in run.BENCHMARKS]
    assert {p.stem for p in others} >= set(run.RECORDED)
    for p in others:
        r = json.loads(p.read_text())
        assert f"| `{p.name}` | {r['started']} | `{run._command(r)}` |" in text, p.name
    assert "lpc_book/samplers.py of 399e23b" in text  # the 'before' sampler, named by its commit, not a temporary path


@pytest.mark.parametrize("variant", ["ula", "preconditioned", "mala", "ula_sample", "mala_sample"])
def test_reference_counts_are_the_samplers_own(variant, bench_path):
    "The reference work of the step-overhead figures counts the evaluations the sampler reports making."
    import torch
    from step_overhead import VARIANTS, evaluations, chain
    sampler, with_params = VARIANTS[variant]
    w = torch.nn.Parameter(torch.ones(3)); energy = lambda z: ((z * w) ** 2).sum(1)
    K = 6
    n = evaluations(variant, K)
    res = chain(energy, torch.randn(4, 3), K, 1e-2, sampler, None, [w] if with_params else None)
    assert res.grad_evals == n["full"] + n["z"]
    if with_params: assert torch.equal(w.grad, res.theta_grad[0])  # the timed unit adds theta's gradient, as LPC does
    else: assert w.grad is None


def test_overhead_ratio_is_chain_time_over_its_minimal_work(bench_path):
    "reference = (n_full bare_full + n_z bare_z) / K; the ratio is taken per repetition, from that repetition's passes."
    from step_overhead import reference, paired_ratios, derive
    t = {"bare_full": 2.0, "bare_z": 1.0}
    assert reference("ula", t, 4) == 5 * 2.0 / 4                  # z_0..z_4 with theta
    assert reference("mala", t, 4) == (5 * 2.0 + 4 * 1.0) / 4     # + each proposal for z only
    assert reference("ula_sample", t, 4) == 5 * 1.0 / 4
    times = {"bare_full": [2.0, 4.0], "bare_z": [1.0, 2.0], "ula": [2.75, 5.0]}
    assert paired_ratios(times, "ula", 4) == [2.75 / 2.5, 5.0 / 5.0]  # paired: repetition 2's slow passes divide out
    ms = lambda xs: {"min": min(xs)}
    c = derive(dict(K=4, per_step_ms={n: ms(v) for n, v in times.items()},
                    per_step_cpu_ms={n: ms([2 * x for x in v]) for n, v in times.items()}), ["ula"])
    assert c["ratio_of_min"]["ula"] == c["ratio_of_min_cpu"]["ula"] == 2.75 / 2.5


def test_time_config_tiny(bench_path):
    "One tiny configuration through the real sampler: every variant timed in every repetition, ratios consistent."
    from step_overhead import time_config, reference
    variants = ("ula", "mala", "ula_sample")
    c = time_config("8x8", 8, 4, K=2, reps=2, variants=variants)
    assert c["reps"] == 2 and c["decoder_params"] > 0
    for v in variants:
        assert c["ratio_cpu"][v]["n"] == c["ratio"][v]["n"] == 2 and c["per_step_cpu_ms"][v]["min"] > 0
        mins = {n: c["per_step_cpu_ms"][n]["min"] for n in ("bare_full", "bare_z")}
        assert c["ratio_of_min_cpu"][v] == pytest.approx(c["per_step_cpu_ms"][v]["min"] / reference(v, mins, 2))
        assert c["evaluations"][v]["full"] + c["evaluations"][v]["z"] == (5 if v == "mala" else 3)


def test_step_overhead_smoke_writes_json(tmp_path, bench_path):
    from step_overhead import reference
    p = _bench("step_overhead.py", "--quick", "--synthetic-only", "--suffix", "_t", tmp_path=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    r = json.loads((tmp_path / "step_overhead_t.json").read_text())
    assert r["quick"] and r["machine"]["torch_num_threads"] == 1 and r["loadavg_end"] is not None
    syn = r["synthetic"]
    assert r["target"] == 1.10 and syn["evaluations"]["ula"] == {"full": 21, "z": 0}  # K = 20: z_0..z_K
    bare_min = {n: syn["per_step_us"][n]["min"] for n in ("bare_full", "bare_z")}
    for v in ("ula", "preconditioned", "mala", "ula_sample"):
        s = syn["per_step_us"][v]
        assert s["n"] == 5 and 0 < s["min"] <= s["median"], (v, s)
        assert syn["overhead_us"][v]["min"] == pytest.approx(s["min"] - reference(v, bare_min, 20))  # own cost


def test_worst_estimate_reads_the_configurations(bench_path):
    "The figure the 1.10 target applies to: 1 + own cost / minimal work, at the cheapest configuration."
    from step_overhead import worst_estimate
    cfg = lambda bare: dict(K=10, per_step_cpu_ms={"bare_full": {"min": bare}, "bare_z": {"min": bare / 2}})
    res = dict(synthetic={"overhead_us": {"ula": {"min": 110.0}}}, configs=[cfg(1.0), cfg(10.0)])
    assert worst_estimate(res, "ula") == pytest.approx(1 + 0.110 / (11 * 1.0 / 10))


def test_recorded_figures_are_never_overwritten(tmp_path, bench_path):
    "The `_before` and `_paired` files are history: no benchmark or suffix writes them, and it says so before any work."
    from common import RECORDED, write_json
    with pytest.raises(ValueError, match="step_overhead_before"): write_json({}, "step_overhead_before")
    p = _bench("step_overhead.py", "--quick", "--synthetic-only", "--suffix", "_before", tmp_path=tmp_path, timeout=120)
    assert p.returncode != 0 and "step_overhead_before" in p.stderr and not list(tmp_path.iterdir())
    p = subprocess.run([sys.executable, str(BENCH / "run.py"), "--suffix", "_before"], cwd=ROOT, capture_output=True,
                       env={**os.environ, "LPC_BENCH_RESULTS": str(tmp_path)}, text=True, timeout=120)
    assert p.returncode != 0 and "recorded" in p.stderr and not list(tmp_path.iterdir())
    assert "step_overhead_paired" in RECORDED and all((BENCH / "results" / f"{n}.json").exists() for n in RECORDED)


def test_readme_renders_from_a_partial_results_folder(tmp_path):
    "`run.py --readme` over a folder holding only a smoke step-overhead run (no recorded files) writes a README."
    p = _bench("step_overhead.py", "--quick", "--synthetic-only", tmp_path=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    p = subprocess.run([sys.executable, str(BENCH / "run.py"), "--readme"], cwd=ROOT, capture_output=True, text=True,
                       env={**os.environ, "LPC_BENCH_RESULTS": str(tmp_path)}, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    text = (tmp_path / "README.md").read_text()
    assert "## 1. Step overhead" in text and "Where the other figures" not in text
