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
                              the last epoch — θ after that many epochs;
  stop()                      after each snapshot: True ends training there (the caller's rule,
                              e.g. engine.training.stopping on the losses its snapshots record).
A weight decay λ trains L_λ = L + (λ/2)‖θ‖² (L2 regularization, added to the gradient: with Adam
this is Adam + L2, not AdamW); on_step then sees the loss and gradient of L_λ. An `objective`
(θ, x_B, y_B) → (L_B(θ), ∇L_B(θ)) trains another loss than the MLP's (a model with closed forms,
e.g. engine.critical.linear_autoencoder's); the weight decay is added to it the same way.
Cost per step: one forward and one reverse pass on the minibatch, O(batch_size · n_params).
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np
from tqdm.auto import tqdm

from engine.derivatives.autodiff import mlp_value_and_gradient
from engine.io.errors import check_float_array, check_rng
from engine.nets.losses import accuracy, get_loss


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
          on_snapshot: Callable | None = None, stop: Callable | None = None,
          weight_decay: float = 0.0, objective: Callable | None = None, progress: bool = False,
          desc: str = "epochs"):
    """Train net from θ₀ (n_params,) on data.x_train, data.y_train for `epochs` epochs of
    minibatches of batch_size drawn from rng (module docstring); return the optimizer's final
    state (`optimizer.params(state)` is θ after training). every: epochs between snapshots
    (None: no on_snapshot calls); stop() → True after a snapshot ends training there (epochs is
    then the cap); weight_decay λ ≥ 0 adds (λ/2)‖θ‖² to the loss (λ = 0: exactly the plain loop);
    objective(θ, x_B, y_B) → (loss, gradient (n_params,)) replaces net's loss (default:
    engine.derivatives.autodiff.mlp_value_and_gradient of net); progress shows a tqdm bar
    labelled desc.

    Raises ValueError for a negative or fractional epochs, batch_size < 1, every < 1, stop
    without every, weight_decay < 0, data without x_train and y_train (a Dataset) or an rng that
    is not a numpy Generator. Cost:
    epochs·⌈N/batch_size⌉ steps of one forward and one reverse pass each.
    """
    if epochs < 0 or int(epochs) != epochs:
        raise ValueError(f"epochs={epochs!r} must be a non-negative integer")
    if batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r} must be a positive integer")
    if every is not None and every < 1:
        raise ValueError(f"every={every!r} must be a positive integer")
    if stop is not None and every is None:
        raise ValueError("stop is asked after each snapshot: give every as well")
    if not (np.isfinite(weight_decay) and weight_decay >= 0):
        raise ValueError(f"weight_decay={weight_decay!r} must be a finite number ≥ 0")
    x, y = training_arrays(data)
    check_rng(rng)
    n_samples = len(x)
    full_batch = batch_size >= n_samples
    state = optimizer.init(theta0)
    step = 0
    # progress=False turns the bar off; progress=True leaves `disable` to tqdm's default, so that
    # TQDM_DISABLE=1 (the notebooks set it) still silences it: an explicit disable=False won over it
    quiet = {} if progress else {"disable": True}
    for epoch in tqdm(range(epochs), desc=desc, leave=False, **quiet):
        if on_snapshot is not None and every is not None and epoch % every == 0:
            on_snapshot(epoch, optimizer.params(state))
        if stop is not None and epoch % every == 0 and stop():
            return state
        order = None if full_batch else rng.permutation(n_samples)
        for start in range(0, n_samples, batch_size):
            if full_batch:
                idx, xb, yb = None, x, y
            else:
                idx = order[start:start + batch_size]
                xb, yb = x[idx], y[idx]
            theta = optimizer.params(state)
            loss, g = (mlp_value_and_gradient(net, theta, xb, yb) if objective is None
                       else objective(theta, xb, yb))
            if weight_decay:  # skipped at 0, so λ = 0 is bit-identical to the plain loss
                loss, g = loss + 0.5 * weight_decay * (theta @ theta), g + weight_decay * theta
            if on_step is not None:
                on_step(Step(step, epoch, theta, float(loss), g, idx))
            state = optimizer.update(step, g, state)
            step += 1
    if on_snapshot is not None and every is not None:
        on_snapshot(epochs, optimizer.params(state))
    return state


def training_arrays(data):
    """(data.x_train, data.y_train), or ValueError naming `data` when it has none (a tuple (x, y),
    an array): the door of train and record_training."""
    if not (hasattr(data, "x_train") and hasattr(data, "y_train")):
        raise ValueError(f"data is a {type(data).__name__}; give a Dataset (engine.data: x_train, "
                         "y_train, …), e.g. load_dataset(name) or Dataset(name, task, x, y, …)")
    return data.x_train, data.y_train


def evaluate(net, theta, data) -> dict:
    """{'train_loss', 'test_loss', 'train_acc', 'test_acc'} at θ (n_params,), floats; the
    accuracies are NaN for a regression dataset. Raises ValueError as MLP.loss. Cost: one
    forward pass per split, shared by the loss and the accuracy (the numbers are MLP.loss's and
    MLP.accuracy's exactly: the same functions of the same outputs)."""
    theta = net.check_theta(np.asarray(theta, dtype=np.float64))
    loss_of = get_loss(net.loss_name)
    classify = data.task == "classification"
    out = {}
    for part, x, y in (("train", data.x_train, data.y_train), ("test", data.x_test, data.y_test)):
        x, y = net.check_data(x, y)
        outputs = net.forward(theta, x)
        out[f"{part}_loss"] = float(loss_of(outputs, y))
        out[f"{part}_acc"] = float(accuracy(outputs, y)) if classify else float("nan")
    return {k: out[k] for k in ("train_loss", "test_loss", "train_acc", "test_acc")}


def fit_lbfgs(value_and_grad_fn, theta0, iterations: int, callback: Callable | None = None):
    """Full-batch L-BFGS-B (scipy.optimize.minimize) for `iterations` iterations from θ₀ (n,):
    value_and_grad_fn(θ) → (L, ∇L). Its tolerances are off (gtol = ftol = 0: scipy's defaults
    stop far from the flat end of training) and maxfun = 20·iterations + 100 lies beyond the line
    searches, so the iteration count is the limit. Returns scipy's OptimizeResult (x, fun, nit,
    message); a non-finite objective ends it as scipy does (ABNORMAL line search).
    callback(θ_k) after each iteration may raise StopIteration to end the fit there (scipy ≥
    1.11; the result then carries θ_k and nit = k).
    Cost: about 1–2 evaluations per iteration."""
    if not (isinstance(iterations, (int, np.integer)) and iterations >= 1):
        raise ValueError(f"iterations={iterations!r} must be a positive integer")
    theta0 = check_float_array("theta0", theta0, "give one parameter vector (n,)", ndim=1)
    import scipy.optimize  # only here: training loops above need no scipy

    return scipy.optimize.minimize(
        value_and_grad_fn, np.array(theta0), jac=True, method="L-BFGS-B",
        callback=callback,
        options={"maxiter": int(iterations), "maxfun": 20 * int(iterations) + 100,
                 "gtol": 0.0, "ftol": 0.0})

