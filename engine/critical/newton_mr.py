"""Newton-MR steps for ∇L(θ) = 0 inside a trust region ‖p‖ ≤ Δ, and the decrease of ‖∇L‖² they
predict (Roosta et al. 2018 for the direction; Moré 1978 for damping it by a trust region).

Dense (n ≤ dense_max): H = V diag(λ) Vᵀ, c = Vᵀg, K = {i : |λᵢ| > τ}, τ = max(n·ε·‖H‖₂,
min(rtol·‖H‖₂, tau_max)) (engine.spectra.dense),
  p(μ) = −Σ_{i∈K} λᵢcᵢ/(λᵢ² + μ) vᵢ,
the minimizer of ‖g + Hp‖² + μ‖p‖² over span{vᵢ : i ∈ K}. p(0) = −H_τ⁺g is Newton-MR's
least-norm step; for ‖p(0)‖ > Δ, μ > 0 solves ‖p(μ)‖ = Δ (‖p(μ)‖ falls monotonically in μ). Growing
μ turns p from the Newton step towards −Hg/μ, the steepest descent of ½‖g‖², and damps the
directions of small |λ| first, where the full step of a nearly singular H is long and wrong.
Large n (krylov='lanczos', the default): the same model on the Krylov subspace 𝒦_k(H, Hg) ⊂
range(H) built by Lanczos on HVPs, one product per iteration (engine.critical.krylov): the
least-norm minimizer of ‖Hp + g‖ there and its trust-region damping p(μ), with the singular
values of the projected T̄ in place of λ. krylov='lsmr': p = −H⁺g by LSMR (Fong & Saunders 2011;
two HVPs per iteration, H symmetric so Hᵀv = Hv), scaled back to ‖p‖ ≤ Δ. Not scipy's MINRES:
on a singular, inconsistent system (g with a part in ker H, exactly the gradient-flat case) it
returns a solution with a huge kernel component and reports success; both routes here keep their
iterates in range(H), so they tend to the minimum-norm least-squares solution.
Either way `predicted` = ‖g‖² − ‖g + Hp‖² ≥ 0, the decrease of ‖∇L‖² if ∇L were affine; the
caller compares it with the actual decrease and sets the next Δ by `next_radius`.
Geodesic acceleration (Transtrum & Sethna 2012, for Levenberg–Marquardt): where ∇L curves along
the step, the affine model is good only over a short distance, and a search crawling along a
curved valley of small ‖∇L‖ (two hidden units merging into one, say) takes thousands of short
steps. The second-order correction a solves the same damped system for the second directional
derivative r = D²∇L[p, p] (`solve`: a = −Σ_{i∈K} λᵢ(vᵢᵀr)/(λᵢ² + μ) vᵢ, the μ of the last
`step`), so p + a/2 follows ∇L(θ + tp) to second order in t; `curvature(p)` = Hp gives r by the
finite difference r ≈ (2/h)·((∇L(θ + hp) − ∇L(θ))/h − Hp), and `accelerated` puts them together.
Cost: dense, one eigh O(n³) per model and O(n·|K|) per trial radius or correction; Lanczos, one
HVP per iteration plus one per step, and none per trial radius or correction; LSMR, two HVPs per
iteration plus one, per step and per correction.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.optimize
import scipy.sparse.linalg

from engine.critical.krylov import subspace_model
from engine.io.errors import check_point
from engine.spectra.dense import eigen_tolerance

# the solvers of the model above dense_max: Lanczos on 𝒦(H, Hg) (engine.critical.krylov, one HVP
# per iteration) or LSMR (two)
KRYLOV_SOLVERS = ("lanczos", "lsmr")


def newton_model(theta, g, hess_fn, hvp_fn=None, *, rtol=1e-6, dense_max=2000, lsmr_tol=1e-10,
                 tau_max=math.inf, lsmr_maxiter=None, warm=None, krylov="lanczos"):
    """The Newton-MR model at θ (n,) with gradient g (n,): an object with `newton_norm` (the
    length of the undamped step, 0 when no step reduces ‖g + Hp‖) and `step(radius)` → (p (n,),
    predicted decrease of ‖g‖²). Dense through hess_fn(θ) → (n, n) for n ≤ dense_max, keeping
    |λ| > τ of rtol and tau_max (engine.spectra.dense.eigen_tolerance), else through
    hvp_fn(θ, v) → Hv (or hess_fn) by `krylov` (KRYLOV_SOLVERS): 'lanczos'
    (engine.critical.krylov.subspace_model with tol = lsmr_tol, maxiter = lsmr_maxiter; warm is
    not used) or 'lsmr' with atol = btol = lsmr_tol (its stopping test on
    ‖Hr‖/(‖H‖‖r‖), r = Hp + g, which is what an inconsistent system can meet; an inexact
    Newton method passes its forcing term η_k here), at most lsmr_maxiter iterations (None:
    10·n). warm (n,), the previous step: LSMR starts from its best multiple c·warm,
    c = −gᵀHw/‖Hw‖² (one more HVP), when that lowers ‖Hp + g‖ below ‖g‖ — consecutive Newton
    directions along a valley are nearly parallel. The kernel part of a warm start is not
    removed (LSMR keeps iterates in x₀ + range(H)), so a warm step is least-norm only up to
    the previous step's kernel part. None when H is not finite or LAPACK cannot decompose it.
    Raises ValueError for an unknown krylov, θ and g not vectors of one length, a hess_fn that is
    not callable or a Hessian of another shape than (n, n)."""
    check_point(theta, g)
    if not all(f is None or callable(f) for f in (hess_fn, hvp_fn)) or hess_fn is hvp_fn is None:
        raise ValueError(f"hess_fn={hess_fn!r}, hvp_fn={hvp_fn!r}: give functions of θ")
    g = np.asarray(g, dtype=np.float64)
    n = g.size
    if krylov not in KRYLOV_SOLVERS:
        raise ValueError(f"krylov={krylov!r} is unknown; choose one of {list(KRYLOV_SOLVERS)}")
    if n > dense_max and krylov == "lanczos":
        if hvp_fn is None:
            with np.errstate(all="ignore"):
                H = np.asarray(hess_fn(theta), dtype=np.float64)
        matvec = (lambda v: H @ v) if hvp_fn is None else (lambda v: hvp_fn(theta, v))
        return subspace_model(matvec, g, tol=lsmr_tol, rtol=rtol, tau_max=tau_max,
                              maxiter=10 * n if lsmr_maxiter is None else lsmr_maxiter)
    if n > dense_max:
        if hvp_fn is None:
            H = np.asarray(hess_fn(theta), dtype=np.float64)
            op = scipy.sparse.linalg.aslinearoperator(H) if np.all(np.isfinite(H)) else None
        else:
            op = scipy.sparse.linalg.LinearOperator(
                (n, n), matvec=lambda v: hvp_fn(theta, v), rmatvec=lambda v: hvp_fn(theta, v),
                dtype=np.float64)
        if op is None:
            return None

        maxiter = 10 * n if lsmr_maxiter is None else int(lsmr_maxiter)

        def least_norm(r, x0=None):  # −H⁺r, the least-norm minimizer of ‖Hp + r‖
            with np.errstate(all="ignore"):
                return -scipy.sparse.linalg.lsmr(op, r, atol=lsmr_tol, btol=lsmr_tol,
                                                 maxiter=maxiter, x0=x0)[0]

        p = least_norm(g, _warm_start(op, g, warm))
        with np.errstate(all="ignore"):
            hp = np.asarray(op @ p, dtype=np.float64)
        return _KrylovModel(g, p, hp, op, least_norm) if np.all(np.isfinite(hp)) else None
    with np.errstate(all="ignore"):
        H = np.asarray(hess_fn(theta), dtype=np.float64)
    if H.shape != (n, n):
        raise ValueError(f"hess_fn returned shape {H.shape}; expected the Hessian ({n}, {n})")
    if not np.all(np.isfinite(H)):
        return None
    try:
        lam, vecs = np.linalg.eigh(0.5 * (H + H.T))  # symmetrize: eigh reads one triangle only
    except np.linalg.LinAlgError:  # a finite H LAPACK cannot decompose: no model, as for nan
        return None
    keep = np.abs(lam) > eigen_tolerance(lam, rtol, tau_max)
    return _EigenModel(lam[keep], vecs[:, keep], vecs[:, keep].T @ g)


def _warm_start(op, g, warm):
    """−c·warm for LSMR's x₀ (it solves Hx = g, p = −x), c = −gᵀHw/‖Hw‖², or None when there
    is no previous step or its best multiple does not reduce the residual."""
    if warm is None or not np.any(warm):
        return None
    with np.errstate(all="ignore"):
        hw = np.asarray(op @ warm, dtype=np.float64)
    curv = float(hw @ hw)
    if not (np.isfinite(curv) and curv > 0.0):
        return None
    c = -float(g @ hw) / curv
    return -c * warm if c != 0.0 else None  # c = 0: w is orthogonal to what H can reach


def next_radius(radius, ratio, length):
    """Δ after a trial step of length ‖p‖ whose ρ = actual/predicted decrease of ‖g‖² was
    `ratio`: ‖p‖/4 when ρ < ¼ (the model was poor), 2Δ when ρ > ¾ and p reached the boundary,
    else Δ (Nocedal & Wright, Algorithm 4.1)."""
    if ratio < 0.25:
        return 0.25 * length
    return 2.0 * radius if ratio > 0.75 and length >= 0.99 * radius else radius


def accelerated(model, p, theta, g, evaluate, h=0.1, alpha=0.75):
    """The trial step p + a/2 of geodesic acceleration (module docstring) at θ (n,) with
    gradient g, for the step p = model.step(Δ)[0]: a = model.solve(r),
    r = (2/h)·((∇L(θ + hp) − ∇L(θ))/h − Hp) ≈ D²∇L[p, p], with evaluate(θ) → (∇L, ‖∇L‖) (one
    call). p itself when ∇L(θ + hp) or a is not finite, or 2‖a‖ > alpha·‖p‖: the correction must
    stay small beside the step it corrects (Transtrum & Sethna 2012 take h = 0.1, alpha = 0.75,
    and reject such a step instead; here the trust-region test then judges p alone).
    """
    g_h, norm_h = evaluate(theta + h * p)
    if not np.isfinite(norm_h):
        return p
    with np.errstate(all="ignore"):
        a = model.solve((2.0 / h) * ((g_h - g) / h - model.curvature(p)))
    if np.all(np.isfinite(a)) and 2.0 * np.linalg.norm(a) <= alpha * np.linalg.norm(p):
        return p + 0.5 * a
    return p


class _EigenModel:
    """p(μ) on the kept eigenpairs (λ (k,), V (n, k), c = Vᵀg (k,))."""

    def __init__(self, lam, vecs, coef):
        self.lam, self.vecs, self.coef = lam, vecs, coef
        self.newton_norm = self._norm(0.0) if lam.size else 0.0
        self.mu = 0.0

    def curvature(self, p):
        """Hp for p in the span of the kept eigenvectors (every step is): VΛVᵀp."""
        return self.vecs @ (self.lam * (self.vecs.T @ p))

    def solve(self, r):
        """−Σ λᵢ(vᵢᵀr)/(λᵢ² + μ) vᵢ: the last step's damped least-norm solve of Ha = −r."""
        return -(self.vecs @ (self.lam * (self.vecs.T @ r) / (self.lam ** 2 + self.mu)))

    def _norm(self, mu):
        return float(np.linalg.norm(self.lam * self.coef / (self.lam ** 2 + mu)))

    def step(self, radius):
        mu = 0.0
        if self.newton_norm > radius:
            # ‖p(μ)‖ ≤ ‖λc‖/μ: ‖p‖ = Δ lies in [0, 2‖λc‖/Δ]; xtol tiny as μ may be ~λ² ≪ 1
            high = 2.0 * float(np.linalg.norm(self.lam * self.coef)) / radius
            mu = scipy.optimize.brentq(lambda m: self._norm(m) - radius, 0.0, high,
                                       xtol=np.finfo(np.float64).tiny, rtol=1e-12, maxiter=500)
        lam2, self.mu = self.lam ** 2, mu
        p = -(self.vecs @ (self.lam * self.coef / (lam2 + mu)))
        return p, float(np.sum(self.coef ** 2 * (1.0 - (mu / (lam2 + mu)) ** 2)))


class _KrylovModel:
    """p = α·p_N, α = min(1, Δ/‖p_N‖); ‖g + αHp_N‖² is a quadratic in α (Hp_N given);
    the correction of geodesic acceleration is scaled by the last step's α likewise."""

    def __init__(self, g, p, hp, op, least_norm):
        self.g, self.p, self.hp, self._op, self._least_norm = g, p, hp, op, least_norm
        self.newton_norm = float(np.linalg.norm(p)) if float(g @ hp) < 0.0 else 0.0
        self.alpha = 1.0

    def curvature(self, p):
        """Hp, one HVP."""
        with np.errstate(all="ignore"):
            return np.asarray(self._op @ p, dtype=np.float64)

    def solve(self, r):
        """−α·H⁺r by LSMR, α of the last step."""
        return self.alpha * self._least_norm(r)

    def step(self, radius):
        alpha = self.alpha = min(1.0, radius / self.newton_norm)
        return alpha * self.p, float(-2.0 * alpha * (self.g @ self.hp)
                                     - alpha ** 2 * (self.hp @ self.hp))
