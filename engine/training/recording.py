"""Recording training: the loss and the gradient p-norm at every step, and on the whole
training set every k steps (the slides' "observe gradient norm during training").

With minibatches the two differ: step k's gradient is that of the minibatch loss L_B(θ_k) (what
the slides' code computes after `backward`), the whole-data gradient is ∇L(θ_k) over all N
samples, evaluated in slices so that all of MNIST fits. Both are kept: the minibatch series is
noisy by construction, the whole-data one says where the optimizer really is.
"""
from __future__ import annotations

import math

import numpy as np

from engine.derivatives.autodiff import grad_norm, mlp_value_and_gradient
from engine.io.errors import check_rng
from engine.training.divergence import Diverged, quiet_overflow, stop_on_nonfinite
from engine.training.loop import train, training_arrays

N_CHECKS = 4  # θ kept at this many whole-data steps, so a test can recompute the records
FULL_CHUNK = 10_000  # rows per slice of a whole-data gradient (all of MNIST: ~0.3 GB)


def record_training(net, theta0, data, optimizer, *, steps, batch_size, rng, p=2, full_evals=60,
                    progress=False, desc="epochs") -> dict:
    """Train ≥ `steps` iterations (whole epochs), recording step_* (n_steps,), full_* (n_full,),
    and θ at ≤ 4 full steps, check_theta (≤ 4, n_params), with the minibatch of check c,
    check_batch[check_batch_start[c]:check_batch_start[c + 1]]. A run whose loss or gradient
    leaves the finite numbers stops there: its series end before that step, and 'diverged' holds
    {'step', 'epoch', 'reason'} (None otherwise; not an array). Raises ValueError for steps,
    batch_size or full_evals not a positive integer, data that is not a Dataset or a bad rng."""
    x, y = training_arrays(data)
    for name, value in (("steps", steps), ("batch_size", batch_size), ("full_evals", full_evals)):
        if not (isinstance(value, (int, np.integer)) and value >= 1):
            raise ValueError(f"{name}={value!r} must be a positive integer")
    check_rng(rng)
    full_batch = batch_size >= len(x)
    per_epoch = 1 if full_batch else math.ceil(len(x) / batch_size)
    epochs = math.ceil(steps / per_epoch)
    n_steps = epochs * per_epoch
    every = 1 if full_batch else math.ceil(n_steps / full_evals)
    full_step = np.append(np.arange(0, n_steps, every), n_steps)
    check_step = np.unique(full_step[np.round(np.linspace(0, len(full_step) - 1, N_CHECKS))
                                     .astype(int)])
    step_loss, step_norm, full, checks = np.empty(n_steps), np.empty(n_steps), [], {}

    def on_step(s):
        step_loss[s.step], step_norm[s.step] = s.loss, grad_norm(s.grad, p)
        if full_batch:
            full.append((s.loss, step_norm[s.step]))
        elif s.step % every == 0:
            full.append(full_point(net, s.theta, x, y, p))
        if s.step in check_step:
            checks[s.step] = (np.array(s.theta), np.arange(len(x)) if s.batch is None else s.batch)

    diverged = None
    with quiet_overflow():  # a diverging run overflows: detected and recorded, not warned
        try:
            state = train(net, theta0, data, optimizer, epochs=epochs, batch_size=batch_size,
                          rng=rng, on_step=stop_on_nonfinite(on_step), progress=progress,
                          desc=desc)
            theta = optimizer.params(state)
            final = full_point(net, theta, x, y, p)
            if not (np.all(np.isfinite(theta)) and np.all(np.isfinite(final))):
                raise Diverged(n_steps, epochs, "non-finite loss after the last step")
            full.append(final)
            checks[n_steps] = (np.array(theta), np.arange(0))
        except Diverged as err:
            # keep the steps before the first non-finite one, and the whole-data points among them
            diverged = err.info()
            n_done = diverged["step"]
            step_loss, step_norm = step_loss[:n_done], step_norm[:n_done]
            full_step = full_step[:len(full)]
            keep = (full_step < n_done) & np.all(np.isfinite(np.array(full, dtype=float)
                                                             .reshape(-1, 2)), axis=1)
            full, full_step = [f for f, k in zip(full, keep, strict=True) if k], full_step[keep]
            check_step = check_step[np.isin(check_step, list(checks))]
            check_step = check_step[check_step < n_done]
    batches = [checks[s][1] for s in check_step]
    n_params = len(theta0)
    return {"step_loss": step_loss, "step_grad_norm": step_norm,
            "epoch_start": np.arange(epochs) * per_epoch, "full_step": full_step,
            "full_loss": np.array([f[0] for f in full], dtype=float),
            "full_grad_norm": np.array([f[1] for f in full], dtype=float),
            "check_step": check_step,
            "check_theta": np.array([checks[s][0] for s in check_step]).reshape(-1, n_params),
            "check_batch": np.concatenate([np.arange(0), *batches]).astype(np.int64),
            "check_batch_start": np.cumsum([0] + [len(b) for b in batches]),
            "diverged": diverged}


def full_point(net, theta, x, y, p, chunk=FULL_CHUNK):
    """(L(θ), ‖∇L(θ)‖_p) on all N rows of (x, y), by slices of `chunk` rows weighted n_c/N
    (L is a mean over samples). Cost: one gradient on N samples. Raises ValueError for a chunk
    that is not a positive integer."""
    if not (isinstance(chunk, (int, np.integer)) and chunk >= 1):
        raise ValueError(f"chunk={chunk!r} must be a positive integer (rows per slice)")
    loss, g = 0.0, 0.0
    for start in range(0, len(x), chunk):
        xs, ys = x[start:start + chunk], y[start:start + chunk]
        l_c, g_c = mlp_value_and_gradient(net, theta, xs, ys)
        loss, g = loss + l_c * len(xs) / len(x), g + g_c * len(xs) / len(x)
    return float(loss), grad_norm(g, p)
