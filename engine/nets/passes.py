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
A bias-free layer (engine.nets.layout: β_l = 0) has no b_l, no column of ones (h̃_l = h_l,
W̃_l = W_l, (N, d_l) and (d_l, d_{l+1})) and no ∂L/∂b_l; every pass below takes it.
A direction v of θ has the blocks (V_l, c_l) of (W_l, b_l); R{·} = ∂/∂r (·)(θ + r v)|₀. In code:
W, b, W_tilde, h_tilde; hs = [h_l], zs = [z_l], d1s = [σ'(z_l)], d2s = [σ''(z_l)] of the hidden
layers, deltas = [δ_l].

  forward_unfused     f through autograd's plain graph (slices of θ, matmul, add, σ), any batch
                      of θ: MLP.forward_unfused, the reference of the fused layer
                      (engine.nets.fused, MLP.forward)
  forward_augmented   h̃_l, σ'(z_l), σ''(z_l) and f in NumPy (z_l = h̃_l W̃_l): the forward
                      sweep of the structured Hessian (engine.derivatives.curvature)
  mlp_mse_gradient    ∇ of the MSE by one forward and one backward pass in NumPy (z_l from W_l,
                      b_l, the views of W̃_l): the searches' ∇L (experiments.minratio)
  mlp_hvp_at          v ↦ H v by Pearlmutter's R-operator: forward and backward once, then
                      R-forward and R-backward per product (engine.mlp_hvp, hvp_operator)

The first three keep the operations, and their order, of the code the results files were made
with (moved here unchanged but for names): the numbers are the same bit for bit. mlp_hvp_at was
rewritten for speed (its docstring says how); its products moved by rounding only (≤ 4e-15 of
their largest entry on the bench nets), and the results that use it were made again.
"""
from __future__ import annotations

import threading
import weakref

import numpy as np

from engine.nets.activations import get_activation

# σ'' = 0 (almost everywhere): the R-operator skips the curvature term of these activations
_PIECEWISE_LINEAR = ("relu", "linear")


def forward_unfused(layout, activation: str, theta, x):
    """f(x; θ), shape (..., N, d_out), for θ (..., n_params) and x (N, d_in), as the plain
    autograd graph: z_l = h_l W_l + b_l with (W_l, b_l) views of θ (layout.unpack), σ of the
    hidden layers (engine.nets.activations' primitives). MLP.forward's values (bit for bit for
    relu, tanh, sigmoid, linear; engine.nets.fused); no input checks. Cost: one forward pass."""
    sigma = get_activation(activation).fn
    params = layout.unpack(theta)
    h = x
    for layer, (W, b) in enumerate(params):
        z = h @ W if b is None else h @ W + b[..., None, :]
        h = sigma(z) if layer < len(params) - 1 else z
    return h


def forward_augmented(activation: str, W_tildes, x, second: bool):
    """(h_tilde, d1s, d2s, f) for one θ given as its blocks W_tildes = [W̃_l] (d_l + β_l,
    d_{l+1}) and x (N, d_0): h_tilde = [h̃_l] of every layer (N, d_l + β_l; the column of ones
    only where W̃_l has the bias row, d_l + 1 rows), d1s = [σ'(z_l)] and
    (second=True, else []) d2s = [σ''(z_l)] of the hidden layers (N, d_{l+1}), f = z_{L−1}
    (N, d_L), with z_l = h̃_l W̃_l (one product, the bias inside it). Plain NumPy, no checks.
    Cost: one forward pass, plus σ' (and σ'') per hidden unit."""
    act = get_activation(activation)
    h_tilde, d1s, d2s = [], [], []
    h = x
    for layer, W_tilde in enumerate(W_tildes):
        biased = W_tilde.shape[0] == h.shape[1] + 1  # else bias-free: W̃_l = W_l, h̃_l = h_l
        h_tilde.append(np.concatenate([h, np.ones((h.shape[0], 1))], axis=1) if biased else h)
        z = h_tilde[-1] @ W_tilde
        if layer < len(W_tildes) - 1:
            d1s.append(act.d1(z))
            if second:
                d2s.append(act.d2(z))
            h = act.fn(z)
    return h_tilde, d1s, d2s, z


def mlp_mse_gradient(net, x, y):
    """θ (n,) ↦ ∇MSE(θ) (n,) of the MLP `net` (loss 'mse') on (x, y), by one forward and one
    reverse pass in plain NumPy (module notation; W_l, b_l are the views of W̃_l, no b_l in a
    bias-free layer):
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
    blocks = [(net.layout.slice_of(layer), (net.sizes[layer] + beta, net.sizes[layer + 1]))
              for layer, beta in enumerate(net.layout.has_bias)]
    rows = net.sizes[:-1]  # W_l = W̃_l[:d_l]; b_l = W̃_l[d_l] where the layer has one

    def gradient(theta):
        W_tildes = [theta[block].reshape(shape) for block, shape in blocks]
        hs, d1s, h = [], [], x
        for layer, W_tilde in enumerate(W_tildes):
            hs.append(h)
            # h_l W_l + b_l (h_l W_l bias-free)
            z = h @ W_tilde if len(W_tilde) == rows[layer] else \
                h @ W_tilde[:-1] + W_tilde[-1]
            if layer < len(W_tildes) - 1:
                d1s.append(act.d1(z))
                h = sigma(z)
        delta = (z - y) / len(x)
        out = np.empty_like(theta)
        for layer in range(len(W_tildes) - 1, -1, -1):
            part = out[blocks[layer][0]].reshape(blocks[layer][1])  # ∂L/∂W̃_l, a view into out
            np.matmul(hs[layer].T, delta, out=part[:rows[layer]])
            if len(part) > rows[layer]:
                part[-1] = delta.sum(axis=0)
            if layer:
                delta = (delta @ W_tildes[layer][:rows[layer]].T) * d1s[layer - 1]
        return out

    return gradient


def mlp_hvp_at(net, theta, x, y):
    """The function v ↦ H(θ)v of an MLP's loss at a fixed θ, by Pearlmutter's (1994) exact
    R-operator R{·} = ∂/∂r (·)(θ + r v)|₀ written out in NumPy, with v = [vec(V_0), c_0, …] in
    θ's layout (V_l, c_l: the directions of W_l, b_l; Ṽ_l = [V_l; c_l] is v's block of layer l
    as a matrix, as W̃_l is θ's; a bias-free layer has no c_l, no (Hv)_{b_l} and Ṽ_l = V_l).
    θ (..., n_params) and (x, y) must be checked float64 arrays already (engine.mlp_hvp and
    hvp_operator check them); v (..., n_params) broadcasts against θ, so V of shape
    (B, n_params) gives B products in one pass.

    Built once per θ: the forward pass z_l = h̃_l W̃_l, h_{l+1} = σ(z_l) (the module's
    notation) and the backward pass δ_l = ∂L/∂z_l. Each product then runs
      R-forward   Rz_l = h̃_l Ṽ_l + Rh_l W_l,   Rh_{l+1} = σ'(z_l) ⊙ Rz_l   (Rh_0 = 0)
      output      Rδ_{L−1} = Rf/N (MSE),   (p ⊙ (Rf − (p·Rf)))/N (softmax cross-entropy)
      R-backward  (Hv)_{W̃_l} = h̃_lᵀRδ_l + [Rh_lᵀδ_l; 0]   (its bias row is Σ_samples Rδ_l),
                  Rδ_{l−1} = (Rδ_l W_lᵀ + δ_l V_lᵀ) ⊙ σ'(z_{l−1})
                             + (δ_l W_lᵀ) ⊙ σ''(z_{l−1}) ⊙ Rz_{l−1}
    Two choices are for speed, measured on one core (`make bench`): the bias sits inside the
    product with h̃_l (one product, where z_l = h_l W_l + b_l takes two passes), and where δ_l
    has one column (the output of a 1-d-d-1 net) its two products are one,
    [Rδ_l, δ_l] [W_lᵀ; V_lᵀ]: NumPy's matmul with an inner dimension of 1 took 101 µs against
    9 µs with 2 (N = 1000, d = 40). The arrays a product writes are work arrays kept per thread
    and batch shape, so a product allocates only its result: fresh arrays of this size are
    taken from and given back to the OS by glibc on every product, and the page faults made
    blocks of 2 columns run at half the speed of single products. They outlive θ (a search
    builds this function at every iterate and applies it a few times there; _work_arrays).
    Cost per product: at most 6 matrix products per hidden layer (a gradient takes 3),
    O(N·n_params), no graph; memory: the activations, σ', σ'' terms and δ of the hidden
    layers and the work arrays, O(N·Σ d_l) per θ and batch shape (x itself is not copied).
    """
    act = get_activation(net.activation)
    layout, curved = net.layout, act.name not in _PIECEWISE_LINEAR
    last, scale, batch = layout.n_layers - 1, 1.0 / x.shape[0], theta.shape[:-1]
    shapes = [(d + beta, k) for d, k, beta in zip(net.sizes[:-1], net.sizes[1:],
                                                         layout.has_bias, strict=True)]
    blocks = [layout.slice_of(layer) for layer in range(layout.n_layers)]  # W̃_l's in θ, Ṽ_l's in v
    W_tildes = [theta[..., block].reshape(batch + shape)
                for block, shape in zip(blocks, shapes, strict=True)]
    h_tildes, zs, d1s, h = [], [], [], x
    for layer, W_tilde in enumerate(W_tildes):
        h_tildes.append(_with_ones(h) if layout.has_bias[layer] else h)
        z = h_tildes[-1] @ W_tilde
        if layer < last:
            zs.append(z)
            d1s.append(act.d1(z))
            h = act.fn(z)
    if net.loss_name == "mse":
        probs, delta = None, (z - y) * scale
    else:
        probs = np.exp(z - z.max(axis=-1, keepdims=True))
        probs /= probs.sum(axis=-1, keepdims=True)
        delta = (probs - y) * scale
    weights = [W_tilde[..., :net.sizes[layer], :] for layer, W_tilde in enumerate(W_tildes)]
    weights_t = [np.swapaxes(W, -1, -2) for W in weights]
    deltas, curvatures = [delta], []
    for layer in range(last, 0, -1):
        g_h = deltas[0] @ weights_t[layer]
        curvatures.insert(0, g_h * act.d2(zs[layer - 1]) if curved else None)
        deltas.insert(0, g_h * d1s[layer - 1])
    fused = [net.sizes[layer + 1] == 1 for layer in range(layout.n_layers)]
    owner = object()  # this θ's token: the work arrays' fixed parts hold its δ_l

    def work(shape):
        """This thread's work arrays for products of batch shape `shape` (_work_arrays), their
        δ_l halves filled with this θ's when another θ used them last."""
        entry = _work_arrays(net, x.shape[0], shape, fused)
        if entry[0] is not owner:
            for layer in range(1, last + 1):
                if fused[layer]:
                    entry[2][layer][..., net.sizes[layer + 1]:] = deltas[layer]
            entry[0] = owner
        return entry[1:]

    def apply(v):
        shape = np.broadcast_shapes(batch, v.shape[:-1])
        R_h, G, rz, r_deltas = work(shape)
        V_tildes = [v[..., block].reshape(v.shape[:-1] + s)
                    for block, s in zip(blocks, shapes, strict=True)]
        np.matmul(h_tildes[0], V_tildes[0], out=rz[0])
        for layer in range(1, last + 1):
            np.multiply(d1s[layer - 1], rz[layer - 1], out=R_h[layer])
            np.matmul(h_tildes[layer], V_tildes[layer], out=rz[layer])
            rz[layer] += R_h[layer] @ weights[layer]
        r_delta = r_deltas[last]
        if probs is None:
            np.multiply(rz[last], scale, out=r_delta)
        else:
            np.multiply(probs, rz[last] - np.sum(probs * rz[last], axis=-1, keepdims=True),
                        out=r_delta)
            r_delta *= scale
        out = np.empty(shape + (net.n_params,))
        for layer in range(last, -1, -1):
            r_w = np.swapaxes(h_tildes[layer], -1, -2) @ r_delta
            if layer:
                r_w[..., :net.sizes[layer], :] += (
                    np.swapaxes(R_h[layer], -1, -2) @ deltas[layer])
                below = r_deltas[layer - 1]
                V_t = np.swapaxes(V_tildes[layer][..., :net.sizes[layer], :], -1, -2)
                if fused[layer]:
                    np.matmul(G[layer], _stack(weights_t[layer], V_t), out=below)
                else:
                    np.matmul(r_delta, weights_t[layer], out=below)
                    below += deltas[layer] @ V_t
                below *= d1s[layer - 1]
                if curvatures[layer - 1] is not None:
                    rz[layer - 1] *= curvatures[layer - 1]
                    below += rz[layer - 1]
                r_delta = below
            out[..., blocks[layer]] = r_w.reshape(r_w.shape[:-2] + (-1,))
        return out

    return apply


# Per thread: net → {(N, batch shape): [owner θ's token, Rh, G, Rz, Rδ]}, the work arrays of
# mlp_hvp_at's products, kept while the net lives (a WeakKeyDictionary), two shapes per net
# (a block's and its remainder's). Kept across θ: a search builds mlp_hvp_at at every iterate
# and applies it a few times there, and fresh arrays per θ took a page fault on every first
# touch (the census's 64-32-10 net: 0.8 ms against 0.33 ms for a product right after a build)
_WORK = threading.local()


def _work_arrays(net, n_rows, shape, fused):
    """The entry [owner, Rh, G, Rz, Rδ] of this thread for (net, n_rows, shape): Rh_l
    (…, N, d_l) and G_l = Rδ_l or [Rδ_l, δ_l] where fused[l] (…, N, (1 + fused_l)·d_{l+1}) for
    l ≥ 1, Rz_l (…, N, d_{l+1}) for every layer, Rδ_l (…, N, d_{l+1}) for every layer (an
    array of its own for l = 0, else the Rδ_l part of G_l); owner None when new."""
    spaces = _WORK.__dict__.setdefault("nets", weakref.WeakKeyDictionary()).setdefault(net, {})
    key = (n_rows, shape)
    if key not in spaces:
        if len(spaces) == 2:
            spaces.pop(next(iter(spaces)))
        sizes, last = net.sizes, len(net.sizes) - 2
        R_h = [None] + [np.empty(shape + (n_rows, sizes[l])) for l in range(1, last + 1)]
        G = [None] + [np.empty(shape + (n_rows, (1 + fused[l]) * sizes[l + 1]))
                      for l in range(1, last + 1)]
        rz = [np.empty(shape + (n_rows, k)) for k in sizes[1:]]
        r_deltas = [np.empty(shape + (n_rows, sizes[1]))] + [G[l][..., :sizes[l + 1]]
                                                             for l in range(1, last + 1)]
        spaces[key] = [None, R_h, G, rz, r_deltas]
    return spaces[key]


def _with_ones(h):
    """h̃ = [h, 1]: h (..., N, d) with a column of ones appended, (..., N, d + 1)."""
    return np.concatenate([h, np.ones(h.shape[:-1] + (1,))], axis=-1)


def _stack(top, bottom):
    """[top; bottom] along the rows of matrices with broadcast batch dimensions."""
    batch = np.broadcast_shapes(top.shape[:-2], bottom.shape[:-2])
    return np.concatenate([np.broadcast_to(top, batch + top.shape[-2:]),
                           np.broadcast_to(bottom, batch + bottom.shape[-2:])], axis=-2)
