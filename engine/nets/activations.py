"""Elementwise activations σ with their first two derivatives, accurate in z over all floats.

Each `Activation` carries
  fn(z)   σ(z), differentiable by autograd to any order (used in the graph);
  d1(z)   σ'(z)  and  d2(z)  σ''(z), plain NumPy (used by the structured Hessian, which needs
          them in closed form rather than through another reverse pass).

Closed forms, with relative error a few ulps for every float z (the tests check them against
extended precision over z ∈ [−40, 40]); written in e^{−|z|}, which never overflows,
instead of 1 − tanh² or σ(1 − σ), which cancel to 0 once σ(z) rounds to ±1 (tanh'(20) = 1.7e-17):
  tanh'     = 4e^{−2|z|}/(1 + e^{−2|z|})²    tanh''     = −2 tanh(z)·tanh'(z)
  sigmoid'  = e^{−|z|}/(1 + e^{−|z|})²       sigmoid''  = −tanh(z/2)·sigmoid'(z)   (1 − 2σ(z))
  softplus' = sigmoid                       softplus'' = sigmoid'

Why tanh and sigmoid are autograd primitives: autograd's own tanh VJP is g / cosh(z)², which
overflows for |z| ≳ 355 (cosh → inf, then 0·inf = NaN in second derivatives) and costs two extra
nodes. Here the VJP is g·σ'(z) with σ' taken from the output y already computed (1 − y², y(1 − y):
one multiply, no transcendental) where σ' ≥ SATURATION_CUT = 2^-20, and from z by the closed
form on the saturated entries only (`from_output`): relative error ≤ 2.3e-10 everywhere instead
of 100 % for |z| ≳ 19. Inside a second-order trace sigmoid takes all of σ' from z, as σ''
through y(1 − y) cancels near z = 0. Both pieces are autograd nodes again, so Hessians and HVPs
through the graph stay exact (measured: autograd Hessians 1.7–2× faster than with autograd's
tanh). Cost of σ' from z: one exp per saturated entry (an exp is ~40 % of a tanh here); a
saturating tanh training run takes 2.5 % longer than with σ' from y alone (SATURATION_CUT).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import autograd.numpy as anp
import numpy as np
from autograd.extend import defvjp, primitive
from autograd.tracer import Box, getval
from scipy.special import expit

# σ' from the output y = σ(z) has relative error ≤ ε/σ' (measured over z ∈ [−20, 20] in extended
# precision: max |error|·σ' = 0.98 ε for 1 − y², 0.75 ε for y(1 − y); ε = 2.2e-16): the rounding
# of y near ±1 is amplified by 1/σ', up to 100 % once y rounds to ±1. Below this cut σ' is taken
# from z, so the VJPs' σ' has relative error ≤ 2^20 ε ≈ 2.3e-10 everywhere (measured 1.3e-10).
# Why 2^-20 (|z| ≳ 7.6 for tanh) and not higher: the z-route costs an index pass, an exp and a
# scatter per saturated entry, and saturated units are common in training: training 1-10-10-1
# tanh on sinc (full batch, Adam), from step ~500 on 15–20 % of the second layer's entries have
# σ' < 2^-6 and ~2 % have σ' < 2^-20. Measured over those 2000 steps, in one process, against
# σ' from y alone: +2.5 % time with the cut at 2^-20 (+3–4 % per step once units saturate,
# ±1 % before), +6.7 % with the cut at 2^-6 (relative error ≤ 1.4e-14).
SATURATION_CUT = 2.0**-20


def _tanh_d1(z):
    t = np.exp(-2.0 * np.abs(z))
    u = 1.0 + t
    return 4.0 * t / (u * u)


def _tanh_d2(z):
    return -2.0 * np.tanh(z) * _tanh_d1(z)


def _sigmoid_d1(z):
    t = np.exp(-np.abs(z))
    u = 1.0 + t
    return t / (u * u)


def _sigmoid_d2(z):
    return -np.tanh(0.5 * z) * _sigmoid_d1(z)


@primitive
def tanh(z):
    """tanh z, with the VJP g·tanh'(z) accurate for saturated units (module docstring)."""
    return np.tanh(z)


@primitive
def tanh_prime(z):
    """tanh'(z) = 4e^{−2|z|}/(1 + e^{−2|z|})², same shape as z; its VJP g·tanh''(z) is built from
    the primitives tanh and tanh_prime, so it is differentiable to any order."""
    return _tanh_d1(z)


@primitive
def sigmoid(z):
    """σ(z) = 1/(1 + e^{−z}) by scipy's expit: no overflow, full relative accuracy for z ≪ 0."""
    return expit(z)


@primitive
def sigmoid_prime(z):
    """σ'(z) = e^{−|z|}/(1 + e^{−|z|})², same shape as z; its VJP g·σ''(z) = −g·tanh(z/2)·σ'(z)
    is built from primitives, so it is differentiable to any order."""
    return _sigmoid_d1(z)


def from_output(d, z_of: Callable, prime: Callable):
    """σ'(z) from `d`, its value computed from the output y (a fresh array: it may be modified in
    place), with the entries where d is below SATURATION_CUT (too inaccurate there) replaced by
    prime(z), z = z_of() evaluated only then.

    d, z of the same shape; autograd boxes allowed (then the result is a differentiable node).
    Cost: two passes over d when nothing is saturated; else z_of() and prime on the saturated
    entries (on all entries inside a second-order trace, where the result must be a node).
    """
    if isinstance(d, Box):
        saturated = getval(d) < SATURATION_CUT
        return anp.where(saturated, prime(z_of()), d) if saturated.any() else d
    saturated = d < SATURATION_CUT
    if saturated.any():
        where = np.flatnonzero(saturated)  # take/put by index: ~2× cheaper than masks
        d = np.asarray(d, dtype=np.float64)
        raw = getattr(prime, "fun", prime)  # the primitive's NumPy function: no dispatch
        np.put(d, where, raw(np.take(np.asarray(getval(z_of())), where)))
    return d


def tanh_derivative(y, z_of: Callable):
    """tanh'(z) = 1 − y² given y = tanh z, shape of y; z = z_of() is called only if some entry
    has 1 − y² < SATURATION_CUT, which then takes 4e^{−2|z|}/(1 + e^{−2|z|})² (from_output)."""
    return from_output(1.0 - y * y, z_of, tanh_prime)


def sigmoid_derivative(y, z_of: Callable):
    """σ'(z) = y(1 − y) given y = σ(z), shape of y; z = z_of() is called if some entry has
    y(1 − y) < SATURATION_CUT (then e^{−|z|}/(1 + e^{−|z|})², from_output) and inside
    second-order traces."""
    if isinstance(y, Box):
        # a second-order trace: σ'' through y(1 − y) is (1 − 2y)·σ', which cancels near z = 0
        # (relative error ε/|z|; exactly 0 for |z| < 1e-16); through sigmoid_prime(z) it is
        # accurate. (tanh needs no such care: d(1 − y²) = −2y·dy has no cancellation.)
        return sigmoid_prime(z_of())
    return from_output(y * (1.0 - y), z_of, sigmoid_prime)


defvjp(tanh, lambda y, z: lambda g: g * tanh_derivative(y, lambda: z))
defvjp(tanh_prime, lambda ans, z: lambda g: g * (-2.0 * tanh(z) * ans))
defvjp(sigmoid, lambda y, z: lambda g: g * sigmoid_derivative(y, lambda: z))
defvjp(sigmoid_prime, lambda ans, z: lambda g: g * (-tanh(0.5 * z) * ans))


@primitive
def softplus(z):
    """log(1 + e^z), computed as logaddexp(0, z) so it is exact for large |z|. Its VJP is
    g·sigmoid(z) through the sigmoid primitive: autograd's own logaddexp VJP g·e^{z − y} gives
    the second derivative e^{z−y}(1 − e^{z−y}) = 0 once e^{z−y} rounds to 1 (z ≳ 37)."""
    return np.logaddexp(0.0, z)


defvjp(softplus, lambda y, z: lambda g: g * sigmoid(z))


def relu(z):
    """max(z, 0), same shape as z, with σ'(0) = 0 (Nair & Hinton 2010)."""
    # z·[z > 0] rather than maximum(z, 0): autograd splits the derivative at ties for maximum,
    # the indicator gives the convention σ'(0) = 0 that the closed-form derivatives use too.
    return z * (z > 0)


def linear(z):
    """The identity σ(z) = z (the output layer's, and a deep linear network's activation)."""
    return z


@dataclass(frozen=True)
class Activation:
    """σ by name: fn(z) (autograd-differentiable), d1(z) = σ'(z), d2(z) = σ''(z) (NumPy), each
    elementwise with the shape of z."""

    name: str
    fn: Callable
    d1: Callable
    d2: Callable


def _zeros(z):
    return np.zeros_like(z, dtype=np.float64)


ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation("tanh", tanh, _tanh_d1, _tanh_d2),
    "sigmoid": Activation("sigmoid", sigmoid, _sigmoid_d1, _sigmoid_d2),
    "softplus": Activation("softplus", softplus, expit, _sigmoid_d1),
    "relu": Activation("relu", relu, lambda z: (z > 0).astype(np.float64), _zeros),
    "linear": Activation("linear", linear, lambda z: np.ones_like(z, dtype=np.float64), _zeros),
}


def get_activation(name: str) -> Activation:
    """The Activation called `name`; ValueError naming the choices if there is none."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"activation={name!r} is unknown; choose one of {sorted(ACTIVATIONS)}") from None
