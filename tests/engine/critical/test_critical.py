"""Classification of end points and the sampled minimal ratio, on closed forms."""
import warnings

import numpy as np
import pytest
import scipy.stats
from numpy.testing import assert_allclose

from engine import MLP
from engine.critical.classification import (
    LABELS,
    classify,
    continuation,
    sampled_minimal_ratio,
    saturation,
)
from engine.critical.index_loss import index_loss_fit

SQRT2 = np.sqrt(2.0)
Z95 = 1.959963984540054  # the 97.5 % quantile of N(0, 1)


def quartic(t):
    """Frye et al.'s f = x⁴/4 − 3x² + 9x + 0.9y⁴ + 5y² + 40: (∇f, ∇²f)."""
    x, y = t
    return (np.array([x ** 3 - 6.0 * x + 9.0, 3.6 * y ** 3 + 10.0 * y]),
            np.diag([3.0 * x ** 2 - 6.0, 10.8 * y ** 2 + 10.0]))


def random_symmetric(rng, eigenvalues):
    Q, _ = np.linalg.qr(rng.normal(size=(len(eigenvalues), len(eigenvalues))))
    return Q @ np.diag(eigenvalues) @ Q.T


def test_saddle_of_x2_minus_y2_is_critical_with_ratio_one_half():
    point = classify([0.0, 0.0], [0.0, 0.0], np.diag([2.0, -2.0]))
    assert point.label == "critical" and not point.flat
    assert point.spectrum.minimal_ratio == 0.5 and point.spectrum.index == 0.5
    assert point.grad_sq == 0.0 and point.newton_norm == 0.0 and point.kappa == 0.0


def test_quartic_minimum_is_critical_and_root2_is_gradient_flat():
    assert classify([-3.0, 0.0], *quartic([-3.0, 0.0])).label == "critical"
    point = classify([SQRT2, 0.0], *quartic([SQRT2, 0.0]))
    assert point.label == "gradient-flat" and point.flat
    # ∂f/∂x(√2) = 9 − 4√2; the rounding of √2 moves it by ~ε·|∂²f/∂x²| ≈ 0 to first order
    assert_allclose(point.grad_sq, (9.0 - 4.0 * SQRT2) ** 2, rtol=1e-14)
    # H = diag(~1e-15, 10): g lies entirely in the kernel, and Hg = (~1e-15·g_x, 0)
    assert_allclose(point.kappa, 1.0, rtol=1e-14)
    assert point.flat_cosine < 1e-14  # ‖Hg‖/(‖H‖₂‖g‖) ≈ |H_xx|/10 with |H_xx| ≲ 1e-14


def test_a_point_far_from_stationary_is_not_converged():
    point = classify([0.0, 1.0], *quartic([0.0, 1.0]))
    assert point.label == "not-converged" and not point.flat


def test_small_gradient_is_not_enough_when_the_newton_step_is_long():
    """‖g‖² = 1e-12 passes the gradient test, but g sits on λ = 1e-5: H⁺g has norm 0.1."""
    point = classify([0.0, 0.0], [0.0, 1e-6], np.diag([1.0, 1e-5]))
    assert_allclose(point.newton_norm, 0.1, rtol=1e-12)  # one division, rounding only
    assert point.kappa == 0.0  # 1e-5 > τ = 1e-6·‖H‖₂: not in the near-kernel
    assert_allclose(point.flat_cosine, 1e-5, rtol=1e-12)  # ‖Hg‖/(‖H‖₂‖g‖) = 1e-5 ≤ 5e-4
    assert point.label == "gradient-flat" and not point.flat


def test_critical_point_with_residual_gradient_in_the_kernel_is_flagged_flat():
    point = classify([1.0, 0.0], [0.0, 1e-7], np.diag([1.0, 0.0]))
    assert point.label == "critical" and point.flat
    assert point.newton_norm == 0.0 and point.kappa == 1.0 and point.flat_cosine == 0.0


@pytest.mark.parametrize("bad", ["theta", "g", "H"])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_input_is_refused_naming_it_or_not_converged_where_a_search_ended(bad, value):
    args = {"theta": np.zeros(2), "g": np.zeros(2), "H": np.eye(2)}
    args[bad] = args[bad].copy()
    args[bad].flat[0] = value
    args[bad].flat[-1] = value
    with pytest.raises(ValueError, match=rf"^{bad} holds 2 non-finite entries"):
        classify(args["theta"], args["g"], args["H"])
    point = classify(args["theta"], args["g"], args["H"], non_finite="not-converged")
    assert point.label == "not-converged" and point.spectrum is None
    assert np.isnan(point.kappa) and np.isnan(point.newton_norm)
    with pytest.raises(ValueError, match="non_finite='ignore' must be"):
        classify(np.zeros(2), np.zeros(2), np.eye(2), non_finite="ignore")


def test_diagnostics_match_independent_routes(rng):
    lam = np.concatenate([np.geomspace(1e-4, 10.0, 8), -np.geomspace(1e-3, 1.0, 4), [1e-9, -1e-10]])
    H = random_symmetric(rng, lam)
    theta, g = rng.normal(size=lam.size), 1e-3 * rng.normal(size=lam.size)
    point = classify(theta, g, H)
    # pinv cuts singular values at rcond·σ_max, the same rule as τ = 1e-6·‖H‖₂ = 1e-5 (no
    # eigenvalue near the cut); what is kept has condition number 1e5: agreement to ~1e5·ε ≈ 2e-11
    pinv_step = np.linalg.pinv(H, rcond=1e-6) @ g
    assert_allclose(point.newton_norm, np.linalg.norm(pinv_step), rtol=1e-10)
    assert_allclose(point.flat_cosine,
                    np.linalg.norm(H @ g) / (np.linalg.norm(H, 2) * np.linalg.norm(g)), rtol=1e-12)
    assert point.spectrum.n_zero == 2 and point.spectrum.n_neg == 4 and point.spectrum.n_pos == 8
    spec = point.spectrum
    kernel = spec.eigenvectors[:, np.abs(spec.eigenvalues) <= spec.tau]
    # a projection onto orthonormal columns: rounding only
    assert_allclose(point.kappa, np.linalg.norm(kernel @ (kernel.T @ g)) / np.linalg.norm(g),
                    rtol=1e-12)


def test_rtol_moves_eigenvalues_into_the_kernel(rng):
    H = random_symmetric(rng, [10.0, 1.0, -1e-4, 1e-7])
    assert classify(np.zeros(4), np.zeros(4), H, rtol=1e-9).spectrum.n_zero == 0
    assert classify(np.zeros(4), np.zeros(4), H, rtol=1e-6).spectrum.n_zero == 1
    assert classify(np.zeros(4), np.zeros(4), H, rtol=1e-4).spectrum.n_zero == 2


def test_thresholds_are_flags():
    args = ([0.0, 0.0], [1e-4, 0.0], np.diag([1.0, 2.0]))  # ‖g‖² = 1e-8
    assert classify(*args).label == "not-converged"
    assert classify(*args, grad_sq_tol=1e-8, newton_tol=1e-3).label == "critical"
    assert set(LABELS) == {"critical", "gradient-flat", "not-converged"}


@pytest.mark.parametrize("kwargs, match", [
    ({"grad_sq_tol": -1.0}, "grad_sq_tol"), ({"cos_tol": np.nan}, "cos_tol"),
    ({"rtol": "tight"}, "rtol"),
])
def test_bad_tolerances_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        classify([0.0], [0.0], [[1.0]], **kwargs)


def test_shapes_that_do_not_fit_are_refused():
    with pytest.raises(ValueError, match="theta"):
        classify([0.0, 0.0], [0.0], np.eye(2))


def strict_minimum(theta):
    """L = ½ Σ θᵢ² · (1, 2, …, n) for a batch θ (K, n)."""
    return 0.5 * np.sum(np.arange(1, theta.shape[-1] + 1) * theta ** 2, axis=-1)


def saddle(theta):
    return theta[..., 0] ** 2 - theta[..., 1] ** 2


@pytest.mark.parametrize("radii", [(1e-3,), (1e-3, 1e-2, 1e-1)])
def test_sampled_ratio_at_a_strict_minimum_is_one(radii, rng):
    res = sampled_minimal_ratio(strict_minimum, np.zeros(5), radii, n_directions=200, rng=rng)
    assert_allclose(res.share, 1.0, rtol=0)  # every direction goes up: exact
    assert np.all(res.low < 1.0) and np.all(res.high == 1.0)


def test_sampled_ratio_at_the_saddle_is_one_half_with_a_wilson_interval(rng):
    res = sampled_minimal_ratio(saddle, np.zeros(2), [1e-2, 1.0], n_directions=1000, rng=rng)
    # P(|d₁| > |d₂|) = ½ exactly; SE = √(¼/1000) = 0.016, so 4 SE = 0.063
    assert_allclose(res.share, 0.5, atol=0.063)
    # same directions at every radius and L is homogeneous of degree 2: identical shares
    assert res.share[0] == res.share[1]
    assert np.all((res.low <= res.share) & (res.share <= res.high))
    assert np.all((res.low <= 0.5) & (0.5 <= res.high))
    k, n = res.n_higher[0], res.n_directions
    p = k / n
    centre = (p + Z95 ** 2 / (2 * n)) / (1 + Z95 ** 2 / n)
    half = Z95 * np.sqrt(p * (1 - p) / n + Z95 ** 2 / (4 * n ** 2)) / (1 + Z95 ** 2 / n)
    assert_allclose([res.low[0], res.high[0]], [centre - half, centre + half], rtol=1e-12)


def test_one_batched_loss_call_per_radius(rng):
    shapes = []

    def loss(theta):
        shapes.append(theta.shape)
        return strict_minimum(theta)

    sampled_minimal_ratio(loss, np.ones(4), [0.1, 0.2, 0.3], n_directions=50, rng=rng)
    assert shapes == [(1, 4)] + [(50, 4)] * 3  # loss0, then one call per radius
    shapes.clear()
    sampled_minimal_ratio(loss, np.ones(4), [0.1, 0.2], n_directions=50, rng=rng, loss0=2.5)
    assert shapes == [(50, 4)] * 2


def test_sampled_points_lie_at_exactly_radius_r(rng):
    seen = []
    sampled_minimal_ratio(lambda t: seen.append(t) or strict_minimum(t), np.ones(3), [0.5],
                          n_directions=20, rng=rng, loss0=0.0)
    # ‖θ + r·d − θ‖ = r‖d‖, ‖d‖ = 1 up to rounding of the normalization
    assert_allclose(np.linalg.norm(seen[0] - 1.0, axis=1), 0.5, rtol=1e-14)


def test_sampled_ratio_is_reproducible_and_refuses_a_nan_point_unless_asked_for_nan():
    a, b = (sampled_minimal_ratio(saddle, np.zeros(2), [0.1], n_directions=100,
                                  rng=np.random.default_rng(3)) for _ in range(2))
    assert a.n_higher[0] == b.n_higher[0]
    with pytest.raises(ValueError, match="^theta holds 1 non-finite entry"):
        sampled_minimal_ratio(saddle, np.array([np.nan, 0.0]), [0.1], n_directions=10,
                              rng=np.random.default_rng(3))
    with pytest.raises(ValueError, match="^loss0 holds 1 non-finite entry"):
        sampled_minimal_ratio(saddle, np.zeros(2), [0.1], n_directions=10,
                              rng=np.random.default_rng(3), loss0=np.inf)
    res = sampled_minimal_ratio(saddle, np.array([np.nan, 0.0]), [0.1], n_directions=10,
                                rng=np.random.default_rng(3), non_finite="nan")
    assert np.isnan(res.share).all() and np.isnan(res.low).all()


def test_saturation_and_continuation_refuse_a_non_finite_theta():
    net = MLP((1, 3, 1), "tanh", "mse")
    theta = net.init(np.random.default_rng(0))
    theta[2] = np.inf
    with pytest.raises(ValueError, match="^theta holds 1 non-finite entry"):
        saturation(net, theta, np.zeros((2, 1)))
    with pytest.raises(ValueError, match="^theta holds 1 non-finite entry"):
        continuation(theta, lambda t: t, lambda t: np.eye(t.size), lambda t: 0.0)


@pytest.mark.parametrize("kwargs, match", [
    ({"radii": [0.0]}, "radii"), ({"radii": [0.1], "n_directions": 0}, "n_directions"),
    ({"radii": [0.1], "rng": 0}, "Generator"),
])
def test_sampled_ratio_refuses_bad_input(kwargs, match):
    kwargs = {"rng": np.random.default_rng(0), **kwargs}
    with pytest.raises(ValueError, match=match):
        sampled_minimal_ratio(saddle, np.zeros(2), **kwargs)


def test_the_newton_test_does_not_loosen_as_theta_grows():
    """‖g‖² = 1e-12 and ‖H_τ⁺g‖ = 0.1 at ‖θ‖ = 1e6: a test scaled by 1 + ‖θ‖ would pass it."""
    point = classify([1e6, 0.0], [0.0, 1e-6], np.diag([1.0, 1e-5]))
    assert_allclose(point.newton_norm, 0.1, rtol=1e-12)
    assert point.label != "critical"


def escape_grad(t):
    """L = 1 + e^{−θ₀} + θ₁²: no critical point; ‖∇L‖ → 0 as θ₀ → ∞ at a level loss (a critical
    point at infinity)."""
    return np.array([-np.exp(-t[0]), 2.0 * t[1]])


def escape_hess(t):
    return np.diag([np.exp(-t[0]), 2.0])


def test_an_asymptote_passes_the_point_tests_and_the_continuation_flags_it_escaping():
    theta = np.array([25.0, 0.0])
    point = classify(theta, escape_grad(theta), escape_hess(theta))
    # ‖g‖² = e^{−50} ≈ 2e-22 and H's e^{−25} ≈ 1e-11 < τ = 2e-6: the Newton step is truncated
    assert point.label == "critical" and point.flat
    res = continuation(theta, escape_grad, escape_hess,
                       lambda t: 1.0 + np.exp(-t[0]) + t[1] ** 2, max_eval=50)
    assert res.verdict == "escaping"
    # every move is along +θ₀, so the growth of ‖θ‖ is the whole move
    assert_allclose(res.growth, res.moved, rtol=1e-12)
    assert res.moved > 0.1 and np.all(np.diff(res.theta_norms) > 0)
    assert res.loss_change <= 1.4e-11  # e^{−25}: the loss is level


def test_an_asymptote_whose_loss_falls_has_drifted_not_escaped():
    """L = e^{−θ₀} + θ₁² at θ₀ = 25: the same path, but L falls by ~100 % of itself."""
    theta = np.array([25.0, 0.0])
    res = continuation(theta, escape_grad, escape_hess, lambda t: np.exp(-t[0]) + t[1] ** 2,
                       max_eval=50)
    assert res.verdict == "drifted" and res.loss_change > 0.5


def test_continuation_from_an_exact_saddle_stays():
    res = continuation(np.array([0.0, 0.0]) + [1.0, 0.0], lambda t: 2.0 * (t - [1.0, 0.0]) *
                       [1.0, -1.0], lambda t: np.diag([2.0, -2.0]),
                       lambda t: (t[0] - 1.0) ** 2 - t[1] ** 2)
    assert res.verdict == "stays" and res.moved == 0.0 and res.grad_sq == 0.0


def ring(t):
    """L = 1 + (‖θ‖² − 1)²: the unit circle is a connected set of minima at L = 1."""
    return 1.0 + (t @ t - 1.0) ** 2


def ring_grad(t):
    return 4.0 * (t @ t - 1.0) * t


def ring_hess(t):
    return 4.0 * (t @ t - 1.0) * np.eye(t.size) + 8.0 * np.outer(t, t)


def test_continuation_onto_a_connected_set_at_the_same_loss_is_manifold():
    # from radius 1 + 2e-4 (L − 1 = 1.6e-7) the search lands on the circle: moved 2e-4 inward
    res = continuation(np.array([1.0 + 2e-4, 0.0]), ring_grad, ring_hess, ring)
    assert res.verdict == "manifold"
    assert_allclose(res.moved, 2e-4 / (1.0 + 2e-4), rtol=1e-6)
    assert res.growth < 0.0 and res.grad_sq <= 1e-20


def test_continuation_that_changes_the_loss_has_drifted():
    """From (0, 1) on x² − y² the search goes to the saddle (0, 0): the loss changes by 1."""
    res = continuation(np.array([0.0, 1.0]), saddle_grad2, lambda t: np.diag([2.0, -2.0]),
                       lambda t: t[0] ** 2 - t[1] ** 2)
    assert res.verdict == "drifted" and res.loss_change == pytest.approx(1.0)


def saddle_grad2(t):
    return np.array([2.0 * t[0], -2.0 * t[1]])


@pytest.mark.parametrize("kwargs, match", [({"move_tol": 0.0}, "move_tol"),
                                           ({"grow_share": np.inf}, "grow_share")])
def test_continuation_refuses_bad_tolerances(kwargs, match):
    with pytest.raises(ValueError, match=match):
        continuation(np.ones(2), saddle_grad2, lambda t: np.eye(2), lambda t: 0.0, **kwargs)


def test_saturation_counts_units_constant_on_the_data():
    """1-2-1 tanh on x ∈ [0.5, 1]: unit 0 has z = 1000x ≥ 500 (tanh' ≈ 4e-434 → 0), unit 1
    z = 0.1x (tanh' ≥ 0.99)."""
    net = MLP((1, 2, 1), "tanh")
    theta = net.layout.pack([(np.array([[1000.0, 0.1]]), np.zeros(2)),
                             (np.ones((2, 1)), np.zeros(1))])
    share, max_z = saturation(net, theta, np.linspace(0.5, 1.0, 7)[:, None])
    assert share == 0.5 and max_z == 1000.0


def test_a_failed_eigensolver_falls_back_to_another_driver(monkeypatch):
    """scipy's syevr raised LinAlgError on a finite Hessian of a saturated net; classify then
    uses numpy's syevd and gives the same answer (here: the saddle of x² − y²)."""
    import engine.critical.classification as critical

    def broken(*args, **kwargs):
        raise np.linalg.LinAlgError("Internal Error.")

    monkeypatch.setattr(critical, "spectrum", broken)
    point = classify([0.0, 0.0], [0.0, 0.0], np.diag([2.0, -2.0]))
    assert point.label == "critical" and point.spectrum.index == 0.5
    monkeypatch.setattr(np.linalg, "eigh", broken)
    point = classify([0.0, 0.0], [0.0, 0.0], np.diag([2.0, -2.0]))
    assert point.label == "not-converged" and point.spectrum is None


def test_index_loss_fit_recovers_a_known_exponent():
    """α = 0.2·((ε − 0.01)/0.01)^{3/2} on 30 saddles above ε_c and 10 minima below, noise-free:
    the fit returns p = 3/2 and ρ = 1 for the saddles' monotone rise."""
    loss = np.concatenate([np.geomspace(1e-4, 9e-3, 10), np.linspace(0.012, 0.05, 30)])
    index = 0.2 * np.maximum(0.0, (loss - 0.01) / 0.01) ** 1.5
    fit = index_loss_fit(loss, index, rng=np.random.default_rng(0), n_boot=200)
    power = fit["power"]
    assert_allclose([power["alpha0"], power["loss_c"], power["exponent"]], [0.2, 0.01, 1.5],
                    rtol=1e-5)
    assert power["contains"] and not power["at_bound"] and power["low"] <= 1.5 <= power["high"]
    # ties at α = 0 below ε_c keep ρ below 1; the rank correlation of the whole set is exact
    assert_allclose(fit["spearman"]["rho"], scipy.stats.spearmanr(loss, index)[0], rtol=1e-12)


def test_index_loss_fit_refuses_copies_of_one_saddle():
    loss = np.array([1e-5, 2e-5, 3e-5, 0.0432, 0.0432, 0.0432, 0.0432])
    index = np.array([0, 0, 0, 0.1, 0.1, 0.06, 0.03])
    fit = index_loss_fit(loss, index, rng=np.random.default_rng(0), n_boot=50)
    assert fit["power"] is None and fit["n_saddles"] == 4


def test_index_loss_fit_needs_three_saddles_for_a_rank_correlation():
    fit = index_loss_fit([1e-5, 2e-5, 3e-5, 4e-2], [0, 0, 0, 0.1], rng=np.random.default_rng(0))
    assert fit["spearman"] is None and fit["power"] is None


def test_index_loss_fit_skips_constant_resamples_without_a_warning():
    # 3 saddles among 5 points: some of 500 resamples draw one value only (ρ undefined)
    loss, index = np.array([1e-3, 2e-3, 4e-3, 1e-5, 1e-5]), np.array([1.0, 2.0, 3.0, 0.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = index_loss_fit(loss, index, rng=np.random.default_rng(0), n_boot=500)
    spearman = fit["spearman"]
    assert spearman["rho"] == 1.0 and spearman["n_boot"] < 500  # ranks agree exactly
    assert -1.0 <= spearman["low"] <= spearman["high"] <= 1.0


def test_a_cut_above_the_decay_curvature_hides_a_long_newton_step():
    """g = 1e-6 on a direction curved by λ = 1e-5 only, ‖H‖₂ = 10: at rtol 1e-6 the cut is
    τ = 1e-5 ≥ λ, the direction counts as flat and the point passes as critical although the
    Newton step still to go is 0.1; tau_max = λ/10 resolves it."""
    H, g = np.diag([10.0, 1e-5 * (1 - 1e-9)]), np.array([0.0, 1e-6])
    assert classify([0.0, 0.0], g, H).label == "critical"
    point = classify([0.0, 0.0], g, H, tau_max=1e-6)
    assert_allclose(point.newton_norm, 0.1, rtol=1e-8)
    assert point.label == "gradient-flat" and point.spectrum.n_pos == 2
