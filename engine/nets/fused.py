"""A fused dense layer: one autograd node for y = σ(h @ W_l + b_l), reading (W_l, b_l) out of θ.

Why: in the plain graph one layer is seven autograd nodes (two slices of θ, a reshape, the bias
broadcast, matmul, add and σ), and the slices of θ are the expensive part — each one's
VJP scatters its block into a fresh zero vector of length n_params with `numpy.add.at`. On the
784-128-64-10 MNIST step those scatters cost about as much as the matrix products. Here a layer
is one node whose VJP
    g_z = g ⊙ σ'(z),   ∂/∂h = g_z W_lᵀ,   ∂/∂W_l = hᵀ g_z,   ∂/∂b_l = Σ_samples g_z
returns the θ-part as a sparse object that adds two blocks into autograd's gradient buffer in
place.

Second order: σ'(z) is written as a function of the layer's output y = σ(z) (relu: [y > 0],
tanh: 1 − y², sigmoid: y(1 − y), softplus: 1 − e^{−y}, linear: 1), and the VJP is built from
autograd.numpy operations on (g, y, h, θ). Since y is itself a node of the graph, the VJP is
differentiable again (as the tanh primitive in engine.nets.activations), so Hessians and HVPs
through
`MLP.loss` stay exact; the θ-scatter is a primitive whose own VJP gathers the two blocks back.
Saturated tanh and sigmoid units, where σ' from y loses its relative accuracy (1 − y² = 0 once
y rounds to ±1), take σ' from z instead (engine.nets.activations.from_output): the forward stores z
next to y in one buffer, so the first-order VJP reads it for free; inside a second-order trace
z = h @ W_l + b_l is recomputed as a node with the forward's operations, hence the forward's
bits. Outside such traces the VJP runs on plain NumPy, without autograd's dispatch.

Why not a first-order-only kernel: the same node then serves training, HVPs and Hessians, and
the plain graph (MLP.forward_unfused) stays as an independent reference for tests and benches.
Values equal the plain graph's: the forward uses the same operations in the same order, and σ'
is the same function of the same (y, z), so relu, tanh, sigmoid and linear networks give
bit-identical losses and gradients (softplus: a few ulps, its σ' is 1 − e^{−y} here, sigmoid(z)
there). Hessians are bit-identical for relu and linear; for tanh and sigmoid they agree to a few
ulps, since the z-route of saturated units (of all sigmoid units inside a second-order trace)
runs through the recomputed z's nodes, which sum into θ's Hessian in another order
(tests/engine/nets/test_fused.py).
A bias-free layer (layout.has_bias[l] False) is the same node without b_l: z = h @ W_l, and its
VJP's θ-part is the one block vec(∂/∂W_l).
Cost: the plain graph's arithmetic, O(N · d_l · d_{l+1}) per layer, with 1/7 of its nodes.
"""
from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd.extend import SparseObject, defvjp, defvjp_argnums, primitive, vspace
from autograd.tracer import Box
from scipy.special import expit

from engine.nets.activations import get_activation, sigmoid_derivative, tanh_derivative

# σ'(z) as a function of y = σ(z) and z_of() (which recomputes z; only saturated tanh and sigmoid
# units call it); every activation of engine.nets.activations has one.
_DERIVATIVE_FROM_OUTPUT = {
    "relu": lambda y, z_of: y > 0,
    "tanh": tanh_derivative,
    "sigmoid": sigmoid_derivative,
    # σ' = sigmoid(z) = 1 − e^{−softplus(z)}: relative error ~ε for every z, no z needed
    "softplus": lambda y, z_of: -anp.expm1(-y),
    "linear": None,
}
FUSED_ACTIVATIONS = tuple(_DERIVATIVE_FROM_OUTPUT)


def mlp_forward(layout, activation: str, theta, x):
    """f(x; θ) of the dense network `layout` with hidden activation σ, shape (..., N, d_out) for θ
    (..., n_params) and x (..., N, d_in): one fused node per layer. MLP.forward's values, without
    its input checks (only θ's length is checked here); x may also carry leading batch axes.
    Raises ValueError for an activation without a fused layer. Cost: one forward pass."""
    if activation not in _DERIVATIVE_FROM_OUTPUT:
        raise ValueError(f"activation={activation!r} has no fused layer; choose one of "
                         f"{list(FUSED_ACTIVATIONS)}")
    layout.check(theta)
    h = x
    for layer in range(layout.n_layers):
        act = activation if layer < layout.n_layers - 1 else "linear"
        h = dense(h, theta, layout, layer, act)
    return h


# Activations whose VJP may need z itself (saturated units): the forward writes z and y = σ(z)
# into one buffer, and the first-order VJP finds z as y.base[0], with no recomputation. Memory:
# z lives as long as y, as the plain graph's z node does. (σ is the ufunc the primitives of
# engine.nets.activations call, so y has their bits.)
_SIGMA_KEEPING_Z = {"tanh": np.tanh, "sigmoid": expit}


@primitive
def dense(h, theta, layout, layer: int, activation: str):
    """y = σ(h @ W_l + b_l), shape (..., N, d_{l+1}) for h (..., N, d_l), with (W_l, b_l) the
    block of layer l in θ (..., n_params): one autograd primitive whose VJP is the module
    docstring's, differentiable again. Cost O(N·d_l·d_{l+1})."""
    W, b = _layer_params(np, theta, layout, layer)
    sigma = _SIGMA_KEEPING_Z.get(activation)
    if sigma is None:
        return get_activation(activation).fn(h @ W if b is None else h @ W + b[..., None, :])
    hW = h @ W  # (..., N, d_{l+1}): its batch axes include θ's, hence b's
    zy = np.empty((2,) + hW.shape)
    if b is None:
        zy[0] = hW
        return sigma(zy[0], out=zy[1])
    return sigma(np.add(hW, b[..., None, :], out=zy[0]), out=zy[1])


def _layer_params(xp, theta, layout, layer):
    """(W_l, b_l) as views of θ; b_l None for a bias-free layer."""
    m, n = layout.shape_of(layer)
    batch = theta.shape[:-1]
    W = xp.reshape(theta[..., layout.weight_slice(layer)], batch + (m, n))
    return W, theta[..., layout.bias_slice(layer)] if layout.has_bias[layer] else None


def _dense_vjp(argnums, y, args, kwargs):
    h, theta, layout, layer, activation = args
    derivative = _DERIVATIVE_FROM_OUTPUT[activation]
    m, n = layout.shape_of(layer)
    batch = np.shape(theta)[:-1]
    theta_vs = vspace(theta)
    # autograd.numpy only where the results must be nodes (inside a second-order trace); on
    # plain arrays (training, first order) NumPy itself, the same operations without autograd's
    # dispatch (~1 µs a call, ~10 calls a layer)
    traced = isinstance(theta, Box) or isinstance(h, Box)

    def z_of():
        if not traced:
            return y.base[0]  # z, kept by the forward (_SIGMA_KEEPING_Z)
        # inside a second-order trace z must be a node: the forward's operations again, so the
        # forward's z bit for bit
        W, b = _layer_params(anp, theta, layout, layer)
        return h @ W if b is None else h @ W + b[..., None, :]

    def vjp(g):
        xp = anp if traced or isinstance(g, Box) else np
        g_z = g if derivative is None else g * derivative(y, z_of)
        grads = []
        for argnum in argnums:
            if argnum == 0:
                W, _ = _layer_params(xp, theta, layout, layer)
                grads.append(_unbroadcast(xp, g_z @ xp.swapaxes(W, -1, -2), np.shape(h)))
            else:
                # x may carry a batch that θ lacks: sum the gradient down to θ's batch shape
                dW = _unbroadcast(xp, xp.swapaxes(h, -1, -2) @ g_z, batch + (m, n))
                db = (_unbroadcast(xp, xp.sum(g_z, axis=-2), batch + (n,))
                      if layout.has_bias[layer] else None)
                grads.append(scatter_layer(dW, db, theta_vs, layout, layer))
        return grads

    return vjp


defvjp_argnums(dense, _dense_vjp)


@primitive
def scatter_layer(dW, db, vs, layout, layer: int):
    """The vector of vspace `vs` (θ's shape) that is zero except [vec(dW), db] in layer l's block,
    as autograd's sparse object: adding it into a gradient buffer touches only that block. db is
    None for a bias-free layer."""
    w_slice = layout.weight_slice(layer)
    b_slice = layout.bias_slice(layer) if db is not None else None

    def mut_add(A):
        A[..., w_slice] += dW.reshape(dW.shape[:-2] + (-1,))
        if b_slice is not None:
            A[..., b_slice] += db
        return A

    return SparseObject(vs, mut_add)


defvjp(scatter_layer,
       lambda ans, dW, db, vs, layout, layer: lambda g: _layer_params(anp, g, layout, layer)[0],
       lambda ans, dW, db, vs, layout, layer: lambda g: g[..., layout.bias_slice(layer)])


def _unbroadcast(xp, a, shape: tuple):
    """Sum a over the axes along which an operand of this shape was broadcast (xp: numpy or
    autograd.numpy)."""
    while np.ndim(a) > len(shape):
        a = xp.sum(a, axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and np.shape(a)[axis] != 1:
            a = xp.sum(a, axis=axis, keepdims=True)
    return a
