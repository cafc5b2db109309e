"""The k most extreme eigenpairs of a symmetric operator H (e.g. an HVP operator of
engine.spectra.lanczos), by implicitly restarted Lanczos (scipy's eigsh, ARPACK), and verified.

Why verified: ARPACK reports success while missing eigenvalues — Lanczos from one start vector
converges to one vector per eigenspace, so a multiple eigenvalue can come back once and the k-th
value is then too small (a linear 40→8 MSE model, every eigenvalue 8-fold: [11.85, 11.85, 10.66,
10.66] where the truth is four copies of 11.85). Every answer's residuals are recomputed, and a
deflated run looks for an eigenvalue beyond the k-th that was missed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse.linalg

from engine.spectra.dense import symmetric_eigh
from engine.spectra.lanczos import _as_operator, _check_count, symmetric_operator

_EPS = np.finfo(np.float64).eps
_TINY = np.finfo(np.float64).tiny


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
    check, and per repair round an eigsh and 2k products. Raises ValueError on bad arguments
    and when a product H·v is not finite (checked on the start vector, before ARPACK);
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
    # one product before ARPACK: a nan or inf in H·v makes its Fortran print on stdout (DLASCL)
    # and fail with its own words
    if not np.all(np.isfinite(np.asarray(op.matvec(v0), dtype=np.float64))):
        raise ValueError("op gives a non-finite product H·v (nan or inf): θ, the data or the "
                         "operator are not finite; check them before asking for eigenvalues")
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
