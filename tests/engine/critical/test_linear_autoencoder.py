"""engine.critical.linear_autoencoder: derivatives against finite differences, and every analytic
critical class (loss, n₋/n₀/n₊) against the exact Hessian's eigenvalues, on and off the GL(r)
orbit's well-scaled point."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from engine.critical.linear_autoencoder import (
    LinearAutoencoder,
    analytic_point,
    critical_classes,
    nearest_subset,
    spectrum_data,
)


@pytest.fixture
def model(rng):
    x, basis = spectrum_data(np.arange(1.0, 7.0), 40, rng)
    return LinearAutoencoder(x.T @ x / len(x), 3), basis


def test_spectrum_data_has_the_asked_second_moment(rng):
    lam = np.array([0.5, 2.0, 3.0, 7.0])
    x, basis = spectrum_data(lam, 25, rng)
    assert_allclose(x.T @ x / 25, basis @ np.diag(lam) @ basis.T, atol=1e-13)


def test_gradient_and_hessian_match_central_differences(model, rng):
    m, _ = model
    theta, h = m.init(rng), 1e-5
    eye = np.eye(m.n_params)
    # central differences: truncation ~h², rounding ~ε/h ≈ 1e-11 on values of order 10
    fd_g = [(m.loss(theta + h * e) - m.loss(theta - h * e)) / (2 * h) for e in eye]
    fd_h = [(m.gradient(theta + h * e) - m.gradient(theta - h * e)) / (2 * h) for e in eye]
    assert_allclose(m.gradient(theta), fd_g, atol=1e-8)
    assert_allclose(m.hessian(theta), np.array(fd_h).T, atol=1e-7)
    v = rng.standard_normal((2, m.n_params))
    assert_allclose(m.hvp(theta, v), v @ m.hessian(theta), atol=1e-12)


def test_loss_takes_a_batch_of_theta(model, rng):
    m, _ = model
    thetas = rng.standard_normal((3, m.n_params))
    assert_allclose(m.loss(thetas), [m.loss(t) for t in thetas], rtol=1e-14)


def test_class_count_is_the_number_of_subsets():
    assert len(critical_classes(np.arange(1.0, 17.0), 4)) == 2517  # Frye et al. (2019)


def test_every_class_is_critical_with_the_closed_form_counts(model, rng):
    m, basis = model
    lam = np.arange(1.0, 7.0)
    for c in critical_classes(lam, m.width):
        r = len(c.subset)
        # a moderately scaled point of the orbit (cond Γ ≤ ~10) besides Γ = I
        gamma = np.eye(r) + 0.3 * rng.standard_normal((r, r))
        for g in (None, gamma):
            theta = analytic_point(basis, c.subset, m.width, g)
            assert abs(m.loss(theta) - c.loss) <= 1e-12 * lam.sum()
            assert np.linalg.norm(m.gradient(theta)) <= 1e-12
            ev = np.linalg.eigvalsh(m.hessian(theta))
            # the exact zeros sit at rounding level, the smallest real eigenvalue is ≥ 1e-3 here
            tau = 1e-9
            counts = (int(np.sum(ev < -tau)), int(np.sum(np.abs(ev) <= tau)),
                      int(np.sum(ev > tau)))
            assert counts == (c.n_neg, c.n_zero, c.n_pos), (c, counts)
            assert nearest_subset(m, basis, theta) == c.subset


def test_nearest_subset_refuses_a_point_off_every_class(model, rng):
    m, basis = model
    assert nearest_subset(m, basis, m.init(rng)) is None


@pytest.mark.parametrize("bad", [np.ones((3, 2)), np.array([[1.0, 2.0], [0.0, 1.0]])])
def test_refuses_a_second_moment_that_is_not_one(bad):
    with pytest.raises(ValueError, match="second_moment"):
        LinearAutoencoder(bad, 1)


def test_refuses_a_width_above_k():
    with pytest.raises(ValueError, match="width"):
        LinearAutoencoder(np.eye(3), 4)
