"""Losses of network outputs, averaged over samples; every function accepts leading batch axes.

With outputs F of shape (..., N, k) and targets Y of shape (N, k):
  mse            L = 1/(2N) Σᵢ ‖fᵢ − yᵢ‖²                         (the ½ makes ∇²L = JᵀJ/N + …)
  cross_entropy  L = 1/N Σᵢ [logsumexp(fᵢ) − yᵢ·fᵢ],  Y one-hot   (log-softmax, finite for any f)
  accuracy       share of i with argmax fᵢ = argmax yᵢ           (not differentiable)
Cost: O(N·k) each.
"""
from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd.scipy.special import logsumexp


def mse(out, y):
    r = out - y
    return 0.5 * anp.mean(anp.sum(r * r, axis=-1), axis=-1)


def cross_entropy(out, y):
    # logsumexp subtracts the row maximum first, so logits of ±1e3 give exact finite values.
    return anp.mean(logsumexp(out, axis=-1) - anp.sum(y * out, axis=-1), axis=-1)


def accuracy(out, y):
    out = np.asarray(out)
    labels = np.argmax(y, axis=-1) if np.ndim(y) > 1 else np.asarray(y)
    return np.mean(np.argmax(out, axis=-1) == labels, axis=-1)


LOSSES = {"mse": mse, "cross_entropy": cross_entropy}


def get_loss(name: str):
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"loss={name!r} is unknown; choose one of {sorted(LOSSES)}") from None
