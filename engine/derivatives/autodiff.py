"""Exact derivatives of a loss L(θ) of a flat parameter vector θ, and the gradient p-norm.

Function-first: any `loss(theta)` written with autograd.numpy, returning a scalar for θ of shape
(n,) — or, for a batched loss, shape (...) for θ (..., n), the losses of independent θ_b (the
gradient of Σ_b L(θ_b) is then the stack of the gradients: one reverse pass serves B vectors).

  gradient(loss)     θ ↦ ∇L(θ)           cost ≈ 2–4 forward passes
  hvp_fn(loss)       (θ, v) ↦ H(θ)v      reverse-over-reverse, ≈ 2 gradients
  hvp_at(loss, θ)    v ↦ H(θ)v, the gradient's graph traced once at θ
  hessian_fn(loss)   θ ↦ ∇²L(θ) (n × n)  n reverse passes of the gradient
(once: hvp_fn(loss)(θ, v), hessian_fn(loss)(θ)). A loss returning anything but one number per
parameter vector is refused (ValueError).

The MLP layer takes (net, θ, x, y), checks the shapes with `net.check_theta` / `net.check_data`
(one ValueError naming what is wrong), casts to float64 and computes the same derivatives of
L(θ) = net.loss(θ, x, y): mlp_value_and_gradient, mlp_gradient, mlp_hessian_autograd by autograd;
mlp_hvp by Pearlmutter's exact R-operator written out for the MLP (`mlp_hvp_at`, in
engine.nets.passes beside the network's other hand-written passes; several times faster than
autograd's HVP, `make bench`). The `mlp_` prefix: in jax and autograd `grad`,
`hessian`, `value_and_grad` are function transforms; the previous release's names still work for
one release, with a DeprecationWarning (engine.derivatives.renamed).
grad_norm: ‖g‖_p = (Σ|gᵢ|^p)^{1/p}, ‖g‖_∞ = max|gᵢ| (the slides' formula for p = 2).
Source: autograd (Maclaurin, Duvenaud, Johnson), `grad`, `make_vjp`, `make_hvp`, `hessian`.
"""
from __future__ import annotations

import autograd
import autograd.numpy as anp
import numpy as np

from engine.derivatives import renamed
from engine.io.errors import check_float_array
from engine.nets.passes import mlp_hvp_at


def gradient(loss):
    """The function θ ↦ ∇L(θ), shape (..., n) for θ (..., n); θ cast to float64 (autograd's
    reverse mode; cost ≈ 2–4 forward passes per call). Raises ValueError if loss is not
    callable, θ is empty or the loss does not return one number per parameter vector."""
    total = _summed(loss)
    grad_total = autograd.grad(total)
    return lambda theta: grad_total(check_vector(theta, "theta"))


def hvp_fn(loss):
    """The function (θ, v) ↦ H(θ)v = ∇_θ(∇L(θ)·v) for θ and v of shape (n,) or (..., n)
    (batched: row b is H(θ_b)v_b; one v of shape (n,) serves every θ_b). H is never formed.
    Cost ≈ 2 gradients per call; for many v at one θ use engine.spectra.lanczos.hvp_operator (the
    gradient's graph built once). Raises ValueError if v does not broadcast to θ's shape."""
    total = _summed(loss)

    def apply(theta, v):
        theta = check_vector(theta, "theta")
        v = check_direction(v, theta.shape[-1])
        if np.broadcast_shapes(theta.shape, v.shape) != theta.shape:
            raise ValueError(f"v has shape {v.shape}, theta {theta.shape}: give one v per θ "
                             "(for many v at one θ: engine.hvp_operator(...).matmat)")
        return autograd.make_hvp(total)(theta)[0](np.broadcast_to(v, theta.shape))

    return apply


def hvp_at(loss, theta):
    """The function v ↦ H(θ)v at a fixed θ (n,), v (n,): autograd's make_hvp traces the gradient
    of L at θ once, each product is one reverse pass over that graph (≈ 2 gradients, no new
    trace). engine.spectra.lanczos.hvp_operator wraps it as a LinearOperator. Raises ValueError as
    gradient, and for v not of shape (..., n)."""
    theta = check_vector(theta, "theta")
    product = autograd.make_hvp(_summed(loss))(theta)[0]
    return lambda v: product(check_direction(v, theta.shape[-1]))


def hessian_fn(loss):
    """The function θ ↦ ∇²L(θ), shape (n, n), for one θ (n,). Cost: n reverse passes of the
    gradient, O(n) gradients. Raises ValueError for a batched θ or a loss that is not scalar."""
    hess = autograd.hessian(_summed(loss))

    def apply(theta):
        theta = check_vector(theta, "theta")
        if theta.ndim != 1:
            raise ValueError(f"the Hessian takes one parameter vector, got theta of shape "
                             f"{theta.shape}")
        return hess(theta)

    return apply


def mlp_value_and_gradient(net, theta, x, y):
    """(L(θ), ∇L(θ)) of an MLP with shapes (...) and (..., n_params), from one forward and one
    reverse pass: the VJP of the batched losses with a cotangent of ones stacks the gradients.
    Raises ValueError for shapes or targets the network refuses (net.check_theta, check_data)."""
    theta, x, y = _mlp_args(net, theta, x, y)
    vjp, losses = autograd.make_vjp(lambda t: net.loss(t, x, y))(theta)
    return losses, vjp(np.ones_like(losses))


def mlp_gradient(net, theta, x, y) -> np.ndarray:
    """∇L(θ) of an MLP, shape (..., n_params); one forward and one reverse pass. Raises
    ValueError as mlp_value_and_gradient."""
    theta, x, y = _mlp_args(net, theta, x, y)
    return gradient(lambda t: net.loss(t, x, y))(theta)


def mlp_hvp(net, theta, x, y, v) -> np.ndarray:
    """H(θ)v of an MLP without forming H, by the exact R-operator (mlp_hvp_at); θ and v of shape
    (n_params,) or (..., n_params), broadcast against each other. Cost ≈ 2 gradients. Raises
    ValueError as mlp_value_and_gradient, or for v of another length."""
    theta, x, y = _mlp_args(net, theta, x, y)
    return mlp_hvp_at(net, theta, x, y)(check_direction(v, net.n_params))


def mlp_hessian_autograd(net, theta, x, y) -> np.ndarray:
    """The exact H = ∇²L(θ) of an MLP, shape (n_params, n_params), by autograd (the reference;
    engine.derivatives.curvature.exact_hessian is the structured route, many times faster: `make
    bench`).
    One θ (n_params,); cost n_params reverse passes. Raises ValueError as
    mlp_value_and_gradient."""
    theta, x, y = _mlp_args(net, theta, x, y)
    return hessian_fn(lambda t: net.loss(t, x, y))(theta)




def grad_norm(g, p=2) -> np.ndarray:
    """‖g‖_p over the last axis, shape g.shape[:-1], for p ≥ 1 or p = inf ('inf' accepted);
    ValueError for another p (check_p). Overflow-safe for large p. Cost O(g.size)."""
    p = check_p(p)
    a = np.abs(check_float_array("g", g, "give a gradient array (..., n)"))
    if np.isinf(p):
        return a.max(axis=-1)
    if p == 2:
        return np.sqrt(np.sum(a * a, axis=-1))
    # scale by the largest entry so |gᵢ|^p neither underflows nor overflows for large p
    m = a.max(axis=-1, keepdims=True)
    safe = np.where(m > 0, m, 1.0)
    return (safe[..., 0] * np.sum((a / safe) ** p, axis=-1) ** (1.0 / p))


def check_p(p) -> float:
    """p as a float norm order ≥ 1 or inf (also the strings 'inf', 'infinity'); ValueError,
    naming the accepted values, for anything else."""
    try:
        p = float(p)
    except (TypeError, ValueError):
        raise ValueError(f"p={p!r} is not a norm order; give a number ≥ 1 or 'inf'") from None
    if not p >= 1:
        raise ValueError(f"p={p!r} is not a norm order; give a number ≥ 1 or 'inf'")
    return p


def check_vector(theta, name="theta") -> np.ndarray:
    """theta as a float64 array of shape (..., n) with n ≥ 1; ValueError otherwise."""
    try:
        theta = np.asarray(theta, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} is not an array of numbers; give a float vector (n,)") from None
    if theta.ndim == 0 or theta.shape[-1] == 0:
        raise ValueError(f"{name} has shape {theta.shape}; give a vector (n,) or a batch (..., n)")
    return theta


def check_direction(v, n_params: int) -> np.ndarray:
    """v as float64 of shape (..., n_params): the direction of an HVP; ValueError otherwise."""
    v = check_vector(v, "v")
    if v.shape[-1] != n_params:
        raise ValueError(f"v has shape {v.shape}; an HVP at this θ needs (..., {n_params}), "
                         "one entry per parameter")
    return v


def _summed(loss):
    """θ ↦ Σ_b L(θ_b), checking that loss gives one number per parameter vector."""
    if not callable(loss):
        raise ValueError(f"loss is a {type(loss).__name__}, not a function of θ; give "
                         "loss(theta) -> scalar (for an MLP: lambda t: net.loss(t, x, y))")

    def total(theta):
        value = loss(theta)
        if anp.shape(value) != anp.shape(theta)[:-1]:
            raise ValueError(f"loss returned shape {anp.shape(value)} for theta of shape "
                             f"{anp.shape(theta)}; it must return one number per parameter "
                             f"vector, shape {anp.shape(theta)[:-1]} (a scalar for one θ)")
        return anp.sum(value)

    return total




def _mlp_args(net, theta, x, y):
    theta = net.check_theta(theta)
    x, y = net.check_data(x, y)
    return theta, x, y


def __getattr__(name):  # the previous release's names, for one release (PEP 562)
    return renamed.old_name(name, globals())
