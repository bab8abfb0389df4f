"""Data-parallel training under torchrun (CPU, gloo, 2 processes): equivalence with one process (LPC, persistent
chains and VAE), a failure on one rank, and resume. Each launch costs 15-40 s on the shared 2-core machine (mostly
importing torch in three processes), so the tests share launches: the straight LPC run serves the equivalence and the
resume test.

The workers import `ppca_learner` from this file (PYTHONPATH is set to tests/ for them)."""
import copy, json, os, time
from pathlib import Path
import pytest
import torch
from torch import nn
from conftest import ROOT

from lpc_book.distributed import fit_distributed
from lpc_book.experiment import data_fingerprint
from lpc_book.methods import make_method, LPC, VAE, IWAE
from lpc_book.ppca import PPCA
from lpc_book.models import GaussianEncoder
from lpc_book.training import Learner
from lpc_book.samplers import LangevinDivergenceError

D, d, N, B = 6, 2, 64, 16 # PPCA data size, latent size, examples, global batch
ITERS, CKPT_EVERY, FAIL_AT = 6, 3, 3 # straight run length; checkpoint period; iteration at which rank 1 diverges


def ppca_learner(method:dict, poison:int|None=None, device="cpu", progress=False, D=D, d=d)->Learner:
    """PPCA data (a float tensor), a PPCA model and a linear Gaussian encoder, built the same way on every process.
    poison=t puts a NaN into the first example of rank 1's shard of minibatch t (epoch 0), so that rank 1's chains,
    and only rank 1's, diverge at training iteration t."""
    truth = PPCA(D, d, sigma=0.5, rng=torch.Generator().manual_seed(0))
    with torch.no_grad(): X = truth.sample_data(N, rng=torch.Generator().manual_seed(1))
    torch.manual_seed(0)
    model = PPCA(D, d, rng=torch.Generator().manual_seed(5))
    enc = GaussianEncoder(nn.Linear(D, 2 * d))
    lrn = Learner(model, make_method(**method), X, encoder=enc, batch_size=B, seed=3, device=device, progress=progress)
    if poison is not None:
        g = torch.Generator(); g.set_state(lrn.batches.generator.get_state())
        perm = torch.randperm(N, generator=g)  # the epoch-0 order the learner will draw
        X[perm[poison * B + B // 2], 0] = float("nan")  # X is the learner's data (on cpu, not copied)
    return lrn


@pytest.fixture(scope="module")
def env_tests():
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests"), *([old] if old else [])])
    yield
    if old is None: del os.environ["PYTHONPATH"]
    else: os.environ["PYTHONPATH"] = old


LPC_CFG = LPC(n_steps=5, step_size=0.02, sampler="ula", adapt_steps=0).config()


def lpc_run(ckpt, iterations, resume=False, poison=None):
    return fit_distributed("test_distributed:ppca_learner", dict(method=LPC_CFG, poison=poison), 2, ckpt, iterations,
                           resume=resume, checkpoint_every=CKPT_EVERY, device="cpu", progress=False)


def load(ckpt):
    return ppca_learner(LPC_CFG).load_checkpoint(ckpt)


def max_diff(a:nn.Module, b:nn.Module)->float:
    return max((x - y).abs().max().item() for x, y in zip(a.state_dict().values(), b.state_dict().values()))


@pytest.fixture(scope="module")
def straight(env_tests, tmp_path_factory):
    "Two processes, ITERS iterations of LPC straight."
    ckpt = tmp_path_factory.mktemp("straight") / "lpc.pt"
    t0 = time.time(); lpc_run(ckpt, ITERS); print(f"straight 2-process run: {time.time() - t0:.1f} s")
    return load(ckpt)


# Tolerance of the equivalence tests: the processes average shard means, one process takes the mean of the whole
# batch; the two differ by float32 rounding (~1e-7 relative). Adam's update -lr * m / (sqrt(v) + eps) amplifies a
# relative gradient difference only where |g| is near eps, so after a few steps the weights agree to a small
# fraction of the per-step move lr = 1e-3; 1e-6 is 1/1000 of it (differences seen: ~1e-7).
TOL = 1e-6


def test_lpc_two_processes_match_one(straight):
    one = ppca_learner(LPC_CFG).fit(ITERS)
    assert max_diff(one.model, straight.model) < TOL and max_diff(one.encoder, straight.encoder) < TOL
    assert straight.cost["processes"] == 2 and straight.cost["iterations"] == ITERS
    assert straight.cost["decoder_grad_evals"] == 2 * one.cost["decoder_grad_evals"]  # summed over processes
    assert straight.batches.epoch == one.batches.epoch
    for a, b in zip(one.history, straight.history): assert abs(a["loss"] - b["loss"]) <= 1e-5 * abs(a["loss"])
    assert torch.equal(one.generator.get_state(), straight.generator.get_state())  # the same noise was drawn


def _procs_mentioning(text):
    "Processes whose command line mentions `text`."
    out = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit(): continue
        try: cmd = (p / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError: continue
        if text in cmd: out.append((int(p.name), cmd))
    return out


def test_failure_on_one_rank_then_resume(straight, tmp_path):
    """Rank 1's chains diverge at iteration FAIL_AT: every process stops, the error is recorded once, and resuming from
    the last checkpoint (clean data) reproduces the straight run bitwise."""
    from lpc_book.runs import start_run, Run
    run = start_run("lpc_vs_baselines", {"out_dir": str(tmp_path / "runs")})
    ckpt = tmp_path / "ckpt" / "lpc.pt"
    t0 = time.time()
    with pytest.raises(LangevinDivergenceError) as info:
        with run.guard(): lpc_run(ckpt, ITERS, poison=FAIL_AT)
    print(f"failing run: {time.time() - t0:.1f} s")
    e = info.value
    assert e.rank == 1 and e.iteration == FAIL_AT and f"training iteration {FAIL_AT}" in str(e)
    met = json.loads((run.path / "metrics.json").read_text())
    assert met["status"] == "failed" and Run(run.path).status == "failed"
    assert met["error"]["type"] == "LangevinDivergenceError" and met["error"]["iteration"] == FAIL_AT
    assert met["error"]["message"] == str(e)
    assert not _procs_mentioning(str(ckpt.parent)), "a worker or torchrun is still running"
    assert load(ckpt).iteration == FAIL_AT  # the last checkpoint, written by rank 0 before the failure

    t0 = time.time(); lpc_run(ckpt, ITERS, resume=True); print(f"resumed run: {time.time() - t0:.1f} s")
    resumed = load(ckpt)
    for (n, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), n
    for a, b in zip(straight.encoder.parameters(), resumed.encoder.parameters()): assert torch.equal(a, b)
    strip = lambda h: [{k: v for k, v in r.items() if k not in ("seconds", "cpu_seconds")} for r in h]
    assert strip(straight.history) == strip(resumed.history)
    assert not _procs_mentioning(str(ckpt.parent))


def test_vae_two_processes_match_one(env_tests):
    """The VAE through `lpc_book.experiment.train` with nproc=2, as `lpc-book run --nproc 2` trains it (conv nets on
    the digits, the experiments' own factory), with an EveryN callback replayed on snapshots afterwards."""
    from lpc_book.experiment import load_data, train
    from lpc_book.params import check_experiment
    from lpc_book.training import EveryN
    P = check_experiment("lpc_vs_baselines", dict(latent_dim=4, width=8, batch_size=32, n_train=256, device="cpu", iterations=4))
    data = load_data(P)
    seen = {1: [], 2: []}
    def probe(n): return EveryN(2, lambda l: seen[n].append((l.iteration, l.seconds, copy.deepcopy(l.model))))
    one = train(P, data, make_method("vae", P), "vae", callbacks=[probe(1)], progress=False)
    t0 = time.time()
    two = train({**P, "nproc": 2}, data, make_method("vae", P), "vae", callbacks=[probe(2)], progress=False)
    print(f"VAE 2-process run: {time.time() - t0:.1f} s")
    assert max_diff(one.model, two.model) < TOL and max_diff(one.encoder, two.encoder) < TOL
    assert two.cost["processes"] == 2 and two.cost["encoder_grad_evals"] == 2 * one.cost["encoder_grad_evals"]
    assert [s[0] for s in seen[2]] == [s[0] for s in seen[1]] == [2, 4]
    assert 0 < seen[2][0][1] < seen[2][1][1] <= two.cost["seconds"] < seen[2][1][1] + 0.1  # the training clock
    for a, b in zip(seen[1], seen[2]): assert max_diff(a[2], b[2]) < TOL  # the replayed states are the trained ones


def test_draws_with_another_axis_of_the_shard_size_match_one(env_tests, tmp_path):
    """IWAE with k = 8 importance samples and a latent of d = 8, on shards of b = 8 examples: its (k, b, d) draws
    have three axes of the shard's length, and the noise source is told which one holds the examples (nothing is
    guessed from the shape), so two processes still give the one-process run."""
    cfg = IWAE(k=B // 2).config()
    ckpt = tmp_path / "iwae.pt"
    fit_distributed("test_distributed:ppca_learner", dict(method=cfg, D=10, d=B // 2), 2, ckpt, ITERS, device="cpu",
                    progress=False)
    two = ppca_learner(cfg, D=10, d=B // 2).load_checkpoint(ckpt)
    one = ppca_learner(cfg, D=10, d=B // 2).fit(ITERS)
    assert max_diff(one.model, two.model) < TOL and max_diff(one.encoder, two.encoder) < TOL
    assert torch.equal(one.generator.get_state(), two.generator.get_state())


PERSISTENT_CFG = LPC(n_steps=2, step_size=0.02, sampler="ula", adapt_steps=0, encoder_divergence="forward", persistent=True,
                     refresh_every=2).config()

def test_persistent_chains_two_processes_match_one(env_tests, tmp_path):
    """Persistent chains on two processes: an example's next visit falls to either process (the shards of each epoch's
    new order), so every process keeps the whole store and writes the whole minibatch's gathered rows. Ten iterations
    of four per epoch (visits 0, 1, 2 of every example, the third a refresh) give the one-process run: the weights, and
    in rank 0's checkpoint every example's chain, draw and visit count (without the gather it would hold half)."""
    ckpt = tmp_path / "persistent.pt"
    t0 = time.time()
    fit_distributed("test_distributed:ppca_learner", dict(method=PERSISTENT_CFG), 2, ckpt, 10, device="cpu", progress=False)
    print(f"persistent 2-process run: {time.time() - t0:.1f} s")
    two = ppca_learner(PERSISTENT_CFG).load_checkpoint(ckpt)
    one = ppca_learner(PERSISTENT_CFG).fit(10)
    assert max_diff(one.model, two.model) < TOL and max_diff(one.encoder, two.encoder) < TOL
    a, b = one.method.store, two.method.store
    assert torch.equal(a.visits, b.visits) and sorted(set(a.visits.tolist())) == [2, 3]
    assert torch.equal(a.anchor, b.anchor) and (a.z - b.z).abs().max() < 1e-5
    assert [round(r["refreshed"], 6) for r in two.history] == [round(r["refreshed"], 6) for r in one.history]
