"""experiments.minratio beyond the sinc toy: --task (functions, digits, the deep linear
autoencoder), --loss, --activation linear; the homework's defaults unchanged; bad task flags are
one-line errors."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from engine import MLP
from engine.critical.linear_autoencoder import critical_classes, nearest_subset
from engine.io.results import load_summary
from experiments.minratio import experiment as minratio
from experiments.minratio.objective import load_task, objective_fns
from tests.conftest import cli, quick_results

DLAE = ("--task", "dlae", "--hidden", "4", "--activation", "linear", "--trainer", "lbfgs")
dlae_quick = quick_results("minratio", *DLAE)
# short searches (--stall-window): the test reads the task's shapes and losses, not the ends
digits_quick = quick_results("minratio", "--task", "digits", "--loss", "cross_entropy",
                             "--hidden", "6", "--trainer", "lbfgs", "--n-train", "120",
                             "--stall-window", "20")


def test_the_homework_defaults_are_unchanged():
    config = minratio.Config()
    assert config.sizes == (1, 8, 8, 1) and config.task == "sinc" and config.loss == "mse"
    data, net = load_task(config)
    assert net == MLP((1, 8, 8, 1), "tanh", "mse") and data.x_train.shape == (100, 1)


@pytest.mark.parametrize("task, sizes", [("sign", (1, 3, 1)), ("digits", (64, 3, 10)),
                                         ("dlae", (16, 3, 16))])
def test_task_sizes(task, sizes):
    extra = {"activation": "linear", "trainer": "lbfgs"} if task == "dlae" else {}
    assert minratio.Config(task=task, hidden=(3,), **extra).sizes == sizes


def test_cross_entropy_objective_matches_the_net(rng):
    config = minratio.Config(task="digits", loss="cross_entropy", hidden=(3,), trainer="lbfgs",
                             n_train=50)
    data, net = load_task(config)
    loss, gradient, hessian = objective_fns(net, data.x_train, data.y_train, 1e-3)
    theta = net.init(rng)
    from engine import mlp_gradient
    assert_allclose(gradient(theta),
                    mlp_gradient(net, theta, data.x_train, data.y_train) + 1e-3 * theta, atol=1e-14)
    H = hessian(theta)
    h, v = 1e-5, rng.standard_normal(net.n_params)
    fd = (gradient(theta + h * v) - gradient(theta - h * v)) / (2 * h)
    assert_allclose(H @ v, fd, atol=1e-7)


@pytest.mark.parametrize("flags, expected", [
    (["--task", "mnst"], "--task 'mnst' is unknown"),
    (["--loss", "cross_entropy"], "--loss cross_entropy needs class labels"),
    (["--task", "digits", "--loss", "cross_entropy"], "use --trainer lbfgs or adam"),
    (["--task", "dlae", "--trainer", "lbfgs", "--hidden", "4"], "--activation linear"),
    (["--task", "dlae", "--trainer", "lbfgs", "--activation", "linear", "--hidden", "4", "4"],
     "one hidden layer"),
    (["--dlae-dim", "8"], "--dlae-dim is read for --task dlae only"),
    (["--n-train", "10"], "read for"),
])
def test_bad_task_flags_are_one_line_errors(flags, expected, one_line_error, tmp_path):
    one_line_error(lambda: cli("experiments.minratio")([*flags, "--out", tmp_path / "r"]),
                   "experiments.minratio", expected)
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_dlae_task_ends_at_analytic_classes(dlae_quick):
    arrays, meta = load_summary(dlae_quick[0])
    assert meta["summary"]["task"] == "dlae" and meta["summary"]["bias"] is False
    assert arrays["theta"].shape[1] == 2 * 16 * 4
    config = minratio.Config.quick()
    data, model = load_task(minratio.Config(task="dlae", hidden=(4,), activation="linear",
                                            trainer="lbfgs", n_samples=config.n_samples))
    lam, basis = np.linalg.eigh(model.second_moment)
    classes = {c.subset: c for c in critical_classes(lam, 4)}
    for r in np.flatnonzero(arrays["label"] == "critical"):
        subset = nearest_subset(model, basis, arrays["theta"][r])
        assert subset is not None
        assert_allclose(arrays["loss"][r], classes[subset].loss, rtol=1e-8)
        assert arrays["n_neg"][r] == classes[subset].n_neg


@pytest.mark.slow
def test_digits_cross_entropy_task_runs(digits_quick):
    arrays, meta = load_summary(digits_quick[0])
    assert meta["summary"]["sizes"] == [64, 6, 10] and meta["summary"]["loss"] == "cross_entropy"
    assert np.all(np.isfinite(arrays["loss"]))
    # the constant fit of cross-entropy is the class frequencies' entropy, ≈ log 10
    assert 2.0 < meta["summary"]["trivial_loss"] <= np.log(10)
