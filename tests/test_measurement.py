"""The step-size procedure on a real model: a small conv LPC trained on MNIST (the developers' 8,000 digits), where the
energy's curvature is what it is in the experiments. MALA's adapted step gives an acceptance within 0.1 of its
target, and ULA's adapted step keeps a chain started at the posterior mode near the mode's energy (the Laplace
approximation's 1/2 chi^2_d above it), where the shared step of the old experiments made the energy climb by
thousands of nats."""
import math
import pytest
import torch
from conftest import ROOT, shared_data

from lpc_book.experiment import load_data, make_learner
from lpc_book.methods import make_method
from lpc_book.params import check_experiment
from lpc_book.samplers import langevin, TARGET_ACCEPT

ADAPT, AFTER = 40, 10  # warm-up iterations, then the iterations the frozen step is checked on


@pytest.fixture(scope="module")
def setup():
    mnist_root = shared_data()
    if mnist_root is None or not (mnist_root / "MNIST" / "raw").is_dir():
        pytest.skip("../shared/data/MNIST is absent (only the developers' machines have it)")
    torch.set_num_threads(1)
    P = check_experiment("lpc_vs_baselines", dict(dataset="mnist", data_root=str(mnist_root), n_train=1000, latent_dim=16,
                                                  width=16, batch_size=64, n_steps=10, adapt_steps=ADAPT, keep_adapting=False,
                                                  device="cpu"))
    return P, load_data(P)


def test_mala_adapted_step_reaches_its_target(setup):
    P, data = setup
    l = make_learner(P, data, make_method("lpc_mala", P), progress=False).fit(ADAPT + AFTER)
    after = [r["accept_rate"] for r in l.history if r["iteration"] > ADAPT]
    rate = sum(after) / len(after)
    print(f"MALA: adapted eta {l.method.current_step_size:.4g}, acceptance after warm-up {rate:.3f} "
          f"(target {TARGET_ACCEPT['mala']})")
    assert abs(rate - TARGET_ACCEPT["mala"]) < 0.1


def test_ula_adapted_step_keeps_a_chain_at_the_mode(setup):
    P, data = setup
    l = make_learner(P, data, make_method("lpc", P, sampler="ula"), progress=False).fit(ADAPT + AFTER)
    model, eta = l.model.eval(), l.method.current_step_size
    x = data.batch(torch.arange(64), "test")
    energy = lambda z: model.energy(x, z)
    with torch.no_grad(): z0 = l.encoder(x)[0]
    mode = langevin(energy, z0, 1000, eta / 4, noise=False, diagnose=False).z  # noiseless descent at a quarter step
    e_mode = energy(mode).detach()
    r = langevin(energy, mode, 200, eta, return_chain=True, rng=torch.Generator().manual_seed(0))
    with torch.no_grad(): excess = torch.stack([energy(z) for z in r.trajectory[100:]]) - e_mode
    d = P["latent_dim"]
    m = excess.mean().item()
    print(f"ULA: adapted eta {eta:.4g}; energy above the mode {m:.2f} (Laplace: d/2 = {d / 2}); "
          f"diagnostic acceptance {r.accept_prob.mean():.3f}")
    assert -1 < m < 3 * d / 2, m  # near the mode's 1/2 chi^2_d, not climbing
