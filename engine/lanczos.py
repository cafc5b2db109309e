"""Spectral information about a symmetric operator H without forming H: PyHessian's tools on NumPy
+ autograd, for the Hessian of any loss function of a flat θ or of an MLP.

For nets with ~10⁵ parameters H (10¹⁰ entries) cannot be stored; every tool here only applies H
to vectors, through Hessian-vector products (HVPs) built once per θ.

  symmetric_operator   the one LinearOperator builder: H from a function v ↦ Hv
  hvp_operator         ∇²L(θ) of a loss function (autograd's make_hvp) or of an MLP (the exact
                       R-operator, engine.derivatives.mlp_hvp_fn) as a LinearOperator
  extreme_eigenvalues  top-k / bottom-k eigenpairs by implicitly restarted Lanczos (eigsh),
                       verified: residuals, and a deflated run that finds no missed eigenvalue
  hutchinson_trace     tr H ≈ mean of zᵀHz over Rademacher z, with its standard error
  slq_density          spectral density by stochastic Lanczos quadrature

SLQ (Ubaru, Chen, Saad 2017; Ghorbani et al. 2019): for a unit probe v, m Lanczos steps give a
tridiagonal T_m = QΘQᵀ; nodes θ_j with weights τ_j = Q_{0j}² form the m-point Gauss quadrature of
the measure Σᵢ (v·uᵢ)² δ(λ − λᵢ), exact for polynomials of degree ≤ 2m − 1. With v = z/√n,
z Rademacher, E[(v·uᵢ)²] = 1/n, so the average over probes estimates ρ(λ) = (1/n) Σᵢ δ(λ − λᵢ)
and its moments Σ w·nodeᵏ estimate (1/n)·tr Hᵏ.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse.linalg

from .derivatives import check_vector, hvp_at, mlp_hvp_fn
from .model import MLP
from .spectrum import symmetric_eigh

# Columns per batched HVP in matmat: B directions share one R-operator pass (fewer Python-level
# operations), but every stored R-activation grows to B·N·width. At most 8 columns, and fewer
# when B·N·Σwidths would pass 2²² entries (32 MB per stored activation stack): on all of MNIST
# (N = 60000) the columns go one by one.
_MATMAT_BLOCK = 8
_MATMAT_ENTRIES = 2**22
_EPS = np.finfo(np.float64).eps
_TINY = np.finfo(np.float64).tiny


def symmetric_operator(matvec, n: int, matmat=None) -> scipy.sparse.linalg.LinearOperator:
    """A symmetric (n, n) float64 LinearOperator from matvec: v (n,) ↦ Hv (n,), and optionally
    matmat: V (n, B) ↦ HV (n, B) (default: column by column). rmatvec is matvec (Hᵀ = H), which
    scipy's solvers (eigsh, minres, lsmr) rely on. Raises ValueError for n < 1."""
    if not (isinstance(n, (int, np.integer)) and n >= 1):
        raise ValueError(f"n={n!r} must be a positive integer (the operator's size)")

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
    None: the function carries its data), or an MLP with its data (x, y), L = net.loss(θ, x, y).
    θ: one parameter vector (n,), cast to float64.
    Loss function: autograd's make_hvp traces the gradient's graph once at θ; each product is
    one reverse pass over it (≈ 2 gradients; matmat goes column by column). MLP: the exact
    R-operator (engine.derivatives.mlp_hvp_fn) keeps the forward and backward passes at θ; each
    product is at most 6 matrix products per layer and no graph (0.5–0.9× the time of jax.jit of
    jvp∘grad on this homework's nets, `make bench`), and matmat runs blocks of columns through
    one pass. One name for both: the caller says what the model is, the engine picks the fastest
    exact route it has for it.
    Raises ValueError for a batched θ, data given with a function (or missing for an MLP); scipy
    raises ValueError ('dimension mismatch') for a vector of the wrong length.
    """
    if isinstance(model, MLP):
        if x is None or y is None:
            raise ValueError("hvp_operator(net, theta, x, y) needs the data x and y of the MLP")
        theta = _one_vector(model.check_theta(theta))
        x, y = model.check_data(x, y)
        apply = mlp_hvp_fn(model, theta, x, y)
        n = theta.size
        block = max(1, min(_MATMAT_BLOCK, _MATMAT_ENTRIES // (len(x) * sum(model.sizes[1:]))))

        def matmat(V):
            return np.concatenate([apply(np.ascontiguousarray(V[:, start:start + block].T)).T
                                   for start in range(0, V.shape[1], block)], axis=1)

        return symmetric_operator(apply, n, matmat)
    if not callable(model):
        raise ValueError(f"model is a {type(model).__name__}; give a loss function of θ or an "
                         "MLP (with x and y)")
    if x is not None or y is not None:
        raise ValueError("x and y are only for an MLP; a loss function carries its own data, "
                         "e.g. hvp_operator(lambda t: loss(t, x, y), theta)")
    theta = _one_vector(check_vector(theta, "theta"))
    return symmetric_operator(hvp_at(model, theta), theta.size)


@dataclass(frozen=True, eq=False)
class Eigenpairs:
    """The result of extreme_eigenvalues.

    values (k,) most extreme first; vectors (n, k) unit columns (None unless asked for);
    residuals (k,) ‖Hvᵢ − λᵢvᵢ‖, computed afresh; bound (k,) what each residual may be;
    next_value the most extreme eigenvalue of H on the orthogonal complement of the k vectors
    (the deflated check: below λ_k for 'LA', above for 'SA', when nothing was missed);
    verified = residuals ≤ bound and next_value not beyond λ_k (up to bound[-1]); ncv the Lanczos
    subspace size of the first run; rounds of deflated repair; n_products HVPs spent; message.
    np.asarray(result) is result.values. eq=False: the fields hold arrays.
    """

    values: np.ndarray
    residuals: np.ndarray
    bound: np.ndarray
    next_value: float
    verified: bool
    ncv: int
    rounds: int
    n_products: int
    message: str
    vectors: np.ndarray | None = None

    def __array__(self, dtype=None, copy=None):
        return self.values if dtype is None else self.values.astype(dtype)


def extreme_eigenvalues(op, k=10, which="LA", tol=0, rng=None, maxiter=None, *, ncv=None,
                        return_vectors=False, max_rounds=None) -> Eigenpairs:
    """The k algebraically largest ('LA') or smallest ('SA') eigenpairs of a symmetric op (a
    LinearOperator or an (n, n) array), most extreme first, verified.

    1. scipy's eigsh (ARPACK implicitly restarted Lanczos, Lehoucq–Sorensen) with subspace size
       ncv (scipy's default min(n, max(2k + 1, 20))) and tolerance tol (0: machine precision).
    2. Residuals ‖Hvᵢ − λᵢvᵢ‖ from k fresh products, against ARPACK's own test
       max(tol, ε)·max(|λᵢ|, ε^{2/3}) plus the rounding of a product, 10·√n·ε·‖H‖ (‖H‖
       estimated by the largest |λ| seen and ‖Hz‖/‖z‖ for a random z).
    3. Missed eigenvalues: Lanczos converges to one vector per eigenspace from one start vector,
       so a multiple eigenvalue can be returned once and the k-th value is then too small, with
       ARPACK reporting success. A second eigsh (k = 1) on H deflated to the orthogonal
       complement P = I − VVᵀ of the found vectors, PHP + c(I − P) with c beyond λ_k, gives
       next_value, the most extreme eigenvalue left; it must not lie beyond λ_k. If it does,
       a deflated eigsh finds k more candidates, a Rayleigh–Ritz step on all of them keeps the
       best k, and the check repeats, at most max_rounds times (default k: each round adds at
       least the deflated top eigenvector, so k rounds can fill all k places).
    Eigenpairs.verified says whether 2 and 3 hold; np.asarray(result) gives the values.

    The start vector comes from rng (Gaussian, n draws: the checks draw from a stream seeded by
    it); without rng it is the fixed vector sin(1), …, sin(n), which has no symmetry: a start
    vector invariant under permuting hidden units would be orthogonal to whole families of
    eigenvectors of an MLP's Hessian. Cost: the first eigsh
    (O(k … ncv) products per restart), k products for the residuals, one more eigsh for the
    check, and per repair round an eigsh and 2k products. Raises ValueError on bad arguments;
    scipy's ArpackNoConvergence when an eigsh does not converge within maxiter.
    """
    op, n, ncv, max_rounds = _check_eigen_arguments(op, k, which, tol, ncv, max_rounds)
    counted = _Counted(op)
    sign = 1.0 if which == "LA" else -1.0  # work on A = sign·H, whose top eigenpairs we want
    v0 = np.sin(np.arange(1.0, n + 1.0)) if rng is None else rng.standard_normal(n)
    # Every check needs a start vector of its own: deflating the found vectors from the first
    # one leaves nothing in the eigenspaces the first run saw (one direction in each). They come
    # from a stream seeded by v0, so the caller's rng gives one draw, as eigsh alone would.
    rng = np.random.default_rng(np.frombuffer(v0.tobytes(), dtype=np.uint32)[:8])
    V = scipy.sparse.linalg.eigsh(counted, k=k, which=which, tol=tol, v0=v0, ncv=ncv,
                                  maxiter=maxiter)[1]
    # ‖Hz‖/‖z‖ for a random z: a cheap scale of H for the rounding floor of the residuals, when
    # the eigenvalues sought ('SA' of a positive definite H) are small beside ‖H‖
    z = rng.standard_normal(n)
    scale = float(np.linalg.norm(counted.matvec(z)) / np.linalg.norm(z))
    lam, V, AV = _ritz(V, sign * counted.matmat(V))
    for rounds in range(max_rounds + 1):
        deflated = _deflated(counted, sign, V, lam[-1] - max(abs(lam[0]), _TINY))
        mu = float(scipy.sparse.linalg.eigsh(deflated, k=1, which="LA", tol=tol, maxiter=maxiter,
                                             v0=_project(V, rng.standard_normal(n)),
                                             return_eigenvectors=False)[0])
        bound = _residual_bound(lam, max(float(np.abs(lam).max()), abs(mu), scale), tol, n)
        missed = mu > lam[-1] + bound[-1]
        if not missed or rounds == max_rounds:
            break
        W = scipy.sparse.linalg.eigsh(deflated, k=min(k, n - 1), which="LA", tol=tol,
                                      maxiter=maxiter, v0=_project(V, rng.standard_normal(n)))[1]
        Q = np.linalg.qr(np.hstack([V, W]))[0]
        lam, V, AV = _ritz(Q, sign * counted.matmat(Q), keep=k)
    residuals = np.linalg.norm(AV - V * lam, axis=0)
    fits = bool(np.all(residuals <= bound))
    problems = (["residuals exceed the bound"] if not fits else []) + (
        [f"an eigenvalue {sign * mu:.6g} is not {'below' if sign > 0 else 'above'} the k-th "
         f"{sign * lam[-1]:.6g}: a multiple or missed eigenvalue; raise max_rounds, k or ncv"]
        if missed else [])
    return Eigenpairs(values=sign * lam, residuals=residuals, bound=bound, next_value=sign * mu,
                      verified=not problems, ncv=ncv, rounds=rounds, n_products=counted.count,
                      message="; ".join(problems) or "verified",
                      vectors=V.copy() if return_vectors else None)


def hutchinson_trace(op, n_probes=100, *, rng) -> tuple[float, float]:
    """(estimate, standard error) of tr H = E[zᵀHz], z with independent ±1 entries (Hutchinson
    1990; PyHessian's trace, Yao et al. 2020). op: a symmetric LinearOperator or (n, n) array.

    Per probe the variance is 2 Σ_{i≠j} H_ij² (zero for diagonal H); the standard error is the
    sample standard deviation over √n_probes. Cost: n_probes HVPs (batched through matmat).
    """
    op, n = _as_operator(op)
    n_probes = _check_count("n_probes", n_probes, minimum=2)
    Z = rng.integers(0, 2, size=(n, n_probes)).astype(np.float64) * 2.0 - 1.0
    samples = np.einsum("ip,ip->p", Z, op.matmat(Z))
    return float(samples.mean()), float(samples.std(ddof=1) / np.sqrt(n_probes))


def slq_density(op, n_steps=80, n_probes=10, *, rng, grid=None, sigma2=None):
    """Spectral density ρ(λ) = (1/n) Σᵢ δ(λ − λᵢ) of a symmetric op (LinearOperator or (n, n)
    array) by stochastic Lanczos quadrature (module docstring).

    Returns (grid, density, nodes, weights): density on grid (default: 1000 points spanning the
    nodes ± 5σ) is Σ_j w_j 𝒩(λ; node_j, σ²), σ² = sigma2 or 1e-5·(λ_max − λ_min) of the nodes
    (PyHessian's choice). nodes and weights are 1-D, all probes concatenated, Σ w = 1, so that
    Σ w·nodeᵏ is exactly the quadrature's estimate of (1/n)·tr Hᵏ (module docstring).

    Each probe runs min(n_steps, n) Lanczos steps with full re-orthogonalization (twice, the
    Kahan–Parlett "twice is enough"), so no ghost copies of converged eigenvalues appear; a
    probe stops early when its Krylov space is invariant (β_j ≤ 1e-10·‖T‖). Cost: n_probes·n_steps
    HVPs plus O(n_probes·n_steps²·n) for re-orthogonalization; memory n_steps·n.
    """
    op, n = _as_operator(op)
    n_steps = min(_check_count("n_steps", n_steps, minimum=1), n)
    n_probes = _check_count("n_probes", n_probes, minimum=1)
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


class _Counted(scipy.sparse.linalg.LinearOperator):
    """op, counting the vectors it is applied to."""

    def __init__(self, op):
        super().__init__(np.float64, op.shape)
        self.op, self.count = op, 0

    def _matvec(self, v):
        self.count += 1
        return np.asarray(self.op.matvec(v), dtype=np.float64).reshape(-1)

    def _matmat(self, V):
        self.count += V.shape[1]
        return np.asarray(self.op.matmat(V), dtype=np.float64)

    _rmatvec = _matvec


def _check_eigen_arguments(op, k, which, tol, ncv, max_rounds):
    """(op as a LinearOperator, n, ncv, max_rounds) after checking extreme_eigenvalues'
    arguments, with the defaults filled in."""
    if which not in ("LA", "SA"):
        raise ValueError(f"which={which!r} is unknown; choose one of ['LA', 'SA']")
    op, n = _as_operator(op)
    if not (isinstance(k, (int, np.integer)) and 1 <= k < n):
        raise ValueError(f"k={k!r} must be an integer with 1 ≤ k < n = {n} (eigsh's limit); "
                         "for all eigenvalues form H and use engine.spectrum")
    if not (np.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol={tol!r} must be a finite number ≥ 0 (0 = machine precision)")
    ncv = min(n, max(2 * k + 1, 20)) if ncv is None else ncv
    if not (isinstance(ncv, (int, np.integer)) and k < ncv <= n):
        raise ValueError(f"ncv={ncv!r} must be an integer with k = {k} < ncv ≤ n = {n}")
    max_rounds = k if max_rounds is None else _check_count("max_rounds", max_rounds, minimum=0)
    return op, n, int(ncv), max_rounds


def _residual_bound(lam, h_norm, tol, n):
    """ARPACK's acceptance test max(tol, ε)·max(|λ|, ε^{2/3}) (dsaupd), plus the rounding of one
    product, √n·ε·‖H‖ for random rounding errors, with a factor 10 to spare."""
    return (max(tol, _EPS) * np.maximum(np.abs(lam), _EPS ** (2 / 3))
            + 10.0 * np.sqrt(n) * _EPS * h_norm)


def _deflated(op, sign, V, shift):
    """v ↦ P(sign·H)Pv + shift·(I − P)v, P = I − VVᵀ: sign·H on the complement of V, and the
    found directions moved to `shift`, below everything that is looked for."""
    def matvec(v):
        p = _project(V, v)
        out = _project(V, sign * op.matvec(p))
        return out + shift * (v.ravel() - p)

    return symmetric_operator(matvec, op.shape[0])


def _project(V, v):
    v = np.asarray(v, dtype=np.float64).ravel()
    return v - V @ (V.T @ v)


def _ritz(Q, AQ, keep=None):
    """Rayleigh–Ritz on the orthonormal columns Q with AQ = A·Q: the pairs (λ, V, AV) sorted by
    λ descending, the first `keep` of them."""
    theta, U = symmetric_eigh(Q.T @ AQ)
    order = np.argsort(theta)[::-1][:keep]
    return theta[order], Q @ U[:, order], AQ @ U[:, order]


def _as_operator(op):
    n = _check_operator(op)
    return scipy.sparse.linalg.aslinearoperator(op), n


def _one_vector(theta):
    if theta.ndim != 1:
        raise ValueError(f"theta has shape {theta.shape}; hvp_operator takes one vector (n,)")
    return theta


def _check_operator(op) -> int:
    shape = getattr(op, "shape", None)
    if shape is None or len(shape) != 2 or shape[0] != shape[1] or shape[0] < 1:
        raise ValueError(f"op has shape {shape}; give a square LinearOperator (hvp_operator)")
    return int(shape[0])


def _check_count(name, value, minimum):
    if not (isinstance(value, (int, np.integer)) and value >= minimum):
        raise ValueError(f"{name}={value!r} must be an integer ≥ {minimum}")
    return int(value)
