"""experiments.minratio --no-bias (issue 23 item 1, bias-free layers): the run's net, θ and
summary.json's "bias"; the independent checker recomputes the saved folder to exit 0 and still
catches a tampered loss; the checker's own bias-free net against the engine's; the constant fit
without biases; --no-bias with --starts embedded is a one-line error."""
import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest
from numpy.testing import assert_allclose

from engine import MLP, exact_hessian
from engine.io.results import load_summary
from experiments.minratio import check
from experiments.minratio import experiment as minratio
from experiments.minratio import independent as own
from experiments.minratio.objective import load_task
from experiments.minratio.recompute import hessian
from experiments.minratio.summary import constant_fit_loss
from tests.conftest import cli, quick_results, tampered_loss

no_bias = quick_results("minratio", "--jobs", 1, "--no-bias")


def test_the_run_is_the_bias_free_net(no_bias):
    arrays, meta = load_summary(no_bias[0])
    assert meta["config"]["bias"] is False and meta["summary"]["bias"] is False
    assert meta["summary"]["task"] == "sinc" and meta["summary"]["sizes"] == [1, 4, 4, 1]
    net = MLP((1, 4, 4, 1), bias=False)
    assert arrays["theta"].shape == (4, net.n_params) == (4, 4 + 16 + 4)
    assert arrays["eigenvalues"].shape == (4, net.n_params)
    assert load_task(dataclasses.replace(minratio.Config.quick(), bias=False))[1] == net
    # the stored losses are the engine's bias-free net at the stored θ
    assert_allclose(arrays["loss"], net.loss(arrays["theta"], arrays["x"], arrays["y"]),
                    rtol=1e-12)


def test_the_checker_recomputes_the_no_bias_folder_to_exit_0(no_bias, capsys):
    folder = no_bias[0]
    assert check.main([str(folder)]) is None
    out = capsys.readouterr().out
    assert f"{folder}: 4 runs of 1-4-4-1 tanh" in out and " NO" not in out


def test_a_tampered_loss_of_the_no_bias_folder_is_exit_1(no_bias, tmp_path, capsys):
    out = tampered_loss(no_bias[0], tmp_path / "tampered", 2)
    with pytest.raises(SystemExit) as exit_info:
        check.main([str(out)])
    assert exit_info.value.code == 1
    assert f"{out} run 2: L vs loss" in capsys.readouterr().err


@pytest.mark.parametrize("activation, loss", [("tanh", "mse"), ("softplus", "cross_entropy")])
def test_the_checkers_bias_free_net_is_the_engines(rng, activation, loss):
    sizes = (3, 4, 3)
    net = MLP(sizes, activation, loss, bias=False)
    theta, x = 2.0 * net.init(rng), rng.normal(size=(9, 3))
    y = np.eye(3)[rng.integers(0, 3, size=9)] if loss == "cross_entropy" else \
        rng.normal(size=(9, 3))
    fns = own.objective(sizes, activation, x, y, 0.0, loss=loss, bias=False)
    assert own.n_params(sizes, bias=False) == net.n_params
    assert_allclose(fns.loss(theta), net.loss(theta, x, y), rtol=1e-13)
    reference = exact_hessian(net, theta, x, y)
    assert_allclose(hessian(fns.total, theta), reference, rtol=0,
                    atol=1e-12 * np.abs(reference).max())


def test_the_constant_fit_without_biases_is_the_checkers():
    y = np.eye(3)[[0, 1, 2, 2]]
    for loss in ("mse", "cross_entropy"):
        config = SimpleNamespace(task="digits", loss=loss, bias=False)
        assert_allclose(constant_fit_loss(y, config), own.trivial_loss(y, loss, bias=False),
                        rtol=1e-15)
    assert constant_fit_loss(y, SimpleNamespace(task="digits", loss="mse", bias=False)) == 0.5
    # with biases, unchanged: ½ Σ_k Var(y_k)
    assert constant_fit_loss(y, SimpleNamespace(task="digits", loss="mse", bias=True)) == \
        0.5 * float(np.sum(np.var(y, axis=0)))


def test_no_bias_with_embedded_starts_is_a_one_line_error(one_line_error, tmp_path):
    one_line_error(lambda: cli("experiments.minratio")(
        ["--no-bias", "--starts", "embedded", "--out", tmp_path / "r"]),
        "experiments.minratio", "--no-bias with --starts embedded")
    assert not (tmp_path / "r").exists()
