"""First-order optimizers as (init, update, params) triples on a flat θ, with explicit state.

Contract (as in JAX's example_libraries): `state = opt.init(theta)`; for step k = 0, 1, …
`state = opt.update(k, g, state)` with g = ∇L at `opt.params(state)`;
`opt.params(opt.init(θ)) == θ`.
The state is a tuple of float64 arrays, so a run is checkpointed by saving it (`np.savez(*state)`)
and resumed by passing it back. Nothing is updated in place: every update returns a new state.

  sgd   v ← μ v − η g,  θ ← θ + v          (heavy-ball momentum μ; μ = 0 is plain SGD)
  adam  m ← β₁m + (1−β₁)g,  s ← β₂s + (1−β₂)g²,
        θ ← θ − η m̂ / (√ŝ + ε),  m̂ = m/(1−β₁^{k+1}), ŝ = s/(1−β₂^{k+1})     (Kingma & Ba 2015)
Cost: O(n_params) per step.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from engine.io.errors import is_real


class Optimizer(NamedTuple):
    """init(θ) → state; update(step, g, state) → state; params(state) → θ."""

    init: Callable
    update: Callable
    params: Callable


def sgd(lr: float, momentum: float = 0.0) -> Optimizer:
    """Heavy-ball SGD (Polyak 1964): v ← μv − ηg, θ ← θ + v (module docstring); state (θ, v),
    each (n_params,). ValueError for lr ≤ 0 or μ ∉ [0, 1)."""
    _check_lr(lr)
    if not (is_real(momentum) and 0.0 <= momentum < 1.0):
        raise ValueError(f"momentum={momentum!r} must lie in [0, 1)")

    def init(theta):
        theta = np.array(theta, dtype=np.float64)
        return theta, np.zeros_like(theta)

    def update(step, g, state):
        theta, v = state
        v = momentum * v - lr * g
        return theta + v, v

    return Optimizer(init, update, lambda state: state[0])


def adam(lr: float = 1e-3, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> Optimizer:
    """Adam (Kingma & Ba 2015; module docstring); state (θ, m, s), each (n_params,).
    ValueError for lr ≤ 0 or β ∉ [0, 1)."""
    _check_lr(lr)
    if not (is_real(b1) and is_real(b2) and 0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
        raise ValueError(f"adam needs 0 ≤ b1, b2 < 1; got b1={b1!r}, b2={b2!r}")

    def init(theta):
        theta = np.array(theta, dtype=np.float64)
        return theta, np.zeros_like(theta), np.zeros_like(theta)

    def update(step, g, state):
        theta, m, s = state
        m = b1 * m + (1.0 - b1) * g
        s = b2 * s + (1.0 - b2) * (g * g)
        m_hat = m / (1.0 - b1 ** (step + 1))
        s_hat = s / (1.0 - b2 ** (step + 1))
        return theta - lr * m_hat / (np.sqrt(s_hat) + eps), m, s

    return Optimizer(init, update, lambda state: state[0])


# name → builder from (lr, momentum): the one table configs and the CLI dispatch through
OPTIMIZERS = {"adam": lambda lr, momentum: adam(lr),
              "sgd": lambda lr, momentum: sgd(lr, momentum)}


def make_optimizer(name: str, lr: float, momentum: float = 0.9) -> Optimizer:
    """'adam' (lr; momentum unused) or 'sgd' (heavy-ball, lr and momentum) by name, for configs
    and the CLI. Raises ValueError for another name or a bad hyperparameter."""
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer={name!r} is unknown; choose one of {sorted(OPTIMIZERS)}")
    return OPTIMIZERS[name](lr, momentum)


def _check_lr(lr):
    if not (is_real(lr) and np.isfinite(lr) and lr > 0):
        raise ValueError(f"lr={lr!r} must be a positive number")
