"""engine.spectra.trace.xtrace against exact traces: exact cases, unbiasedness over seeds, the
error bar's coverage, and its accuracy against Hutchinson and Hutch++ at the same products; the
Hessian object's and the doors' tests take krylov_aware_trace beside it."""
import numpy as np
import pytest

from engine import MLP
from engine.derivatives.curvature import exact_hessian
from engine.spectra.facade import Hessian
from engine.spectra.lanczos import hutchinson_trace, hutchpp_trace, hvp_operator
from engine.spectra.trace import krylov_aware_trace, xtrace

SEEDS = 300


def symmetric(eigenvalues, seed=0):
    """Q diag(λ) Qᵀ with a Haar-random orthogonal Q: a symmetric matrix of known spectrum."""
    n = len(eigenvalues)
    Q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    return (Q * np.asarray(eigenvalues)) @ Q.T


def decaying(n=120):
    """λ_i = ±1/i², signs alternating: indefinite, as a Hessian away from a minimum."""
    i = np.arange(1, n + 1)
    return symmetric((-1.0) ** i / i**2)


def flat(n=120):
    """λ_i uniform in [−1, 2]: no low-rank part, the case where sketching buys nothing."""
    return symmetric(np.linspace(-1.0, 2.0, n))


@pytest.fixture(scope="module")
def net_hessian():
    x = np.linspace(-1.0, 1.0, 60)[:, None]
    net = MLP((1, 6, 6, 1), activation="tanh", loss_name="mse")
    theta = net.init(np.random.default_rng(0))
    return hvp_operator(net, theta, x, np.sinc(5.0 * x)), exact_hessian(net, theta, x,
                                                                         np.sinc(5.0 * x))


def runs(op, m, estimator=xtrace, seeds=SEEDS):
    return np.array([estimator(op, m, rng=np.random.default_rng(s)) for s in range(seeds)])


def test_exact_when_the_probes_span_the_space():
    H = flat(12)
    estimate, error = xtrace(H, 24, rng=np.random.default_rng(1))
    assert estimate == pytest.approx(np.trace(H), rel=1e-12) and error == 0.0


def test_exact_on_a_low_rank_matrix():
    """rank 5 < s = 20: every leave-one-out basis spans range(H), the complement is empty."""
    H = symmetric(np.r_[3.0, -2.0, 1.0, 0.5, -0.25, np.zeros(75)])
    estimate, error = xtrace(H, 40, rng=np.random.default_rng(2))
    assert estimate == pytest.approx(np.trace(H), abs=1e-12) and error < 1e-12


@pytest.mark.parametrize("matrix", [decaying, flat])
def test_unbiased_over_seeds(matrix):
    """The mean of 300 estimates lies within 4 of its standard errors of tr H (fails for a
    bias of ~1/4 of one estimate's spread; by chance about once in 16 000 runs)."""
    H = matrix()
    estimates = runs(H, 20)[:, 0]
    assert abs(estimates.mean() - np.trace(H)) <= 4.0 * estimates.std(ddof=1) / np.sqrt(SEEDS)


@pytest.mark.parametrize("matrix, coverage", [(decaying, 0.80), (flat, 0.85)])
def test_error_bar_covers(matrix, coverage):
    """|estimate − tr H| ≤ 2 standard errors in at least 80 % (decaying) / 85 % (flat) of 300
    seeds: a normal ±2σ interval holds 95 %; the tᵢ share their probes, so the paper's error
    estimate may run small where the sketch matters (measured here: 0.92 on both)."""
    H = matrix()
    result = runs(H, 30)
    assert np.mean(np.abs(result[:, 0] - np.trace(H)) <= 2.0 * result[:, 1]) >= coverage


def test_on_an_mlp_hessian(net_hessian):
    """Through the matrix-free HVP operator of a 1-6-6-1 net (indefinite, 61 parameters): within
    5 standard errors, and over 300 seeds unbiased and at least 1.5× as accurate (RMS) as
    Hutch++ at 40 products (measured 2.1×)."""
    op, H = net_hessian
    exact = np.trace(H)
    estimate, error = xtrace(op, 40, rng=np.random.default_rng(3))
    assert abs(estimate - exact) <= 5.0 * error
    x = runs(H, 40)[:, 0]
    pp = runs(H, 40, hutchpp_trace)[:, 0]
    assert abs(x.mean() - exact) <= 4.0 * x.std(ddof=1) / np.sqrt(SEEDS)
    assert np.sqrt(np.mean((x - exact) ** 2)) <= np.sqrt(np.mean((pp - exact) ** 2)) / 1.5


def test_beats_hutchinson_tenfold_on_a_decaying_spectrum():
    """λ_i = ±1/i² at 60 products, 50 seeds: the sketch of rank 29 removes all but Σ_{i≥30} 1/i⁴ of
    ‖H‖_F²; Hutchinson keeps all of it (RMS ratio measured ≈ 160)."""
    H = decaying(200)
    exact = np.trace(H)
    rms = lambda e: np.sqrt(np.mean((e - exact) ** 2))  # noqa: E731
    assert rms(runs(H, 60, seeds=50)[:, 0]) <= rms(runs(H, 60, hutchinson_trace, 50)[:, 0]) / 10


@pytest.mark.parametrize("method, estimator, m", [("xtrace", xtrace, 30),
                                                 ("krylov-aware", krylov_aware_trace, 12)])
def test_the_hessian_object_offers_it(method, estimator, m):
    x = np.linspace(-1.0, 1.0, 40)[:, None]
    net = MLP((1, 5, 1), activation="tanh", loss_name="mse")
    theta = net.init(np.random.default_rng(4))
    y = np.sin(3.0 * x)
    h = Hessian(net, theta, data=(x, y))
    op = hvp_operator(net, theta, x, y)
    assert h.trace(method, m, rng=5) == estimator(op, m, rng=np.random.default_rng(5))
    estimate, error = h.trace(method, m, rng=5)
    assert abs(estimate - np.trace(h.matrix())) <= 5.0 * error + 1e-12


@pytest.mark.parametrize("estimator", [xtrace, krylov_aware_trace])
def test_refuses_bad_input(estimator):
    with pytest.raises(ValueError, match="n_products"):
        estimator(np.eye(4), 3, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="op has shape"):
        estimator(np.ones((2, 3)), 10, rng=np.random.default_rng(0))
