"""Finders of ∇L = 0 on functions with known critical points (and one known gradient-flat point)."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from engine.critical.classification import classify
from engine.critical.finders import (
    CONVERGED,
    DIVERGED,
    MAX_ITER,
    METHODS,
    SOLVER_STOPPED,
    STALLED,
    STATUS_NAMES,
    find_critical,
)
from engine.critical.newton_mr import newton_model, next_radius

SQRT2 = np.sqrt(2.0)


def saddle_grad(t):
    """f(x, y) = x² − y²: one critical point, the saddle (0, 0)."""
    return np.array([2.0 * t[0], -2.0 * t[1]])


def saddle_hess(t):
    return np.diag([2.0, -2.0])


def quartic_grad(t):
    """Frye et al.'s f = x⁴/4 − 3x² + 9x + 0.9y⁴ + 5y² + 40: only critical point (−3, 0);
    gradient-flat at (±√2, 0), where ∂²f/∂x² = 0 but ∂f/∂x = 9 ∓ 4√2 ≠ 0."""
    x, y = t
    return np.array([x ** 3 - 6.0 * x + 9.0, 3.6 * y ** 3 + 10.0 * y])


def quartic_hess(t):
    x, y = t
    return np.diag([3.0 * x ** 2 - 6.0, 10.8 * y ** 2 + 10.0])


def convex_problem(rng, n=6):
    """f = ½θᵀAθ + bᵀθ with A SPD (eigenvalues 1…10): minimum θ* = −A⁻¹b."""
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    A = Q @ np.diag(np.linspace(1.0, 10.0, n)) @ Q.T
    b = rng.normal(size=n)
    return A, b, -np.linalg.solve(A, b)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_finder_ends_at_the_saddle_of_x2_minus_y2(method, seed):
    theta0 = np.random.default_rng(seed).uniform(-2.0, 2.0, size=2)
    res = find_critical(theta0, saddle_grad, saddle_hess, method=method)
    assert res.status == CONVERGED, res.message
    # converged means ‖∇f‖² ≤ 1e-30·max(1, ‖∇f(θ₀)‖²) ≤ 1e-30·32, and ‖θ‖ = ‖∇f‖/2
    assert_allclose(res.theta, 0.0, atol=1e-14)
    point = classify(res.theta, saddle_grad(res.theta), saddle_hess(res.theta))
    assert point.label == "critical"
    assert point.spectrum.minimal_ratio == 0.5
    assert point.spectrum.index == 0.5


@pytest.mark.parametrize("method", METHODS)
def test_every_finder_finds_the_minimum_of_a_convex_quadratic(method, rng):
    A, b, minimum = convex_problem(rng)
    res = find_critical(rng.normal(size=b.size), lambda t: A @ t + b, lambda t: A, method=method)
    assert res.status == CONVERGED, res.message
    # ‖θ − θ*‖ ≤ ‖A⁻¹‖·‖∇f‖ ≤ 1·√(1e-30·max(1, ‖∇f(θ₀)‖²)), ‖∇f(θ₀)‖ ≲ 100 here
    assert_allclose(res.theta, minimum, rtol=0, atol=1e-12)
    point = classify(res.theta, A @ res.theta + b, A)
    assert point.label == "critical"
    assert point.spectrum.minimal_ratio == 1.0


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("theta0", [(-2.0, 1.0), (-4.0, -1.0)])
def test_quartic_critical_point_is_found_and_labelled_critical(method, theta0):
    res = find_critical(theta0, quartic_grad, quartic_hess, method=method)
    assert res.status == CONVERGED, res.message
    # (−3, 0) is a simple root of ∇f (H = diag(21, 10)): ‖θ − θ*‖ ≤ ‖∇f‖/10 ≤ 1e-14
    assert_allclose(res.theta, [-3.0, 0.0], rtol=0, atol=1e-13)
    point = classify(res.theta, quartic_grad(res.theta), quartic_hess(res.theta))
    assert point.label == "critical"


@pytest.mark.parametrize("method", METHODS)
def test_a_finder_started_near_root2_stalls_at_the_gradient_flat_point(method):
    """The lesson of Frye et al.: finders of ∇f = 0 get trapped where ∇f lies in ker H."""
    res = find_critical([1.41, 0.0], quartic_grad, quartic_hess, method=method)
    assert res.status in (STALLED, SOLVER_STOPPED), res.message
    # ‖∇f‖² ≈ (9 − 4√2)² ≈ 11.2 there: nowhere near zero
    # ∂f/∂x(√2 + δ) = 9 − 4√2 + 3√2δ² + δ³: for |δ| ≤ 1e-4 a relative change ≤ 2e-8
    assert_allclose(res.grad_norms[-1], 9.0 - 4.0 * SQRT2, rtol=1e-7)
    # gradnorm/LM/TRF converge onto √2 (to ~1e-8: ‖∇f‖ is quadratic in x − √2 there); Newton-MR
    # stalls where its pseudo-inverse step, divided by H_xx = 3x² − 6 → 0, is all line search
    assert_allclose(res.theta, [SQRT2, 0.0], rtol=0, atol=1e-4)
    point = classify(res.theta, quartic_grad(res.theta), quartic_hess(res.theta))
    assert point.label == "gradient-flat"


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_non_finite_start_is_refused_at_the_door(method, bad):
    # issue 20: a search from an infinite start used to return a finished "diverged" search
    with pytest.raises(ValueError, match="theta0 holds 1 non-finite entry"):
        find_critical([bad, 1.0], saddle_grad, saddle_hess, method=method)


@pytest.mark.parametrize("method", METHODS)
def test_nonfinite_gradient_inside_the_search_never_raises(method):
    """∇f = θ − (3, 0) on x < 2, nan beyond: full steps land in the nan region."""
    def grad(t):
        return np.array([t[0] - 3.0, t[1]]) if t[0] < 2.0 else np.array([np.nan, np.nan])

    res = find_critical([0.0, 1.0], grad, lambda t: np.eye(2), method=method)
    assert res.status in (DIVERGED, STALLED)
    assert np.all(np.isfinite(res.theta))
    # the returned point is the best finite one: its ‖∇f‖ is the trace's last value
    assert_allclose(np.linalg.norm(grad(res.theta)), res.grad_norms[-1], rtol=1e-15)


@pytest.mark.parametrize("method", METHODS)
def test_trace_and_counts_are_consistent(method, rng):
    A, b, _ = convex_problem(rng)
    calls = []

    def grad(t):
        calls.append(1)
        return A @ t + b

    theta0 = rng.normal(size=b.size)
    res = find_critical(theta0, grad, lambda t: A, method=method)
    trace = res.grad_norms
    assert res.n_eval == len(calls)
    assert_allclose(trace[0], np.linalg.norm(A @ theta0 + b), rtol=1e-15)  # the same evaluation
    assert np.all(np.diff(trace) < 0)
    assert_allclose(trace[-1], np.linalg.norm(A @ res.theta + b), rtol=1e-15)
    # ‖θ‖ is recorded at the same points: first the start, last the returned point
    assert res.theta_norms.shape == trace.shape
    assert_allclose(res.theta_norms[[0, -1]], np.linalg.norm([theta0, res.theta], axis=1),
                    rtol=1e-15)
    assert res.method == method and res.wall_time > 0 and res.n_iter >= 1


def test_safety_cap_is_reported():
    res = find_critical([0.0, 1.0], quartic_grad, quartic_hess, method="gradnorm", max_iter=3)
    assert res.status == MAX_ITER and "safety cap" in res.message
    assert res.n_eval <= 4  # 3 recorded evaluations plus the restart check


def test_scipy_status_is_kept_when_scipy_stops_itself():
    res = find_critical([1.41, 0.0], quartic_grad, quartic_hess, method="lm")
    assert res.status == SOLVER_STOPPED
    assert res.scipy_status in (1, 2, 3, 4)  # gtol / ftol / xtol / both
    assert res.status_name == STATUS_NAMES[SOLVER_STOPPED] == "solver_stopped"


@pytest.mark.parametrize("method", ["newton", "gradnorm"])
def test_hvp_only_routes(method, rng):
    """Newton-MR by LSMR (dense_max=0) and gradnorm both run on HVPs alone, without H."""
    A, b, minimum = convex_problem(rng)
    opts = {"dense_max": 0} if method == "newton" else {"solver": "BFGS"}
    res = find_critical(rng.normal(size=b.size), lambda t: A @ t + b, None, method=method,
                        hvp_fn=lambda t, v: A @ v, **opts)
    assert res.status == CONVERGED, res.message
    # LSMR to tol 1e-10 per step, then ‖∇f‖ at the rounding floor: κ(A) = 10 amplifies it
    assert_allclose(res.theta, minimum, rtol=0, atol=1e-12)


def test_lm_then_newton_concatenates_traces(rng):
    A, b, _ = convex_problem(rng)
    theta0 = rng.normal(size=b.size)
    both = find_critical(theta0, lambda t: A @ t + b, lambda t: A, method="lm+newton")
    lm = find_critical(theta0, lambda t: A @ t + b, lambda t: A, method="lm")
    assert_allclose(both.grad_norms[: lm.grad_norms.size], lm.grad_norms, rtol=1e-15)
    assert both.message.startswith("lm: ") and "; newton: " in both.message
    assert both.n_eval > lm.n_eval


def test_newton_mr_trust_region_converges_where_full_newton_steps_diverge():
    """L = x·atan x − ½log(1 + x²): ∇L = atan x, H = 1/(1 + x²). Undamped Newton from |x₀| > 1.392
    overshoots further every step (a textbook divergence); the trust region must reach 0."""
    res = find_critical([3.0], lambda t: np.arctan(t), lambda t: np.diag(1.0 / (1.0 + t ** 2)),
                        method="newton")
    assert res.status == CONVERGED, res.message
    # converged: |atan x|² ≤ 1e-30·max(1, atan(3)²), and |x| ≈ |atan x| near 0
    assert_allclose(res.theta, 0.0, atol=1e-14)
    assert np.all(np.diff(res.grad_norms) < 0)


def _spectrum_problem(rng, n=6):
    """H = Q diag(λ) Qᵀ with two eigenvalues below τ = 1e-6·‖H‖₂, one negative; g (n,)."""
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    lam = np.array([-3.0, 1e-9, 0.5, -2e-8, 2.0, 10.0])
    return Q @ np.diag(lam) @ Q.T, rng.normal(size=n), Q, lam


def test_newton_model_full_step_is_the_truncated_pseudo_inverse_step(rng):
    H, g, Q, lam = _spectrum_problem(rng)
    model = newton_model(np.zeros(g.size), g, lambda t: H)
    p, predicted = model.step(np.inf)
    keep = np.abs(lam) > 1e-6 * 10.0
    expected = -(Q[:, keep] @ ((Q[:, keep].T @ g) / lam[keep]))
    # one eigh of a 6×6 matrix with condition 20 on the kept part: rounding ~1e-15 relative
    assert_allclose(p, expected, rtol=1e-12)
    assert_allclose(model.newton_norm, np.linalg.norm(expected), rtol=1e-12)
    # predicted decrease of ‖g‖² is exactly that of the affine model g + Hp
    assert_allclose(predicted, g @ g - np.sum((g + H @ p) ** 2), rtol=1e-10)


@pytest.mark.parametrize("share", [0.9, 0.3, 1e-3])
def test_newton_model_damped_step_lies_on_the_trust_boundary(share, rng):
    H, g, _, _ = _spectrum_problem(rng)
    model = newton_model(np.zeros(g.size), g, lambda t: H)
    radius = share * model.newton_norm
    p, predicted = model.step(radius)
    # brentq solves ‖p(μ)‖ = Δ to rtol 1e-12 in μ, and d log‖p‖/d log μ ≤ 1
    assert_allclose(np.linalg.norm(p), radius, rtol=1e-9)
    assert_allclose(predicted, g @ g - np.sum((g + H @ p) ** 2), rtol=1e-9)
    assert 0.0 < predicted < model.step(np.inf)[1]
    # damping follows −H∇L: the step decreases ‖g + Hp‖² to first order
    assert p @ (H @ g) < 0.0


def test_krylov_model_scales_the_newton_step_to_the_radius(rng):
    A, b, minimum = convex_problem(rng)
    theta = rng.normal(size=b.size)
    g = A @ theta + b
    model = newton_model(theta, g, None, lambda t, v: A @ v, dense_max=0, krylov="lsmr")
    full, _ = model.step(np.inf)
    # LSMR to tol 1e-10 on an SPD system of condition 10
    assert_allclose(theta + full, minimum, rtol=1e-8)
    p, predicted = model.step(0.5 * model.newton_norm)
    assert_allclose(p, 0.5 * full, rtol=1e-15)  # the same vector, halved
    assert_allclose(predicted, g @ g - np.sum((g + A @ p) ** 2), rtol=1e-9)


def test_lanczos_model_damps_the_newton_step_to_the_radius(rng):
    """The default solver above dense_max: the full step, then the trust-region step
    −(A² + μI)⁻¹Ag of length Δ (the subspace is all of ℝ⁶ here)."""
    A, b, minimum = convex_problem(rng)
    theta = rng.normal(size=b.size)
    g = A @ theta + b
    model = newton_model(theta, g, None, lambda t, v: A @ v, dense_max=0)
    full, _ = model.step(np.inf)
    assert_allclose(theta + full, minimum, rtol=1e-8)
    p, predicted = model.step(0.5 * model.newton_norm)
    assert_allclose(np.linalg.norm(p), 0.5 * model.newton_norm, rtol=1e-9)
    assert_allclose(p, -np.linalg.solve(A @ A + model.mu * np.eye(b.size), A @ g), rtol=1e-8)
    assert_allclose(predicted, g @ g - np.sum((g + A @ p) ** 2), rtol=1e-9)


def _inconsistent_system():
    """H = Q diag(3, 2, 1, 0.5, −0.7, −1.5, 0, 0) Qᵀ (8 × 8, kernel of dimension 2) and g with
    coordinates (1, 1, 1, 1, 1, 1, 0.8, −0.6) in Q's basis: ‖P₀g‖ = 1, no p solves Hp = −g."""
    Q, _ = np.linalg.qr(np.random.default_rng(11).normal(size=(8, 8)))
    H = Q @ np.diag([3.0, 2.0, 1.0, 0.5, -0.7, -1.5, 0.0, 0.0]) @ Q.T
    return 0.5 * (H + H.T), Q @ np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.8, -0.6])


@pytest.mark.parametrize("krylov", ["lanczos", "lsmr"])
def test_krylov_step_on_a_singular_inconsistent_system_is_the_least_norm_step(krylov):
    """MINRES returned a step of length 6.8e12 here; the least-norm step −H⁺g has length
    √(1/9 + 1/4 + 1 + 4 + 1/0.49 + 1/2.25) = 2.8012."""
    H, g = _inconsistent_system()
    expected = -np.linalg.pinv(H, rcond=1e-10) @ g
    assert_allclose(np.linalg.norm(expected), np.sqrt(1 / 9 + 1 / 4 + 1 + 4 + 1 / 0.49 + 1 / 2.25),
                    rtol=1e-12)
    for hvp_fn, hess_fn in ((lambda t, v: H @ v, None), (None, lambda t: H)):
        model = newton_model(np.zeros(8), g, hess_fn, hvp_fn, dense_max=0, krylov=krylov)
        p, predicted = model.step(np.inf)
        # LSMR stops when ‖Hr‖ ≤ 1e-10·‖H‖‖r‖ (r = Hp + g, ‖r‖ ≥ 1): the error in range(H) is
        # ≤ 1e-10·‖H‖/λ_min ≈ 4e-10 relative; the kernel part stays at rounding level
        assert_allclose(p, expected, rtol=0, atol=1e-8)
        assert_allclose(model.newton_norm, 2.8012, rtol=1e-4)
        # the decrease of ‖g‖² is the range part, 6: what is left, 0.8² + 0.6², is in ker H
        assert_allclose(predicted, 6.0, rtol=1e-8)


@pytest.mark.parametrize(("dense_max", "inexact", "max_steps"),
                         [(0, False, 4), (2000, False, 4), (0, True, 8)])
def test_newton_mr_reaches_the_gradient_flat_floor_of_an_inconsistent_quadratic(
        dense_max, inexact, max_steps):
    """∇f(θ) = Hθ + g: ‖∇f‖ ≥ ‖P₀g‖ = 1 everywhere. Exact solves: the first step is capped at
    Δ = 1·(1 + ‖θ₀‖) = 1 < 2.80, the second reaches the floor; any further steps only move
    rounding. Inexact LSMR (Eisenstat–Walker forcing from η_0 = 0.5, warm starts, the default
    above dense_max) takes a few more steps to the same least-norm point."""
    H, g = _inconsistent_system()
    exact = {} if inexact else {"forcing_max": 1e-10}
    res = find_critical(np.zeros(8), lambda t: H @ t + g, lambda t: H, method="newton",
                        hvp_fn=lambda t, v: H @ v, dense_max=dense_max, **exact)
    assert res.status == STALLED, res.message
    assert_allclose(res.grad_norms[-1], 1.0, rtol=1e-8)
    assert res.n_iter <= max_steps
    assert_allclose(res.theta, -np.linalg.pinv(H, rcond=1e-10) @ g, rtol=0, atol=1e-8)


def test_newton_model_of_a_nonfinite_hessian_is_none():
    assert newton_model(np.zeros(2), np.ones(2), lambda t: np.full((2, 2), np.nan)) is None


@pytest.mark.parametrize("ratio, length, expected", [
    (0.1, 0.5, 0.125),   # poor model: a quarter of the step taken
    (-np.inf, 2.0, 0.5),  # non-finite trial: shrink the same way
    (0.5, 2.0, 2.0),     # fair model: keep Δ
    (0.9, 2.0, 4.0),     # good model on the boundary: double
    (0.9, 1.0, 2.0),     # good model inside the region: Δ was not the limit, keep it
])
def test_next_radius_follows_the_ratio_of_actual_to_predicted_decrease(ratio, length, expected):
    assert next_radius(2.0, ratio, length) == expected


@pytest.mark.parametrize("kwargs, match", [
    ({"method": "newtn"}, "choose one of"),
    ({"method": "lm", "rtol": 1e-8}, "valid options"),
    ({"method": "gradnorm", "solver": "CG"}, "L-BFGS-B"),
    ({"method": "lm", "max_iter": 0}, "max_iter"),
])
def test_bad_options_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        find_critical([1.0, 1.0], saddle_grad, saddle_hess, **kwargs)


def test_bad_theta_and_missing_hessian_are_refused():
    with pytest.raises(ValueError, match="one parameter vector"):
        find_critical(np.zeros((2, 2)), saddle_grad, saddle_hess)
    with pytest.raises(ValueError, match="needs hess_fn"):
        find_critical([1.0, 1.0], saddle_grad, None, method="lm")
