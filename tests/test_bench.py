"""The benchmarks' plumbing: the committed table is generated from the committed JSON, a smoke-sized step-overhead
run writes complete JSON (also for the "before" sampler taken from git), the old samplers work through the new
interface (`bench/common.py`), the reference work counts each sampler's own evaluations, and bad input fails fast.

Speed itself is measured by `make bench`, never asserted here."""
import importlib.util, json, os, subprocess, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BEFORE = "399e23b"  # the commit whose samplers.py is the "before" of the step-overhead optimisation
OLD_API = "17556df"  # the last samplers.py before the sampler redesign (method=, stats=, K evaluations per chain)


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
    assert r["api"] == "new" and r["synthetic"]["evaluations"]["ula"] == {"full": 21, "z": 0}  # K = 20: z_0..z_K
    for v in ("ula", "preconditioned", "mala", "ula_sample"):
        s = r["synthetic"]["per_step_us"][v]
        assert s["n"] == 5 and 0 < s["min"] <= s["median"], (v, s)


def _old_impl(rev, tmp_path):
    "`load_impl` of lpc_book/samplers.py at git revision `rev` (skips without the history)."
    src = _git_show(rev, "lpc_book/samplers.py")
    if src is None: pytest.skip(f"git history with {rev} not available (shallow clone?)")
    impl = tmp_path / f"samplers_{rev}.py"; impl.write_text(src)
    from common import load_impl
    return load_impl(impl)


@pytest.fixture
def bench_path():
    sys.path.insert(0, str(BENCH))
    yield
    sys.path.remove(str(BENCH))


def test_before_sampler_from_git_gets_the_old_loss_pass(tmp_path, bench_path):
    import torch
    lv = _old_impl(BEFORE, tmp_path)
    assert lv.api == "old" and lv.loss_pass
    w = torch.nn.Parameter(torch.ones(3))
    energy = lambda z: ((z * w) ** 2).sum(1)
    res = lv(energy, torch.zeros(4, 3), 2, 1e-2, generator=torch.Generator().manual_seed(0), params=[w])
    assert torch.allclose(res.energy, energy(res.z))  # the extra pass LPC made for its loss back then
    assert w.grad is None and res.theta_grad[0].shape == (3,)  # handed back, the caller's .grad untouched


def test_old_sampler_through_the_new_interface(tmp_path, bench_path):
    "17556df (before the redesign) through the adapter: what LPC needs, and the same chain and gradient as natively."
    import torch
    lv = _old_impl(OLD_API, tmp_path)
    assert lv.api == "old" and not lv.loss_pass  # it reported the energy of the last evaluated state
    w = torch.nn.Parameter(torch.tensor([1.0, 2.0, 0.5]))
    energy = lambda z: ((z * w) ** 2).sum(1)
    z0 = torch.randn(5, 3, generator=torch.Generator().manual_seed(1))
    w.grad = torch.full((3,), 7.0)
    res = lv(energy, z0, 4, 1e-2, sampler="ula", generator=torch.Generator().manual_seed(0), params=[w],
             return_chain=True)
    assert torch.equal(w.grad, torch.full((3,), 7.0))  # left alone, as the new sampler does
    w.grad = None
    native = lv.raw(energy, z0, 4, 1e-2, method="ula", generator=torch.Generator().manual_seed(0), params=[w],
                    return_chain=True)
    assert res.trajectory.shape == (5, 5, 3) and torch.equal(res.trajectory[0], z0) and torch.equal(res.trajectory[1:], native)
    assert torch.equal(res.theta_grad[0], w.grad) and torch.equal(res.z, native[-1])
    with torch.no_grad(): assert torch.allclose(res.energy, energy(native[-2]).mean().expand(5))  # E(z_{K-1}), as logged then
    assert res.grad_evals == 4 and torch.isnan(res.energy0).all() and torch.isnan(res.accept_prob).all()
    m = lv(energy, z0, 4, 1e-2, sampler="mala", generator=torch.Generator().manual_seed(0))
    assert m.accept_rate.shape == (5,) and torch.equal(m.accept_rate, m.accept_prob)


@pytest.mark.parametrize("variant", ["ula", "preconditioned", "mala", "ula_sample", "mala_sample"])
def test_reference_counts_are_the_samplers_own(variant, tmp_path, bench_path):
    "The reference work of the step-overhead figures counts the evaluations each sampler reports making."
    import torch
    from common import evaluations, chain_call
    from step_overhead import VARIANTS
    import lpc_book.samplers as S
    sampler, with_params = VARIANTS[variant]
    w = torch.nn.Parameter(torch.ones(3)); energy = lambda z: ((z * w) ** 2).sum(1)
    z0, K = torch.randn(4, 3), 6
    n = evaluations("new", variant, K)
    res = S.langevin(energy, z0, K, 1e-2, sampler=sampler, params=[w] if with_params else None)
    assert res.grad_evals == n["full"] + n["z"]
    old, stats = _old_impl(OLD_API, tmp_path), {}
    old.raw(energy, z0, K, 1e-2, method=sampler, params=[w] if with_params else None, stats=stats)
    n = evaluations("old", variant, K)
    assert stats["grad_evals"] == n["full"] + n["z"]
    chain_call(S.langevin)(energy, z0, K, 1e-2, sampler, None, [w] if with_params else None)


def test_load_impl_of_a_new_api_copy_matches_the_package(tmp_path, bench_path):
    "A scratch copy of today's samplers.py (relative imports) loads, and is the package's sampler."
    import shutil, torch
    from common import load_impl
    import lpc_book.samplers as S
    shutil.copy(ROOT / "lpc_book" / "samplers.py", tmp_path / "samplers_copy.py")
    lv = load_impl(tmp_path / "samplers_copy.py")
    assert lv.api == "new"
    w = torch.nn.Parameter(torch.ones(3)); energy = lambda z: ((z * w) ** 2).sum(1)
    z0 = torch.randn(4, 3)
    a = lv(energy, z0, 5, 1e-2, sampler="preconditioned", rng=torch.Generator().manual_seed(0), params=[w])
    b = S.langevin(energy, z0, 5, 1e-2, sampler="preconditioned", rng=torch.Generator().manual_seed(0), params=[w])
    assert torch.equal(a.z, b.z) and torch.equal(a.theta_grad[0], b.theta_grad[0])


def test_paired_blocks_run_their_own_implementation(bench_path):
    "Each timed block of the paired benchmark calls its own implementation (no late binding to the last one)."
    import torch
    from step_overhead import _synthetic_fns
    calls = []
    def stub(tag):
        def lv(energy, z0, n, eta, sampler, generator, params=None):
            calls.append(tag)
            return type("R", (), {"theta_grad": [torch.zeros_like(p) for p in params] if params else None})()
        lv.api = "new"
        return lv
    fns, _ = _synthetic_fns({"a": stub("a"), "b": stub("b")}, ("ula", "ula_sample"), K=2, n_calls=1)
    for key in ("a:ula", "b:ula", "a:ula_sample", "b:ula_sample"):
        calls.clear(); fns[key]()
        assert calls == [key[0]], (key, calls)


def test_paired_own_cost_smoke_writes_json(tmp_path):
    src = _git_show(OLD_API, "lpc_book/samplers.py")
    if src is None: pytest.skip(f"git history with {OLD_API} not available (shallow clone?)")
    impl = tmp_path / f"samplers_{OLD_API}.py"; impl.write_text(src)
    p = _bench("step_overhead.py", "--paired", str(impl), "--quick", "--reps", "2", "--n-calls", "2", tmp_path=tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    r = json.loads((tmp_path / "step_overhead_paired.json").read_text())["synthetic"]
    assert r["implementations"]["before"]["api"] == "old" and r["implementations"]["after"]["api"] == "new"
    for v in ("ula", "preconditioned", "mala", "ula_sample"):
        assert r["own_us"]["after"][v]["paired"]["n"] == 2 and "of_min" in r["ratio_to_first"]["after"][v]


def test_before_needs_a_real_revision(tmp_path):
    p = subprocess.run([sys.executable, str(BENCH / "run.py"), "--before", "no-such-revision", "--readme"], cwd=ROOT,
                       env={**os.environ, "LPC_BENCH_RESULTS": str(tmp_path)}, capture_output=True, text=True, timeout=60)
    assert p.returncode != 0 and "no-such-revision" in p.stderr, p.stderr
    assert not list(tmp_path.iterdir())
