"""engine.lanczos: HVP operator, eigsh extremes, Hutchinson trace and SLQ against exact spectra."""
import numpy as np
import pytest
import scipy.sparse.linalg
from numpy.testing import assert_allclose

import engine.lanczos as lanczos
from engine import MLP
from engine.curvature import exact_hessian
from engine.lanczos import extreme_eigenvalues, hutchinson_trace, hvp_operator, slq_density


@pytest.fixture
def small_net(rng):
    """An 81-parameter classifier away from a minimum (both signs in its spectrum), exact H."""
    net = MLP((2, 6, 6, 3), activation="tanh", loss_name="cross_entropy")
    theta = 1.5 * net.init(rng) + 0.2 * rng.normal(size=net.n_params)
    x = rng.normal(size=(50, 2))
    y = np.eye(3)[rng.integers(3, size=50)]
    return hvp_operator(net, theta, x, y), exact_hessian(net, theta, x, y)


def _quadratic_form_se(A, n_probes, scale=1.0):
    """Standard error of the mean of n_probes values (z/scale)ᵀA(z/scale), z Rademacher:
    Var zᵀAz = 2 Σ_{i≠j} A_ij² (A symmetric)."""
    off = A - np.diag(np.diag(A))
    return np.sqrt(2.0 * np.sum(off * off) / n_probes) / scale**2


def test_operator_applies_hessian(rng, small_net):
    op, H = small_net
    v = rng.normal(size=H.shape[0])
    V = rng.normal(size=(H.shape[0], 11))  # 11 columns: one full block of 8 and a partial one
    scale = np.abs(H).max() * np.abs(V).max() * H.shape[0]
    # each entry sums n products of size ‖H‖·|v|: rounding ≲ n·ε of that, 1e-13 leaves a margin
    assert_allclose(op @ v, H @ v, rtol=0, atol=1e-13 * scale)
    assert_allclose(op.matmat(V), H @ V, rtol=0, atol=1e-13 * scale)
    assert op.shape == H.shape


def test_matmat_blocks_shrink_with_the_data(rng, monkeypatch):
    net = MLP((2, 4, 3), activation="tanh", loss_name="cross_entropy")
    theta = net.init(rng)
    x = rng.normal(size=(20, 2))
    y = np.eye(3)[rng.integers(3, size=20)]
    # 20 samples · 7 widths = 140 entries per column: a budget of 300 allows blocks of 2
    monkeypatch.setattr(lanczos, "_MATMAT_ENTRIES", 300)
    V = rng.normal(size=(net.n_params, 5))
    H = exact_hessian(net, theta, x, y)
    # as in test_operator_applies_hessian
    assert_allclose(hvp_operator(net, theta, x, y).matmat(V), H @ V, rtol=0,
                    atol=1e-13 * np.abs(H).max() * np.abs(V).max() * net.n_params)


@pytest.mark.parametrize("use_rng", [True, False])
def test_extreme_eigenvalues_match_exact_spectrum(rng, small_net, use_rng):
    op, H = small_net
    lam = np.linalg.eigvalsh(H)
    gen = rng if use_rng else None
    top = extreme_eigenvalues(op, k=5, which="LA", rng=gen)
    bottom = extreme_eigenvalues(op, k=3, which="SA", rng=gen)
    assert lam[0] < 0 < lam[-1]
    # eigsh with tol=0 converges to machine precision; 1e-8 is the bound
    assert_allclose(top, lam[::-1][:5], rtol=1e-8)
    assert_allclose(bottom, lam[:3], rtol=1e-8)


def test_hutchinson_within_three_standard_errors(rng, small_net):
    op, H = small_net
    estimate, se = hutchinson_trace(op, n_probes=200, rng=rng)
    # CLT: |error| ≤ 3 SE fails with probability 0.3 % for a random seed; this seed is fixed
    assert abs(estimate - np.trace(H)) <= 3.0 * se
    # the sample SE estimates the exact one; its own relative error is ~ 1/√(2·200) ≈ 5 % for
    # Gaussian-like samples, 25 % leaves room for heavier tails
    assert_allclose(se, _quadratic_form_se(H, 200), rtol=0.25)


def test_hutchinson_is_exact_for_a_diagonal(rng):
    d = rng.normal(size=30)
    estimate, se = hutchinson_trace(scipy.sparse.linalg.aslinearoperator(np.diag(d)),
                                    n_probes=5, rng=rng)
    # z_i² = 1 exactly, so zᵀDz = Σ d_i up to summation order
    assert_allclose(estimate, d.sum(), rtol=1e-14 * np.abs(d).sum() / abs(d.sum()))
    assert se <= 1e-14 * np.abs(d).sum()


def test_slq_moments_estimate_normalized_traces(rng, small_net):
    op, H = small_net
    n, n_probes = H.shape[0], 40
    _, _, nodes, weights = slq_density(op, n_steps=20, n_probes=n_probes, rng=rng)
    assert_allclose(weights.sum(), 1.0, rtol=1e-13)  # squared first row of an orthogonal Q
    for k in (1, 2):
        Hk = np.linalg.matrix_power(H, k)
        # 20-point Gauss quadrature is exact for degree ≤ 39, so Σ w·nodeᵏ equals the probes'
        # mean of vᵀHᵏv, v = z/√n: its error is Hutchinson's; 4 exact standard errors (a random
        # seed fails w.p. 6e-5)
        tol = 4.0 * _quadratic_form_se(Hk, n_probes, scale=np.sqrt(n))
        assert abs(np.sum(weights * nodes**k) - np.trace(Hk) / n) <= tol


def test_slq_full_lanczos_recovers_the_spectrum(rng):
    # distinct eigenvalues: n Lanczos steps from a generic start span everything
    n = 40
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    lam = np.sort(rng.uniform(-3.0, 5.0, size=n))
    op = scipy.sparse.linalg.aslinearoperator((Q * lam) @ Q.T)
    grid, density, nodes, weights = slq_density(op, n_steps=n, n_probes=1, rng=rng)
    # full re-orthogonalization keeps T orthogonally similar to the matrix to ~ n·ε·‖H‖
    assert_allclose(np.sort(nodes), lam, rtol=0, atol=1e-10 * np.abs(lam).max())
    # the default grid spans the nodes ± 5σ (lost tail mass 6e-7), and its step ≈ σ/2 makes the
    # trapezoid rule on Gaussians exact far below that
    assert_allclose(np.trapezoid(density, grid), 1.0, rtol=1e-5)


def test_slq_density_uses_given_grid_and_variance(rng, small_net):
    op, _ = small_net
    grid = np.linspace(-1.0, 2.0, 7)
    g, density, nodes, weights = slq_density(op, n_steps=10, n_probes=2, rng=rng, grid=grid,
                                             sigma2=0.01)
    ref = weights @ np.exp(-0.5 * (grid[None, :] - nodes[:, None]) ** 2 / 0.01)
    assert_allclose(density, ref / np.sqrt(2.0 * np.pi * 0.01), rtol=1e-13)  # same formula
    assert_allclose(g, grid, rtol=0, atol=0)  # returned unchanged


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda op, rng: extreme_eigenvalues(op, k=3, which="LM"), "which"),
        (lambda op, rng: extreme_eigenvalues(op, k=81), "k="),
        (lambda op, rng: hutchinson_trace(op, n_probes=1, rng=rng), "n_probes"),
        (lambda op, rng: slq_density(op, n_steps=0, rng=rng), "n_steps"),
        (lambda op, rng: slq_density(op, n_steps=5, n_probes=1, rng=rng, sigma2=-1.0), "sigma2"),
        (lambda op, rng: slq_density(op, n_steps=5, n_probes=1, rng=rng, grid=[[0.0]]), "grid"),
        (lambda op, rng: hutchinson_trace(np.ones((2, 3)), rng=rng), "op has shape"),
    ],
)
def test_bad_input_names_the_argument(rng, small_net, call, match):
    op, _ = small_net
    with pytest.raises(ValueError, match=match):
        call(op, rng)


def test_operator_rejects_batched_theta(rng):
    net = MLP((1, 3, 1))
    theta = net.init(rng)
    x = np.zeros((4, 1))
    with pytest.raises(ValueError, match="one vector"):
        hvp_operator(net, np.stack([theta, theta]), x, x)
