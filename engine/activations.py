"""Elementwise activations σ with their first two derivatives.

Each `Activation` carries
  fn(z)   σ(z), differentiable by autograd to any order (used in the graph);
  d1(z)   σ'(z)  and  d2(z)  σ''(z), plain NumPy (used by the structured Hessian, which needs
          them in closed form rather than through another reverse pass).

Why tanh (and sigmoid) are autograd primitives: autograd's own tanh VJP is g / cosh(z)², which
overflows for |z| ≳ 355 (cosh → inf, then 0·inf = NaN in second derivatives) and costs two extra
nodes. The VJP g·(1 − y²), y = tanh z kept from the forward pass, is exact, finite everywhere, and
differentiable again because y is itself a node of the graph (measured: autograd Hessians
1.7–2× faster).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import autograd.numpy as anp
import numpy as np
from autograd.extend import defvjp, primitive
from scipy.special import expit


@primitive
def tanh(z):
    return np.tanh(z)


defvjp(tanh, lambda y, z: lambda g: g * (1.0 - y * y))


@primitive
def sigmoid(z):
    """σ(z) = 1/(1 + e^{−z}) by scipy's expit: no overflow, full relative accuracy for z ≪ 0."""
    return expit(z)


# σ' = σ(1 − σ), written with the output node y so that the VJP is differentiable again
defvjp(sigmoid, lambda y, z: lambda g: g * y * (1.0 - y))


def softplus(z):
    """log(1 + e^z), computed as logaddexp(0, z) so it is exact for large |z|."""
    return anp.logaddexp(0.0, z)


def relu(z):
    # z·[z > 0] rather than maximum(z, 0): autograd splits the derivative at ties for maximum,
    # the indicator gives the convention σ'(0) = 0 that the closed-form derivatives use too.
    return z * (z > 0)


def linear(z):
    return z


_sigmoid_np = expit


@dataclass(frozen=True)
class Activation:
    name: str
    fn: Callable
    d1: Callable
    d2: Callable


def _tanh_d1(z):
    y = np.tanh(z)
    return 1.0 - y * y


def _tanh_d2(z):
    y = np.tanh(z)
    return -2.0 * y * (1.0 - y * y)


def _sigmoid_d1(z):
    s = _sigmoid_np(z)
    return s * (1.0 - s)


def _sigmoid_d2(z):
    s = _sigmoid_np(z)
    return s * (1.0 - s) * (1.0 - 2.0 * s)


def _zeros(z):
    return np.zeros_like(z, dtype=np.float64)


ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation("tanh", tanh, _tanh_d1, _tanh_d2),
    "sigmoid": Activation("sigmoid", sigmoid, _sigmoid_d1, _sigmoid_d2),
    # softplus' = sigmoid, softplus'' = sigmoid·(1 − sigmoid)
    "softplus": Activation("softplus", softplus, _sigmoid_np, _sigmoid_d1),
    "relu": Activation("relu", relu, lambda z: (z > 0).astype(np.float64), _zeros),
    "linear": Activation("linear", linear, lambda z: np.ones_like(z, dtype=np.float64), _zeros),
}


def get_activation(name: str) -> Activation:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(
            f"activation={name!r} is unknown; choose one of {sorted(ACTIVATIONS)}") from None
