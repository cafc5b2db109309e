"""The minibatch training loop; recording is the caller's, through two callbacks.

One epoch visits the N training samples once in an order drawn from `rng` (a permutation, so the
same seed gives the same batches); step k uses the minibatch B_k and moves θ by the optimizer on
g_k = ∇L_{B_k}(θ_k), the gradient of the minibatch loss. Full-batch training is batch_size ≥ N
(then no permutation is drawn: the mean over all samples is order-independent up to rounding, and
a fixed order makes it exactly reproducible).

Callbacks:
  on_step(Step)               after each gradient evaluation, before the update: the step index,
                              epoch, θ_k, the minibatch loss L_{B_k}(θ_k), g_k and the indices
                              B_k into the training set (None for full batch);
  on_snapshot(epoch, theta)   at epoch 0 (the initial weights), every `every` epochs, and after
                              the last epoch — θ after that many epochs.
Cost per step: one forward and one reverse pass on the minibatch, O(batch_size · n_params).
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
from tqdm.auto import tqdm

from engine.derivatives.autodiff import value_and_grad


class Step(NamedTuple):
    """What on_step receives at step k: θ_k (n_params,), the minibatch loss L_{B_k}(θ_k), its
    gradient g_k (n_params,) and the minibatch B_k (indices, or None for all samples)."""

    step: int
    epoch: int
    theta: np.ndarray
    loss: float
    grad: np.ndarray
    batch: np.ndarray | None  # indices of the minibatch in x_train; None = all samples


def train(net, theta0, data, optimizer, *, epochs: int, batch_size: int, rng: np.random.Generator,
          every: int | None = None, on_step: Callable | None = None,
          on_snapshot: Callable | None = None, progress: bool = False, desc: str = "epochs"):
    """Train net from θ₀ (n_params,) on data.x_train, data.y_train for `epochs` epochs of
    minibatches of batch_size drawn from rng (module docstring); return the optimizer's final
    state (`optimizer.params(state)` is θ after training). every: epochs between snapshots
    (None: no on_snapshot calls); progress shows a tqdm bar labelled desc.

    Raises ValueError for a negative or fractional epochs, batch_size < 1 or every < 1. Cost:
    epochs·⌈N/batch_size⌉ steps of one forward and one reverse pass each.
    """
    if epochs < 0 or int(epochs) != epochs:
        raise ValueError(f"epochs={epochs!r} must be a non-negative integer")
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r} must be a positive integer")
    if every is not None and every < 1:
        raise ValueError(f"every={every!r} must be a positive integer")
    x, y = data.x_train, data.y_train
    n_samples = len(x)
    full_batch = batch_size >= n_samples
    state = optimizer.init(theta0)
    step = 0
    for epoch in tqdm(range(epochs), desc=desc, disable=not progress, leave=False):
        if on_snapshot is not None and every is not None and epoch % every == 0:
            on_snapshot(epoch, optimizer.params(state))
        order = None if full_batch else rng.permutation(n_samples)
        for start in range(0, n_samples, batch_size):
            if full_batch:
                idx, xb, yb = None, x, y
            else:
                idx = order[start:start + batch_size]
                xb, yb = x[idx], y[idx]
            theta = optimizer.params(state)
            loss, g = value_and_grad(net, theta, xb, yb)
            if on_step is not None:
                on_step(Step(step, epoch, theta, float(loss), g, idx))
            state = optimizer.update(step, g, state)
            step += 1
    if on_snapshot is not None and every is not None:
        on_snapshot(epochs, optimizer.params(state))
    return state


def evaluate(net, theta, data) -> dict:
    """{'train_loss', 'test_loss', 'train_acc', 'test_acc'} at θ (n_params,), floats; the
    accuracies are NaN for a regression dataset. Raises ValueError as MLP.loss. Cost: one
    forward pass per split (two for classification)."""
    theta = np.asarray(theta, dtype=np.float64)
    out = {"train_loss": float(net.loss(theta, data.x_train, data.y_train)),
           "test_loss": float(net.loss(theta, data.x_test, data.y_test))}
    classify = data.task == "classification"
    for part, x, y in (("train", data.x_train, data.y_train), ("test", data.x_test, data.y_test)):
        out[f"{part}_acc"] = float(net.accuracy(theta, x, y)) if classify else float("nan")
    return out


def fit_lbfgs(value_and_grad_fn, theta0, iterations: int):
    """Full-batch L-BFGS-B (scipy.optimize.minimize) for `iterations` iterations from θ₀ (n,):
    value_and_grad_fn(θ) → (L, ∇L). Its tolerances are off (gtol = ftol = 0: scipy's defaults
    stop far from the flat end of training) and maxfun = 20·iterations + 100 lies beyond the line
    searches, so the iteration count is the limit. Returns scipy's OptimizeResult (x, fun, nit,
    message); a non-finite objective ends it as scipy does (ABNORMAL line search).
    Cost: about 1–2 evaluations per iteration."""
    if not (isinstance(iterations, (int, np.integer)) and iterations >= 1):
        raise ValueError(f"iterations={iterations!r} must be a positive integer")
    import scipy.optimize  # only here: training loops above need no scipy

    return scipy.optimize.minimize(
        value_and_grad_fn, np.array(theta0, dtype=np.float64), jac=True, method="L-BFGS-B",
        options={"maxiter": int(iterations), "maxfun": 20 * int(iterations) + 100,
                 "gtol": 0.0, "ftol": 0.0})

