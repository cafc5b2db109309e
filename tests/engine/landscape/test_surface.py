"""engine.landscape.surface against closed forms, the exact Hessian and independent
recomputations."""
import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.sparse.linalg import aslinearoperator

from engine import MLP, mlp_hessian_autograd
from engine.landscape.surface import (
    chunk_for,
    filter_normalized_direction,
    hessian_directions,
    line,
    losses_at,
    neighbour_samples,
    path_pca,
    perturbation_curves,
    plane,
    rise_radius,
)

# both losses, smooth and piecewise-linear activations, d_out > 1
NETS = [((1, 4, 3, 1), "tanh", "mse"), ((2, 5, 3), "softplus", "cross_entropy"),
        ((3, 4, 2), "relu", "mse")]


def _problem(sizes, activation, loss_name, rng, n_samples=24):
    net = MLP(sizes, activation=activation, loss_name=loss_name)
    x = rng.uniform(-1.0, 1.0, size=(n_samples, sizes[0]))
    if loss_name == "cross_entropy":
        y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], size=n_samples)]
    else:
        y = np.sin(3.0 * x[:, :1]) * np.ones((1, sizes[-1]))
    return net, x, y, net.init(rng) + 0.1 * rng.standard_normal(net.n_params)  # biases ≠ 0 too


def _quadratic(A):
    """L(θ) = ½ θᵀAθ on stacks of θ: a closed form for every view."""
    return lambda T: 0.5 * np.einsum("bi,ij,bj->b", T, A, T)


@pytest.mark.parametrize("sizes, activation, loss_name", NETS)
@pytest.mark.parametrize("chunk", [1, 7, 256])
def test_line_passes_through_both_end_points(sizes, activation, loss_name, chunk, rng):
    net, x, y, theta0 = _problem(sizes, activation, loss_name, rng)
    theta1 = net.init(rng)
    alphas = np.linspace(-0.5, 1.5, 21)  # α[5] = 0 and α[15] = 1 exactly
    L = line(lambda T: net.loss(T, x, y), theta0, theta1, alphas, chunk=chunk)
    assert L.shape == (21,)
    # (1 − 0)θ₀ + 0·θ₁ is θ₀ bit for bit; batched vs single summation order: a few ulps.
    assert_allclose(L[[5, 15]], [net.loss(theta0, x, y), net.loss(theta1, x, y)], rtol=1e-12)


def test_line_on_a_quadratic_matches_the_closed_form(rng):
    A, t0, t1 = rng.standard_normal((6, 6)), rng.standard_normal(6), rng.standard_normal(6)
    alphas, d = np.linspace(-0.5, 1.5, 13), t1 - t0
    A = A @ A.T
    expected = 0.5 * t0 @ A @ t0 + alphas * (t0 @ A @ d) + 0.5 * alphas**2 * (d @ A @ d)
    # expanded vs evaluated quadratic: rounding only, ~10 ε‖A‖‖θ‖²
    assert_allclose(line(_quadratic(A), t0, t1, alphas, chunk=4), expected, rtol=1e-10)


@pytest.mark.parametrize("sizes, activation, loss_name", NETS)
@pytest.mark.parametrize("normalization", ["filter", "layer"])
@pytest.mark.parametrize("zero_bias", [True, False])
def test_normalized_direction_has_thetas_norms(sizes, activation, loss_name, normalization,
                                               zero_bias, rng):
    net, _, _, theta = _problem(sizes, activation, loss_name, rng)
    d = filter_normalized_direction(net.layout, theta, rng, normalization, zero_bias=zero_bias)
    axis = 0 if normalization == "filter" else None  # a unit's column, or the whole block
    for (Wd, bd), (Wt, bt) in zip(net.layout.unpack(d), net.layout.unpack(theta), strict=True):
        if zero_bias:
            assert np.all(bd == 0.0)
        else:  # the bias is one more incoming weight (from a constant input 1)
            Wd, Wt = np.vstack([Wd, bd]), np.vstack([Wt, bt])
        # One norm, one division and one product per filter or block: a few ulps.
        assert_allclose(np.linalg.norm(Wd, axis=axis), np.linalg.norm(Wt, axis=axis), rtol=1e-12)
    # d is the N(0, I) draw times one factor per filter (a column of W_l) or per block
    g = np.random.default_rng(7).standard_normal(net.n_params)
    d = filter_normalized_direction(net.layout, theta, np.random.default_rng(7), normalization)
    for (Wd, _), (Wg, _) in zip(net.layout.unpack(d), net.layout.unpack(g), strict=True):
        ratio = Wd / Wg
        same = np.broadcast_to(ratio[0] if axis == 0 else ratio[0, 0], ratio.shape)
        assert_allclose(ratio, same, rtol=1e-12)  # a product and a division per entry


def test_filter_normalization_is_random_and_reproducible(rng):
    net, _, _, theta = _problem((1, 4, 3, 1), "tanh", "mse", rng)
    def draw(seed):
        return filter_normalized_direction(net.layout, theta, np.random.default_rng(seed))

    assert np.array_equal(draw(3), draw(3)) and not np.allclose(draw(3), draw(4))
    # A filter that is zero in θ has no scale to copy: it stays zero rather than NaN.
    theta0 = theta.copy()
    theta0[net.layout.weight_slice(0)] = 0.0
    d0 = filter_normalized_direction(net.layout, theta0, rng)
    assert np.all(d0[net.layout.weight_slice(0)] == 0.0) and np.all(np.isfinite(d0))


@pytest.mark.parametrize("sizes, activation, loss_name", NETS)
def test_plane_is_the_loss_at_the_centre_and_follows_its_axes(sizes, activation, loss_name, rng):
    net, x, y, theta = _problem(sizes, activation, loss_name, rng)
    d1, d2 = (filter_normalized_direction(net.layout, theta, rng) for _ in range(2))
    a, b = np.linspace(-1.0, 1.0, 5), np.linspace(-0.5, 0.5, 3)
    Z = plane(lambda T: net.loss(T, x, y), theta, d1, d2, a, b, chunk=4)
    assert Z.shape == (3, 5)
    # θ + 0·d₁ + 0·d₂ is θ bit for bit; batched vs single summation order: a few ulps.
    assert_allclose(Z[1, 2], net.loss(theta, x, y), rtol=1e-12)
    # rows follow b, columns follow a (same tolerance)
    assert_allclose(Z[2, 0], net.loss(theta - d1 + 0.5 * d2, x, y), rtol=1e-12)
    assert_allclose(Z[0, 4], net.loss(theta + d1 - 0.5 * d2, x, y), rtol=1e-12)


def test_plane_on_a_quadratic_matches_the_closed_form(rng):
    A = rng.standard_normal((5, 5))
    A = A + A.T  # indefinite on purpose: a saddle
    theta, d1, d2 = rng.standard_normal((3, 5))
    a, b = np.linspace(-2.0, 2.0, 9), np.linspace(-1.0, 1.0, 4)
    T = theta + a[None, :, None] * d1 + b[:, None, None] * d2
    expected = 0.5 * np.einsum("...i,ij,...j->...", T, A, T)
    for chunk in (1, 5, 100):
        # Same arithmetic, other batching: only summation order can differ.
        assert_allclose(plane(_quadratic(A), theta, d1, d2, a, b, chunk=chunk), expected,
                        rtol=1e-12)


@pytest.mark.parametrize("sizes, activation, loss_name", NETS[:2])
def test_perturbation_curvature_matches_the_exact_hessian_diagonal(sizes, activation, loss_name,
                                                                   rng):
    net, x, y, theta = _problem(sizes, activation, loss_name, rng)
    delta = 1e-3
    C = perturbation_curves(lambda T: net.loss(T, x, y), theta, [-delta, 0.0, delta], chunk=16)
    assert C.shape == (net.n_params, 3)
    L0 = net.loss(theta, x, y)
    assert_allclose(C[:, 1], L0, rtol=1e-12)  # δ = 0 is θ itself; batched summation order only
    curvature = (C[:, 0] - 2.0 * C[:, 1] + C[:, 2]) / delta**2
    H_diag = np.diag(mlp_hessian_autograd(net, theta, x, y))
    # Central second difference: truncation δ²/12·∂⁴L ≈ 1e-7·∂⁴L; rounding 4ε·L/δ² ≤ 1.3e-9 (L ≤ 1.5
    # here), under 3e-6 of every |H_ii| > 5e-4: rtol 1e-5 holds both.
    assert np.min(np.abs(H_diag)) > 5e-4
    assert_allclose(curvature, H_diag, rtol=1e-5)


def test_perturbation_curves_take_one_range_per_parameter(rng):
    deltas = np.array([[-1.0, 1.0], [-0.1, 0.1], [-0.01, 0.01]])
    C = perturbation_curves(_quadratic(np.diag([1.0, 100.0, 1e4])), np.zeros(3), deltas, chunk=4)
    # ½Aᵢᵢδᵢ² = 0.5 for every parameter: the scaled ranges make the three curves comparable.
    assert_allclose(C, 0.5 * np.ones((3, 2)), rtol=1e-12)  # exact up to one rounding per entry


def test_pca_coordinates_reconstruct_a_planar_path(rng):
    n_params = 12
    theta_end = rng.standard_normal(n_params)
    basis = np.linalg.qr(rng.standard_normal((n_params, 2)))[0].T  # an orthonormal plane
    steps = np.linspace(0.0, 1.0, 15)
    coeffs = np.column_stack([3.0 * (1 - steps), np.sin(4.0 * steps) * (1 - steps)])
    snapshots = theta_end + coeffs @ basis
    D, ratio, coords, off = path_pca(snapshots, theta_end)
    # orthonormal, all variance in 2-D: an SVD, rounding ~ n·ε; atol for the off-diagonal 0
    assert_allclose(D @ D.T, np.eye(2), rtol=1e-12, atol=1e-12)
    assert_allclose(ratio.sum(), 1.0, rtol=1e-12)
    assert ratio[0] >= ratio[1]
    assert_allclose(theta_end + coords @ D, snapshots, rtol=1e-12)  # on its own plane: exact
    assert_allclose(coords[-1], 0.0, atol=1e-15)  # θ_end is the origin; atol: target 0
    assert_allclose(off, 0.0, atol=1e-12)  # nothing off the plane but rounding ~ n·ε


def test_pca_ratio_measures_the_share_of_variance(rng):
    # a path off the plane: ratios are shares of the variance of M − mean(M)
    snapshots = rng.standard_normal((40, 6)) * np.array([5.0, 2.0, 0.5, 0.5, 0.5, 0.5])
    theta_end = snapshots[-1]
    _, ratio, _, _ = path_pca(snapshots, theta_end)
    s = np.linalg.svd(snapshots - snapshots.mean(axis=0), compute_uv=False)
    assert_allclose(ratio, s[:2] ** 2 / np.sum(s**2), rtol=1e-10)  # two SVD routes: ~κ·ε


def test_hessian_directions_are_eigenvectors():
    v_max, v_min, lmax, lmin = hessian_directions(np.diag([1.0, -1.0, 2.0]))
    # eigh of a diagonal matrix returns its entries and unit vectors, exact but for rounding
    assert_allclose([lmax, lmin], [2.0, -1.0], rtol=1e-15)
    assert_allclose([v_max, v_min], [[0, 0, 1], [0, 1, 0]], atol=1e-15)  # atol: targets 0


def test_hessian_directions_of_an_operator_match_the_dense_route(rng):
    # A spectrum with isolated ends, as Lanczos needs: λ ∈ {−2, 0.1 … 0.9, 5}, random basis.
    Q = np.linalg.qr(rng.standard_normal((12, 12)))[0]
    lam = np.concatenate([[-2.0], np.linspace(0.1, 0.9, 10), [5.0]])
    H = (Q * lam) @ Q.T
    dense = hessian_directions(H)
    for v, lam_v in ((dense[0], 5.0), (dense[1], -2.0)):
        # eigh is backward stable: residuals within ~n·ε‖H‖ = 1e-14; atol as entries pass 0
        assert_allclose(H @ v, lam_v * v, rtol=1e-12, atol=1e-13)
    lanczos = hessian_directions(aslinearoperator(H), rng=rng, tol=1e-12)
    # eigsh at tol 1e-12 on a 12 × 12 matrix with gaps ≥ 1.1: eigenpairs to ~1e-12 relative; the
    # eigenvector error is residual/gap, so 1e-9 leaves room.
    for got, want in zip(lanczos, dense, strict=True):
        assert_allclose(got, want, rtol=1e-9, atol=1e-9 * np.abs(want).max())
    assert_allclose(lanczos[2:], [5.0, -2.0], rtol=1e-9)
    with pytest.raises(ValueError, match="needs rng"):
        hessian_directions(aslinearoperator(H))


@pytest.mark.parametrize("curvature", [0.1, 1.0, 1e3])  # r* ≈ 2.3, 0.7, 0.02 < ‖θ‖ = 6
def test_rise_radius_finds_where_the_loss_doubles(curvature):
    # L = c + s t + ½λt², t = v·(θ − θ_c), s < 0: the side t < 0 reaches 2c first, at
    # r* = (s + √(s² + 2λc))/λ
    theta, v, c = np.full(4, 3.0), np.array([0.6, 0.0, 0.8, 0.0]), 0.5
    s = -0.5 * np.sqrt(curvature * c)
    def loss(T):
        t = (T - theta) @ v
        return c + s * t + 0.5 * curvature * t**2

    r = rise_radius(loss, theta, v, rise=1.0, chunk=7)
    r_star = (s + np.sqrt(s * s + 2 * curvature * c)) / curvature
    assert r_star <= r < r_star * 10**0.1  # first point of a grid of 10 points a decade
    assert rise_radius(lambda T: np.full(len(T), c), theta, v) == np.linalg.norm(theta)


def test_neighbour_samples_stay_in_the_box(rng):
    theta = rng.standard_normal(5)
    scale = np.array([0.0, 1e-3, 0.1, 1.0, 10.0])
    S = neighbour_samples(theta, scale, 400, rng)
    assert S.shape == (400, 5)
    assert np.all(np.abs(S - theta) <= scale)
    assert np.all(S[:, 0] == theta[0])  # zero half-width: the parameter does not move
    # 400 uniform draws: the widest one covers > 90 % of [−s, s] unless p < 1e-15.
    spread = np.ptp(S - theta, axis=0)[1:] / (2 * scale[1:])
    assert np.all(spread > 0.9)
    S1, S2 = (neighbour_samples(theta, 0.5, 3, np.random.default_rng(1)) for _ in "12")
    assert np.array_equal(S1, S2)


@pytest.mark.parametrize("chunk", [1, 3, 50])
def test_losses_of_a_stack_are_the_single_losses(chunk, rng):
    net, x, y, theta = _problem((1, 4, 3, 1), "tanh", "mse", rng)
    thetas = theta + 0.3 * rng.standard_normal((7, net.n_params))
    expected = [net.loss(t, x, y) for t in thetas]
    # batched vs single evaluation: the same arithmetic in another summation order
    assert_allclose(losses_at(lambda T: net.loss(T, x, y), thetas, chunk), expected, rtol=1e-12)


def test_chunk_for_keeps_the_budget():
    per_vector = 8 * (2 * 1000 * 21 + 141)  # 1-10-10-1, N = 1000
    assert chunk_for((1, 10, 10, 1), 1000, 2e8) == int(2e8 // per_vector)
    assert chunk_for((64, 128, 10), 10**6, budget_bytes=1.0) == 1


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda L, t: line(L, t, t[:-1], [0.0]), "theta1 has"),
        (lambda L, t: line(L, t, t, [[0.0]]), "alphas"),
        (lambda L, t: line(L, t, t, [0.0], chunk=0), "chunk"),
        (lambda L, t: plane(L, t, t, t[:2], [0.0], [0.0]), "d2 has"),
        (lambda L, t: plane(lambda T: T, t, t, t, [0.0], [0.0]), "loss_batched returned"),
        (lambda L, t: perturbation_curves(L, t, np.zeros((2, 3))), "deltas"),
        (lambda L, t: path_pca(np.ones((2, t.size)), t), "points has shape"),
        (lambda L, t: hessian_directions(np.ones((2, 3))), "square"),
        (lambda L, t: neighbour_samples(t, -1.0, 3, np.random.default_rng(0)), "scale"),
        (lambda L, t: neighbour_samples(t, 1.0, 0, np.random.default_rng(0)), "n=0"),
        (lambda L, t: line(L, np.full(t.size, np.nan), t, [0.0]), "non-finite"),
        (lambda L, t: losses_at(L, t), "thetas"),
        (lambda L, t: rise_radius(L, t, t, rise=0.0), "rise=0.0"),
        (lambda L, t: filter_normalized_direction(MLP((1, 1, 1)).layout, t,  # 4 parameters
                                                  np.random.default_rng(0), "flter"),
         r"normalization='flter' is unknown; choose one of \['filter', 'layer'\]"),
    ],
)
def test_bad_input_names_the_argument(call, message):
    theta = np.arange(4.0)
    with pytest.raises(ValueError, match=message):
        call(_quadratic(np.eye(4)), theta)


def test_off_plane_share_of_points_in_a_plane_is_zero_and_off_it_exact(rng):
    plane = rng.normal(size=(2, 6))
    points = rng.normal(size=(8, 2)) @ plane
    _, ratio, _, off = path_pca(points)
    assert_allclose(ratio.sum(), 1.0, rtol=1e-12)  # all variance lies in the plane
    assert_allclose(off, 0.0, atol=1e-12)  # only rounding of ‖d‖² − ‖Pd‖² is left
    # four points ±e₁, ±e₂ and two ±e₃ at smaller scale: the plane is (e₁, e₂)
    points = np.array([[3, 0, 0], [-3, 0, 0], [0, 2, 0], [0, -2, 0], [0, 0, 1], [0, 0, -1.0]])
    _, ratio, _, off = path_pca(points)
    assert_allclose(ratio, [9 / 14, 4 / 14], rtol=1e-12)  # exact SVD of a small matrix
    assert_allclose(off, [0, 0, 0, 0, 1, 1], atol=1e-12)
