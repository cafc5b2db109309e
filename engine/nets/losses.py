"""Losses of network outputs, averaged over samples; every function accepts leading batch axes.

With outputs F of shape (..., N, k) and targets Y of shape (N, k):
  mse            L = 1/(2N) Σᵢ ‖fᵢ − yᵢ‖²             (the ½ makes ∇²L = JᵀJ/N + …)
  cross_entropy  L = 1/N Σᵢ [logsumexp(fᵢ) − yᵢ·fᵢ]   (Y one-hot; log-softmax, finite for any f)
  accuracy       share of i with argmax fᵢ = argmax yᵢ (not differentiable)
Cost: O(N·k) each.
"""
from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd.scipy.special import logsumexp


def mse(out, y):
    """L = 1/(2N) Σᵢ ‖fᵢ − yᵢ‖², shape (...) for out (..., N, k) and y (N, k). Autograd-
    differentiable; its Hessian in f is I/N per sample."""
    r = out - y
    return 0.5 * anp.mean(anp.sum(r * r, axis=-1), axis=-1)


def cross_entropy(out, y):
    """Softmax cross-entropy L = 1/N Σᵢ [logsumexp(fᵢ) − yᵢ·fᵢ] of logits out (..., N, k) against
    rows y (N, k) of class probabilities (one-hot as a rule), shape (...). Autograd-
    differentiable; its Hessian in fᵢ is (diag pᵢ − pᵢpᵢᵀ)/N, p = softmax f."""
    # logsumexp subtracts the row maximum first, so logits of ±1e3 give exact finite values.
    return anp.mean(logsumexp(out, axis=-1) - anp.sum(y * out, axis=-1), axis=-1)


def accuracy(out, y):
    """Share of samples with argmax fᵢ = the class of yᵢ, shape (...) for out (..., N, k); y is
    one-hot (N, k) or integer labels (N,). Ties go to the first maximal class (numpy.argmax).
    Plain NumPy: not differentiable."""
    out = np.asarray(out)
    labels = np.argmax(y, axis=-1) if np.ndim(y) > 1 else np.asarray(y)
    return np.mean(np.argmax(out, axis=-1) == labels, axis=-1)


LOSSES = {"mse": mse, "cross_entropy": cross_entropy}


def get_loss(name: str):
    """The loss function called `name` ('mse' | 'cross_entropy'); ValueError naming the choices
    if there is none."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"loss={name!r} is unknown; choose one of {sorted(LOSSES)}") from None
