"""engine.spectra.dense: tolerance, counts, ratios, recounting and the kernel share."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from engine.spectra.dense import (
    EPS,
    eigen_tolerance,
    kernel_share,
    spectrum,
    spectrum_from_eigenvalues,
)


def _rotated(eigenvalues, rng):
    """Q diag(λ) Qᵀ with a random orthogonal Q, and Q."""
    n = len(eigenvalues)
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    return (Q * np.asarray(eigenvalues)) @ Q.T, Q


def test_slides_example_diag():
    s = spectrum(np.diag([1.0, -1.0, 2.0]))
    assert (s.n_pos, s.n_neg, s.n_zero) == (2, 1, 0)
    # exact rationals of small integers: the only error is the last bit of a division
    assert_allclose(s.minimal_ratio, 2 / 3, rtol=1e-15)
    assert_allclose(s.resolved_ratio, 2 / 3, rtol=1e-15)
    assert_allclose(s.index, 1 / 3, rtol=1e-15)
    assert_array_equal(s.eigenvalues, [-1.0, 1.0, 2.0])


def test_tolerance_formula():
    lam = np.array([-3.0, 1e-20, 2.0])
    assert eigen_tolerance(lam, rtol=1e-6) == 3e-6  # rtol·max|λ| dominates: 3·1e-6
    assert eigen_tolerance(lam, rtol=0.0) == 3 * EPS * 3.0  # n·ε·max|λ|
    assert eigen_tolerance(np.zeros(4)) == 0.0


@pytest.mark.parametrize("n_tiny", [1, 5, 20])
def test_tiny_eigenvalues_count_as_zero(rng, n_tiny):
    signs = rng.choice([-1.0, 1.0], size=n_tiny)
    lam = np.concatenate([[-2.0, 3.0, 5.0, 0.5], signs * 1e-18])
    H, _ = _rotated(lam, rng)
    s = spectrum(H)
    assert (s.n_pos, s.n_neg, s.n_zero) == (3, 1, n_tiny)
    assert s.n == 4 + n_tiny
    assert_allclose(s.resolved_ratio, 0.75, rtol=1e-15)
    # the rotation puts ~ n·ε·‖H‖ rounding into every eigenvalue: that is the floor τ covers
    assert s.tau >= s.n * EPS * 5.0


def test_rtol_zero_still_uses_the_rounding_floor(rng):
    H, _ = _rotated([4.0, -1.0, 1e-17, -1e-17, 2e-18], rng)
    s = spectrum(H, rtol=0.0)
    assert s.n_zero == 3


def test_eigenvalues_match_numpy(rng):
    A = rng.normal(size=(7, 7))
    s = spectrum(A)  # not symmetric: spectrum symmetrizes
    # eigvalsh backward stable: errors ~ n·ε·‖A‖, far inside 1e-12 relative to ‖A‖
    assert_allclose(s.eigenvalues, np.linalg.eigvalsh(0.5 * (A + A.T)), rtol=0,
                    atol=1e-12 * np.abs(A).sum())


def test_eigenvectors_diagonalize(rng):
    H, _ = _rotated([3.0, -2.0, 1.0, 0.0, 7.0], rng)
    s = spectrum(H, eigenvectors=True)
    V = s.eigenvectors
    # backward error of eigh ~ n·ε·‖H‖ ≈ 1e-14; 1e-12 leaves room for the rotation's rounding
    assert_allclose(V.T @ H @ V, np.diag(s.eigenvalues), rtol=0, atol=1e-12)
    assert_allclose(V.T @ V, np.eye(5), rtol=0, atol=1e-12)
    assert spectrum(H).eigenvectors is None


@pytest.mark.parametrize("rtol", [0.0, 1e-8, 1e-3, 0.3])
def test_at_equals_fresh_computation(rng, rtol):
    lam = np.concatenate([rng.normal(size=20), 1e-5 * rng.normal(size=10), [1e-19, -1e-19]])
    H, _ = _rotated(lam, rng)
    base = spectrum(H, rtol=1e-6, eigenvectors=True)
    fresh = spectrum(H, rtol=rtol, eigenvectors=True)
    moved = base.at(rtol)
    assert_array_equal(moved.eigenvalues, fresh.eigenvalues)  # same LAPACK call, same input
    assert_array_equal(moved.eigenvectors, fresh.eigenvectors)
    assert moved.tau == fresh.tau and moved.rtol == rtol
    assert (moved.n_pos, moved.n_neg, moved.n_zero) == (fresh.n_pos, fresh.n_neg, fresh.n_zero)


def test_looser_rtol_counts_more_zeros(rng):
    # |λ| in [1e-4, 2e-4]: above τ = 1e-6·10, below τ = 1e-3·10
    small = rng.choice([-1.0, 1.0], size=8) * 1e-4 * (1.0 + rng.random(8))
    s = spectrum_from_eigenvalues(np.concatenate([[10.0, -10.0], small]))
    assert s.n_zero == 0 and s.at(1e-3).n_zero == 8


def test_degenerate_ratios():
    zero = spectrum(np.zeros((3, 3)))
    assert zero.tau == 0.0 and zero.n_zero == 3
    assert np.isnan(zero.resolved_ratio)
    neg_def = spectrum_from_eigenvalues([-2.0, -1.0])
    assert neg_def.index == 1.0 and neg_def.resolved_ratio == 0.0
    pos = spectrum_from_eigenvalues([3.0, 1.0, 2.0])
    assert pos.resolved_ratio == 1.0
    assert_array_equal(pos.eigenvalues, [1.0, 2.0, 3.0])


def test_kernel_share(rng):
    lam = np.array([5.0, -2.0, 1e-18, -1e-18, 1.0])
    H, Q = _rotated(lam, rng)
    s = spectrum(H, eigenvectors=True)
    in_kernel = Q[:, 2] - 3.0 * Q[:, 3]
    outside = Q[:, 0] + 0.5 * Q[:, 1]
    mixed = Q[:, 2] + Q[:, 4]
    args = (s.eigenvalues, s.eigenvectors, s.tau)
    # eigenvectors of the kernel are accurate to ~ ε·‖H‖/gap with gap ≈ 1: 1e-12 is generous
    assert_allclose(kernel_share(in_kernel, *args), 1.0, rtol=1e-12)
    assert_allclose(kernel_share(outside, *args), 0.0, rtol=0, atol=1e-12)
    assert_allclose(kernel_share(mixed, *args), np.sqrt(0.5), rtol=1e-12)
    assert kernel_share(np.zeros(5), *args) == 0.0


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: spectrum(np.ones((2, 3))), "square"),
        (lambda: spectrum(np.array([[1.0, np.nan], [0.0, 1.0]])), "non-finite"),
        (lambda: spectrum(np.eye(2), rtol=-1.0), "rtol"),
        (lambda: spectrum(np.eye(2), rtol="tight"), "rtol"),
        (lambda: spectrum_from_eigenvalues([]), "non-empty"),
        (lambda: kernel_share(np.ones(3), np.ones(2), np.eye(2), 0.0), "g has shape"),
        (lambda: kernel_share(np.ones(2), np.ones(2), np.eye(3), 0.0), "eigenvectors"),
        (lambda: kernel_share(np.ones(2), np.ones(2), np.eye(2), -1.0), "tau"),
    ],
)
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_tau_max_caps_the_cut_above_the_rounding_floor():
    # the weight-decay case: ‖H‖₂ = 10 and a cluster of eigenvalues at λ = 1e-5 (directions the
    # data leave flat, curved by the decay alone): rtol 1e-6 puts τ = 1e-5 on the cluster
    lam = np.array([-0.5, *([1e-5 * (1 + 1e-9)] * 20), *([1e-5 * (1 - 1e-9)] * 20), 10.0])
    plain = spectrum_from_eigenvalues(lam, rtol=1e-6)
    assert plain.tau == 1e-6 * 10.0 and plain.n_pos == 21  # half the cluster, by the last bits
    capped = spectrum_from_eigenvalues(lam, rtol=1e-6, tau_max=1e-6)
    assert capped.tau == 1e-6 and (capped.n_pos, capped.n_neg, capped.n_zero) == (41, 1, 0)
    # recounts keep the cap; the floor n·ε·‖H‖₂ wins over a cap below it
    assert capped.at(1e-4).tau == 1e-6 and capped.at(1e-8).tau == 1e-8 * 10.0
    assert eigen_tolerance(lam, rtol=1e-6, tau_max=1e-300) == lam.size * EPS * 10.0
    with pytest.raises(ValueError, match="tau_max"):
        eigen_tolerance(lam, tau_max=0.0)
