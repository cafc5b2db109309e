"""Spectral information about a symmetric operator H without forming H: PyHessian's tools on NumPy
+ autograd, for the Hessian of any loss function of a flat θ or of an MLP.

For nets with ~10⁵ parameters H (10¹⁰ entries) cannot be stored; every tool here only applies H
to vectors, through Hessian-vector products (HVPs) built once per θ.

  symmetric_operator   the one LinearOperator builder: H from a function v ↦ Hv
  hvp_operator         ∇²L(θ) of a loss function (autograd's make_hvp) or of an MLP (the exact
                       R-operator, engine.derivatives.autodiff.mlp_hvp_at) as a LinearOperator
  (engine.spectra.eigenpairs: the top-k / bottom-k eigenpairs by Lanczos, verified)
  hutchinson_trace     tr H ≈ mean of zᵀHz over Rademacher z, with its standard error
  hutchpp_trace        Hutch++: the top of H exactly on a sketched subspace, Hutchinson on the rest
  slq_density          spectral density by stochastic Lanczos quadrature

SLQ (Ubaru, Chen, Saad 2017; Ghorbani et al. 2019): for a unit probe v, m Lanczos steps give a
tridiagonal T_m = QΘQᵀ; nodes θ_j with weights τ_j = Q_{0j}² form the m-point Gauss quadrature of
the measure Σᵢ (v·uᵢ)² δ(λ − λᵢ), exact for polynomials of degree ≤ 2m − 1. With v = z/√n,
z Rademacher, E[(v·uᵢ)²] = 1/n, so the average over probes estimates ρ(λ) = (1/n) Σᵢ δ(λ − λᵢ)
and its moments Σ w·nodeᵏ estimate (1/n)·tr Hᵏ.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse.linalg

from engine.adapters.base import FlatLoss
from engine.derivatives.autodiff import check_vector, hvp_at, mlp_hvp_at
from engine.io.errors import check_finite, check_rng
from engine.nets.model import MLP

# Columns per batched HVP in matmat: B directions share one R-operator pass (fewer Python-level
# operations), but every stored R-activation grows to B·N·width. Measured per product on the `make
# bench` nets (one core, side by side, with mlp_hvp_at's work arrays): B = 2 takes 0.88–1.01× the
# time of one by one (before those work arrays, 2×: page faults); fewer when B·N·Σwidths would
# pass 2²² entries (32 MB per stored activation stack): on all of MNIST (N = 60000) the columns go
# one by one.
_MATMAT_BLOCK = 2
_MATMAT_ENTRIES = 2**22
# SLQ runs as many probes' Lanczos recursions at once as keep their bases within 2²⁴ entries
_LANCZOS_ENTRIES = 2**24


def symmetric_operator(matvec, n: int, matmat=None) -> scipy.sparse.linalg.LinearOperator:
    """A symmetric (n, n) float64 LinearOperator from matvec: v (n,) ↦ Hv (n,), and optionally
    matmat: V (n, B) ↦ HV (n, B) (default: column by column). rmatvec is matvec (Hᵀ = H), which
    scipy's solvers (eigsh, minres, lsmr) rely on. Raises ValueError for n < 1 or a matvec (matmat)
    that is not callable."""
    if not (isinstance(n, (int, np.integer)) and n >= 1):
        raise ValueError(f"n={n!r} must be a positive integer (the operator's size)")
    if not callable(matvec) or not (matmat is None or callable(matmat)):
        raise ValueError(f"matvec={matvec!r}, matmat={matmat!r}: give functions v ↦ Hv, V ↦ HV")

    def mv(v):
        return np.asarray(matvec(np.asarray(v, dtype=np.float64).ravel()), dtype=np.float64)

    def mm(V):
        V = np.asarray(V, dtype=np.float64)
        if matmat is not None:
            return np.asarray(matmat(V), dtype=np.float64)
        return np.stack([mv(V[:, j]) for j in range(V.shape[1])], axis=1)

    return scipy.sparse.linalg.LinearOperator((n, n), matvec=mv, rmatvec=mv, matmat=mm,
                                              dtype=np.float64)


def hvp_operator(model, theta, x=None, y=None) -> scipy.sparse.linalg.LinearOperator:
    """H(θ) = ∇²L(θ) as a symmetric (n, n) LinearOperator, H never formed.

    model: a loss function `loss(theta) -> scalar` (autograd-differentiable; x and y must then be
    None: the function carries its data), an MLP with its data (x, y), L = net.loss(θ, x, y), or
    a FlatLoss (engine.adapters: a torch, jax or autograd model; its stacked products serve
    matmat).
    θ: one parameter vector (n,), cast to float64.
    Loss function: autograd's make_hvp traces the gradient's graph once at θ; each product is
    one reverse pass over it (≈ 2 gradients; matmat goes column by column). MLP: the exact
    R-operator (engine.derivatives.autodiff.mlp_hvp_at) keeps the forward and backward passes at
    θ; each product is at most 6 matrix products per layer and no graph (0.67–1.00× the time of
    jax.jit of jvp∘grad on this homework's nets, one CPU each, `make bench`), and matmat runs
    blocks of columns through one pass. One name for both: the caller says what the model is,
    the engine picks the fastest exact route it has for it.
    Raises ValueError for a batched or non-finite θ, data given with a function (or missing for
    an MLP); scipy raises ValueError ('dimension mismatch') for a vector of the wrong length.
    """
    if isinstance(model, MLP):
        if x is None or y is None:
            raise ValueError("hvp_operator(net, theta, x, y) needs the data x and y of the MLP")
        theta = _one_vector(model.check_theta(theta))
        x, y = model.check_data(x, y)
        apply = mlp_hvp_at(model, theta, x, y)
        n = theta.size
        block = max(1, min(_MATMAT_BLOCK, _MATMAT_ENTRIES // (len(x) * sum(model.sizes[1:]))))

        def matmat(V):
            return np.concatenate([apply(np.ascontiguousarray(V[:, start:start + block].T)).T
                                   for start in range(0, V.shape[1], block)], axis=1)

        return symmetric_operator(apply, n, matmat)
    if isinstance(model, FlatLoss):
        if x is not None or y is not None:
            raise ValueError("x and y are only for an MLP; a FlatLoss carries its own data")
        apply = model.hvp_at(_one_vector(check_vector(theta, "theta")))
        return symmetric_operator(apply, model.n_params, lambda V: apply(V.T).T)
    if not callable(model):
        raise ValueError(f"model is a {type(model).__name__}; give a loss function of θ, an "
                         "MLP (with x and y) or a FlatLoss (engine.adapters)")
    if x is not None or y is not None:
        raise ValueError("x and y are only for an MLP; a loss function carries its own data, "
                         "e.g. hvp_operator(lambda t: loss(t, x, y), theta)")
    theta = _one_vector(check_vector(theta, "theta"))
    return symmetric_operator(hvp_at(model, theta), theta.size)


def hutchinson_trace(op, n_probes=100, *, rng) -> tuple[float, float]:
    """(estimate, standard error) of tr H = E[zᵀHz], z with independent ±1 entries (Hutchinson
    1990; PyHessian's trace, Yao et al. 2020). op: a symmetric LinearOperator or (n, n) array.

    Per probe the variance is 2 Σ_{i≠j} H_ij² (zero for diagonal H); the standard error is the
    sample standard deviation over √n_probes. Cost: n_probes HVPs (batched through matmat).
    rng: a numpy Generator (the probes). Raises ValueError for n_probes < 2 or a non-square op.
    """
    op, n = _as_operator(op)
    n_probes = _check_count("n_probes", n_probes, minimum=2)
    check_rng(rng)
    Z = _rademacher(rng, (n, n_probes))
    samples = np.einsum("ip,ip->p", Z, op.matmat(Z))
    return float(samples.mean()), float(samples.std(ddof=1) / np.sqrt(n_probes))


def hutchpp_trace(op, n_products=99, *, rng) -> tuple[float, float]:
    """(estimate, standard error) of tr H by Hutch++ (Meyer, Musco, Musco & Woodruff 2021, Alg. 1)
    from n_products HVPs: k = n_products // 3 each for
      Q = orth(HS), S (n, k) Rademacher     a basis of the dominant part of H's range
      tr(QᵀHQ)                              that part's trace, exact
      Hutchinson on (I − QQᵀ)H(I − QQᵀ)     the rest, with k Rademacher probes G (n, k).
    Where H's spectrum decays (a net's Hessian: a few large eigenvalues, a bulk near 0) the rest
    is small and the variance with it: error O(1/m) against Hutchinson's O(1/√m) in products m.
    The standard error is that of the Hutchinson part (sample std of its k probes / √k; the
    sketched part is exact given S); when k ≥ n the sketch spans ℝⁿ and the trace is exact up
    to rounding (standard error 0). op: a symmetric LinearOperator or (n, n) array; rng: a numpy
    Generator. Cost: 3k products through matmat, a QR of (n, k). Raises ValueError for
    n_products < 6 (two probes are needed for an error bar) or a non-square op.
    """
    op, n = _as_operator(op)
    k = _check_count("n_products", n_products, minimum=6) // 3
    check_rng(rng)
    S = _rademacher(rng, (n, min(k, n)))
    Q, _ = np.linalg.qr(op.matmat(S))
    top = float(np.einsum("ip,ip->", Q, op.matmat(Q)))
    if Q.shape[1] >= n:
        return top, 0.0
    G = _rademacher(rng, (n, k))
    G -= Q @ (Q.T @ G)
    samples = np.einsum("ip,ip->p", G, op.matmat(G))
    return top + float(samples.mean()), float(samples.std(ddof=1) / np.sqrt(k))


def slq_density(op, n_steps=80, n_probes=10, *, rng, grid=None, sigma2=None):
    """Spectral density ρ(λ) = (1/n) Σᵢ δ(λ − λᵢ) of a symmetric op (LinearOperator or (n, n)
    array) by stochastic Lanczos quadrature (module docstring).

    Returns (grid, density, nodes, weights): density on grid (default: 1000 points spanning the
    nodes ± 5σ) is Σ_j w_j 𝒩(λ; node_j, σ²), σ² = sigma2 or 1e-5·(λ_max − λ_min) of the nodes
    (PyHessian's choice). nodes and weights are 1-D, all probes concatenated, Σ w = 1, so that
    Σ w·nodeᵏ is exactly the quadrature's estimate of (1/n)·tr Hᵏ (module docstring).

    Each probe runs min(n_steps, n) Lanczos steps with full re-orthogonalization (after the
    three-term recurrence, one pass against every earlier vector, a second when the first removed
    more than half: Kahan–Parlett's "twice is enough"), so no ghost copies of converged
    eigenvalues appear; a
    probe stops early when its Krylov space is invariant (β_j ≤ 1e-10·‖T‖). The probes' recursions
    advance together, their products one matmat per step (_lanczos). Cost: n_probes·n_steps
    HVPs plus O(n_probes·n_steps²·n) for re-orthogonalization; memory n_steps·n per probe, for
    as many probes at once as fit in 2²⁴ entries (128 MB; at least one).
    Raises ValueError for counts < 1, a non-square op, sigma2 ≤ 0 or a grid that is not a
    finite 1-D array.
    """
    op, n = _as_operator(op)
    n_steps = min(_check_count("n_steps", n_steps, minimum=1), n)
    n_probes = _check_count("n_probes", n_probes, minimum=1)
    check_rng(rng)
    Z = np.stack([_rademacher(rng, n) for _ in range(n_probes)])  # probe by probe, as one at a time
    group = max(1, min(n_probes, _LANCZOS_ENTRIES // (n_steps * n)))
    all_nodes, all_weights = [], []
    for alpha, beta in (pair for start in range(0, n_probes, group)
                        for pair in _lanczos(op, Z[start:start + group] / np.sqrt(n), n_steps)):
        theta, Q = scipy.linalg.eigh_tridiagonal(alpha, beta)
        all_nodes.append(theta)
        all_weights.append(Q[0] ** 2 / n_probes)
    nodes, weights = np.concatenate(all_nodes), np.concatenate(all_weights)

    spread = float(nodes.max() - nodes.min()) or max(abs(float(nodes.max())), 1.0)
    if sigma2 is None:
        sigma2 = 1e-5 * max(1.0, spread)  # PyHessian's smoothing variance
    sigma2 = float(sigma2)
    if not (sigma2 > 0.0 and np.isfinite(sigma2)):
        raise ValueError(f"sigma2={sigma2!r} must be a finite variance > 0")
    sigma = np.sqrt(sigma2)
    if grid is None:
        pad = 5.0 * sigma + 0.01 * spread
        grid = np.linspace(nodes.min() - pad, nodes.max() + pad, 1000)
    grid = np.asarray(grid, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0 or not np.all(np.isfinite(grid)):
        raise ValueError(f"grid has shape {grid.shape}; give a non-empty 1-D array of finite λ")
    return grid, _gauss_sum(grid, nodes, weights, sigma), nodes, weights


def _gauss_sum(grid, nodes, weights, sigma):
    """Σ_j w_j 𝒩(λ; node_j, σ²) at every λ of grid. Only the nodes within 39σ of a block of 128
    grid points enter its sum: beyond, exp(−39²/2) = exp(−760.5) underflows to exactly 0. The
    dense grid × nodes kernel (1000 × 800 for 10 probes) cost more than SLQ's own recursion on
    small nets; this is the same sum up to its order (rounding)."""
    order = np.argsort(nodes)
    nodes, weights = nodes[order], weights[order]
    density, reach = np.empty(grid.size), 39.0 * sigma
    for start in range(0, grid.size, 128):
        chunk = grid[start:start + 128]
        low, high = np.searchsorted(nodes, (chunk.min() - reach, chunk.max() + reach))
        z = np.subtract.outer(chunk, nodes[low:high])
        z /= sigma
        np.square(z, out=z)
        z *= -0.5
        density[start:start + 128] = np.exp(z, out=z) @ weights[low:high]
    return density / (sigma * np.sqrt(2.0 * np.pi))


def _lanczos(op, V0, n_steps):
    """[(α, β)] of the Lanczos tridiagonals for the unit start vectors V0 (P, n), lengths (m,),
    (m − 1,) each, m ≤ n_steps. The P recursions are independent but advance together: step j
    applies op to their P current vectors in one matmat (the MLP operator runs blocks of columns
    through one R-operator pass, several times cheaper per product on small nets than one by
    one), and each re-orthogonalizes against its own earlier vectors only. A recursion whose
    Krylov space became invariant stops there; its later columns are zero and never read."""
    n_probes, n = V0.shape
    V = np.zeros((n_probes, n_steps, n))  # each probe's basis contiguous: BLAS products per probe
    alpha, beta = np.zeros((n_steps, n_probes)), np.zeros((n_steps, n_probes))
    length = np.full(n_probes, n_steps)
    V[:, 0] = V0
    # the scale of T in the invariance test, max|α| + max β, from running maxima: few small
    # NumPy calls per step (on small nets they, beside the products, are SLQ's overhead)
    alpha_max, beta_max = np.zeros(n_probes), np.zeros(n_probes)
    going = np.ones(n_probes, dtype=bool)
    for j in range(n_steps):
        W = np.asarray(op.matmat(V[:, j].T), dtype=np.float64).T.copy()
        alpha[j] = np.einsum("pi,pi->p", W, V[:, j])
        # the three-term recurrence, then full re-orthogonalization
        W -= alpha[j, :, None] * V[:, j]
        if j:
            W -= beta[j - 1, :, None] * V[:, j - 1]
        basis = V[:, : j + 1]
        for _ in range(2):  # against every earlier vector; again only when it removed much
            before = np.linalg.norm(W)
            W -= (np.matmul(basis, W[:, :, None]).transpose(0, 2, 1) @ basis)[:, 0]
            if np.linalg.norm(W) > 0.5 * before:  # Kahan–Parlett: twice is enough
                break
        if j == n_steps - 1:
            break
        b = np.linalg.norm(W, axis=1)
        np.maximum(alpha_max, np.abs(alpha[j]), out=alpha_max)
        ends = going & (b <= 1e-10 * (alpha_max + beta_max))
        if ends.any():
            length[ends] = j + 1
            going &= ~ends
            if not going.any():
                break
        beta[j, going] = b[going]
        np.maximum(beta_max, beta[j], out=beta_max)
        V[going, j + 1] = W[going] / b[going, None]
    return [(alpha[:m, p], beta[: m - 1, p]) for p, m in enumerate(length)]


def _as_operator(op):
    n = _check_operator(op)
    return scipy.sparse.linalg.aslinearoperator(op), n


def _one_vector(theta):
    if theta.ndim != 1:
        raise ValueError(f"theta has shape {theta.shape}; hvp_operator takes one vector (n,)")
    # at the door: a NaN θ reaches ARPACK otherwise, whose Fortran prints on stdout
    check_finite("theta", theta, "give a finite parameter vector")
    return theta


def _check_operator(op) -> int:
    shape = getattr(op, "shape", None)
    if shape is None or len(shape) != 2 or shape[0] != shape[1] or shape[0] < 1:
        raise ValueError(f"op has shape {shape}; give a square LinearOperator (hvp_operator)")
    return int(shape[0])


def _rademacher(rng, shape):
    """Independent ±1 entries (float64) of the given shape: the probes of every trace estimator."""
    return rng.integers(0, 2, size=shape).astype(np.float64) * 2.0 - 1.0


def _check_count(name, value, minimum):
    if not (isinstance(value, (int, np.integer)) and value >= minimum):
        raise ValueError(f"{name}={value!r} must be an integer ≥ {minimum}")
    return int(value)
