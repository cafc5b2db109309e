"""Losses of network outputs, averaged over samples; every function accepts leading batch axes.

With outputs F of shape (..., N, k) and targets Y of shape (N, k):
  mse            L = 1/(2N) Σᵢ ‖fᵢ − yᵢ‖²             (the ½ makes ∇²L = JᵀJ/N + …)
  cross_entropy  L = 1/N Σᵢ [logsumexp(fᵢ) − yᵢ·fᵢ]   (Y one-hot; log-softmax, finite for any f)
  accuracy       share of i with argmax fᵢ = argmax yᵢ (not differentiable)
Cost: O(N·k) each. logsumexp is autograd.scipy.special.logsumexp rebuilt (below), for
cross_entropy and engine.landscape.generalization's softmax.
"""
from __future__ import annotations

import autograd.numpy as anp
import numpy as np
import scipy.special
from autograd.extend import defjvp, defvjp, primitive
from autograd.numpy.numpy_vjps import repeat_to_match_shape

# autograd.scipy.special.logsumexp, rebuilt: importing it runs autograd.scipy's __init__, which
# imports scipy.stats, scipy.integrate and scipy.signal — about 1 s of every command's start, for
# one function. The same primitive: scipy's forward, autograd's derivative rules (autograd 1.6 to
# 1.9, autograd/scipy/special.py), so for an int, tuple or None axis every value and derivative
# is autograd's to the last bit (tests/engine/nets/test_losses.py) — but one: autograd's JVP puts
# the axes of a tuple with negative entries back in the wrong places (axis=(-3, -1) of a 4-D x:
# off by 0.14), this one counts them from the front first. engine.adapters.twin binds it to jax's.
logsumexp = primitive(scipy.special.logsumexp)
logsumexp.jax_counterpart = "jax.scipy.special.logsumexp"


def _logsumexp_vjp(ans, x, axis=None, b=1.0, keepdims=False):
    shape, dtype = anp.shape(x), anp.result_type(x)  # anp's: x is boxed in a second derivative

    def vjp(g):
        g_repeated, _ = repeat_to_match_shape(g, shape, dtype, axis, keepdims)
        ans_repeated, _ = repeat_to_match_shape(ans, shape, dtype, axis, keepdims)
        return g_repeated * b * anp.exp(x - ans_repeated)
    return vjp


def _logsumexp_jvp(g, ans, x, axis=None, b=1.0, keepdims=False):
    if not keepdims and axis is not None:  # ans back to x's axes (reduced ones of length 1)
        axes = axis if isinstance(axis, tuple) else (axis,)
        for ax in sorted(a % anp.ndim(x) for a in axes):  # ascending from the front: in place
            ans = anp.expand_dims(ans, ax)
    return anp.sum(g * b * anp.exp(x - ans), axis=axis, keepdims=keepdims)


defvjp(logsumexp, _logsumexp_vjp)
defjvp(logsumexp, _logsumexp_jvp)


def mse(out, y):
    """L = 1/(2N) Σᵢ ‖fᵢ − yᵢ‖², shape (...) for out (..., N, k) and y (N, k). Autograd-
    differentiable; its Hessian in f is I/N per sample. ValueError for shapes that do not match."""
    _check_pair("mse", out, y)
    r = out - y
    return 0.5 * anp.mean(anp.sum(r * r, axis=-1), axis=-1)


def cross_entropy(out, y):
    """Softmax cross-entropy L = 1/N Σᵢ [logsumexp(fᵢ) − yᵢ·fᵢ] of logits out (..., N, k) against
    rows y (N, k) of class probabilities (one-hot as a rule), shape (...). Autograd-
    differentiable; its Hessian in fᵢ is (diag pᵢ − pᵢpᵢᵀ)/N, p = softmax f. ValueError for shapes
    that do not match."""
    _check_pair("cross_entropy", out, y)
    # logsumexp subtracts the row maximum first, so logits of ±1e3 give exact finite values.
    return anp.mean(logsumexp(out, axis=-1) - anp.sum(y * out, axis=-1), axis=-1)


def accuracy(out, y):
    """Share of samples with argmax fᵢ = the class of yᵢ, shape (...) for out (..., N, k); y is
    one-hot (N, k) or integer labels (N,). Ties go to the first maximal class (numpy.argmax).
    Plain NumPy: not differentiable. ValueError for shapes that do not match."""
    out = np.asarray(out)
    _check_pair("accuracy", out, y, labels=np.ndim(y) == 1)
    labels = np.argmax(y, axis=-1) if np.ndim(y) > 1 else np.asarray(y)
    return np.mean(np.argmax(out, axis=-1) == labels, axis=-1)


def _check_pair(name, out, y, labels=False):
    """ValueError naming out and y unless y's shape is the trailing (N, k) of out's (..., N, k)
    (labels: y (N,) against out's N): numpy would broadcast other shapes, or fail with its own
    message."""
    out_shape, y_shape = np.shape(out), np.shape(y)
    want = out_shape[-2:-1] if labels else out_shape[-len(y_shape):] if y_shape else None
    if len(out_shape) < 2 or not y_shape or y_shape != want:
        raise ValueError(f"{name}: out has shape {out_shape} and y {y_shape}; give outputs "
                         "(..., N, k) and targets y (N, k) of the same N and k (labels (N,) for "
                         "accuracy)")


LOSSES = {"mse": mse, "cross_entropy": cross_entropy}


def get_loss(name: str):
    """The loss function called `name` ('mse' | 'cross_entropy'); ValueError naming the choices
    if there is none."""
    try:
        return LOSSES[name]
    except KeyError:
        raise ValueError(f"loss={name!r} is unknown; choose one of {sorted(LOSSES)}") from None
