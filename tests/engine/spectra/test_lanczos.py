"""engine.spectra.lanczos: HVP operator, eigsh extremes, Hutchinson trace and SLQ against exact
spectra."""
import numpy as np
import pytest
import scipy.integrate
import scipy.sparse.linalg
from numpy.testing import assert_allclose

import engine.spectra.eigenpairs as eigenpairs
import engine.spectra.lanczos as lanczos
from engine import MLP
from engine.derivatives.curvature import exact_hessian
from engine.spectra.eigenpairs import extreme_eigenvalues
from engine.spectra.lanczos import hutchinson_trace, hvp_operator, slq_density, symmetric_operator


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
    # eigsh with tol=0 converges to machine precision; 1e-8 leaves room for eigvalsh's rounding
    assert_allclose(top.values, lam[::-1][:5], rtol=1e-8)
    assert_allclose(bottom.values, lam[:3], rtol=1e-8)
    assert top.verified and bottom.verified


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
    assert_allclose(scipy.integrate.trapezoid(density, grid), 1.0, rtol=1e-5)


def test_slq_probes_together_equal_probes_one_by_one(rng, small_net, monkeypatch):
    op, _ = small_net
    together = slq_density(op, n_steps=15, n_probes=3, rng=np.random.default_rng(5))
    monkeypatch.setattr(lanczos, "_LANCZOS_ENTRIES", 1)  # one probe's basis at a time
    alone = slq_density(op, n_steps=15, n_probes=3, rng=np.random.default_rng(5))
    # the same probes and recursions, only batched: equal up to the rounding of the products
    for a, b in zip(together[2:], alone[2:], strict=True):
        assert_allclose(a, b, rtol=0, atol=1e-12 * np.abs(b).max())


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


@pytest.fixture
def linear_multiple():
    """A linear 40 → 8 MSE model: H = (1/N)X̃ᵀX̃ ⊗ I₈ (X̃ = [X 1]), so every eigenvalue of the
    41 × 41 matrix (1/N)X̃ᵀX̃ is an 8-fold eigenvalue of H (θ's layout is [W; b] row-major)."""
    gen = np.random.default_rng(0)
    x = gen.standard_normal((200, 40)) * np.linspace(0.5, 3.0, 40)
    y = gen.standard_normal((200, 8))
    net = MLP((40, 8), activation="linear", loss_name="mse")
    A = np.hstack([x, np.ones((200, 1))])
    return hvp_operator(net, net.init(gen), x, y), np.linalg.eigvalsh(A.T @ A / 200)


@pytest.mark.parametrize("use_rng", [True, False])
def test_eigsh_finds_every_copy_of_a_multiple_top_eigenvalue(rng, linear_multiple, use_rng):
    op, lam = linear_multiple
    result = extreme_eigenvalues(op, k=4, which="LA", tol=1e-8, rng=rng if use_rng else None)
    # the truth: four copies of the top eigenvalue (ARPACK alone returns two copies and two of
    # the next one, reporting success); Ritz values with residual r are within r²/gap ≪ 1e-8
    assert_allclose(result.values, np.full(4, lam[-1]), rtol=1e-10)
    assert result.verified and result.message == "verified"
    assert np.all(result.residuals <= result.bound)
    assert result.next_value <= lam[-1] * (1 + 1e-10)  # nothing left above the k-th
    assert result.ncv == 20  # scipy's default min(n, max(2k + 1, 20))
    assert result.rounds >= 1  # a value came back twice: the deflated check ran and repaired


def test_block_run_verifies_distinct_values_without_the_check(rng, small_net, monkeypatch):
    op, H = small_net
    lam = np.linalg.eigvalsh(H)

    def no_eigsh(*args, **kwargs):
        raise AssertionError("ARPACK ran: a second Lanczos pass")

    monkeypatch.setattr(eigenpairs.scipy.sparse.linalg, "eigsh", no_eigsh)
    for which, truth in (("LA", lam[::-1][:5]), ("SA", lam[:5])):
        result = extreme_eigenvalues(op, k=5, which=which, rng=rng)
        assert_allclose(result.values, truth, rtol=1e-8)  # as in the exact-spectrum test
        # no value came back twice, so no copy can be missing: no deflated check, whose own
        # Lanczos run cost as many products as the first; its next value is the 6th Ritz value
        assert result.verified and result.rounds == 0
        assert (result.next_value - truth[-1]) * (1 if which == "LA" else -1) <= 0


def test_block_run_finds_both_copies_of_a_double_eigenvalue(rng):
    lam = np.r_[np.linspace(-1.0, 1.0, 38), 3.0, 3.0]  # the top eigenvalue twice
    Q, _ = np.linalg.qr(rng.normal(size=(40, 40)))
    H = (Q * lam) @ Q.T
    result = extreme_eigenvalues(H, k=3, which="LA", rng=rng)
    # 3, 3, then 1: a single-vector Lanczos returns 3 once (in exact arithmetic) and 1 twice
    assert_allclose(result.values, [3.0, 3.0, 1.0], rtol=1e-12)
    assert result.verified


def test_pair_of_a_changed_operator_is_refused(rng, small_net):
    op, H = small_net
    calls = [0]

    def matvec(v):  # θ changed under the solver: after 30 products H becomes 1.01·H
        calls[0] += 1
        return H @ v * (1.0 if calls[0] <= 30 else 1.01)

    stale = symmetric_operator(matvec, H.shape[0])
    result = extreme_eigenvalues(stale, k=1, which="LA", rng=rng)
    # the run converged on H (its own residual estimate is free of new products); the one block
    # product of the Ritz vector meets 1.01·H, a residual of 1 % of λ₁ ≫ the bound
    assert result.n_products > 30 and not result.verified
    assert "residuals exceed the bound" in result.message


def test_eigsh_bottom_of_a_multiple_eigenvalue(rng, linear_multiple):
    op, lam = linear_multiple
    result = extreme_eigenvalues(op, k=4, which="SA", tol=1e-8, rng=rng)
    assert_allclose(result.values, np.full(4, lam[0]), rtol=1e-8)  # the smallest, 8-fold
    assert result.verified


def test_unrepaired_miss_is_reported_not_hidden(linear_multiple):
    op, lam = linear_multiple
    result = extreme_eigenvalues(op, k=4, which="LA", tol=1e-8, max_rounds=0)
    # the block run's own answer: two copies of each of the top two eigenvalues (a block of 2
    # holds 2 vectors of an eigenspace), so the k-th value is the second eigenvalue
    assert result.values[-1] < lam[-1] * (1 - 1e-3)
    assert not result.verified and "missed" in result.message
    assert_allclose(result.next_value, lam[-1], rtol=1e-8)  # the check found what was missed


def test_eigenvectors_are_verified_eigenpairs(rng, small_net):
    op, H = small_net
    for which in ("LA", "SA"):
        result = extreme_eigenvalues(op, k=3, which=which, rng=rng, return_vectors=True)
        V = result.vectors
        assert V.shape == (H.shape[0], 3)
        # orthonormal to rounding; the residuals are recomputed with H itself
        assert_allclose(V.T @ V, np.eye(3), rtol=0, atol=1e-12)
        residuals = np.linalg.norm(H @ V - V * result.values, axis=0)
        assert np.all(residuals <= result.bound) and result.verified
        assert_allclose(result.residuals, residuals, rtol=0, atol=1e-13 * np.abs(H).max())


def test_ncv_is_passed_and_reported(rng, small_net):
    op, H = small_net
    result = extreme_eigenvalues(op, k=2, rng=rng, ncv=30)
    assert result.ncv == 30 and result.verified
    assert_allclose(np.asarray(result), np.linalg.eigvalsh(H)[::-1][:2], rtol=1e-8)


def test_operator_of_a_loss_function_equals_the_mlp_operator(rng):
    net = MLP((2, 5, 3), activation="softplus", loss_name="cross_entropy")
    theta = net.init(rng)
    x = rng.normal(size=(30, 2))
    y = np.eye(3)[rng.integers(3, size=30)]
    H = exact_hessian(net, theta, x, y)
    V = rng.normal(size=(net.n_params, 3))
    atol = 1e-13 * np.abs(H).max() * np.abs(V).max() * net.n_params  # rounding, as above
    for op in (hvp_operator(lambda t: net.loss(t, x, y), theta), hvp_operator(net, theta, x, y)):
        assert op.shape == H.shape
        assert_allclose(op @ V[:, 0], H @ V[:, 0], rtol=0, atol=atol)
        assert_allclose(op.matmat(V), H @ V, rtol=0, atol=atol)
        assert_allclose(op.rmatvec(V[:, 1]), H @ V[:, 1], rtol=0, atol=atol)  # symmetric


def test_symmetric_operator_wraps_a_function(rng):
    A = rng.normal(size=(5, 5))
    A = A + A.T
    op = symmetric_operator(lambda v: A @ v, 5)
    V = rng.normal(size=(5, 2))
    assert_allclose(op.matmat(V), A @ V, rtol=1e-15)  # the same products, column by column
    assert_allclose(op.rmatvec(V[:, 0]), A @ V[:, 0], rtol=1e-15)
    with pytest.raises(ValueError, match="n=0"):
        symmetric_operator(lambda v: v, 0)


def test_tools_accept_a_dense_matrix(rng):
    lam = np.arange(1.0, 21.0)
    Q, _ = np.linalg.qr(rng.normal(size=(20, 20)))
    H = (Q * lam) @ Q.T
    assert_allclose(extreme_eigenvalues(H, k=2, rng=rng).values, [20.0, 19.0], rtol=1e-12)
    estimate, _ = hutchinson_trace(H, n_probes=4, rng=rng)
    assert np.isfinite(estimate)
    _, _, nodes, _ = slq_density(H, n_steps=20, n_probes=1, rng=rng)
    assert_allclose(np.sort(nodes), lam, rtol=0, atol=1e-10 * 20)  # n steps: the whole spectrum


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda net, t, x: hvp_operator(lambda s: net.loss(s, x, x[:, :1]), t, x, x), "only for"),
        (lambda net, t, x: hvp_operator(net, t), "needs the data"),
        (lambda net, t, x: hvp_operator("net", t), "give a loss function"),
        # scipy's LinearOperator checks the length of v itself
        (lambda net, t, x: hvp_operator(net, t, x, x[:, :1]) @ np.ones(3), "dimension mismatch"),
        (lambda net, t, x: hvp_operator(lambda s: net.loss(s, x, x[:, :1]), t) @ np.ones(3),
         "dimension mismatch"),
        (lambda net, t, x: extreme_eigenvalues(np.eye(30), k=2, ncv=2), "ncv=2"),
        (lambda net, t, x: extreme_eigenvalues(np.eye(30), k=2, tol=-1.0), "tol=-1.0"),
        (lambda net, t, x: extreme_eigenvalues(np.eye(30), k=2, max_rounds=-1), "max_rounds"),
    ],
)
def test_operator_bad_input_names_the_argument(rng, call, match):
    net = MLP((1, 3, 1))
    with pytest.raises(ValueError, match=match):
        call(net, net.init(rng), np.zeros((4, 1)))


def test_verification_takes_one_start_vector_from_rng(small_net):
    op, H = small_net
    used, fresh = np.random.default_rng(5), np.random.default_rng(5)
    extreme_eigenvalues(op, k=2, rng=used)
    fresh.standard_normal(H.shape[0])  # what eigsh's start vector alone takes
    # the caller's stream continues as without the checks (later probes stay the same)
    assert used.standard_normal() == fresh.standard_normal()


def test_slq_density_skips_only_kernels_that_underflow(rng):
    # a σ so small that most of the grid × nodes kernel underflows to 0: the windowed sum must
    # still equal the dense one, on an unsorted grid of several blocks with points far from
    # every node (density exactly 0 there)
    nodes = np.sort(rng.uniform(-2.0, 3.0, size=57))
    weights = rng.uniform(size=57)
    weights /= weights.sum()
    grid = rng.permutation(np.concatenate([np.linspace(-2.5, 3.5, 700), [-40.0, 55.0]]))
    for sigma in (1e-3, 0.05, 30.0):
        dense = np.exp(-0.5 * ((grid[:, None] - nodes[None, :]) / sigma) ** 2) @ weights
        order = rng.permutation(nodes.size)  # the nodes in any order, their weights with them
        ours = lanczos._gauss_sum(grid, nodes[order], weights[order], sigma)
        assert_allclose(ours, dense / (sigma * np.sqrt(2.0 * np.pi)), rtol=1e-13,
                        atol=1e-300)


def test_slq_probes_that_stop_early_are_exact_beside_those_that_go_on(rng):
    # H = J ⊕ 3J, J = [[1, 1], [1, 1]] (eigenvalues 2, 0 and 6, 0): a Rademacher probe sees 1 or
    # 2 distinct eigenvalues by its signs, so the probes' Krylov spaces become invariant after 1
    # or 2 steps. Each stopped recursion is then an exact quadrature of its probe's measure:
    # Σ w·nodeᵏ equals the mean of vᵀHᵏv over the same probes (v = z/√n) for every k
    J = np.ones((2, 2))
    H = np.block([[J, np.zeros((2, 2))], [np.zeros((2, 2)), 3.0 * J]])
    _, _, nodes, weights = slq_density(H, n_steps=4, n_probes=12, rng=np.random.default_rng(3))
    draws = np.random.default_rng(3)
    Z = np.stack([draws.integers(0, 2, size=4) * 2.0 - 1.0 for _ in range(12)]) / 2.0
    lengths = {np.linalg.matrix_rank(np.stack([v, H @ v, H @ H @ v]), tol=1e-9) for v in Z}
    assert lengths == {1, 2}  # both kinds of probe are drawn
    for k in range(4):
        exact = np.mean(np.einsum("pi,ij,pj->p", Z, np.linalg.matrix_power(H, k), Z))
        assert_allclose(np.sum(weights * nodes**k), exact, rtol=1e-12)


def test_block_reorthogonalization_equals_one_pass_over_the_basis(rng, monkeypatch):
    """Re-orthogonalizing against the basis block by block (cache-sized blocks: at n = 3000, 87
    vectors) gives the eigenpairs of one pass over all of it, to rounding, and both are the
    exact ones: a diagonal operator with slowly separating top values, so that the basis grows
    to many blocks."""
    n = 3000
    diagonal = np.concatenate([np.linspace(1.0, 0.0, n - 6), [1.5, 1.45, 1.4, 1.3, 1.2, 1.1]])
    op, rows = symmetric_operator(lambda v: diagonal * v, n), eigenpairs._CACHED // n
    blocked = extreme_eigenvalues(op, 6, "LA", rng=np.random.default_rng(3))
    monkeypatch.setattr(eigenpairs, "_CACHED", 2**40)  # one block: the whole basis
    whole = extreme_eigenvalues(op, 6, "LA", rng=np.random.default_rng(3))
    assert blocked.verified and whole.verified
    assert blocked.n_products - 6 > rows  # the basis (all but the 6 fresh products): blocks
    np.testing.assert_allclose(blocked.values, [1.5, 1.45, 1.4, 1.3, 1.2, 1.1], rtol=0,
                               atol=1e-14)
    np.testing.assert_allclose(blocked.values, whole.values, rtol=0, atol=1e-15)
