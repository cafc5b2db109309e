"""Spectral information about H = ∇²L without forming H: PyHessian's tools on NumPy + autograd.

For nets with ~10⁵ parameters H (10¹⁰ entries) cannot be stored; every tool here only applies H
to vectors through Hessian-vector products (engine.derivatives.hvp, ≈ 2 gradients each).

  hvp_operator         H as a scipy LinearOperator (batched HVPs for matmat)
  extreme_eigenvalues  top-k / bottom-k eigenvalues by implicitly restarted Lanczos (eigsh)
  hutchinson_trace     tr H ≈ mean of zᵀHz over Rademacher z, with its standard error
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

from .derivatives import hvp

# Columns per batched HVP in matmat: B parameter vectors share one autograd pass (fewer Python
# nodes), but every activation of the graph grows to B·N·width. At most 8 columns, and fewer
# when B·N·Σwidths would pass 2²² entries (32 MB per stored activation stack): on all of MNIST
# (N = 60000) the columns go one by one.
_MATMAT_BLOCK = 8
_MATMAT_ENTRIES = 2**22


def hvp_operator(net, theta, x, y) -> scipy.sparse.linalg.LinearOperator:
    """H(θ) as a symmetric (n, n) LinearOperator. matvec: one HVP (≈ 2 gradients, H never
    formed); matmat: blocks of columns through one batched pass each."""
    theta = np.asarray(theta, dtype=np.float64)
    if theta.ndim != 1:
        raise ValueError(f"theta has shape {theta.shape}; hvp_operator takes one vector "
                         f"({net.n_params},)")
    net.layout.check(theta)
    n = net.n_params
    block = max(1, min(_MATMAT_BLOCK, _MATMAT_ENTRIES // (len(x) * sum(net.sizes[1:]))))

    def matvec(v):
        return hvp(net, theta, x, y, np.ravel(v))

    def matmat(V):
        out = np.empty((n, V.shape[1]))
        for start in range(0, V.shape[1], block):
            rows = np.asarray(V[:, start:start + block].T, dtype=np.float64)
            thetas = np.tile(theta, (rows.shape[0], 1))  # independent copies: row b gives H v_b
            out[:, start:start + rows.shape[0]] = hvp(net, thetas, x, y, rows).T
        return out

    return scipy.sparse.linalg.LinearOperator(
        (n, n), matvec=matvec, rmatvec=matvec, matmat=matmat, dtype=np.float64
    )


def extreme_eigenvalues(op, k=10, which="LA", tol=0, rng=None, maxiter=None) -> np.ndarray:
    """The k algebraically largest ('LA') or smallest ('SA') eigenvalues of a symmetric op,
    most extreme first (descending for 'LA', ascending for 'SA'), shape (k,).

    scipy's eigsh (ARPACK implicitly restarted Lanczos); tol=0 means machine precision. The start
    vector comes from rng (Gaussian); without rng it is the fixed vector sin(1), …, sin(n), which
    has no symmetry: a start vector invariant under permuting hidden units would be orthogonal to
    whole families of eigenvectors of an MLP's Hessian. Cost: O(k … 3k) HVPs per restart.
    """
    if which not in ("LA", "SA"):
        raise ValueError(f"which={which!r} is unknown; choose one of ['LA', 'SA']")
    n = _check_operator(op)
    if not (isinstance(k, (int, np.integer)) and 1 <= k < n):
        raise ValueError(f"k={k!r} must be an integer with 1 ≤ k < n = {n} (eigsh's limit); "
                         "for all eigenvalues form H and use engine.spectrum")
    v0 = np.sin(np.arange(1.0, n + 1.0)) if rng is None else rng.standard_normal(n)
    lam = scipy.sparse.linalg.eigsh(op, k=k, which=which, tol=tol, v0=v0, maxiter=maxiter,
                                    return_eigenvectors=False)
    lam = np.sort(lam)
    return lam[::-1] if which == "LA" else lam


def hutchinson_trace(op, n_probes=100, *, rng) -> tuple[float, float]:
    """(estimate, standard error) of tr H = E[zᵀHz], z with independent ±1 entries.

    Per probe the variance is 2 Σ_{i≠j} H_ij² (zero for diagonal H); the standard error is the
    sample standard deviation over √n_probes. Cost: n_probes HVPs (batched through matmat).
    """
    n = _check_operator(op)
    n_probes = _check_count(n_probes, "n_probes", minimum=2)
    Z = rng.integers(0, 2, size=(n, n_probes)).astype(np.float64) * 2.0 - 1.0
    samples = np.einsum("ip,ip->p", Z, op.matmat(Z))
    return float(samples.mean()), float(samples.std(ddof=1) / np.sqrt(n_probes))


def slq_density(op, n_steps=80, n_probes=10, *, rng, grid=None, sigma2=None):
    """Spectral density ρ(λ) = (1/n) Σᵢ δ(λ − λᵢ) by stochastic Lanczos quadrature.

    Returns (grid, density, nodes, weights): density on grid (default: 1000 points spanning the
    nodes ± 5σ) is Σ_j w_j 𝒩(λ; node_j, σ²), σ² = sigma2 or 1e-5·(λ_max − λ_min) of the nodes
    (PyHessian's choice). nodes and weights are 1-D, all probes concatenated, Σ w = 1, so that
    Σ w·nodeᵏ is exactly the quadrature's estimate of (1/n)·tr Hᵏ (module docstring).

    Each probe runs min(n_steps, n) Lanczos steps with full re-orthogonalization (twice, the
    Kahan–Parlett "twice is enough"), so no ghost copies of converged eigenvalues appear; a
    probe stops early when its Krylov space is invariant (β_j ≤ 1e-10·‖T‖). Cost: n_probes·n_steps
    HVPs plus O(n_probes·n_steps²·n) for re-orthogonalization; memory n_steps·n.
    """
    n = _check_operator(op)
    n_steps = min(_check_count(n_steps, "n_steps", minimum=1), n)
    n_probes = _check_count(n_probes, "n_probes", minimum=1)
    all_nodes, all_weights = [], []
    for _ in range(n_probes):
        z = rng.integers(0, 2, size=n).astype(np.float64) * 2.0 - 1.0
        alpha, beta = _lanczos(op, z / np.sqrt(n), n_steps)
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
    gauss = np.exp(-0.5 * ((grid[:, None] - nodes[None, :]) / sigma) ** 2)
    return grid, gauss @ weights / (sigma * np.sqrt(2.0 * np.pi)), nodes, weights


def _lanczos(op, v, n_steps):
    """(α, β) of the Lanczos tridiagonal for a unit start vector v, lengths (m,), (m − 1,)."""
    n = v.shape[0]
    V = np.empty((n_steps, n))
    alpha, beta = [], []
    V[0] = v
    for j in range(n_steps):
        w = np.asarray(op.matvec(V[j]), dtype=np.float64).ravel()
        alpha.append(float(w @ V[j]))
        basis = V[: j + 1]
        for _ in range(2):  # full re-orthogonalization against every earlier Lanczos vector
            w -= basis.T @ (basis @ w)
        b = float(np.linalg.norm(w))
        scale = max(abs(a) for a in alpha) + max(beta, default=0.0)
        if j == n_steps - 1 or b <= 1e-10 * scale:
            break
        beta.append(b)
        V[j + 1] = w / b
    return np.array(alpha), np.array(beta)


def _check_operator(op) -> int:
    shape = getattr(op, "shape", None)
    if shape is None or len(shape) != 2 or shape[0] != shape[1] or shape[0] < 1:
        raise ValueError(f"op has shape {shape}; give a square LinearOperator (hvp_operator)")
    return int(shape[0])


def _check_count(value, name, minimum):
    if not (isinstance(value, (int, np.integer)) and value >= minimum):
        raise ValueError(f"{name}={value!r} must be an integer ≥ {minimum}")
    return int(value)
