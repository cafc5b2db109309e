"""FlatLoss: the functions of a flat float64 θ that every tool takes, whatever made the loss.

A model written in PyTorch (engine.adapters.torch), JAX (engine.adapters.jax) or autograd.numpy
(engine.adapters.autograd) becomes one FlatLoss: L, ∇L, Hv and ∇²L as NumPy functions of a flat
θ (n,) in float64, so the curvature tools never see a tensor:
  f.loss(θ) → float, f.gradient(θ) → (n,), f.hessian(θ) → (n, n) (for n ≤ a few thousand),
  f.hvp_at(θ) → (v ↦ Hv, v (n,) or a stack V (B, n) ↦ (B, n)), f.loss_batched(Θ (B, n)) → (B,),
  f.theta0 (the model's own parameters, flattened, or None), f.to_parameters(θ) (θ back to the
  framework's parameters) and f.from_parameters(params) (the other way).
Then: hvp_operator(f, θ) or Hessian(f) for eigenpairs, trace, density; find_critical(θ₀,
f.gradient, f.hessian); classify(θ, f.gradient(θ), f.hessian(θ)); the surface tools take
f.loss_batched.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from engine.derivatives.autodiff import check_direction, check_vector

ROUTES = ("autograd", "torch", "jax")


@dataclass(frozen=True, eq=False)
class FlatLoss:
    """L(θ) of a flat θ (n_params,) and its derivatives as float64 NumPy functions (module
    docstring). route: one of ROUTES; describe: what the model is, for repr and messages.
    Built by engine.adapters.from_autograd, from_torch or from_jax, which check their inputs;
    each function checks θ's shape (ValueError naming the argument)."""

    route: str
    n_params: int
    describe: str
    _loss: Callable
    _gradient: Callable
    _hvp_at: Callable
    _hessian: Callable
    _loss_batched: Callable
    theta0: np.ndarray | None = None
    _to_parameters: Callable | None = None
    _from_parameters: Callable | None = None

    def loss(self, theta) -> float:
        """L(θ) for θ (n_params,). Cost: one forward pass."""
        return float(self._loss(self.check_theta(theta)))

    def gradient(self, theta) -> np.ndarray:
        """∇L(θ), shape (n_params,). Cost ≈ 2–4 forward passes."""
        return np.array(self._gradient(self.check_theta(theta)), dtype=np.float64)

    def hvp_at(self, theta):
        """The function v ↦ H(θ)v at a fixed θ: v (n_params,) → (n_params,), or a stack V
        (B, n_params) → (B, n_params) (row b is H v_b). Cost ≈ 2 gradients per product."""
        theta = self.check_theta(theta)
        apply = self._hvp_at(theta)

        def product(v):
            v = check_direction(v, self.n_params)
            if v.ndim > 2:
                raise ValueError(f"v has shape {v.shape}; give (n,) or a stack (B, n)")
            return np.array(apply(v), dtype=np.float64)  # a writable copy (jax: read-only)

        return product

    def hvp(self, theta, v) -> np.ndarray:
        """H(θ)v once; shapes as hvp_at."""
        return self.hvp_at(theta)(v)

    def hessian(self, theta) -> np.ndarray:
        """∇²L(θ), shape (n_params, n_params), symmetrized ½(H + Hᵀ) (the routes differentiate
        in different orders, so H is symmetric only to rounding). Cost: n HVPs (batched where
        the framework can), memory n²."""
        H = np.asarray(self._hessian(self.check_theta(theta)), dtype=np.float64)
        return 0.5 * (H + H.T)

    def loss_batched(self, thetas) -> np.ndarray:
        """L at each row of a stack Θ (B, n_params), shape (B,): the surface tools' loss."""
        thetas = check_vector(thetas, "thetas")
        if thetas.ndim != 2 or thetas.shape[1] != self.n_params:
            raise ValueError(f"thetas has shape {thetas.shape}; give a stack (B, "
                             f"{self.n_params})")
        return np.asarray(self._loss_batched(thetas), dtype=np.float64).reshape(len(thetas))

    def to_parameters(self, theta) -> Any:
        """θ as the framework's parameters (torch: {name: tensor}; jax: the pytree)."""
        if self._to_parameters is None:
            raise ValueError(f"a {self.route} loss of a flat θ has no other parameters")
        return self._to_parameters(self.check_theta(theta))

    def from_parameters(self, params) -> np.ndarray:
        """The framework's parameters as a flat float64 θ (n_params,), to_parameters' inverse."""
        if self._from_parameters is None:
            raise ValueError(f"a {self.route} loss of a flat θ has no other parameters")
        return self.check_theta(self._from_parameters(params))

    def check_theta(self, theta) -> np.ndarray:
        """θ as float64 (n_params,); ValueError naming the shape expected."""
        theta = check_vector(theta, "theta")
        if theta.shape != (self.n_params,):
            raise ValueError(f"theta has shape {theta.shape}; this {self.route} model takes "
                             f"one vector of its {self.n_params} parameters, shape "
                             f"({self.n_params},)")
        return theta

    def __repr__(self):
        return f"FlatLoss({self.route}: {self.describe}, n_params={self.n_params})"


def blocks(n: int, size: int):
    """(start, stop) of consecutive blocks of `size` over range(n): columns per batched pass."""
    return [(start, min(n, start + size)) for start in range(0, n, size)]


def identity_rows(start: int, stop: int, n: int) -> np.ndarray:
    """Rows start..stop−1 of the n × n identity: the basis directions of one Hessian block."""
    E = np.zeros((stop - start, n))
    E[np.arange(stop - start), np.arange(start, stop)] = 1.0
    return E
