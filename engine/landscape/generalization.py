"""Measures that are said to predict generalization (HW1-3): sensitivity, sharpness, and the loss
along the line between two solutions.

  input_jacobian      J(x) = ∂ softmax(f(x; θ)) / ∂x, shape (N, k, d)
  sensitivity         (1/N) Σᵢ ‖J(xᵢ)‖_F over test points (Novak et al. 2018, "Sensitivity and
                      generalization in neural networks"): the output's response to the *input*,
                      not the gradient of the loss
  interpolation       loss and accuracy along θ(α) = (1 − α)θ₁ + αθ₂ (Goodfellow et al. 2015;
                      Keskar et al. 2017, Fig. 3), each α one row of a batched-θ call
  top_eigenvalue      λ_max of the training-loss Hessian by Lanczos on HVPs (H never formed)
  box_sharpness       ε-sharpness of any differentiable function (Keskar et al. 2017, "On
  epsilon_sharpness   large-batch training…", Metric 2.1): 100·(max_{δ∈C_ε} L(θ + δ) − L(θ)) /
                      (1 + L(θ)), C_ε = {δ : |δᵢ| ≤ ε(|θᵢ| + 1)}, the maximum found by L-BFGS-B
                      with those bounds from a few starts (a local search: a lower bound on
                      the true maximum, as in the paper)
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import autograd
import autograd.numpy as anp
import numpy as np
import scipy.optimize

from engine.derivatives.autodiff import mlp_value_and_gradient
from engine.io.errors import check_finite, check_float_array, check_rng
from engine.nets.losses import get_loss, logsumexp
from engine.spectra.eigenpairs import extreme_eigenvalues
from engine.spectra.lanczos import hvp_operator

# Rows of θ per batched call in `interpolation`: θ-rows · N · Σ widths floats per stored
# activation stack, kept under 2²² (32 MB), as engine.spectra.lanczos does for its batched HVPs.
_BATCH_ENTRIES = 2**22


def input_jacobian(net, theta, x) -> np.ndarray:
    """J[i, c, j] = ∂pᵢ_c/∂xᵢ_j with pᵢ = softmax(f(xᵢ; θ)), shape (N, k, d) for x (N, d).

    Samples are independent, so the VJP of the (N, k) outputs with the cotangent e_c in every row
    is row c of all N Jacobians at once. Cost: one forward pass and k reverse passes on the N
    points. ValueError for a net without a softmax (loss 'mse') or for a batch of θ.
    """
    if net.loss_name != "cross_entropy":
        raise ValueError(f"sensitivity is the Jacobian of the softmax output; net.loss_name is "
                         f"{net.loss_name!r}: give a 'cross_entropy' classifier")
    theta = np.asarray(theta, dtype=np.float64)
    if theta.ndim != 1:
        raise ValueError(f"theta has shape {theta.shape}; give one vector ({net.n_params},)")
    net.layout.check(theta)

    def softmax_output(inputs):
        out = net.forward(theta, inputs)
        return anp.exp(out - logsumexp(out, axis=-1, keepdims=True))

    x = np.asarray(x, dtype=np.float64)
    vjp, p = autograd.make_vjp(softmax_output)(x)
    k = p.shape[-1]
    return np.stack([vjp(np.broadcast_to(np.eye(k)[c], p.shape)) for c in range(k)], axis=1)


def sensitivity(net, theta, x) -> tuple[float, np.ndarray]:
    """(mean, per-point) Frobenius norms ‖J(xᵢ)‖_F of `input_jacobian`; per-point shape (N,)."""
    jac = input_jacobian(net, theta, x)
    norms = np.sqrt(np.einsum("ncd,ncd->n", jac, jac))
    return float(norms.mean()), norms


def interpolation(net, theta_a, theta_b, alphas, data) -> dict[str, np.ndarray]:
    """Train and test loss (and accuracy for classification) at θ(α) = (1 − α)θ_a + αθ_b.

    Returns {"alpha", "train_loss", "test_loss"[, "train_acc", "test_acc"]}, each (n_alpha,).
    Cost: 2·n_alpha forward passes, batched: a few calls of many θ each (`_BATCH_ENTRIES`).
    """
    alphas = np.asarray(alphas, dtype=np.float64)
    if alphas.ndim != 1 or alphas.size == 0 or not np.all(np.isfinite(alphas)):
        raise ValueError(f"alphas has shape {alphas.shape}; give a non-empty 1-D finite array")
    theta_a, theta_b = (np.asarray(t, dtype=np.float64) for t in (theta_a, theta_b))
    for t in (theta_a, theta_b):
        if t.ndim != 1:
            raise ValueError(f"theta has shape {t.shape}; give one vector ({net.n_params},)")
        net.layout.check(t)
    thetas = (1.0 - alphas)[:, None] * theta_a + alphas[:, None] * theta_b
    out = {"alpha": alphas}
    classify = data.task == "classification"
    for part, x, y in (("train", data.x_train, data.y_train), ("test", data.x_test, data.y_test)):
        rows = max(1, _BATCH_ENTRIES // (len(x) * sum(net.sizes[1:])))
        losses, accs = [], []
        for start in range(0, len(alphas), rows):
            block = thetas[start:start + rows]
            outputs = net.forward(block, x)  # (rows, N, k): one pass serves loss and accuracy
            losses.append(get_loss(net.loss_name)(outputs, y))
            accs.append(np.mean(np.argmax(outputs, -1) == np.argmax(y, -1), axis=-1))
        out[f"{part}_loss"] = np.concatenate(losses)
        if classify:
            out[f"{part}_acc"] = np.concatenate(accs)
    return out


def top_eigenvalue(net, theta, x, y, *, tol: float = 1e-8, rng=None) -> float:
    """λ_max(∇²L(θ)) on (x, y): implicitly restarted Lanczos (eigsh) on HVPs, H never formed,
    checked by engine.spectra.lanczos (residual and a deflated run). tol is eigsh's relative
    accuracy.
    Cost: a few tens of HVPs (≈ 1 gradient each for an MLP) for k = 1."""
    op = hvp_operator(net, theta, x, y)
    return float(extreme_eigenvalues(op, k=1, which="LA", tol=tol, rng=rng).values[0])


class Sharpness(NamedTuple):
    """ε-sharpness of Keskar et al. (2017) at θ, with the loss and the maximizing δ found."""

    value: float          # 100·(max_loss − loss)/(1 + loss), Keskar et al.'s φ
    loss: float           # L(θ)
    max_loss: float       # the largest L(θ + δ) found in the box
    delta: np.ndarray     # its δ, shape (n_params,)
    n_evaluations: int    # loss-and-gradient evaluations over all starts


def box_sharpness(fun: Callable, theta, epsilon: float, *, n_starts: int = 3, rng=None,
                  maxiter: int = 10) -> Sharpness:
    """ε-sharpness of fun(θ) → (L, ∇L) at θ (module docstring).

    Starts: δ = 0 (the ascent starts along ∇L) and n_starts − 1 points uniform in the box from
    rng; each runs L-BFGS-B on −L(θ + δ) with the box as bounds for at most `maxiter`
    iterations (Keskar et al. used 10). Cost: ≲ n_starts·(maxiter + a few line-search steps)
    calls of fun. ValueError for ε ≤ 0, n_starts < 1, an rng that is not a numpy Generator or a θ
    that is not one finite vector.
    """
    if not (np.isfinite(epsilon) and epsilon > 0):
        raise ValueError(f"epsilon={epsilon!r}: give a positive box radius")
    if not (isinstance(n_starts, (int, np.integer)) and n_starts >= 1):
        raise ValueError(f"n_starts={n_starts!r}: give a positive integer")
    if n_starts > 1 and rng is None:
        raise ValueError("n_starts > 1 draws random starts: give rng (a numpy Generator)")
    check_rng(rng, allow_none=True)
    theta = check_float_array("theta", theta, "give one parameter vector (n,)", ndim=1)
    check_finite("theta", theta, "give a finite parameter vector")
    radius = epsilon * (np.abs(theta) + 1.0)
    loss = float(fun(theta)[0])
    evaluations = 0

    def negative(delta):
        nonlocal evaluations
        evaluations += 1
        value, g = fun(theta + delta)
        return -float(value), -np.asarray(g, dtype=np.float64)

    best_loss, best_delta = loss, np.zeros_like(theta)
    bounds = scipy.optimize.Bounds(-radius, radius)
    for start in range(n_starts):
        delta0 = np.zeros_like(theta) if start == 0 else rng.uniform(-radius, radius)
        result = scipy.optimize.minimize(negative, delta0, jac=True, method="L-BFGS-B",
                                         bounds=bounds, options={"maxiter": maxiter})
        # L-BFGS-B keeps its iterates feasible; the clip removes rounding at the bounds only
        delta = np.clip(result.x, -radius, radius)
        if -result.fun > best_loss:
            best_loss, best_delta = -float(result.fun), delta
    value = 100.0 * (best_loss - loss) / (1.0 + loss)
    return Sharpness(value, loss, best_loss, best_delta, evaluations)


def epsilon_sharpness(net, theta, x, y, epsilon: float = 1e-3, **options) -> Sharpness:
    """box_sharpness of the loss L(θ) = net.loss(θ, x, y) (ε = 1e-3: one of Keskar et al.'s two
    radii, with 5e-4); options are box_sharpness's."""
    net.layout.check(theta)
    return box_sharpness(lambda t: mlp_value_and_gradient(net, t, x, y), theta, epsilon, **options)

