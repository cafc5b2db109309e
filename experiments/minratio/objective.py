"""The objective of experiments.minratio and how its searches start and are tuned: L_λ = MSE +
(λ/2)‖θ‖² with its exact gradient and Hessian, training to the switch step on the same L_λ, the
eigenvalue cut's cap with a decay, and the finder's options.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.optimize

from engine import value_and_grad
from engine.derivatives.backprop import mlp_mse_gradient
from engine.derivatives.curvature import exact_hessian, output_jacobian
from engine.training.loop import fit_lbfgs, train
from engine.training.optim import adam

_EPS = np.finfo(np.float64).eps


def train_until(net, theta0, data, trainer, steps, rng, lr=0.01, weight_decay=0.0):
    """(θ, steps taken) after `steps` steps on L_λ = MSE + (λ/2)‖θ‖²: least_squares (trf, lm)
    on the residuals [(fᵢ − yᵢ)/√N, √λ·θ] (a step: one evaluation), L-BFGS-B or full-batch Adam.
    Not lm by default: MINPACK's θ varied between processes (heap layout), amplified to O(1) in
    50 steps (cond J ~1e20). The search works on L_λ, so its starts come from L_λ's curve."""
    x, y = data.x_train, data.y_train
    scale = 1.0 / np.sqrt(len(x))  # ½‖r‖², r = (f − y)/√N, is the MSE
    root = np.sqrt(weight_decay)   # ½‖√λ·θ‖² is the decay term
    n = net.n_params
    with np.errstate(all="ignore"):
        if trainer in ("trf", "lm"):
            res = scipy.optimize.least_squares(
                lambda t: np.concatenate([scale * (net.forward(t, x) - y).ravel(), root * t]),
                theta0, jac=lambda t: np.vstack([
                    scale * output_jacobian(net, t, x).reshape(-1, n), root * np.eye(n)]),
                method=trainer, ftol=_EPS, xtol=_EPS, gtol=_EPS, max_nfev=steps)
            return res.x, int(res.nfev)

        def objective(t):
            value, g = value_and_grad(net, t, x, y)
            return value + 0.5 * weight_decay * (t @ t), g + weight_decay * t

        if trainer == "lbfgs":
            res = fit_lbfgs(objective, theta0, steps)
            return res.x, int(res.nit)
        if weight_decay == 0.0:
            optimizer = adam(lr)
            state = train(net, theta0, data, optimizer, epochs=steps, batch_size=len(x),
                          rng=rng)
            return optimizer.params(state), steps
        optimizer = adam(lr)  # full batch: the loop is the whole of engine.training.loop's work
        state = optimizer.init(theta0)
        for step in range(steps):
            state = optimizer.update(step, objective(optimizer.params(state))[1], state)
        return optimizer.params(state), steps


def objective_fns(net, x, y, weight_decay):
    """(loss, gradient, Hessian) of L_λ(θ) = MSE + (λ/2)‖θ‖²: ∇L + λθ and ∇²L + λI. loss takes a
    batch of θ (..., n); the Hessian of a non-finite θ is nan (so classify says not converged).
    The gradient is `mse_gradient`'s plain NumPy backward pass (engine.grad to rounding).
    Where a search's time goes (1-8-8-1 on 100 points, λ = 1e-5, LM, one BLAS thread, measured
    per evaluation over 3000): Hessian 0.78 ms (exact_hessian, at the ~90 % of evaluations scipy
    accepts), MINPACK's own QR and damping 0.58 ms, gradient 0.13 ms (autograd's: 0.60 ms),
    Python 0.08 ms; in all 1.49 ms, 1.99 ms with autograd's gradient."""
    n = net.n_params
    mse_grad = mlp_mse_gradient(net, x, y)

    def loss(theta):
        theta = np.asarray(theta, dtype=np.float64)
        return net.loss(theta, x, y) + 0.5 * weight_decay * np.sum(theta * theta, axis=-1)

    def gradient(theta):
        theta = np.asarray(theta, dtype=np.float64)
        with np.errstate(all="ignore"):
            return mse_grad(theta) + weight_decay * theta

    def hessian(theta):
        with np.errstate(all="ignore"):
            if np.all(np.isfinite(theta)):
                H = exact_hessian(net, theta, x, y)
                H[np.diag_indices(n)] += weight_decay
                return H
            return np.full((n, n), np.nan)

    return loss, gradient, hessian


def tau_max(config) -> float:
    """The cap of the eigenvalue cut τ (engine.spectra.dense): λ/10 with a weight decay λ, so every
    direction curved by the decay alone counts as curved (τ = 1e-6·‖H‖₂ sits on λ = 1e-5 for
    ‖H‖₂ ≈ 10, and n₊ then flipped between 36 and 84 of 97 from run to run); none without."""
    return config.weight_decay / 10 if config.weight_decay > 0 else math.inf


def classify_options(config) -> dict:
    """engine.classify's tolerances of config, the cut capped at tau_max(config)."""
    return {k: getattr(config, k) for k in ("grad_sq_tol", "newton_tol", "kappa_tol", "cos_tol",
                                            "rtol")} | {"tau_max": tau_max(config)}


def finder_options(config) -> dict:
    """engine.critical.finders options of config, and --stall-window when given. Newton-MR's cut:
    - no decay: the classification's τ, so the search removes the step the classification
      measures. The plain loss has directions flat to rounding (saturated units, asymptotes), and
      a search resolving them walks off along them: with the whole spectrum (rtol 0), 8 of 100
      searches ended escaping, 31 drifting, and the run took 165 s instead of 61 s.
    - a decay λ: the whole spectrum, τ = n·ε·‖H‖₂ (rtol 0). Where duplicated units merge, ∇²L_λ
      has eigenvalues of 1e-7 … 1e-6, below the classification's τ = λ/10, and ∇L_λ lies along
      them: a search that cuts them stops short of the critical point, where the test passes
      but continuation moves on (100 searches: resolving them, 60 critical points, all 60
      staying put; cutting them, 61, of which 6 stay put, 40 drift and 15 slide)."""
    opts = {}
    if "newton" in config.finder:
        opts["rtol"] = 0.0 if config.weight_decay > 0 else config.rtol
    return opts | ({"window": config.stall_window} if config.stall_window else {})
