"""The exact Hessian of an MLP's loss from the network's structure: H = G + R.

Notation of engine.nets.passes (layers l = 0 … L−1): h̃_l = [h_l, 1] (h_0 = x), W̃_l = [W_l; b_l]
(d_l + 1, d_{l+1}), θ's block of layer l; z_l = h̃_l W̃_l, h_{l+1} = σ(z_l) for hidden l < L−1,
f = z_{L−1}; its forward_augmented is this module's forward sweep. Per sample n,
J_l = ∂z_l/∂θ has nonzero columns only for layers ≤ l, and its own-layer columns are
Kronecker-sparse:
∂z_{l,j}/∂W̃_l[a,i] = h̃_{l,a}·[i = j]. Backprop: δ_l = ∂L/∂z_l,
g_l = δ_{l+1} W_{l+1}ᵀ = ∂L/∂h_{l+1}, δ_l = g_l ⊙ σ'(z_l) for hidden l.

    H = Σ_n J_{L−1}ᵀ Λ_n J_{L−1}                       G, Gauss–Newton
      + Σ_{hidden l} Σ_n J_lᵀ diag(g_l ⊙ σ''(z_l)) J_l  curvature of σ
      + Σ_{hidden l} (C_l + C_lᵀ)                      z_{l+1} = h_{l+1} W_{l+1} is bilinear
    C_l[(W_{l+1})_{ij}, :] = Σ_n δ_{l+1,n,j} σ'(z_{l,n,i}) J_l[n,i,:]

with Λ_n = ∇²ℓ_n = I/N for mse and (diag(p_n) − p_n p_nᵀ)/N for softmax cross-entropy. The last
two lines are R = Σ_{n,k} (∂L/∂f_{nk}) ∇²f_{nk}; R has no block for the output layer with itself
(f is linear in W̃_{L−1}) and none for a bias with a later weight.

A bias-free layer (engine.nets.layout) has h̃_l = h_l and W̃_l = W_l: every formula holds with
its a_l = d_l rows (its own block has no bias row), nothing else changes.

J_l is never stored densely: K_l = [E_l | h̃_l] (d_{l+1}, N, o_l + a_l), o_l = offsets[l],
a_l = d_l + β_l (β_l = 1 with a bias, 0 without), holds its columns of layers < l (E_l)
and, once per unit, the values of its Kronecker-sparse own block. Every sum over samples is
then a BLAS product on K_l: the σ'' term costs O(N·d_{l+1}·(o_l + a_l)²) instead of
O(N·d_{l+1}·o_{l+1}²), and R's blocks are assembled from small per-layer sums after the last
chunk.

Exact symmetry by construction (eigvalsh, MINRES and least_squares assume it): G is accumulated
in one triangle by BLAS syrk and mirrored, R's off-diagonal blocks are added together with their
transposes and its small diagonal Grams are symmetrized where they are formed. No final
(H + Hᵀ)/2, which would allocate two more n × n arrays.

Cost: one vectorized forward-mode sweep (no loop over samples or units), O(N·k·n²) for G plus
O(Σ_l N·d_{l+1}·(o_l + a_l)²) for R; memory O(n² + chunk·n·width), samples processed in chunks.
"""
from __future__ import annotations

import functools

import numpy as np
import scipy.linalg.blas

from engine.nets.passes import forward_augmented

# Per-chunk budget of float64 entries alive during the sweep (2¹⁸ = 2 MB; 290 samples of
# 1-10-10-1, 77 of 1-20-20-1). Large enough for efficient BLAS calls, small enough that malloc
# recycles the same heap blocks chunk after chunk. Whole-N sweeps (~10–20 MB of temporaries)
# made glibc return the memory to the OS after every call and fault it back in on the next
# (1.3–1.9k page faults per call at 1.5–3 µs each in this VM): 1.3–1.8× slower.
_CHUNK_ENTRIES = 2**18


def gauss_newton(net, theta, x, y) -> np.ndarray:
    """G = Σ_n J_nᵀ Λ_n J_n, shape (n, n), J_n = ∂f(x_n)/∂θ, Λ_n = ∇²ℓ_n (module docstring).

    Positive semi-definite; the matrix Levenberg–Marquardt approximates H by (Schraudolph 2002
    for the generalized Gauss–Newton of any convex loss). Raises ValueError for a batched θ
    or data the network refuses (net.check_theta, net.check_data). Cost O(N·k·n²).
    """
    return _sweep(net, theta, x, y, "gauss_newton")


def hessian_parts(net, theta, x, y) -> tuple[np.ndarray, np.ndarray]:
    """(G, R), each (n, n) and exactly symmetric, with H = ∇²L = G + R (module docstring).
    Raises ValueError as gauss_newton. Cost: exact_hessian's, plus one more n × n array."""
    return _sweep(net, theta, x, y, "parts")


def exact_hessian(net, theta, x, y) -> np.ndarray:
    """H = ∇²L(θ) = G + R, shape (n, n), exactly symmetric.

    Equals engine.derivatives.autodiff.mlp_hessian_autograd to rounding, and faster: `make bench`
    measures
    by how much (the README's table). Raises ValueError as gauss_newton. Cost: module docstring.
    """
    return _sweep(net, theta, x, y, "hessian")


def output_jacobian(net, theta, x) -> np.ndarray:
    """Per-sample output Jacobian ∂f(x_n)/∂θ, shape (N, k, n), by one forward-mode sweep.
    Raises ValueError for a batched θ or an x the network refuses. Cost O(N·k·n + Σ N·d·offsets).
    """
    theta, x, _ = _check(net, theta, x, None)
    params = _params(net, theta)
    h_tilde, d1s, _, _ = forward_augmented(net.activation, params, x, second=False)
    J = _output_jacobian(net, params, h_tilde, d1s)
    return np.ascontiguousarray(J.transpose(1, 0, 2))


def _sweep(net, theta, x, y, want):
    """G ('gauss_newton'), (G, R) ('parts') or G + R ('hessian'), accumulated over chunks."""
    theta, x, y = _check(net, theta, x, y)
    n, n_samples = net.n_params, x.shape[0]
    chunk = max(1, min(n_samples, _CHUNK_ENTRIES // _entries_per_sample(net)))
    params = _params(net, theta)
    # per hidden layer, the sums over samples [Q_l, CZ_l] that R's blocks are made of: small,
    # so R is assembled once after the last chunk
    sums = None if want == "gauss_newton" else [[None, None] for _ in params[1:]]
    G = np.zeros((n, n))
    for start in range(0, n_samples, chunk):
        rows = slice(start, start + chunk)
        _accumulate(net, params, x[rows], y[rows], n_samples, G, sums)
    _mirror_upper(G)
    if sums is None:
        return G
    R = np.zeros((n, n)) if want == "parts" else G
    offsets = net.layout.offsets
    for layer, (Q, CZ) in enumerate(sums):
        if Q is not None:
            _add_sigma_curvature(R, Q, offsets[layer], offsets[layer + 1])
        _add_bilinear(R, CZ, offsets[layer], offsets[layer + 1],
                      net.layout.weight_slice(layer + 1))
    return (G, R) if want == "parts" else G


def _entries_per_sample(net):
    """float64 entries alive per sample at the peak (layer l → l + 1): K_l and its s-scaled copy,
    W_{l+1}ᵀK_l, P_l and K_{l+1} (c_l = o_l + a_l columns; c_{L−1} = n)."""
    sizes, offsets, n = net.sizes, net.layout.offsets, net.n_params
    beta = net.layout.has_bias
    peak = sizes[-1] * n
    for layer in range(len(sizes) - 2):
        a, d, d_next = sizes[layer] + beta[layer], sizes[layer + 1], sizes[layer + 2]
        c = offsets[layer] + a
        c_next = n if layer == len(sizes) - 3 else offsets[layer + 1] + d + beta[layer + 1]
        peak = max(peak, (2 * d + d_next) * c + a * d + d_next * c_next)
    return peak


def _mirror_upper(G, block=128):
    """Copy the upper triangle of G onto the lower one, in place, block by block."""
    n = G.shape[0]
    for start in range(0, n, block):
        stop = min(start + block, n)
        G[start:stop, :start] = G[:start, start:stop].T
        D = G[start:stop, start:stop]
        # a masked copy reads only the upper triangle and writes only the lower one: 11 µs at
        # n = 97 against 108 µs for fancy indexing with fresh tril_indices (measured)
        np.copyto(D, D.T, where=_strict_lower(stop - start))


@functools.lru_cache(maxsize=4)
def _strict_lower(size):
    mask = np.tri(size, k=-1, dtype=bool)
    mask.flags.writeable = False
    return mask


def _accumulate(net, params, x, y, n_total, G, sums):
    """Add one chunk's share of the 1/N mean to G's upper triangle and (sums not None) to the
    per-layer sums Q_l, CZ_l of the residual part, all in place."""
    h_tilde, d1s, d2s, f = forward_augmented(net.activation, params, x, second=sums is not None)
    if net.loss_name == "mse":
        delta, p = (f - y) / n_total, None
    else:
        e = np.exp(f - f.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        delta = (p - y) / n_total
    deltas, gs = [delta], []
    for layer in range(len(params) - 2, -1, -1):
        gs.append(deltas[-1] @ params[layer + 1][:net.sizes[layer + 1]].T)  # W_{l+1}ᵀ
        deltas.append(gs[-1] * d1s[layer])
    deltas, gs = deltas[::-1], gs[::-1]

    J = _output_jacobian(net, params, h_tilde, d1s, sums, gs, d2s, deltas)  # (k, N, n)
    if p is not None:
        # Σ_k p_k (J_k − ū)ᵀ(J_k − ū) = J_nᵀ(diag p − ppᵀ)J_n with ū = Σ_k p_k J_k: one PSD Gram,
        # no cancellation between two large terms when p is nearly one-hot
        u = np.einsum("kn,knp->np", p.T, J)
        J -= u[None]
        J *= np.sqrt(p.T)[:, :, None]
    # G += AᵀA/N by BLAS syrk in place, on the upper triangle of G (the lower one of the
    # Fortran-ordered view Gᵀ that syrk takes): no n × n temporary per chunk
    A = J.reshape(-1, J.shape[2])
    scipy.linalg.blas.dsyrk(1.0 / n_total, A.T, beta=1.0, c=G.T, trans=0, lower=1,
                            overwrite_c=1)


def _output_jacobian(net, params, h_tilde, d1s, sums=None, gs=None, d2s=None, deltas=None):
    """Forward-mode sweep J_0 → J_{L−1} (k, N, n), adding each hidden layer's residual sums
    Q_l = [K_iᵀ diag(g ⊙ σ'') K_i]_i and CZ_l = δ_{l+1}ᵀ(σ'·K) on the way (sums None: J only).
    Row (i, n) of K_l holds J_l[n, i, :o_l] and then h̃_{l,n}, the values of J_l[n, i, :] in the
    own columns o_l + (a·d_{l+1} + i)."""
    offsets, n_hidden = net.layout.offsets, len(params) - 1
    n_samples = h_tilde[0].shape[0]
    if n_hidden:
        K = np.repeat(h_tilde[0][None], net.sizes[1], axis=0)
    for layer in range(n_hidden):
        d1, o, o_next = d1s[layer], offsets[layer], offsets[layer + 1]
        d, a = K.shape[0], K.shape[2] - o
        if sums is not None:
            s = gs[layer] * d2s[layer]
            if np.any(s):  # relu and linear have σ'' = 0: no curvature term at all
                _add_to(sums[layer], 0, np.matmul((K * s.T[:, :, None]).transpose(0, 2, 1), K))
        K *= d1.T[:, :, None]  # now σ'·J_l, compressed; J_l itself is not needed any more
        if sums is not None:
            _add_to(sums[layer], 1, np.matmul(deltas[layer + 1].T, K))
        W_next = params[layer + 1][:d]  # W_{l+1}, without the bias row where it has one
        d_next = W_next.shape[1]
        last = layer == n_hidden - 1
        n_cols = net.n_params if last else o_next + h_tilde[layer + 1].shape[1]
        K_next = np.empty((d_next, n_samples, n_cols))
        if o:  # columns < l: J_{l+1} = W_{l+1}ᵀ (σ'·J_l)
            WK = (W_next.T @ K.reshape(d, -1)).reshape(d_next, n_samples, o + a)
            K_next[:, :, :o] = WK[:, :, :o]
        # own columns of layer l: ∂z_{l+1,j}/∂W̃_l[b,i] = W_{l+1}[i,j]·σ'_{n,i} h̃_{n,b}, built
        # from h̃ and σ' (contiguous) rather than from K's last columns (a strided transpose)
        P = (h_tilde[layer][:, :, None] * d1[:, None, :]).reshape(n_samples, a * d)
        w_tiled = np.tile(W_next.T, (1, a))  # [j, (b, i)] ↦ W_{l+1}[i, j]
        np.multiply(P[None], w_tiled[:, None, :], out=K_next[:, :, o:o_next])
        if not last:
            K_next[:, :, o_next:] = h_tilde[layer + 1][None]
        K = K_next
    if not n_hidden:
        K = np.empty((net.sizes[-1], n_samples, net.n_params))
    k, a = net.sizes[-1], h_tilde[-1].shape[1]
    own = K[:, :, offsets[-2]:].reshape(k, n_samples, a, k)  # a view: splits the last axis
    own[...] = 0.0
    diag = np.arange(k)
    own[diag, :, :, diag] = h_tilde[-1]  # ∂f_j/∂W̃_{L−1}[a, i] = h̃_a·[i = j]
    return K


def _add_to(pair, index, value):
    pair[index] = value if pair[index] is None else pair[index] + value


def _add_sigma_curvature(R, Q, o, o_next):
    """R[:o_next, :o_next] += Σ_{n,i} s_{n,i} J_l[n,i,:]ᵀ J_l[n,i,:] (s = g_l ⊙ σ''(z_l)) from
    Q (d, c, c), Q_i = K_iᵀ diag(s_i) K_i: blocks (< l, < l), (< l, own), (own, own) of unit i."""
    d, c, _ = Q.shape
    a = c - o
    # (own, own) is diagonal in the unit: R[(a, i), (b, i)] += T[i, a, b], added through a view
    # of R's block with both axes split (splitting axes of a strided array never copies)
    diag = np.arange(d)
    T = Q[:, o:, o:]
    R[o:o_next, o:o_next].reshape(a, d, a, d)[:, diag, :, diag] += 0.5 * (T + T.transpose(0, 2, 1))
    if o:
        M = Q[:, :o, :o].sum(axis=0)
        R[:o, :o] += 0.5 * (M + M.T)
        X = Q[:, :o, o:].transpose(1, 2, 0).reshape(o, a * d)  # [p, (b, i)]
        R[:o, o:o_next] += X
        R[o:o_next, :o] += X.T


def _add_bilinear(R, CZ, o, o_next, w_rows):
    """C_l + C_lᵀ, C_l[(W_{l+1})_{ij}, :] = Σ_n δ_{l+1,n,j} σ'_{n,i} J_l[n,i,:] (columns ≤ l),
    from CZ (d, d_next, o + a) = Σ_n δ_{n,j} (σ'·K)[i, n, :]."""
    d, d_next, c = CZ.shape
    a = c - o
    # own columns of layer l meet W_{l+1}'s row i only in unit i: R[(i, j), (a, i)] += Z[i, j, a]
    diag = np.arange(d)
    Z = CZ[:, :, o:]
    R[w_rows, o:o_next].reshape(d, d_next, a, d)[diag, :, :, diag] += Z
    R[o:o_next, w_rows].reshape(a, d, d, d_next)[:, diag, diag, :] += Z.transpose(2, 0, 1)
    if o:
        C = CZ[:, :, :o].reshape(d * d_next, o)
        R[w_rows, :o] += C
        R[:o, w_rows] += C.T


def _params(net, theta):
    """[W̃_l] of shape (d_l + β_l, d_{l+1}): θ's layer blocks are exactly these, C-ordered."""
    sizes = net.sizes
    return [theta[net.layout.slice_of(layer)].reshape(sizes[layer] + beta, sizes[layer + 1])
            for layer, beta in enumerate(net.layout.has_bias)]


def _check(net, theta, x, y):
    """(θ, x, y) checked and cast by the network's own entry checks (the same messages as
    MLP.loss), θ one vector: the structured sweep takes no batch of θ."""
    theta = net.check_theta(theta)
    if theta.ndim != 1:
        raise ValueError(
            f"theta has shape {theta.shape}; the structured Hessian takes one parameter vector "
            f"({net.n_params},); loop over a batch yourself"
        )
    x, y = net.check_data(x, y)
    return theta, x, y
