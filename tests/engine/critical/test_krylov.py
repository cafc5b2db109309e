"""The Lanczos least-norm solver of Newton-MR's subproblem against independent routes: dense
pinv / lstsq, the dense eigen-model's damped steps, and scipy's MINRES and LSMR."""
import inspect

import numpy as np
import pytest
import scipy.sparse.linalg
from numpy.testing import assert_allclose

from engine.critical.krylov import subspace_model


def singular_system(rng, n=40, rank=30, negative=8, consistent=False):
    """H = Q diag(λ) Qᵀ with n − rank zero eigenvalues, `negative` of the rest < 0, |λ| in
    [0.1, 10]; g with a kernel part (inconsistent) unless consistent."""
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    lam = np.zeros(n)
    lam[:rank] = np.geomspace(0.1, 10.0, rank) * np.where(np.arange(rank) < negative, -1, 1)
    H = Q @ np.diag(lam) @ Q.T
    coords = rng.normal(size=n)
    if consistent:
        coords[rank:] = 0.0
    return 0.5 * (H + H.T), Q @ coords, Q[:, rank:]


@pytest.mark.parametrize("consistent", [False, True])
def test_the_undamped_step_is_the_least_norm_least_squares_solution(rng, consistent):
    H, g, kernel = singular_system(rng, consistent=consistent)
    model = subspace_model(lambda v: H @ v, g, tol=1e-12, maxiter=200)
    p, predicted = model.step(np.inf)
    expected = -np.linalg.pinv(H, rcond=1e-10) @ g
    assert_allclose(expected, -np.linalg.lstsq(H, g, rcond=1e-10)[0], rtol=1e-10, atol=1e-12)
    assert_allclose(p, expected, rtol=0, atol=1e-8 * np.linalg.norm(expected))
    assert np.linalg.norm(kernel.T @ p) < 1e-10 * np.linalg.norm(p)  # nothing in ker H
    assert_allclose(predicted, g @ g - np.sum((g + H @ p) ** 2), rtol=1e-9)
    # κ = ‖P₀g‖/‖g‖: the share of g no step removes
    assert_allclose(model.kernel_share, np.linalg.norm(kernel.T @ g) / np.linalg.norm(g),
                    atol=1e-8)
    assert model.n_products <= 31 + 1  # the Krylov space of range(H) has dimension ≤ 30


def test_one_product_per_iteration_against_lsmrs_two(rng):
    """On a nonsingular indefinite system to the same relative residual, the Lanczos solver's
    products are at most LSMR's (the subspace after 2k products contains LSMR's after k)."""
    H, g, _ = singular_system(rng, n=300, rank=300, negative=100)
    count = [0]

    def hvp(v):
        count[0] += 1
        return H @ v

    op = scipy.sparse.linalg.LinearOperator((300, 300), matvec=hvp, rmatvec=hvp)
    # atol = 0: LSMR's only test is ‖r‖ ≤ btol·‖g‖, the same as ours on a consistent system
    x = scipy.sparse.linalg.lsmr(op, g, atol=0.0, btol=1e-8, maxiter=2000)[0]
    lsmr_products, count[0] = count[0], 0
    assert np.linalg.norm(H @ x - g) <= 1.01e-8 * np.linalg.norm(g)
    model = subspace_model(hvp, g, tol=1e-8, maxiter=2000)
    p, _ = model.step(np.inf)
    assert np.linalg.norm(H @ p + g) <= 1.01e-8 * np.linalg.norm(g)
    assert count[0] == model.n_products < 0.75 * lsmr_products


def test_scipy_minres_keeps_the_kernel_part_that_the_range_subspace_removes(rng):
    """Why not scipy's MINRES on the inconsistent system: its iterates start from g, so the
    kernel part of g stays in the step (and may grow); the range subspace has none."""
    H, g, kernel = singular_system(rng)
    # scipy 1.12 renamed minres's tol to rtol (and 1.14 removed tol); the floor is 1.11
    tol = "rtol" if "rtol" in inspect.signature(scipy.sparse.linalg.minres).parameters else "tol"
    x = scipy.sparse.linalg.minres(H, g, maxiter=500, **{tol: 1e-12})[0]
    model = subspace_model(lambda v: H @ v, g, tol=1e-12, maxiter=200)
    p, _ = model.step(np.inf)
    assert np.linalg.norm(kernel.T @ x) > 1e-3 * np.linalg.norm(x)
    assert np.linalg.norm(kernel.T @ p) < 1e-10 * np.linalg.norm(p)


def test_damped_steps_match_the_dense_trust_region_model(rng):
    """With the whole of range(H) in the subspace, p(μ) minimizes ‖g + Hp‖² + μ‖p‖² over
    range(H): the closed form −(H² + μI)⁺Hg, and ‖p‖ = Δ on the boundary."""
    H, g, _ = singular_system(rng)
    model = subspace_model(lambda v: H @ v, g, tol=1e-14, maxiter=200)
    radius = 0.3 * model.newton_norm
    p, predicted = model.step(radius)
    assert_allclose(np.linalg.norm(p), radius, rtol=1e-9)
    mu = model.mu
    expected = -np.linalg.solve(H @ H + mu * np.eye(H.shape[0]), H @ g)
    assert_allclose(p, expected, rtol=0, atol=1e-8 * np.linalg.norm(expected))
    assert_allclose(predicted, g @ g - np.sum((g + H @ p) ** 2), rtol=1e-9)
    assert_allclose(model.curvature(p), H @ p, rtol=0, atol=1e-10 * np.linalg.norm(H @ p))
    # the subspace 𝒦(H, Hg) is all of range(H) here (g has a part along every eigenvector of
    # a distinct eigenvalue), so the correction is the same filter on all of r
    r = rng.normal(size=g.size)
    expected = -np.linalg.solve(H @ H + mu * np.eye(H.shape[0]), H @ r)
    assert_allclose(model.solve(r), expected, rtol=0, atol=1e-8 * np.linalg.norm(expected))


def test_gradient_in_the_kernel_gives_no_step(rng):
    H, _, kernel = singular_system(rng)
    g = kernel @ rng.normal(size=kernel.shape[1])  # Hg is rounding, ~1e-15·‖H‖‖g‖
    model = subspace_model(lambda v: H @ v, g, tol=1e-12)
    assert model.newton_norm < 1e-8 * np.linalg.norm(g)
    assert model.kernel_share > 1 - 1e-8
    exact = subspace_model(lambda v: np.zeros_like(v), g)  # Hg = 0 exactly
    assert exact.newton_norm == 0.0 and exact.kernel_share == 1.0 and exact.n_products == 1


def test_nonfinite_products_give_no_model_and_bad_arguments_are_refused():
    assert subspace_model(lambda v: np.full(3, np.nan), np.ones(3)) is None
    with pytest.raises(ValueError, match="maxiter"):
        subspace_model(lambda v: v, np.ones(3), maxiter=0)
    with pytest.raises(ValueError, match="tol"):
        subspace_model(lambda v: v, np.ones(3), tol=-1.0)
