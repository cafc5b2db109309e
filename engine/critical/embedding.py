"""Critical points with known answers: a critical point of a smaller MLP embedded in a larger one.

Two constructions (Fukumizu & Amari 2000; Şimşek et al. 2021) keep the network function and make
every partial derivative of the larger network's loss vanish, so a critical point θ* of the
smaller network (∇L_small(θ*) = 0) becomes a critical point of the larger one, with no search.
Hidden layer `layer` is sizes[layer] (1 ≤ layer ≤ len(sizes) − 2); unit i has incoming column
w̃_i = (W_{layer−1}[:, i], b_{layer−1}[i]) and outgoing row a_i = W_layer[i, :].

split_unit  (duplicate) a new unit copies w̃_i; the outgoing row is split, a_i ← s·a_i and the
            copy's a_i ← (1 − s)·a_i. Both units compute h_i, so f is unchanged; the gradients
            of the two outgoing rows are the old one (0), those of the incoming columns s and
            (1 − s) times the old one (0). Every s ∈ ℝ gives a critical point: the embedded
            points form a line of critical points at one loss, and its direction (+a_i on one
            outgoing row, −a_i on the other) is an exact null vector of H.
            Known index when the unit feeds one unit (d_{layer+1} = 1, e.g. the last hidden
            layer of a net with one output; Fukumizu & Amari 2000, by Sylvester's law of inertia
            in the coordinates w̄ = s·w̃₁ + (1 − s)·w̃₂, u = w̃₁ − w̃₂, a = a₁ + a₂,
            β = (1 − s)a₁ − s·a₂, where the u–β block is ∂L/∂w̃_i / a = 0): with
            B = Σ_n (∂L/∂h_{i,n}) σ''(z_{i,n}) x̃_n x̃_nᵀ, shape (d_{layer−1} + 1,)², taken in the
            smaller network (x̃_n: the unit's input with a trailing 1), the Hessian is congruent
            to diag(H_small, s(1 − s)·B, 0), so
                n₋(H) = n₋(H_small) + n₋(s(1 − s)B),  n₊ likewise, one more zero.
            Curvature along the split direction: s(1 − s)·ξᵀBξ. For s ∈ (0, 1) a minimum with
            B ≻ 0 stays a (degenerate) minimum; for s outside [0, 1] it becomes a saddle.
add_units   new units with zero incoming weights, bias `bias` and zero outgoing rows. Their
            δ is 0 (zero outgoing row); the gradient of their outgoing row is
            tanh(bias)·∂L/∂b_{layer} = 0 at a critical point (σ(bias) is a constant input).
            Known spectrum for σ(0) = 0 (tanh, bias 0): H is block diagonal, H_small and one
            block [[0, C], [Cᵀ, 0]] per new unit, C = σ'(0)·Σ_n x̃_nᵀ δ_{layer,n}
            ((d_{layer−1} + 1) × d_{layer+1}, δ_layer = ∂L/∂z of the layer the unit feeds), so
                eig(H) = eig(H_small) ∪ {±σ_k(C)} per new unit ∪ zeros.
            C's bias row is ∂L/∂b_layer = 0; with one output C has rank ≤ 1: each new unit adds
            exactly one negative eigenvalue −‖C‖ when C ≠ 0.

embed(…) grows a network to `sizes_big` by repeated split_unit (method 'split', unit and share
drawn from rng, shares uniform in (0, 1) unless given) or add_units ('zero').

effective_widths(…) goes the other way: the hidden widths of the smallest network computing the
same function for every input, read from the weights alone — a unit with a zero outgoing row
(dead) or zero incoming weights (a constant, absorbed by the next layer's bias) is dropped, and
units with the same incoming column, up to sign for an odd σ (σ(−z) = −σ(z): h_j = −h_i), count
once. A critical point whose effective widths are smaller than its network's is an embedded
critical point of the smaller network (for L + (λ/2)‖θ‖² too: the decay then splits a
duplicated unit's outgoing row equally, so the smaller network's decay is re-weighted by the
multiplicities). Searches reach such points slowly: the copies merge along directions of
curvature ~λ.
Cost: O(n_params) per construction; `split_curvature` one forward and backward pass;
effective_widths O(Σ_l d_l²·d_{l−1}).
Errors: ValueError for sizes that do not nest, a layer that is not hidden, a unit out of range.
"""
from __future__ import annotations

import numpy as np

from engine.nets.activations import get_activation
from engine.nets.layout import Layout

EMBEDDINGS = ("split", "zero")


def split_unit(sizes, theta, layer, unit, share=0.5):
    """(sizes', θ') with unit `unit` of hidden layer `layer` duplicated (module docstring).

    θ (n,) → θ' (n + d_{layer−1} + 1 + d_{layer+1},); the copy is appended as the layer's last
    unit. share s: the original keeps s·a_i, the copy gets (1 − s)·a_i; any finite s.
    """
    layout, theta = _check(sizes, theta, layer)
    if not 0 <= int(unit) < layout.sizes[layer] or int(unit) != unit:
        raise ValueError(f"unit={unit!r} is out of range: hidden layer {layer} has units "
                         f"0…{layout.sizes[layer] - 1}")
    if not np.isfinite(share):
        raise ValueError(f"share={share!r} must be a finite number, e.g. 0.5")
    params = [(np.array(W), np.array(b)) for W, b in layout.unpack(theta)]
    W_in, b_in = params[layer - 1]
    W_out, b_out = params[layer]
    row = W_out[unit].copy()
    W_out[unit] = share * row
    params[layer - 1] = (np.column_stack([W_in, W_in[:, unit]]), np.append(b_in, b_in[unit]))
    params[layer] = (np.vstack([W_out, (1.0 - share) * row]), b_out)
    grown = _grown(layout, layer, 1)
    return grown.sizes, grown.pack(params)


def add_units(sizes, theta, layer, count=1, bias=0.0):
    """(sizes', θ') with `count` units appended to hidden layer `layer`: zero incoming weights,
    bias `bias`, zero outgoing rows (module docstring). θ' has count·(d_{layer−1} + 1 +
    d_{layer+1}) more entries."""
    layout, theta = _check(sizes, theta, layer)
    if int(count) != count or count < 1:
        raise ValueError(f"count={count!r} must be a positive integer")
    if not np.isfinite(bias):
        raise ValueError(f"bias={bias!r} must be a finite number, e.g. 0.0")
    count = int(count)
    params = [(np.array(W), np.array(b)) for W, b in layout.unpack(theta)]
    W_in, b_in = params[layer - 1]
    W_out, b_out = params[layer]
    params[layer - 1] = (np.column_stack([W_in, np.zeros((W_in.shape[0], count))]),
                         np.append(b_in, np.full(count, float(bias))))
    params[layer] = (np.vstack([W_out, np.zeros((count, W_out.shape[1]))]), b_out)
    grown = _grown(layout, layer, count)
    return grown.sizes, grown.pack(params)


def embed(sizes_small, theta_small, sizes_big, *, method="split", rng=None, shares=None):
    """θ (n_big,) for the network `sizes_big`, the critical point θ_small of `sizes_small`
    embedded by growing each hidden layer one unit at a time, first layer first.

    method 'split': each new unit duplicates a unit of the current layer drawn by rng (a
    numpy.random.Generator, required), with share s from `shares` (an iterable, one per new
    unit) or uniform in (0, 1) from rng. method 'zero': add_units with bias 0.
    Returns (θ_big, log) with log a list of (layer, unit, share) for 'split', (layer, None,
    None) for 'zero' — how the point was built, so its known index can be recomputed.
    """
    if method not in EMBEDDINGS:
        raise ValueError(f"method={method!r} is unknown; choose one of {list(EMBEDDINGS)}")
    small, big = Layout(tuple(sizes_small)), Layout(tuple(sizes_big))
    if (len(small.sizes) != len(big.sizes) or small.sizes[0] != big.sizes[0]
            or small.sizes[-1] != big.sizes[-1]
            or any(s > b for s, b in zip(small.sizes, big.sizes, strict=True))):
        raise ValueError(f"sizes {small.sizes} do not embed into {big.sizes}: give the same "
                         "depth, input and output widths, and hidden widths that do not shrink")
    if method == "split" and not isinstance(rng, np.random.Generator):
        raise ValueError("method='split' needs rng, a numpy.random.Generator")
    shares = iter(()) if shares is None else iter(shares)
    sizes, theta, log = small.sizes, np.asarray(theta_small, dtype=np.float64), []
    for layer in range(1, len(big.sizes) - 1):
        while sizes[layer] < big.sizes[layer]:
            if method == "zero":
                sizes, theta = add_units(sizes, theta, layer)
                log.append((layer, None, None))
                continue
            unit = int(rng.integers(sizes[layer]))
            share = next(shares, None)
            share = float(rng.uniform(0.0, 1.0) if share is None else share)
            sizes, theta = split_unit(sizes, theta, layer, unit, share)
            log.append((layer, unit, share))
    return theta, log


def effective_widths(sizes, theta, activation, *, rtol=1e-6, bias=True) -> tuple[int, ...]:
    """Per hidden layer, the number of units left after dropping dead and constant units and
    merging duplicates (module docstring), for the MLP `sizes` (biases: `bias`, as
    engine.nets.layout) at θ (n,). A unit's incoming column w̃_i lacks the bias entry where its
    layer is bias-free; constant units (all σ(0) there) are absorbed only by a next layer with
    a bias, else they are one unit — none when σ(0) = 0.

    Unit i of a hidden layer is dead when ‖a_i‖ ≤ rtol·max_j ‖a_j‖ (outgoing rows), constant when
    its incoming weights (bias excluded) have norm ≤ rtol·max_j of the same; units i, j are
    copies when ‖w̃_i − s·w̃_j‖ ≤ rtol·max(‖w̃_i‖, ‖w̃_j‖) with s = 1, or s = ±1 for an odd σ
    (checked numerically). Copies are grouped transitively. Removing units of one layer does
    not change the widths found in the others (each layer is read from its own weights).
    Raises ValueError for a θ that does not fit `sizes` or an unknown activation.
    """
    layout = Layout(tuple(sizes), bias)
    theta = np.asarray(theta, dtype=np.float64)
    layout.check(theta)
    if theta.ndim != 1:
        raise ValueError(f"theta has shape {theta.shape}; give one parameter vector (n,)")
    act = get_activation(activation)
    sigma0 = float(act.fn(np.zeros(1))[0])
    probe = np.array([0.3, 1.1, 2.7])
    signs = (1.0, -1.0) if np.allclose(act.fn(-probe), -act.fn(probe), rtol=1e-12) else (1.0,)
    params = layout.unpack(theta)
    widths = []
    for layer in range(1, len(layout.sizes) - 1):
        W_in, b_in = params[layer - 1]
        cols = (W_in if b_in is None else np.vstack([W_in, b_in[None, :]])).T  # w̃_i per row
        rows = np.linalg.norm(params[layer][0], axis=1)  # ‖a_i‖
        weights = np.linalg.norm(W_in, axis=0)
        alive = rows > rtol * rows.max()
        live = alive & (weights > rtol * weights.max())
        # a constant unit outputs σ(b_i): absorbed by the next layer's bias if it has one;
        # without, the constant units (all σ(0) when bias-free) act as one unit unless σ(0) = 0
        constant = np.flatnonzero(alive & ~live)
        outputs = np.full(constant.size, sigma0) if b_in is None else act.fn(b_in[constant])
        if params[layer][1] is None and np.any(outputs != 0):
            live = live.copy()
            live[constant[0]] = True  # one unit carries their sum Σ_i σ(b_i)·a_i
        groups = []                                      # one representative column per group
        for col in cols[live]:
            scale = np.linalg.norm(col)
            if not any(np.linalg.norm(col - s * rep) <= rtol * max(scale, np.linalg.norm(rep))
                       for rep in groups for s in signs):
                groups.append(col)
        widths.append(len(groups))
    return tuple(widths)


def split_curvature(net, theta, x, y, layer, unit) -> np.ndarray:
    """B = Σ_n (∂L/∂h_{i,n}) σ''(z_{i,n}) x̃_n x̃_nᵀ, shape (d_{layer−1} + 1,)², for unit i of
    hidden layer `layer` of `net` at θ (the smaller network): split_unit with share s adds the
    inertia of s(1 − s)·B to that of ∇²L (module docstring).
    Cost: one forward and backward pass."""
    layout, theta = _check(net.sizes, theta, layer)
    act = get_activation(net.activation)
    params = layout.unpack(theta)
    h, pre = np.asarray(x, dtype=np.float64), []
    for W, b in params:
        pre.append(h)
        z = h @ W + b
        h = act.fn(z) if len(pre) < len(params) else z
    n_samples = h.shape[0]
    if net.loss_name != "mse":
        raise ValueError("split_curvature supports loss_name='mse' only")
    delta = (h - np.asarray(y, dtype=np.float64).reshape(h.shape)) / n_samples  # ∂L/∂f
    for k in range(len(params) - 1, layer - 1, -1):  # back to ∂L/∂h_layer
        g_h = delta @ params[k][0].T
        if k > layer:
            z = pre[k] @ params[k - 1][0] + params[k - 1][1]
            delta = g_h * act.d1(z)
    x_in = pre[layer - 1]
    z_i = x_in @ params[layer - 1][0][:, unit] + params[layer - 1][1][unit]
    weight = g_h[:, unit] * act.d2(z_i)
    x_tilde = np.column_stack([x_in, np.ones(n_samples)])
    return (x_tilde * weight[:, None]).T @ x_tilde


def _check(sizes, theta, layer):
    layout = Layout(tuple(sizes))
    theta = np.asarray(theta, dtype=np.float64)
    layout.check(theta)
    if theta.ndim != 1:
        raise ValueError(f"theta has shape {theta.shape}; give one parameter vector (n,)")
    if int(layer) != layer or not 1 <= layer <= len(layout.sizes) - 2:
        raise ValueError(f"layer={layer!r} is not a hidden layer of {layout.sizes}; choose one "
                         f"of 1…{len(layout.sizes) - 2}")
    return layout, theta


def _grown(layout, layer, count):
    sizes = list(layout.sizes)
    sizes[layer] += count
    return Layout(tuple(sizes))
