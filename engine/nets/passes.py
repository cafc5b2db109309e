"""The MLP's hand-written passes side by side, in one notation, each checked against autograd
(tests/engine/nets/test_passes.py).

Notation. A network of sizes (d_0, …, d_L) has layers l = 0 … L−1 (engine.nets.layout numbers
them so); rows are samples, x (N, d_0):
    h_0 = x,   z_l = h_l W_l + b_l  (N, d_{l+1}),   h_{l+1} = σ(z_l) for hidden l < L−1,
    f = z_{L−1}  (the output layer is linear; the loss supplies the softmax where there is one),
with W_l (d_l, d_{l+1}) and b_l (d_{l+1},). The fused form appends a column of ones to h_l:
    h̃_l = [h_l, 1]  (N, d_l + 1),   W̃_l = [W_l; b_l]  (d_l + 1, d_{l+1}),   z_l = h̃_l W̃_l,
and W̃_l flattened in C order is θ's block of layer l, [vec(W_l), b_l]. Backward:
    δ_{L−1} = ∂L/∂f,   δ_{l−1} = (δ_l W_lᵀ) ⊙ σ'(z_{l−1}),   ∂L/∂W̃_l = h̃_lᵀ δ_l,
with σ' and σ'' in closed form from z (engine.nets.activations: accurate for saturated units).
In code: W, b, W_tilde, h_tilde; hs = [h_l], d1s = [σ'(z_l)], d2s = [σ''(z_l)] of the hidden
layers.

  forward_unfused     f through autograd's plain graph (slices of θ, matmul, add, σ), any batch
                      of θ: MLP.forward_unfused, the reference of the fused layer
                      (engine.nets.fused, MLP.forward)
  forward_augmented   h̃_l, σ'(z_l), σ''(z_l) and f in NumPy (z_l = h̃_l W̃_l): the forward
                      sweep of the structured Hessian (engine.derivatives.curvature)
  mlp_mse_gradient    ∇ of the MSE by one forward and one backward pass in NumPy (z_l from W_l,
                      b_l, the views of W̃_l): the searches' ∇L (experiments.minratio)
The fourth, the R-operator (H v: forward, R-forward, backward, R-backward), is
engine.derivatives.autodiff's MLP HVP.

Each pass keeps the operations, and their order, of the code the results files were made with
(moved here unchanged but for names): the numbers are the same bit for bit.
"""
from __future__ import annotations

import numpy as np

from engine.nets.activations import get_activation


def forward_unfused(layout, activation: str, theta, x):
    """f(x; θ), shape (..., N, d_out), for θ (..., n_params) and x (N, d_in), as the plain
    autograd graph: z_l = h_l W_l + b_l with (W_l, b_l) views of θ (layout.unpack), σ of the
    hidden layers (engine.nets.activations' primitives). MLP.forward's values (bit for bit for
    relu, tanh, sigmoid, linear; engine.nets.fused); no input checks. Cost: one forward pass."""
    sigma = get_activation(activation).fn
    params = layout.unpack(theta)
    h = x
    for layer, (W, b) in enumerate(params):
        z = h @ W + b[..., None, :]
        h = sigma(z) if layer < len(params) - 1 else z
    return h


def forward_augmented(activation: str, W_tildes, x, second: bool):
    """(h_tilde, d1s, d2s, f) for one θ given as its blocks W_tildes = [W̃_l] (d_l + 1, d_{l+1})
    and x (N, d_0): h_tilde = [h̃_l] of every layer (N, d_l + 1), d1s = [σ'(z_l)] and
    (second=True, else []) d2s = [σ''(z_l)] of the hidden layers (N, d_{l+1}), f = z_{L−1}
    (N, d_L), with z_l = h̃_l W̃_l (one product, the bias inside it). Plain NumPy, no checks.
    Cost: one forward pass, plus σ' (and σ'') per hidden unit."""
    act = get_activation(activation)
    h_tilde, d1s, d2s = [], [], []
    h = x
    for layer, W_tilde in enumerate(W_tildes):
        h_tilde.append(np.concatenate([h, np.ones((h.shape[0], 1))], axis=1))
        z = h_tilde[-1] @ W_tilde
        if layer < len(W_tildes) - 1:
            d1s.append(act.d1(z))
            if second:
                d2s.append(act.d2(z))
            h = act.fn(z)
    return h_tilde, d1s, d2s, z


def mlp_mse_gradient(net, x, y):
    """θ (n,) ↦ ∇MSE(θ) (n,) of the MLP `net` (loss 'mse') on (x, y), by one forward and one
    reverse pass in plain NumPy (module notation; W_l, b_l are the views of W̃_l):
        z_l = h_l W_l + b_l,   δ_{L−1} = (f − y)/N,   ∂L/∂W̃_l = h̃_lᵀ δ_l,
        δ_{l−1} = (δ_l W_lᵀ) ⊙ σ'(z_{l−1}).
    Source: backpropagation (Rumelhart, Hinton & Williams 1986). engine.mlp_gradient computes the
    same through autograd's graph: equal to rounding (the tests), ~5× faster on 1-8-8-1 (0.1 against
    0.5 ms measured), which matters as a search evaluates ∇L thousands of times. ValueError for
    a net whose loss is not 'mse' or data it refuses (net.check_data); θ is not checked: a
    search's own vector (n,). Cost: one forward and one backward pass, O(N·n)."""
    if net.loss_name != "mse":
        raise ValueError(f"mlp_mse_gradient needs a net with loss 'mse', got {net.loss_name!r}")
    act = get_activation(net.activation)
    sigma = getattr(act.fn, "fun", act.fn)  # the primitive's NumPy function: no autograd boxing
    x, y = net.check_data(x, y)
    blocks = [(net.layout.slice_of(layer), (net.sizes[layer] + 1, net.sizes[layer + 1]))
              for layer in range(net.layout.n_layers)]

    def gradient(theta):
        W_tildes = [theta[block].reshape(shape) for block, shape in blocks]
        hs, d1s, h = [], [], x
        for layer, W_tilde in enumerate(W_tildes):
            hs.append(h)
            z = h @ W_tilde[:-1] + W_tilde[-1]  # h_l W_l + b_l
            if layer < len(W_tildes) - 1:
                d1s.append(act.d1(z))
                h = sigma(z)
        delta = (z - y) / len(x)
        out = np.empty_like(theta)
        for layer in range(len(W_tildes) - 1, -1, -1):
            part = out[blocks[layer][0]].reshape(blocks[layer][1])  # ∂L/∂W̃_l, a view into out
            np.matmul(hs[layer].T, delta, out=part[:-1])
            part[-1] = delta.sum(axis=0)
            if layer:
                delta = (delta @ W_tildes[layer][:-1].T) * d1s[layer - 1]
        return out

    return gradient
