"""Geodesic acceleration in Newton-MR (Transtrum & Sethna 2012): the correction against closed
forms, and the curved valley it exists for."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from engine.critical.finders import CONVERGED, find_critical
from engine.critical.newton_mr import newton_model

A = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 2.0]])  # SPD, eigenvalues 1.6 … 4.9
C = np.array([0.3, -0.2, 0.1])


def cubic_grad(t):
    """L = ½θᵀAθ + Σ cᵢθᵢ³/6: ∇L = Aθ + c⊙θ²/2, ∇²L = A + diag(c⊙θ), and D²∇L[p, p] = c⊙p²
    exactly (∇L is quadratic, so the finite difference of the correction has no truncation
    error)."""
    return A @ t + 0.5 * C * t * t


def cubic_hess(t):
    return A + np.diag(C * t)


def test_one_accelerated_step_is_the_newton_step_plus_half_the_correction():
    theta0 = np.array([0.4, -0.3, 0.2])
    H, g = cubic_hess(theta0), cubic_grad(theta0)
    p = -np.linalg.solve(H, g)                   # the full Newton step (Δ starts at its length)
    a = -np.linalg.solve(H, C * p * p)           # the correction for D²∇L[p, p] = c⊙p²
    res = find_critical(theta0, cubic_grad, cubic_hess, method="newton", max_iter=1)
    assert res.n_iter == 1
    # rounding of the finite difference: ε‖∇L‖/h² ~ 1e-13 in r, times ‖H⁻¹‖ ≤ 0.63
    assert_allclose(res.theta, theta0 + p + 0.5 * a, rtol=0, atol=1e-12)
    plain = find_critical(theta0, cubic_grad, cubic_hess, method="newton", max_iter=1,
                          geodesic=False)
    assert_allclose(plain.theta, theta0 + p, rtol=0, atol=1e-14)
    # second order: the accelerated step leaves a smaller residual than the Newton step
    assert np.linalg.norm(cubic_grad(res.theta)) < 0.1 * np.linalg.norm(cubic_grad(plain.theta))


def test_the_correction_uses_the_damping_of_the_last_step(rng):
    H = A + np.diag([0.0, 0.0, -2.5])           # indefinite: eigenvalues −0.8 … 4.9
    g, r = rng.normal(size=3), rng.normal(size=3)
    model = newton_model(np.zeros(3), g, lambda t: H)
    lam, V = np.linalg.eigh(H)
    for share in (2.0, 0.3):                    # μ = 0 (the full step fits), then μ > 0
        p, _ = model.step(share * model.newton_norm)
        mu = model.mu                           # the step's μ: p = p(μ), with ‖p‖ = Δ if μ > 0
        assert (mu == 0.0) == (share >= 1.0)
        assert_allclose(p, -(V @ (lam * (V.T @ g) / (lam ** 2 + mu))), rtol=1e-12)
        # the correction is filtered by the same (λᵢ² + μ)
        assert_allclose(model.solve(r), -(V @ (lam * (V.T @ r) / (lam ** 2 + mu))), rtol=1e-12)
        assert_allclose(model.curvature(p), H @ p, rtol=1e-12)


def test_the_krylov_correction_is_the_scaled_least_norm_solve(rng):
    g, r = rng.normal(size=3), rng.normal(size=3)
    model = newton_model(np.zeros(3), g, None, lambda t, v: A @ v, dense_max=0, krylov="lsmr")
    p, _ = model.step(0.5 * model.newton_norm)
    assert_allclose(model.curvature(p), A @ p, rtol=1e-14)
    # LSMR to 1e-10 on a system of condition 3: the same α = ½ scales the correction
    assert_allclose(model.solve(r), -0.5 * np.linalg.solve(A, r), rtol=1e-8)


def test_the_lanczos_correction_is_the_damped_solve_in_the_subspace_without_products(rng):
    g, r = rng.normal(size=3), rng.normal(size=3)
    count = [0]

    def hvp(t, v):
        count[0] += 1
        return A @ v

    model = newton_model(np.zeros(3), g, None, hvp, dense_max=0)
    p, _ = model.step(0.5 * model.newton_norm)
    built = count[0]
    assert_allclose(model.curvature(p), A @ p, rtol=1e-12)
    # the subspace is all of ℝ³: the correction is −(A² + μI)⁻¹Ar, the μ of the step
    assert_allclose(model.solve(r), -np.linalg.solve(A @ A + model.mu * np.eye(3), A @ r),
                    rtol=1e-10)
    assert count[0] == built  # curvature and correction reuse the Krylov basis


def valley_grad(t):
    """f = ½(y − x²)² + ½·1e-3·x²: one critical point, the minimum (0, 0), at the end of a
    parabolic valley along which f falls with curvature 1e-3: the straight Newton step leaves
    the valley, and a search of ∇f = 0 from (1, 1) must follow it."""
    x, y = t
    return np.array([-2.0 * x * (y - x * x) + 1e-3 * x, y - x * x])


def valley_hess(t):
    x, y = t
    return np.array([[6.0 * x * x - 2.0 * y + 1e-3, -2.0 * x], [-2.0 * x, 1.0]])


def test_acceleration_follows_the_curved_valley_in_fewer_steps():
    opts = {"method": "newton", "window": 10 ** 6, "max_iter": 10 ** 5}
    fast = find_critical([1.0, 1.0], valley_grad, valley_hess, **opts)
    slow = find_critical([1.0, 1.0], valley_grad, valley_hess, geodesic=False, **opts)
    for res in (fast, slow):
        assert res.status == CONVERGED, res.message
        assert_allclose(res.theta, 0.0, atol=1e-12)
    # measured: 49 accelerated steps against 391 plain ones
    assert 4 * fast.n_iter < slow.n_iter


@pytest.mark.slow
def test_the_finders_bench_runs_every_case_and_the_chain_reaches_the_saddle():
    from experiments.bench.finders import CASES, bench_finders

    rows = bench_finders(runs=(94,))  # the cheapest of the four starts (≈ 7 s)
    assert [r["case"] for r in rows] == [case for case, _ in CASES]
    assert all(r["n_eval"] > 0 and r["cpu_s"] > 0 for r in rows)
    chain = rows[-1]  # measured here: a saddle of index 4, ‖∇L‖² ≈ 7e-32
    assert chain["label"] == "critical" and chain["n_neg"] > 0 and chain["grad_sq"] < 1e-20
