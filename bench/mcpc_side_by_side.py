"""MCPC's own code beside the book's `mcpc` on MCPC's hierarchical MNIST model (issue #38): energies and CPU cost.

Both codes train MCPC's three-layer model (20/128/128 latents, ReLU links, Bernoulli pixels; `get_model` in their
utils/model.py) from the same initial weights (`lpc_book.hierarchy.mcpc_model(rng=seed)`, copied into their
Sequential with `to_mcpc_state_dict`), on the same binarised MNIST minibatches (the book's 'binary' scale,
u / 255 > 0.5 as their `BinaryMNIST`; the indices the book's Learner draws are given to their code too), with the
settings of their FID models (table_1.py: batch 256, 250 Adam PC steps at lr 0.7, 50 mixing + 100 sampling ULA
moves at eta 0.1; figure_5.py: Adam lr 0.01 on the weights). Their repository has no MNIST training loop; one
iteration of theirs is what their trainers and `get_representations` imply: `get_pc_trainer(is_mcpc=True,
training=False).train_on_batch` (states drawn from U(-10, 10), Adam on them), then `get_mcpc_trainer(training=True)
.train_on_batch(callback_after_t=random_step, is_sample_x_at_batch_start=False)` (ULA, the weight gradient
accumulated over the sampling moves, one Adam step). The two codes alternate iteration by iteration in one process
(one torch thread), so both see the same machine load; each has its own random stream.

Recorded per iteration: the energy per example of each code at the end of its chain (theirs: their PC layers'
energies + BCE-with-logits, at their last recorded state; ours: the chain's mean E(z_K) minus the normalising
constant 276/2 log 2 pi their energy omits), their relative difference, and the CPU (process) seconds and wall
seconds of each. Also a deterministic check: at one identical state both energies and all weight and state
gradients agree (the trajectories then differ only by their Langevin noise and PC starting points).

Their code is imported from a checkout of gaspardol/MonteCarloPredictiveCoding, never copied here. It imports
seaborn (for plots), which the book's venv lacks: install it apart (`pip install --target DIR --no-deps seaborn`)
and put DIR on PYTHONPATH.

    git --git-dir=<mirror or clone>/.git archive fa98a62 | tar x -C /tmp/MonteCarloPredictiveCoding
    PYTHONPATH=/tmp/mcpc_side/site OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python bench/mcpc_side_by_side.py \\
        --mcpc /tmp/mcpc_side/MonteCarloPredictiveCoding --iterations 20
"""
from __future__ import annotations
import argparse, math, subprocess, sys, time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, finish, header, set_threads  # noqa: E402
import torch  # noqa: E402
from lpc_book.data import load_dataset  # noqa: E402
from lpc_book.hierarchy import load_mcpc_state_dict, mcpc_model, to_mcpc_state_dict  # noqa: E402
from lpc_book.methods import make_method  # noqa: E402
from lpc_book.models import LOG_2PI  # noqa: E402
from lpc_book.training import Learner  # noqa: E402

MCPC_COMMIT = "fa98a62a544561a0b2297779338ef1f99a60d406"  # gaspardol/MonteCarloPredictiveCoding, the one read


def import_theirs(path: Path) -> dict:
    "Their modules, from a checkout holding predictive_coding/ and utils/ (clear errors when it or seaborn is missing)."
    if not (path / "predictive_coding").is_dir() or not (path / "utils" / "model.py").is_file():
        sys.exit(f"--mcpc {path}: no MonteCarloPredictiveCoding checkout there (needs predictive_coding/ and utils/); "
                 f"e.g. git archive {MCPC_COMMIT[:7]} of github.com/gaspardol/MonteCarloPredictiveCoding into it")
    sys.path.insert(0, str(path))
    try:
        import predictive_coding as pc
        from utils.model import bernoulli_fn, get_model, random_step
        from utils.training_evaluation import get_mcpc_trainer, get_pc_trainer
    except ModuleNotFoundError as e:
        sys.exit(f"their code needs {e.name!r}, which is not installed: pip install --target DIR --no-deps {e.name}, "
                 f"then PYTHONPATH=DIR")
    return dict(pc=pc, bernoulli_fn=bernoulli_fn, get_model=get_model, random_step=random_step,
                get_mcpc_trainer=get_mcpc_trainer, get_pc_trainer=get_pc_trainer)


def their_config(s: dict) -> dict:
    "Their config dict (keys as in table_1.py / figure_5.py)."
    return {"input_size": s["sizes"][0], "hidden_size": s["sizes"][1], "hidden2_size": s["sizes"][2],
            "output_size": 784, "activation_fn": "relu", "input_var": None,
            "T_pc": s["pc_steps"], "optimizer_x_fn_pc": torch.optim.Adam, "optimizer_x_kwargs_pc": {"lr": s["pc_lr"]},
            "mixing": s["mix_steps"], "sampling": s["sample_steps"], "optimizer_x_kwargs_mcpc": {"lr": s["step_size"]},
            "optimizer_p_fn_mcpc": torch.optim.Adam, "optimizer_p_kwargs_mcpc": {"lr": s["lr"], "weight_decay": 0.}}


def their_model(T: dict, cfg: dict, ours):
    "Their `get_model` network holding our weights (their '0.weight' multiplies a zero input: set to 0)."
    gen = T["get_model"](cfg, use_cuda=False)
    missing, unexpected = gen.load_state_dict(to_mcpc_state_dict(ours), strict=False)
    assert not unexpected and not [k for k in missing if "_x" not in k], (missing, unexpected)
    gen.train()
    return gen


def rel(a: float, b: float) -> float: return abs(a - b) / max(abs(a), abs(b), 1e-30)


def check_same_state(T: dict, cfg: dict, seed: int, x: torch.Tensor) -> dict:
    "Their energy and gradients (weights and states) against ours at one identical state of 64 digits."
    ours = mcpc_model(rng=torch.Generator().manual_seed(seed))
    gen = their_model(T, cfg, ours)
    data = x[:64]
    z = ours.prior.sample(64, rng=torch.Generator().manual_seed(1)) * 2  # a spread-out state, not a posterior one
    layers = [m for m in gen if isinstance(m, T["pc"].PCLayer)]
    for l in layers: l.set_is_sample_x(True)
    gen(torch.zeros(64, cfg["input_size"]))  # creates their states
    for l, zl in zip(layers, ours.split(z)): l._x = torch.nn.Parameter(zl.clone())
    out = gen(torch.zeros(64, cfg["input_size"]))
    theirs = sum(l.energy() for l in layers) + T["bernoulli_fn"](out, data.flatten(1))
    gen.zero_grad(); theirs.backward()
    zg = z.clone().requires_grad_()
    E = ours.energy(data, zg).sum()
    ours.zero_grad(); E.backward()
    const = 64 * sum(cfg[k] for k in ("input_size", "hidden_size", "hidden2_size")) / 2 * LOG_2PI
    ours_grads = dict(zip(to_mcpc_state_dict(ours), [torch.zeros(1), ours.prior.mean.grad,
                                                    *[p.grad for l in _linears(ours) for p in (l.weight, l.bias)]]))
    theirs_params = dict(gen.named_parameters())
    grad_rel = {k: ((theirs_params[k].grad - g).norm() / g.norm()).item() for k, g in ours_grads.items() if k != "0.weight"}
    state_rel = ((torch.cat([l._x.grad for l in layers], 1) - zg.grad).norm() / zg.grad.norm()).item()
    return dict(n=64, energy_theirs=theirs.item(), energy_ours_minus_constant=E.item() - const,
                energy_relative_difference=rel(theirs.item(), E.item() - const),
                weight_grad_relative_difference=grad_rel, state_grad_relative_difference=state_rel)


def _linears(model):
    from lpc_book.hierarchy import _mcpc_linears
    return _mcpc_linears(model)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mcpc", type=Path, default=Path("/tmp/mcpc_side/MonteCarloPredictiveCoding"),
                   help="checkout of gaspardol/MonteCarloPredictiveCoding (predictive_coding/, utils/)")
    p.add_argument("--iterations", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data-root", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--n-train", type=int, default=None, help="subset of MNIST's training digits (None: all here)")
    p.add_argument("--batch-size", type=int, default=256)     # table_1.py: batch_size_train
    p.add_argument("--pc-steps", type=int, default=250)       # T_pc
    p.add_argument("--pc-lr", type=float, default=0.7)        # optimizer_x_kwargs_pc (FID models)
    p.add_argument("--mix-steps", type=int, default=50)       # mixing
    p.add_argument("--sample-steps", type=int, default=100)   # sampling
    p.add_argument("--step-size", type=float, default=0.1)    # optimizer_x_kwargs_mcpc (FID models)
    p.add_argument("--lr", type=float, default=0.01)          # figure_5.py: optimizer_p_kwargs_mcpc
    p.add_argument("--name", default="mcpc_side_by_side", help="bench/results/NAME.json")
    a = p.parse_args()
    t0 = time.perf_counter()
    threads = set_threads()
    T = import_theirs(a.mcpc.resolve())
    s = dict(batch_size=a.batch_size, pc_steps=a.pc_steps, pc_lr=a.pc_lr, mix_steps=a.mix_steps,
             sample_steps=a.sample_steps, step_size=a.step_size, lr=a.lr, sizes=[20, 128, 128])
    cfg = their_config(s)
    d = load_dataset("mnist", root=a.data_root, scale="binary", n_train=a.n_train)
    x = d.x_train  # (N, 1, 28, 28) in {0, 1}
    res = header("mcpc_side_by_side", quick=a.iterations < 20)
    try: their_rev = subprocess.run(["git", "-C", str(a.mcpc), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError: their_rev = ""
    res.update(mcpc_code=dict(repository="gaspardol/MonteCarloPredictiveCoding", commit=their_rev or MCPC_COMMIT, path=str(a.mcpc)),
               settings=s, seed=a.seed, iterations=a.iterations, n_train=len(x), data="MNIST (binary scale)", threads=threads)
    res["same_state_check"] = chk = check_same_state(T, cfg, a.seed, x)
    print(f"same state: energy rel. diff {chk['energy_relative_difference']:.1e}, weight grads "
          f"{max(chk['weight_grad_relative_difference'].values()):.1e}, state grads {chk['state_grad_relative_difference']:.1e}")

    # the book's mcpc
    torch.manual_seed(a.seed)
    model = mcpc_model(rng=torch.Generator().manual_seed(a.seed))
    method = make_method("mcpc", pc_steps=a.pc_steps, pc_lr=a.pc_lr, mix_steps=a.mix_steps,
                         sample_steps=a.sample_steps, step_size=a.step_size)
    learner = Learner(model, method, x, batch_size=a.batch_size, lr=a.lr, seed=a.seed, device="cpu", progress=False)
    # theirs, from the same weights, with its own random stream (their U(-10, 10) starts and Langevin noise)
    gen = their_model(T, cfg, mcpc_model(rng=torch.Generator().manual_seed(a.seed)))
    pc_tr = T["get_pc_trainer"](gen, cfg, is_mcpc=True, training=False)
    mc_tr = T["get_mcpc_trainer"](gen, cfg, training=True)
    their_rng = torch.Generator().manual_seed(10_000 + a.seed).get_state()
    const = sum(s["sizes"]) / 2 * LOG_2PI
    xf = x.flatten(1)
    rows = []
    for it in range(a.iterations):
        w, c = time.perf_counter(), time.process_time()
        learner.fit(1)
        ours = dict(wall=time.perf_counter() - w, cpu=time.process_time() - c)
        idx = learner.batch_idx.cpu()
        e_ours = float(learner.history[-1]["loss"]) - const
        data = xf[idx]
        pseudo = torch.zeros(len(data), s["sizes"][0])
        kw = dict(loss_fn=T["bernoulli_fn"], loss_fn_kwargs={"_target": data}, is_log_progress=False,
                  is_return_results_every_t=False, is_checking_after_callback_after_t=False)
        with torch.random.fork_rng(devices=[]):  # their code draws from torch's global RNG: keep it apart from ours
            torch.set_rng_state(their_rng)
            w, c = time.perf_counter(), time.process_time()
            pc_tr.train_on_batch(inputs=pseudo, **kw)
            r = mc_tr.train_on_batch(inputs=pseudo, callback_after_t=T["random_step"],
                                     callback_after_t_kwargs={"_pc_trainer": mc_tr}, is_sample_x_at_batch_start=False, **kw)
            theirs = dict(wall=time.perf_counter() - w, cpu=time.process_time() - c)
            their_rng = torch.get_rng_state()
        e_theirs = float(r["overall"][-1]) / len(data)
        rows.append(dict(iteration=it + 1, energy_ours=e_ours, energy_theirs=e_theirs, relative_difference=rel(e_ours, e_theirs),
                         cpu_seconds_ours=ours["cpu"], cpu_seconds_theirs=theirs["cpu"],
                         wall_seconds_ours=ours["wall"], wall_seconds_theirs=theirs["wall"]))
        print(f"{it + 1:4d}  energy ours {e_ours:8.2f}  theirs {e_theirs:8.2f}  rel {rows[-1]['relative_difference']:.3f}  "
              f"CPU s ours {ours['cpu']:.2f} theirs {theirs['cpu']:.2f}", flush=True)
    res["per_iteration"] = rows
    ours_w = load_mcpc_state_dict(mcpc_model(rng=torch.Generator().manual_seed(0)), gen.state_dict())
    res["final_weights_relative_difference"] = {
        n: ((p - q).norm() / q.norm()).item() for (n, p), q in zip(ours_w.named_parameters(), model.parameters())}
    later = rows[1:] or rows  # the first iteration also pays one-off warm-up
    mean = lambda k: sum(r[k] for r in later) / len(later)
    res["summary"] = dict(
        note="means over iterations 2.. (the first also pays one-off warm-up)",
        relative_difference_mean=mean("relative_difference"), relative_difference_max=max(r["relative_difference"] for r in rows),
        energy_first=dict(ours=rows[0]["energy_ours"], theirs=rows[0]["energy_theirs"]),
        energy_last=dict(ours=rows[-1]["energy_ours"], theirs=rows[-1]["energy_theirs"]),
        cpu_seconds_per_iteration=dict(ours=mean("cpu_seconds_ours"), theirs=mean("cpu_seconds_theirs")),
        wall_seconds_per_iteration=dict(ours=mean("wall_seconds_ours"), theirs=mean("wall_seconds_theirs")))
    res["summary"]["cpu_ratio_theirs_over_ours"] = (res["summary"]["cpu_seconds_per_iteration"]["theirs"]
                                                    / res["summary"]["cpu_seconds_per_iteration"]["ours"])
    S = res["summary"]
    print(f"energy relative difference: mean {S['relative_difference_mean']:.4f}, max {S['relative_difference_max']:.4f}; "
          f"CPU s/iteration: ours {S['cpu_seconds_per_iteration']['ours']:.3f}, theirs {S['cpu_seconds_per_iteration']['theirs']:.3f}")
    finish(res, t0, a.name)


if __name__ == "__main__":
    main()
