"""Above the size switch the default chain runs Newton-MR on HVPs alone and ends with a stated
status (no timing asserts: speed is `python -m experiments.bench.scale`)."""
import numpy as np

from engine import MLP
from engine.critical.finders import DENSE_MAX, STATUS_NAMES, find_critical, forcing_term
from engine.data.datasets import function_dataset
from engine.derivatives.autodiff import mlp_hvp_at
from engine.nets.passes import mlp_mse_gradient


def test_a_2000_parameter_search_runs_on_hvps_and_ends_with_a_stated_status():
    net = MLP((1, 44, 44, 1), "tanh", "mse")
    data = function_dataset("sinc", n_samples=100)
    x, y = data.x_train, data.y_train
    gradient = mlp_mse_gradient(net, x, y)
    assert net.n_params > DENSE_MAX  # 2,113: above the switch, no n × n matrix is formed

    def hessian(theta):
        raise AssertionError("the dense Hessian was asked for above the size switch")

    theta0 = net.init(np.random.default_rng(0))
    found = find_critical(theta0, gradient, hessian,
                          hvp_fn=lambda t, v: mlp_hvp_at(net, t, x, y)(v), max_hvp=1500)
    assert found.method == "lm+newton" and found.message.startswith("newton: ")  # LM skipped
    assert STATUS_NAMES[found.status] in ("converged", "stalled", "max_iter")
    if STATUS_NAMES[found.status] == "max_iter":
        assert "HVP budget of 1500 spent" in found.message and found.n_jev >= 1500
    assert np.linalg.norm(gradient(found.theta)) < np.linalg.norm(gradient(theta0))


def test_forcing_term_follows_eisenstat_walker_choice_1():
    # first step: η_0 = forcing_max; the linear model exact (‖g_k‖ = its prediction): the floor
    assert forcing_term(1.0, None, None) == 0.5
    assert forcing_term(1e-3, (1e-2, 1e-3), 1e-3) == 1e-10
    # |1e-3 − 4e-3| / 1e-2 = 0.3, capped by ‖g_k‖ = 1e-3
    assert forcing_term(1e-3, (1e-2, 4e-3), 1e-3) == 1e-3
    # the safeguard: η_{k−1}^φ = 0.5^1.618 ≈ 0.326 > 0.1 keeps η from collapsing at once
    assert np.isclose(forcing_term(2.0, (4.0, 2.0), 0.5), 0.5 ** (0.5 * (1 + 5 ** 0.5)))


def test_a_search_in_the_near_kernel_stops_as_gradient_flat_after_flat_window_models():
    """f = x⁴/4 + z: ∇f = (x³, 1), H = diag(3x², 0). From x = 0.7, κ = 1/√(1 + x⁶) ≥ 0.9 at
    every step: Newton-MR shrinks x by ⅓ a step (accepted, ratio ≈ 0.91) while ‖∇f‖ → 1, the
    gradient-flat floor. The Krylov route stops after flat_window models saying so; without the
    rule it goes on until the trust region can find no decrease."""
    def grad(t):
        return np.array([t[0] ** 3, 1.0])

    def hvp(t, v):
        return np.array([3.0 * t[0] ** 2 * v[0], 0.0])

    opts = {"method": "newton", "hvp_fn": hvp, "dense_max": 0}
    flat = find_critical([0.7, 0.0], grad, None, **opts)
    assert STATUS_NAMES[flat.status] == "stalled"
    assert "gradient-flat: the last 10 Newton models left κ̂ ≥ 0.9" in flat.message
    assert flat.n_iter == 9  # 10 models, the 10th not stepped from
    plain = find_critical([0.7, 0.0], grad, None, flat_window=0, **opts)
    assert "gradient-flat" not in plain.message and plain.n_iter > flat.n_iter
    for res in (flat, plain):
        assert abs(np.linalg.norm(grad(res.theta)) - 1.0) < 1e-3


def test_the_flat_stop_is_confirmed_by_a_tighter_solve_and_the_label_is_classifys():
    """∇f = Λθ + 1 with Λ = diag(1 … 0.003): nonsingular, κ = 0 everywhere. Solves of 2 Lanczos
    iterations leave κ̂ ≥ 0.9 of ∇f unresolved; the confirming solve (4 iterations) refuses the
    first would-be stop (κ̂ = 0.73), so the search goes on past flat_window. When a capped
    confirmation does stop it, the label still comes from classify: not gradient-flat."""
    from engine.critical.classification import classify

    lam = np.array([1.0, 0.3, 0.1, 0.03, 0.01, 0.003])
    found = find_critical(np.zeros(6), lambda t: lam * t + 1.0, None, method="newton",
                          hvp_fn=lambda t, v: lam * v, dense_max=0, lsmr_maxiter=2,
                          flat_window=3, forcing_max=1e-10)
    # κ̂ of the 2-iteration models: 0.78, 0.88, 0.94, 0.96, 0.97: unconfirmed, the 5th model
    # ended the search after 4 steps; the confirmation (0.73) sent it on (16 steps measured)
    assert found.n_iter > 4
    point = classify(found.theta, lam * found.theta + 1.0, np.diag(lam))
    assert point.kappa < 1e-12 and point.label == "not-converged"
