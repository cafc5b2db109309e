"""Sign counts without eigh (engine.spectra.inertia) and classify beyond the dense limit, against
eigh on nets just above a switch forced low."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from engine import MLP
from engine.critical.classification import classify, continuation
from engine.critical.finders import find_critical
from engine.derivatives.curvature import exact_hessian
from engine.nets.passes import mlp_mse_gradient
from engine.spectra.dense import spectrum
from engine.spectra.inertia import count_spectrum, filtered_newton, sylvester_inertia
from engine.spectra.lanczos import hvp_operator, symmetric_operator


def with_eigenvalues(rng, eigenvalues):
    Q, _ = np.linalg.qr(rng.normal(size=(len(eigenvalues), len(eigenvalues))))
    return Q @ np.diag(eigenvalues) @ Q.T


@pytest.fixture
def net_point(rng):
    """A 1-6-6-1 tanh net (55 parameters) on 30 sinc-like points with L + 1e-4/2‖θ‖²:
    (net, x, y, gradient, hessian, θ of a near-critical point, θ of a far one)."""
    net, decay = MLP((1, 6, 6, 1), "tanh", "mse"), 1e-4
    x = np.linspace(-1.0, 1.0, 30)[:, None]
    y = np.sinc(3.0 * x)
    data_grad = mlp_mse_gradient(net, x, y)

    def gradient(t):
        return data_grad(t) + decay * t

    def hessian(t):
        return exact_hessian(net, t, x, y) + decay * np.eye(net.n_params)

    far = net.init(rng)
    near = find_critical(far, gradient, hessian, method="lm+newton").theta
    return net, x, y, gradient, hessian, near, far


def test_inertia_counts_known_eigenvalues(rng):
    lam = np.array([-3.0, -1e-3, 0.0, 0.0, 2e-3, 1.0, 5.0])
    H = with_eigenvalues(rng, lam)
    assert sylvester_inertia(H, -1e-2) == (1, 0, 6)
    assert sylvester_inertia(H, 1e-2)[0] == 5 and sylvester_inertia(H, 1e-2)[2] == 2
    assert sylvester_inertia(np.diag(lam), 0.0) == (2, 2, 3)  # exact zeros in D: at the shift


@pytest.mark.parametrize("which", ["near", "far"])
def test_ldl_route_counts_as_eigh_does(net_point, which):
    *_, hessian, near, far = net_point
    H = hessian(near if which == "near" else far)
    dense, counted = spectrum(H, rtol=1e-6), count_spectrum(H, rtol=1e-6)
    # no eigenvalue within rounding of ±τ, where two exact methods may disagree
    assert np.min(np.abs(np.abs(dense.eigenvalues) - dense.tau)) > 1e-3 * dense.tau
    assert counted.route == "ldl" and counted.exact
    assert (counted.n_neg, counted.n_zero, counted.n_pos) == (dense.n_neg, dense.n_zero,
                                                               dense.n_pos)
    assert_allclose(counted.tau, dense.tau, rtol=1e-8)  # ‖H‖₂ by verified Lanczos


def test_lanczos_route_is_exact_when_every_negative_eigenvalue_is_found(rng):
    lam = np.concatenate([-np.arange(1.0, 6.0), np.linspace(0.5, 3.0, 55)])
    H = with_eigenvalues(rng, lam)
    op = symmetric_operator(lambda v: H @ v, len(lam))
    counted = count_spectrum(op, k=2, k_max=32)
    assert counted.route == "lanczos" and counted.exact and counted.n_neg == 5
    assert counted.n_zero is None and counted.n_pos is None  # out of Lanczos' reach
    bound = count_spectrum(op, k=2, k_max=4)  # four found, all below −τ: index ≥ 4
    assert not bound.exact and bound.n_neg == 4 and "index ≥ 4" in bound.message
    point = classify(np.zeros(60), np.zeros(60), op, eigh_max=10)
    assert point.label == "critical" and point.kind == "saddle of index 5"
    # the same operator with the count's budget below the index: a bound, said so
    assert count_spectrum(op, k=2, k_max=3).n_neg == 3


def test_lanczos_route_on_an_mlp_operator_matches_eigh(rng, net_point):
    net, x, y, gradient, hessian, near, far = net_point
    dense = spectrum(hessian(far), rtol=1e-6)
    op = hvp_operator(net, far, x, y)
    decayed = symmetric_operator(lambda v: op.matvec(v) + 1e-4 * v, net.n_params)
    counted = count_spectrum(decayed, rtol=1e-6, k=4, k_max=54)
    assert counted.exact and counted.n_neg == dense.n_neg


def test_filtered_newton_on_a_diagonal_is_the_tikhonov_filter(rng):
    lam = np.array([-2.0, -1e-4, 1e-7, 0.5, 3.0])
    g = rng.normal(size=5)
    tau = 1e-3
    p = lam * g / (lam ** 2 + tau ** 2)
    r = tau ** 2 * g / (lam ** 2 + tau ** 2)
    expected = (np.linalg.norm(p), np.linalg.norm(r) / np.linalg.norm(g),
                np.linalg.norm(lam * g))
    H = np.diag(lam)
    assert_allclose(filtered_newton(H, g, tau), expected, rtol=1e-10)
    op = symmetric_operator(lambda v: lam * v, 5)
    assert_allclose(filtered_newton(op, g, tau), expected, rtol=1e-6)


@pytest.mark.parametrize("which", ["near", "far"])
def test_classify_above_the_switch_agrees_with_eigh(net_point, which):
    """The switch forced below the net's 55 parameters: the same label and counts as eigh, the
    Newton step within the filter's factor [½, 1] where the spectrum has a gap around τ."""
    *_, gradient, hessian, near, far = net_point
    theta = near if which == "near" else far
    g, H = gradient(theta), hessian(theta)
    dense = classify(theta, g, H, tau_max=1e-5)
    scaled = classify(theta, g, H, tau_max=1e-5, eigh_max=10)
    assert scaled.label == dense.label and scaled.kind == dense.kind
    assert scaled.spectrum.route == "ldl" and scaled.spectrum.exact
    if which == "near":
        assert dense.label == "critical"  # the fixture found one: the test compares critical
    lam = dense.spectrum.eigenvalues
    if np.all(np.abs(np.abs(lam) / dense.spectrum.tau - 1.0) > 2.0):  # a gap around τ
        assert 0.5 * dense.newton_norm <= scaled.newton_norm <= 1.01 * dense.newton_norm
    assert_allclose(scaled.flat_cosine, dense.flat_cosine, rtol=1e-6)


def test_classify_takes_an_operator(net_point):
    net, x, y, gradient, hessian, near, far = net_point
    op = hvp_operator(net, near, x, y)
    decayed = symmetric_operator(lambda v: op.matvec(v) + 1e-4 * v, net.n_params)
    point = classify(near, gradient(near), decayed, tau_max=1e-5)
    dense = classify(near, gradient(near), hessian(near), tau_max=1e-5)
    assert point.label == dense.label and point.spectrum.n_neg == dense.spectrum.n_neg
    assert point.spectrum.route == "lanczos"


def test_continuation_runs_on_hvps_above_the_switch(net_point):
    """continuation passes hvp_fn and finder options to Newton-MR on HVPs (no Hessian formed):
    from the critical point of the fixture it stays put, as with the dense default."""
    net, x, y, gradient, hessian, near, far = net_point
    op_at = {}

    def hvp(theta, v):
        key = theta.tobytes()
        if key not in op_at:
            op_at.clear()
            op_at[key] = hvp_operator(net, theta, x, y)
        return op_at[key].matvec(v) + 1e-4 * v

    loss = lambda t: float(net.loss(t, x, y) + 0.5e-4 * t @ t)  # noqa: E731
    cont = continuation(near, gradient, None, loss, method="newton", hvp_fn=hvp, max_eval=10,
                        dense_max=0, max_hvp=2000)
    assert cont.verdict == continuation(near, gradient, hessian, loss, max_eval=10).verdict
    assert cont.verdict in ("stays", "manifold")
