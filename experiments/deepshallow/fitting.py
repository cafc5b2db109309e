"""Fitting the 1-D functions of HW1-1: full-batch L-BFGS under the shared stop rule, from a start
whose ReLU kinks lie on the data."""
from __future__ import annotations

import numpy as np

from engine.nets.activations import get_activation
from engine.nets.passes import mlp_mse_gradient
from engine.training.loop import fit_lbfgs
from engine.training.stopping import StopRule, stop_reason


def fit_function(net, theta0, data, rule: StopRule, max_iters: int, every: int):
    """Full-batch L-BFGS (engine.training.loop.fit_lbfgs) on the MSE of `data` from θ₀, the loss
    recorded at iteration 0 and every `every` iterations, until `rule` stops it, the cap
    `max_iters`, or a line search finds no descent ('stalled'). Returns (θ, {'train_loss',
    'loss_iters'}, {'stopped_by', 'steps', 'final_grad_norm'}); the gradient is the NumPy backward
    pass (engine.nets.passes, ~5× autograd's here). Cost: ~1.1 evaluations/iteration."""
    x, y = data.x_train, data.y_train
    gradient = mlp_mse_gradient(net, x, y)
    losses, iters, why = [float(net.loss(theta0, x, y))], [0], []

    def check(intermediate_result):  # scipy's name: it then passes x and fun of iterate k
        check.k += 1
        if check.k % every == 0:
            losses.append(float(intermediate_result.fun))
            iters.append(check.k)
            why.append(stop_reason(losses, rule))
            if why[-1] is not None:
                raise StopIteration

    check.k = 0
    result = fit_lbfgs(lambda t: (float(net.loss(t, x, y)), gradient(t)), theta0, max_iters,
                       callback=check)
    if iters[-1] != result.nit:  # ended between checks: record where it ended
        losses.append(float(net.loss(result.x, x, y)))
        iters.append(int(result.nit))
    stopped = why[-1] if why and why[-1] else "cap" if result.nit >= max_iters else "stalled"
    return result.x, {"train_loss": np.array(losses), "loss_iters": np.array(iters)}, {
        "stopped_by": stopped, "steps": int(result.nit),
        "final_grad_norm": float(np.linalg.norm(gradient(result.x)))}  # ≈ 0: a stationary end


def kinks_on_data(net, theta, x, rng) -> np.ndarray:
    """θ with each hidden layer's biases set, layer by layer, so that every unit's
    pre-activation is 0 at a training input drawn from rng: each ReLU kink starts on the data,
    no unit dead on all of it (a data-dependent init, Krähenbühl et al. 2016, biases only). Why:
    with random biases deep fits of sin(5πx)/(5πx) ended on straight lines across the side lobes
    (loss 6e-4, no kink there); the same seeds reach ~1e-5 so. Cost: one forward pass."""
    theta, h = np.array(theta), x
    for layer in range(net.layout.n_layers - 1):
        z = h @ theta[net.layout.weight_slice(layer)].reshape(net.layout.shape_of(layer))
        bias = -z[rng.integers(0, len(x), size=z.shape[1]), np.arange(z.shape[1])]
        theta[net.layout.bias_slice(layer)] = bias
        h = get_activation(net.activation).fn(z + bias)
    return theta
