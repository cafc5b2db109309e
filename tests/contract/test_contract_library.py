"""Issue 20: the library refuses malformed and non-finite input at its doors with a ValueError
that names the argument, in our words, and nothing reaches stdout from Fortran."""
import numpy as np
import pytest

from engine import MLP, extreme_eigenvalues
from engine.critical.classification import classify
from engine.critical.finders import METHODS, find_critical
from engine.spectra.lanczos import hvp_operator, symmetric_operator


@pytest.fixture
def problem(rng):
    net = MLP((1, 4, 1), "tanh", "mse")
    x = np.linspace(-1, 1, 10)[:, None]
    return net, net.init(rng), x, np.sin(3 * x)


def test_a_nan_theta_is_refused_before_arpack_prints(problem, capfd):
    net, theta, x, y = problem
    theta[0] = np.nan
    with pytest.raises(ValueError, match="theta holds 1 non-finite"):
        extreme_eigenvalues(hvp_operator(net, theta, x, y), k=2)
    assert capfd.readouterr().out == ""


def test_an_operator_with_non_finite_products_is_refused_before_arpack(capfd):
    # e.g. non-finite data behind a finite θ: the probe product H·v says so before eigsh
    op = symmetric_operator(lambda v: np.full_like(v, np.nan), 6)
    with pytest.raises(ValueError, match="non-finite product"):
        extreme_eigenvalues(op, k=2)
    assert capfd.readouterr().out == ""  # no '** On entry to DLASCL' from ARPACK's Fortran


def test_classify_refuses_a_non_finite_theta_as_find_critical_does():
    with pytest.raises(ValueError, match="theta holds 1 non-finite entry"):
        classify(np.array([np.inf, 0.0]), np.zeros(2), np.eye(2))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_find_critical_refuses_a_non_finite_start(method, bad):
    with pytest.raises(ValueError, match="theta0 holds 1 non-finite"):
        find_critical(np.array([bad, 1.0]), lambda t: t, lambda t: np.eye(2), method=method)


@pytest.mark.parametrize("method", ["lm", "trf", "lm+newton", "newton", "gradnorm"])
def test_find_critical_names_a_gradient_of_the_wrong_shape(method):
    with pytest.raises(ValueError, match=r"grad_fn returned an array of shape \(3,\)"):
        find_critical(np.ones(2), lambda t: np.ones(3), lambda t: np.eye(2), method=method)


@pytest.mark.parametrize("method", ["lm", "trf", "newton"])
def test_find_critical_names_a_hessian_of_the_wrong_shape(method):
    with pytest.raises(ValueError, match=r"hess_fn returned an array of shape \(3, 3\)"):
        find_critical(np.ones(2), lambda t: t, lambda t: np.eye(3), method=method)


def test_classify_accepts_the_kappa_tol_range_of_the_command_line():
    theta, g, H = np.zeros(2), np.ones(2) * 1e-3, np.diag([1.0, -1.0])
    with pytest.raises(ValueError, match=r"kappa_tol=2 must lie in \(0, 1\]"):
        classify(theta, g, H, kappa_tol=2)
    classify(theta, g, H, kappa_tol=1.0)  # the command line's upper end is accepted
    from engine.io.results import UsageError
    from experiments.minratio.experiment import Config

    with pytest.raises(UsageError, match="--kappa-tol 2"):
        Config(kappa_tol=2.0).validate()
