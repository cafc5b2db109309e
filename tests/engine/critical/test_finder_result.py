"""FinderResult reads like scipy's OptimizeResult (x, success, status, message, nit, nfev,
njev), and a search that stops making progress below grad_sq_tol is called converged, not
stalled."""
import numpy as np
import pytest

from engine.critical.finders import CONVERGED, STALLED, find_critical


def _saddle(theta):  # L = x⁴/4 + x²/2 − y²/2 + y⁴/4: saddle at 0
    x, y = theta
    return np.array([x ** 3 + x, -y + y ** 3])


def _hessian(theta):
    x, y = theta
    return np.diag([3 * x * x + 1, -1 + 3 * y * y])


@pytest.mark.parametrize("method", ["newton", "lm", "lm+newton", "gradnorm"])
def test_scipy_names_read_the_same_fields(method):
    res = find_critical(np.array([0.3, 0.2]), _saddle, _hessian, method=method,
                        hvp_fn=lambda t, v: _hessian(t) @ v)
    assert res.x is res.theta and res.nfev == res.n_eval > 0 and res.nit == res.n_iter
    assert res.njev > 0 and res.success == (res.status == CONVERGED)
    assert res.success, res.message


def test_a_gradient_flat_end_is_stalled_not_converged():
    # the gradient-flat point (√2, 0) of f = x⁴/4 − 3x² + 9x + 0.9y⁴ + 5y² (‖∇f‖² ≈ 11) stalls
    flat = find_critical(np.array([1.5, 0.1]),
                         lambda t: np.array([t[0] ** 3 - 6 * t[0] + 9,
                                             3.6 * t[1] ** 3 + 10 * t[1]]),
                         lambda t: np.diag([3 * t[0] ** 2 - 6, 10.8 * t[1] ** 2 + 10]),
                         method="newton")
    assert flat.status == STALLED and not flat.success, flat.message
