"""The checker's own network: forward pass, activations, losses, weight decay and rounding floor.

Written here and not imported from the engine, so that experiments.minratio.check shares no
numerics with what it checks (experiments.minratio.recompute's docstring says why). Shared:
engine.nets.layout, where W_l and b_l sit in θ for a net with biases; a bias-free net (the deep
linear autoencoder of --task dlae) lays its W_l (d_l, d_{l+1}) out row-major one after another,
sliced here by hand.

With outputs fᵢ = f(xᵢ; θ) (N, k), targets yᵢ:
  mse            L = 1/(2N) Σᵢ ‖fᵢ − yᵢ‖²
  cross_entropy  L = 1/N Σᵢ [m_i + log Σ_c e^{f_ic − m_i} − yᵢ·fᵢ],  m_i = max_c f_ic
  L_λ = L + (λ/2)‖θ‖².
The deep linear autoencoder's L = ½ tr(Dᵀ C D), D = V₀V₁ − I, C = XᵀX/N, is the MSE of the
bias-free linear net x ↦ x V₀ V₁ against y = x, and is recomputed as that.
The constant fit (`trivial_loss`), the loss the non-trivial saddles must beat: ½ Σ_k Var(y_k)
(MSE with biases, f = ȳ), the class entropy −Σ_c p_c log p_c (cross-entropy with biases, softmax
of log p), ½ mean‖y‖² bias-free (θ = 0, f = 0), log k for bias-free cross-entropy (uniform).
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import autograd.numpy as anp
import numpy as np

from engine.io.results import UsageError
from engine.nets.layout import Layout

EPS = np.finfo(np.float64).eps
LOSSES = ("mse", "cross_entropy")


class Objective(NamedTuple):
    """The functions of θ that `objective` builds: loss (the data loss L), total (L_λ),
    loss_floor (the rounding floor of L), each θ (..., n) ↦ (...)."""

    loss: Callable
    total: Callable
    loss_floor: Callable


def n_params(sizes, bias=True) -> int:
    """How many parameters the net of `sizes` has, with or without biases."""
    return sum(a * b + (b if bias else 0) for a, b in zip(sizes[:-1], sizes[1:], strict=False))


def objective(sizes, activation, x, y, weight_decay, *, loss="mse", bias=True) -> Objective:
    """θ ↦ L (the module docstring's MSE or cross-entropy), L_λ = L + (λ/2)‖θ‖² (both in
    autograd.numpy, differentiable to any order) and L's rounding floor: (1/N) Σᵢ Σ_c
    |∂ℓᵢ/∂f_ic|·e(f_ic) (∂ℓ/∂f = f − y for the MSE, p − y for cross-entropy), plus a few ulps of
    the terms for cross-entropy, with e(f) the forward error bound of the dense layers,
    e(z) = e(h)|W| + (d+1)ε(|h||W| + |b|) (Higham's γ_{d+1}; |σ'| ≤ 1 passes e on, σ adds a
    few ulps). UsageError for an unknown activation or loss. Cost: one forward pass each, two
    for the floor."""
    sigma = activation_fn(activation)
    if loss not in LOSSES:
        raise UsageError(f"loss {loss!r} in summary.json is unknown here; choose one of "
                         f"{list(LOSSES)}")
    unpack = Layout(tuple(sizes)).unpack if bias else _bias_free(tuple(sizes))

    def outputs(theta):
        h = x
        params = unpack(theta)
        for layer, (W, b) in enumerate(params):
            z = anp.matmul(h, W) + (0.0 if b is None else b[..., None, :])
            h = sigma(z) if layer < len(params) - 1 else z
        return h

    def data_loss(theta):
        f = outputs(theta)
        if loss == "mse":
            return 0.5 * anp.mean(anp.sum((f - y) ** 2, axis=-1), axis=-1)
        m = anp.max(f, axis=-1, keepdims=True)  # the shift makes e^{f − m} ≤ 1: no overflow
        lse = m[..., 0] + anp.log(anp.sum(anp.exp(f - m), axis=-1))
        return anp.mean(lse - anp.sum(y * f, axis=-1), axis=-1)

    def loss_floor(theta):
        h, err = x, np.zeros_like(x)
        params = unpack(theta)
        for layer, (W, b) in enumerate(params):
            magnitude = np.abs(h) @ np.abs(W) + (0.0 if b is None else np.abs(b)[..., None, :])
            err = err @ np.abs(W) + (W.shape[-2] + 1) * EPS * magnitude
            h = h @ W + (0.0 if b is None else b[..., None, :])
            if layer < len(params) - 1:
                h = sigma(h)
                err = err + 4 * EPS * np.abs(h)  # σ's own rounding: a few ulps
        if loss == "mse":
            return np.mean(np.sum(np.abs(h - y) * err, axis=-1), axis=-1)
        p = np.exp(h - h.max(axis=-1, keepdims=True))
        p /= p.sum(axis=-1, keepdims=True)
        terms = np.abs(h).max(axis=-1) + np.abs(np.sum(y * h, axis=-1))
        return np.mean(np.sum(np.abs(p - y) * err, axis=-1) + 4 * h.shape[-1] * EPS * terms,
                       axis=-1)

    def total(theta):
        return data_loss(theta) + 0.5 * weight_decay * anp.sum(theta * theta, axis=-1)

    return Objective(data_loss, total, loss_floor)


def model_of(summary) -> tuple[str, str, bool]:
    """(activation, loss, bias) of a minratio summary.json; one older than the loss and bias
    fields holds an MSE net with biases."""
    return summary["activation"], summary.get("loss", "mse"), bool(summary.get("bias", True))


def trivial_loss(y, loss="mse", bias=True) -> float:
    """The constant fit's loss (module docstring) for targets y (N, k)."""
    y = np.asarray(y, dtype=np.float64)
    if loss == "cross_entropy":
        if not bias:
            return float(np.log(y.shape[-1]))
        p = y.mean(axis=0)
        return float(-np.sum(p[p > 0] * np.log(p[p > 0])))
    if not bias:
        return 0.5 * float(np.mean(np.sum(y * y, axis=-1)))
    return 0.5 * float(np.sum(np.var(y, axis=0)))


def activation_fn(name):
    """σ named `name` in autograd.numpy, from e^{−|z|} (never overflows; |z| with slope +1 at
    0), or the identity for 'linear'. UsageError for a name it does not know."""
    def parts(z):
        return anp.where(z >= 0, z, -z), anp.where(z >= 0, 1.0, -1.0)

    def tanh(z):
        a, s = parts(z)
        e = anp.exp(-2.0 * a)
        return s * -anp.expm1(-2.0 * a) / (1.0 + e)

    def sigmoid(z):
        e = anp.exp(-parts(z)[0])
        return anp.where(z >= 0, 1.0, e) / (1.0 + e)

    def softplus(z):
        return anp.where(z >= 0, z, 0.0) + anp.log1p(anp.exp(-parts(z)[0]))

    def relu(z):
        return anp.where(z > 0, z, 0.0)

    def linear(z):
        return z

    table = {"tanh": tanh, "sigmoid": sigmoid, "softplus": softplus, "relu": relu,
             "linear": linear}
    if name not in table:
        raise UsageError(f"activation {name!r} in summary.json is unknown here; choose one of "
                         f"{sorted(table)}")
    return table[name]


def _bias_free(sizes):
    """θ (..., n) ↦ [(W_l (..., d_l, d_{l+1}), None)]: the bias-free layout, by hand."""
    def unpack(theta):
        params, start = [], 0
        for d_in, d_out in zip(sizes[:-1], sizes[1:], strict=False):
            block = theta[..., start:start + d_in * d_out]
            params.append((anp.reshape(block, (*np.shape(theta)[:-1], d_in, d_out)), None))
            start += d_in * d_out
        return params
    return unpack
