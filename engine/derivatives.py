"""Exact derivatives of L(θ) = net.loss(θ, x, y) by autograd, and the gradient p-norm.

For batched θ (..., n_params) the losses of different parameter vectors are independent, so the
gradient of Σ_b L(θ_b) is the stack of the individual gradients: one reverse pass serves B nets.

  value_and_grad  (L, ∇L)                   cost ≈ 2–4 forward passes
  hvp             H v = ∇(∇L·v)             reverse-over-reverse, cost ≈ 2 gradients, H never formed
  hessian         H = ∇²L  (n × n)          autograd reference, n reverse passes: O(n) gradients
  grad_norm       ‖g‖_p = (Σ|gᵢ|^p)^{1/p},  ‖g‖_∞ = max|gᵢ|  (the slides' formula for p = 2)
"""
from __future__ import annotations

import autograd
import autograd.numpy as anp
import numpy as np


def _total_loss(net, x, y):
    return lambda theta: anp.sum(net.loss(theta, x, y))


def value_and_grad(net, theta, x, y):
    """(L(θ), ∇L(θ)) with shapes (...) and (..., n_params), from one forward and one reverse pass:
    the VJP of the batched losses with a cotangent of ones is the stack of the gradients."""
    net.layout.check(theta)
    theta = np.asarray(theta, dtype=np.float64)
    vjp, losses = autograd.make_vjp(lambda t: net.loss(t, x, y))(theta)
    return losses, vjp(np.ones_like(losses))


def grad(net, theta, x, y) -> np.ndarray:
    """∇L(θ), shape (..., n_params)."""
    net.layout.check(theta)
    return autograd.grad(_total_loss(net, x, y))(np.asarray(theta, dtype=np.float64))


def hvp(net, theta, x, y, v) -> np.ndarray:
    """H(θ) v without forming H: ∇_θ (∇L(θ)·v). θ and v of shape (n_params,) or (..., n_params)."""
    net.layout.check(theta)
    g = autograd.grad(_total_loss(net, x, y))
    v = np.asarray(v, dtype=np.float64)
    return autograd.grad(lambda t: anp.sum(g(t) * v))(np.asarray(theta, dtype=np.float64))


def hessian(net, theta, x, y) -> np.ndarray:
    """The exact H = ∇²L(θ), shape (n_params, n_params), by autograd (reference; see
    engine.curvature for the structured route, many times faster: `make bench`)."""
    net.layout.check(theta)
    theta = np.asarray(theta, dtype=np.float64)
    if theta.ndim != 1:
        raise ValueError(f"hessian takes one parameter vector, got theta of shape {theta.shape}")
    return autograd.hessian(lambda t: net.loss(t, x, y))(theta)


def grad_norm(g, p=2) -> np.ndarray:
    """‖g‖_p over the last axis, for p ≥ 1 or p = inf ('inf' accepted)."""
    p = check_p(p)
    a = np.abs(np.asarray(g, dtype=np.float64))
    if np.isinf(p):
        return a.max(axis=-1)
    if p == 2:
        return np.sqrt(np.sum(a * a, axis=-1))
    # scale by the largest entry so |gᵢ|^p neither underflows nor overflows for large p
    m = a.max(axis=-1, keepdims=True)
    safe = np.where(m > 0, m, 1.0)
    return (safe[..., 0] * np.sum((a / safe) ** p, axis=-1) ** (1.0 / p))


def check_p(p) -> float:
    """Validate a p-norm order: a number ≥ 1 or inf (also the strings 'inf', 'infinity')."""
    try:
        p = float(p)
    except (TypeError, ValueError):
        raise ValueError(f"p={p!r} is not a norm order; give a number ≥ 1 or 'inf'") from None
    if not p >= 1:
        raise ValueError(f"p={p!r} is not a norm order; give a number ≥ 1 or 'inf'")
    return p
