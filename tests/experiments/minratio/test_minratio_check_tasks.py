"""experiments.minratio.check beyond the homework's sinc MSE net (issue 23): its own
cross-entropy and bias-free linear net against the engine's, the constant fit's loss of every
task, and saved --task dlae / --loss cross_entropy folders recomputed to exit 0, with tampering
still caught."""
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import quick_results, tampered_loss
from numpy.testing import assert_allclose

from engine import MLP, exact_hessian
from engine.critical.linear_autoencoder import LinearAutoencoder
from experiments.minratio import check
from experiments.minratio import independent as own
from experiments.minratio.recompute import hessian, recompute
from experiments.minratio.summary import constant_fit_loss

dlae = quick_results("minratio", "--jobs", 1, "--task", "dlae", "--hidden", 3,
                     "--activation", "linear", "--trainer", "lbfgs", "--dlae-dim", 6)
cross_entropy = quick_results("minratio", "--jobs", 1, "--task", "digits", "--loss",
                              "cross_entropy", "--hidden", 3, "--trainer", "lbfgs",
                              "--n-train", 60, "--switch-max", 30, "--stall-window", 50)


def test_own_cross_entropy_matches_the_engine(rng):
    sizes = (3, 4, 3)
    net = MLP(sizes, "tanh", "cross_entropy")
    theta, x = 3.0 * net.init(rng), rng.normal(size=(9, 3))
    y = np.eye(3)[rng.integers(0, 3, size=9)]
    fns = own.objective(sizes, "tanh", x, y, 0.0, loss="cross_entropy")
    loss = float(net.loss(theta, x, y))
    assert_allclose(fns.loss(theta), loss, rtol=1e-13)
    assert abs(fns.loss(theta) - loss) <= 1e-9 * loss + fns.loss_floor(theta)
    assert 0 < fns.loss_floor(theta) < 1e-12
    reference = exact_hessian(net, theta, x, y)
    assert_allclose(hessian(fns.total, theta), reference, rtol=0,
                    atol=1e-13 * np.abs(reference).max())


def test_own_bias_free_linear_net_is_the_linear_autoencoder(rng):
    k, p = 5, 2
    x = rng.normal(size=(40, k))
    model = LinearAutoencoder(x.T @ x / len(x), p)
    theta = model.init(rng)
    fns = own.objective((k, p, k), "linear", x, x, 0.0, bias=False)
    assert own.n_params((k, p, k), bias=False) == model.n_params == theta.size
    assert_allclose(fns.loss(theta), model.loss(theta), rtol=1e-12)
    reference = model.hessian(theta)
    assert_allclose(hessian(fns.total, theta), reference, rtol=0,
                    atol=1e-12 * np.abs(reference).max())
    point = recompute(theta, fns, rtol=1e-6)
    assert_allclose(point.grad_sq, model.gradient(theta) @ model.gradient(theta), rtol=1e-11)


def test_the_constant_fits_loss_of_every_task():
    y = np.eye(2)[[0, 1, 0, 1]]  # balanced one-hot, 2 outputs
    # MSE with biases: f = ȳ = (½, ½), ½ mean‖y − ȳ‖² = ½·(¼ + ¼); the variance of the
    # flattened y (¼) would give half of it
    assert own.trivial_loss(y) == 0.25
    assert constant_fit_loss(y, SimpleNamespace(task="digits", loss="mse")) == 0.25
    assert_allclose(own.trivial_loss(y, "cross_entropy"), np.log(2), rtol=1e-15)
    assert own.trivial_loss(y, "mse", bias=False) == 0.5  # f = 0
    assert_allclose(own.trivial_loss(y, "cross_entropy", bias=False), np.log(2), rtol=1e-15)
    one = np.array([[-1.0], [1.0], [3.0]])
    assert own.trivial_loss(one) == 0.5 * np.var(one)  # one output: ½Var(y), as before


@pytest.mark.slow
@pytest.mark.parametrize("which, sizes", [("dlae", "6-3-6 linear"),
                                          ("cross_entropy", "64-3-10 tanh")])
def test_saved_folders_of_other_tasks_recompute_and_exit_0(which, sizes, request, capsys):
    folder = request.getfixturevalue(which)[0]
    assert check.main([str(folder)]) is None
    out = capsys.readouterr().out
    assert f"{folder}: 4 runs of {sizes}" in out and " NO" not in out


@pytest.mark.slow
@pytest.mark.parametrize("which", ["dlae", "cross_entropy"])
def test_a_tampered_loss_of_another_task_is_exit_1(which, request, tmp_path, capsys):
    out = tampered_loss(request.getfixturevalue(which)[0], tmp_path / "tampered", 1)
    with pytest.raises(SystemExit) as exit_info:
        check.main([str(out)])
    assert exit_info.value.code == 1
    assert f"{out} run 1: L vs loss" in capsys.readouterr().err
