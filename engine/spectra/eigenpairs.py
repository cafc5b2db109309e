"""The k most extreme eigenpairs of a symmetric operator H (e.g. an HVP operator of
engine.spectra.lanczos), by block Lanczos (ARPACK's eigsh when that does not converge within its
memory), and verified.

Why verified: ARPACK reports success while missing eigenvalues — Lanczos from one start vector
converges to one vector per eigenspace, so a multiple eigenvalue can come back once and the k-th
value is then too small (a linear 40→8 MSE model, every eigenvalue 8-fold: [11.85, 11.85, 10.66,
10.66] where the truth is four copies of 11.85).

How, without a second Lanczos pass: the run starts from a block of b = 2 random vectors. In
exact arithmetic a block Krylov space from b generic vectors holds min(b, m) independent
vectors of an m-fold eigenspace (Cullum & Donath 1974; Golub & Underwood 1977; Parlett, The
Symmetric Eigenvalue Problem, 1998, §13.12), so an eigenvalue found fewer than b times has no
copy left out; only one found b times may have more, and then a deflated run on the complement
of the found vectors looks for them (and repairs). Each Ritz pair's residual is free from the
run, ‖R_j s_last‖ (Parlett §13.2: A Q_j = Q_j T_j + Q_{j+1} R_j E_jᵀ), and decides convergence;
one block product of the accepted Ritz vectors then recomputes the residuals afresh, so a pair
that is not an eigenpair of the operator as it applies now is refused.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse.linalg

from engine.io.errors import check_rng
from engine.spectra.dense import symmetric_eigh
from engine.spectra.lanczos import _as_operator, _check_count, symmetric_operator

_EPS = np.finfo(np.float64).eps
_TINY = np.finfo(np.float64).tiny
# block size of the Lanczos run: two random start vectors, so that a repeated eigenvalue shows up
# as a second copy (module docstring)
_BLOCK = 2
_BASIS_ENTRIES = 2**24  # the block Lanczos basis and its products (128 MB each); ARPACK beyond
# entries of the basis re-orthogonalized against at a time: 2 MB, the best of 2¹⁶…2²⁰ measured
_CACHED = 2**18  # on this machine's 1 MB L2 and 32 MB L3 (digits top-20: 7 % less time)


@dataclass(frozen=True, eq=False)
class Eigenpairs:
    """The result of extreme_eigenvalues.

    values (k,) most extreme first; vectors (n, k) unit columns (None unless asked for);
    residuals (k,) ‖Hvᵢ − λᵢvᵢ‖, computed afresh; bound (k,) what each residual may be;
    next_value the most extreme eigenvalue of H on the orthogonal complement of the k vectors
    when the deflated check ran (below λ_k for 'LA', above for 'SA', when nothing was missed),
    else the (k+1)-th Ritz value of the block run (no farther out than λ_{k+1});
    verified = residuals ≤ bound and next_value not beyond λ_k (up to bound[-1]); ncv the
    ARPACK subspace size of the deflated check and of the fall-back; rounds of the deflated
    check (0: no value came back b times, none needed); n_products HVPs spent; message.
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

    1. Block Lanczos (b = 2, module docstring) with full re-orthogonalization and no restart,
       until the k most extreme Ritz pairs pass ARPACK's test, residual ≤ max(tol, ε)·max(|θ|,
       ε^{2/3}) (tol 0: machine precision), within a basis of min(n, max(2·ncv, 2²⁴/n)) vectors;
       if it does not converge there, scipy's eigsh (ARPACK, Lehoucq–Sorensen) with subspace
       size ncv (scipy's default min(n, max(2k + 1, 20))) and step 3 always runs.
    2. Residuals ‖Hvᵢ − λᵢvᵢ‖ from k fresh products, against ARPACK's own test
       max(tol, ε)·max(|λᵢ|, ε^{2/3}) plus the rounding of a product, 10·√n·ε·‖H‖ (‖H‖
       estimated by the largest |λ| seen, the Ritz values and the first products' norms).
    3. Missed eigenvalues, only when a value came back b times (or after ARPACK): a second eigsh
       (k = 1) on H deflated to the orthogonal
       complement P = I − VVᵀ of the found vectors, PHP + c(I − P) with c beyond λ_k, gives
       next_value, the most extreme eigenvalue left; it must not lie beyond λ_k. If it does,
       a deflated eigsh finds k more candidates, a Rayleigh–Ritz step on all of them keeps the
       best k, and the check repeats, at most max_rounds times (default k: each round adds at
       least the deflated top eigenvector, so k rounds can fill all k places).
    Eigenpairs.verified says whether 2 and 3 hold; np.asarray(result) gives the values.

    The first start vector comes from rng (Gaussian, n draws: the second and the checks draw
    from a stream seeded by it); without rng it is the fixed vector sin(1), …, sin(n), which has
    no symmetry: a start vector invariant under permuting hidden units would be orthogonal to
    whole families of eigenvectors of an MLP's Hessian. Cost: the block run, 2 products per step
    in one matmat (`make bench` compares the count and time with eigsh alone) plus an eigh of
    the m × m projected matrix every few steps, memory 2²⁴ entries at most; k products for the
    residuals (no second Lanczos pass, which the check of step 3 is); when a value repeats, an
    eigsh for the check and per repair round an eigsh and 2k products. Raises ValueError on bad
    arguments and when a product H·v is not finite (checked on the first products, before any
    ARPACK call); scipy's ArpackNoConvergence when an eigsh does not converge within maxiter
    (which bounds the ARPACK runs only).
    """
    op, n, ncv, max_rounds = _check_eigen_arguments(op, k, which, tol, ncv, max_rounds, rng)
    counted = _Counted(op)
    sign = 1.0 if which == "LA" else -1.0  # work on A = sign·H, whose top eigenpairs we want
    v0 = np.sin(np.arange(1.0, n + 1.0)) if rng is None else rng.standard_normal(n)
    # Every check needs a start vector of its own: deflating the found vectors from the first
    # one leaves nothing in the eigenspaces the first run saw (one direction in each). They come
    # from a stream seeded by v0, so the caller's rng gives one draw, as eigsh alone would.
    rng = np.random.default_rng(np.frombuffer(v0.tobytes(), dtype=np.uint32)[:8])
    found = _block_lanczos(counted, sign, np.column_stack([v0, rng.standard_normal(n)]), k, tol,
                           min(n, max(2 * ncv, _BASIS_ENTRIES // n)))
    if found is None:  # not converged within the memory cap: ARPACK, restarted, then the check
        V = scipy.sparse.linalg.eigsh(counted, k=k, which=which, tol=tol, v0=v0, ncv=ncv,
                                      maxiter=maxiter)[1]
        # ‖Hz‖/‖z‖ for a random z: a cheap scale of H for the rounding floor of the residuals,
        # when the eigenvalues sought ('SA' of a positive definite H) are small beside ‖H‖
        z = rng.standard_normal(n)
        scale = float(np.linalg.norm(counted.matvec(z)) / np.linalg.norm(z))
        lam, V, AV = _ritz(V, sign * counted.matmat(V))
        repeated = True
    else:
        lam, V, mu, scale = found
        AV = sign * counted.matmat(V)  # one block product: the residuals afresh
        repeated = _repeated(lam, _BLOCK)
    for rounds in range(max_rounds + 1):
        if not repeated:  # the block Krylov space holds every copy (module docstring)
            bound = _residual_bound(lam, max(float(np.abs(lam).max()), abs(mu), scale), tol, n)
            missed = False
            break
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
        repeated = True
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


def _block_lanczos(op, sign, V0, k, tol, max_dim):
    """(λ (k,), V (n, k), the (k+1)-th Ritz value, a lower bound of ‖H‖) of A = sign·H
    by block Lanczos from the block V0 (n, b) with full re-orthogonalization (twice) and no
    restart, or None when the top k are not converged within max_dim basis vectors.

    Block Arnoldi on a symmetric A: A Q_j = Σ_i Q_i T_ij + Q_{j+1} R_j, T = QᵀAQ block
    tridiagonal. A Ritz pair (θ, Qs) has the residual ‖R_j s_last‖ (s_last: the last b entries
    of s; Parlett 1998, §13.2 and §13.12), free from T; it is tested, every few steps, against
    ARPACK's max(tol, ε)·max(|θ|, ε^{2/3}). Raises ValueError when the first products are not
    finite."""
    n, b = V0.shape
    rows = max(b, _CACHED // n)  # the basis vectors of one block of the re-orthogonalization
    Q = np.empty((max_dim, n))  # rows: a block is contiguous, and only touched pages are mapped
    T = np.zeros((max_dim, max_dim))
    Q[:b] = np.linalg.qr(V0)[0].T
    m, h_norm, next_check, last = b, 0.0, 0, None
    while True:
        block = slice(m - b, m)
        W = sign * np.asarray(op.matmat(Q[block].T), dtype=np.float64).T
        if m == b:
            if not np.all(np.isfinite(W)):
                raise ValueError("op gives a non-finite product H·v (nan or inf): θ, the data or "
                                 "the operator are not finite; check them before asking for "
                                 "eigenvalues")
            h_norm = float(np.linalg.norm(W, axis=1).max())
        # the three-term recurrence (the last two blocks), then one pass against the whole basis
        # and a second only when it removed much (Kahan–Parlett: twice is enough)
        for start, full in ((max(0, m - 2 * b), False), (0, True), (0, True)):
            before = np.linalg.norm(W)
            # by blocks of `rows` basis vectors (block Gram–Schmidt), each read from memory once
            # and reused from cache; W·Qᵀ, not Q·Wᵀ: BLAS streams the rows of Q once, not per
            # column of Wᵀ (2.2× faster at n = 17226, m = 82)
            for lo in range(start, m, rows):
                coef = (W @ Q[lo:min(m, lo + rows)].T).T
                W -= coef.T @ Q[lo:min(m, lo + rows)]
                T[lo:min(m, lo + rows), block] += coef
            if full and np.linalg.norm(W) > 0.5 * before:
                break
        T[block, :m] = T[:m, block].T
        q, R = np.linalg.qr(W.T)
        if m + b <= max_dim:
            Q[m:m + b] = q.T
        invariant = np.abs(np.diag(R)).min() <= 1e-10 * max(h_norm, _TINY)
        if m >= max(k + b, next_check) or invariant or m + b > max_dim:
            theta, S = np.linalg.eigh(T[:m, :m])
            theta, S = theta[::-1], S[:, ::-1]
            estimate = np.linalg.norm(R @ S[m - b:m, :k], axis=0)
            worst = float(np.max(estimate / (max(tol, _EPS) * np.maximum(np.abs(theta[:k]),
                                                                          _EPS ** (2 / 3)))))
            if worst <= 1.0:
                h_norm = max(h_norm, float(np.abs(theta).max()))
                return theta[:k], Q[:m].T @ S[:, :k], theta[k], h_norm
            next_check = m + _next_test(m, b, worst, last)
            last = (m, worst)
        if invariant or m + b > max_dim:
            return None
        m += b


def _next_test(m, b, worst, last):
    """Steps until the next convergence test of the block Lanczos run: each test costs an eigh of
    the m × m matrix T, so not every step. The largest residual-to-target ratio `worst` falls
    about geometrically with the steps; half the steps its last fall rate says are left, at least
    one block and at most m/4 (so the run overshoots its convergence by little)."""
    if last is not None and last[1] > worst:
        left = np.log(worst) / (np.log(last[1] / worst) / (m - last[0]))
        return int(min(max(b, b * (left // (2 * b))), max(b, b * (m // (4 * b)))))
    return max(b, b * (m // (8 * b)))


def _repeated(lam, b):
    """Whether some value occurs b times among λ (sorted, most extreme first): equal up to
    1e-6·max|λ|, generously, since a false alarm only costs the deflated check."""
    spread = lam[: lam.size - b + 1] - lam[b - 1:]  # b values in a row: sorted, so first − last
    return bool(np.any(spread <= 1e-6 * max(float(np.abs(lam).max()), _TINY)))


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


def _check_eigen_arguments(op, k, which, tol, ncv, max_rounds, rng):
    """(op as a LinearOperator, n, ncv, max_rounds) after checking extreme_eigenvalues'
    arguments, with the defaults filled in."""
    if which not in ("LA", "SA"):
        raise ValueError(f"which={which!r} is unknown; choose one of ['LA', 'SA']")
    op, n = _as_operator(op)
    check_rng(rng, allow_none=True)  # None: the fixed start vector
    if not (isinstance(k, (int, np.integer)) and 1 <= k < n):
        raise ValueError(f"k={k!r} must be an integer with 1 ≤ k < n = {n} (eigsh's limit); "
                         "for all eigenvalues form H and use engine.spectra.dense")
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
