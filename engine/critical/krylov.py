"""Newton-MR's subproblem on Hessian-vector products, one product per iteration: the least-norm
minimizer of ‖Hp + g‖ over a Krylov subspace of range(H), and its trust-region steps, curvature
and geodesic corrections in that subspace at no further product.

Lanczos on the symmetric H from v₁ = Hg/‖Hg‖ (the subspace 𝒦_k(H, Hg) ⊂ range(H) of Hanke's
MR-II), with full reorthogonalization (two Gram–Schmidt passes; the coefficients are kept, so
HV_k = V_{k+1}T̄_k holds to rounding: V (n, k+1) orthonormal, T̄ (k+1, k), tridiagonal in exact
arithmetic). For p = V_k y and c = V_{k+1}ᵀg,
    ‖Hp + g‖² = ‖T̄y + c‖² + ‖g‖² − ‖c‖²,
and with T̄ = UΣWᵀ, keeping σᵢ > τ = max(n·ε·σ₁, min(rtol·σ₁, tau_max)) (the dense model's rule,
engine.spectra.dense, with σ₁ ≈ ‖H‖₂), the minimizer of ‖T̄y + c‖² + μ‖y‖² is
    y(μ) = −Σᵢ σᵢ(uᵢᵀc)/(σᵢ² + μ) wᵢ,
the dense model of engine.critical.newton_mr with (λ, V, Vᵀg) → (σ, V_kW, Uᵀc): μ = 0 is the
Newton-MR step, μ > 0 its trust-region damping. Every iterate lies in range(H), so as k grows
the step tends to the least-norm least-squares solution −H⁺g even where g has a part in ker H
(the gradient-flat case), which MINRES from x₀ = 0 does not reach (its first basis vector g
carries the kernel part; MINRES-QLP, Choi, Paige & Saunders 2011, is the other cure). LSMR on H
reaches the same limit through 𝒦_k(H², Hg) at two products per iteration; this subspace after
2k products, 𝒦_{2k}(H, Hg), contains that one, so its minimal residual is never larger.
Geodesic acceleration's correction (solve) and Hp (curvature) for p in the subspace use T̄:
Hp = V_{k+1}T̄V_kᵀp, and a = −V_kW diag(σ/(σ² + μ)) Uᵀ V_{k+1}ᵀr, the least-norm damped
solve of Ha = −r restricted to the same subspace (instead of a second Krylov solve).
Stopping (Newton-MR's inexactness condition, Roosta et al. 2022, with Eisenstat & Walker's
forcing term η): ‖r‖ ≤ η‖g‖ or ‖Hr‖ ≤ η‖Hg‖, r = Hp + g — the second is what an inconsistent
system can meet; ‖Hr‖ = ‖T̄_{k+1}T̄_k y + ‖Hg‖e₁‖ is known one iteration later, so the test
judges the solution on k columns after building k + 1 and the model keeps all k + 1. The test is
made at k = 1…10 and then every ⌈k/10⌉ iterations (each check is one small SVD).
Cost: k + 1 HVPs; O(n·k) per iteration for the reorthogonalization (at n = 17,226 and k = 250,
at most 5.6 ms a step beside an HVP's 8–10 ms) and per trial step; memory n·(k + 1) floats (V).
"""
from __future__ import annotations

import math

import numpy as np

_EPS = np.finfo(np.float64).eps


class SubspaceModel:
    """The Newton-MR model on the subspace (module docstring): `newton_norm`, `step(radius)` →
    (p (n,), predicted decrease of ‖g‖²), `curvature(p)` → Hp, `solve(r)` → the damped
    correction, `kernel_share` = ‖g + Hp_N‖/‖g‖ for the undamped step p_N (the share of g no
    step in the subspace removes: Frye et al.'s κ when the solve is exact), `n_products`."""

    def __init__(self, g, V, T, rtol, tau_max, n_products):
        k = T.shape[1]
        self.V, self.T, self.n_products, self.mu = V, T, n_products, 0.0
        U, sigma, Wt = (np.linalg.svd(T, full_matrices=False) if k else
                        (np.zeros((T.shape[0], 0)), np.zeros(0), np.zeros((0, 0))))
        tau = (max(g.size * _EPS * sigma[0], min(rtol * sigma[0], tau_max)) if sigma.size
               else 0.0)
        keep = sigma > tau
        self.sigma, self.U = sigma[keep], U[:, keep]
        self.coef = self.U.T @ (V @ g)  # Uᵀc, c = V_{k+1}ᵀg
        self.Wt, self.k = Wt[keep], k  # the step's basis V_kW (n, kept), never formed
        self.newton_norm = float(np.linalg.norm(self.coef / self.sigma)) if keep.any() else 0.0
        g_sq = float(g @ g)
        left = max(g_sq - float(self.coef @ self.coef), 0.0)
        self.kernel_share = math.sqrt(left / g_sq) if g_sq > 0 else 0.0

    def _filtered(self, coef, mu):  # −V_kW diag(σ/(σ² + μ)) coef, O(n·k)
        return -((self.Wt.T @ (self.sigma * coef / (self.sigma ** 2 + mu))) @ self.V[:self.k])

    def step(self, radius):
        """p(μ) with μ = 0 when ‖p(0)‖ ≤ radius, else ‖p(μ)‖ = radius; the predicted decrease
        ‖g‖² − ‖g + Hp‖² = Σ(uᵢᵀc)²(1 − (μ/(σᵢ² + μ))²)."""
        import scipy.optimize

        mu = 0.0
        if self.newton_norm > radius:
            # the root function holds two k-vectors, not self: with a closure over self every
            # step's basis V stayed alive until the search ended (measured: 4 MB a step at
            # n = 2,113, 35 MB at 17,226)
            top, sigma2 = self.sigma * self.coef, self.sigma ** 2
            high = 2.0 * float(np.linalg.norm(top)) / radius
            mu = scipy.optimize.brentq(lambda m: float(np.linalg.norm(top / (sigma2 + m)))
                                       - radius, 0.0, high, xtol=np.finfo(np.float64).tiny,
                                       rtol=1e-12, maxiter=500)
        self.mu = mu
        shrink = mu / (self.sigma ** 2 + mu)
        return (self._filtered(self.coef, mu),
                float(np.sum(self.coef ** 2 * (1.0 - shrink ** 2))))

    def curvature(self, p):
        """Hp = V_{k+1}T̄V_kᵀp for p in the subspace (every step is); no HVP."""
        k = self.T.shape[1]
        return self.V.T @ (self.T @ (self.V[:k] @ p))

    def solve(self, r):
        """The last step's damped least-norm solve of Ha = −r within the subspace; no HVP."""
        return self._filtered(self.U.T @ (self.V @ r), self.mu)


def subspace_model(hvp, g, *, tol=1e-10, maxiter=250, rtol=1e-6, tau_max=math.inf):
    """The SubspaceModel of H (hvp(v) → Hv, v (n,)) and g (n,) after Lanczos on 𝒦(H, Hg) until
    ‖r‖ ≤ tol·‖g‖ or ‖Hr‖ ≤ tol·‖Hg‖ (module docstring), an invariant subspace, or maxiter
    iterations (maxiter + 1 HVPs, the first one Hg). A model with newton_norm 0 when Hg = 0
    (g ∈ ker H: no step reduces ‖Hp + g‖); None when a product is not finite.
    Raises ValueError for maxiter < 1 or tol not ≥ 0."""
    if not int(maxiter) >= 1:
        raise ValueError(f"maxiter={maxiter!r} must be a positive integer")
    if not float(tol) >= 0.0:
        raise ValueError(f"tol={tol!r} must be a number ≥ 0")
    g = np.asarray(g, dtype=np.float64)
    n = g.size
    maxiter = min(int(maxiter), n)  # at k = n the subspace is all of ℝⁿ: invariant
    with np.errstate(all="ignore"):
        b = np.asarray(hvp(g), dtype=np.float64)
    beta1 = float(np.linalg.norm(b))
    if not np.isfinite(beta1):
        return None
    if beta1 == 0.0:
        return SubspaceModel(g, np.zeros((1, n)), np.zeros((1, 0)), rtol, tau_max, 1)
    V = np.empty((maxiter + 1, n))
    T = np.zeros((maxiter + 1, maxiter))
    V[0] = b / beta1
    g_norm, next_check, k = float(np.linalg.norm(g)), 1, 0
    while k < maxiter:
        with np.errstate(all="ignore"):
            w = np.asarray(hvp(V[k]), dtype=np.float64)
        if not np.all(np.isfinite(w)):
            return None
        basis = V[:k + 1]
        h = basis @ w
        w -= h @ basis
        again = basis @ w  # the second pass restores orthogonality lost to cancellation
        w -= again @ basis
        T[:k + 1, k] = h + again
        beta = float(np.linalg.norm(w))
        T[k + 1, k] = beta
        k += 1
        if k == n or beta <= n * _EPS * float(np.max(np.abs(T[:k + 1, :k]))):
            T[k, k - 1] = 0.0  # an invariant subspace: HV_k = V_kT_k, the subspace is exact
            return SubspaceModel(g, V[:k], T[:k, :k], rtol, tau_max, k + 1)
        V[k] = w / beta
        if k == next_check:
            next_check = k + max(1, math.ceil(k / 10))
            if k >= 2 and _converged(g, V[:k + 1], T[:k + 1, :k], beta1, g_norm, tol, rtol,
                                     tau_max):
                break
    return SubspaceModel(g, V[:k + 1], T[:k + 1, :k], rtol, tau_max, k + 1)


def _converged(g, V, T, beta1, g_norm, tol, rtol, tau_max):
    """Does the solution on the first k − 1 columns meet the test? (T (k+1, k), V (k+1, n))."""
    m = T.shape[1] - 1
    model = SubspaceModel(g, V[:m + 1], T[:m + 1, :m], rtol, tau_max, 0)
    y_coef = model.sigma * model.coef / model.sigma ** 2  # p = −basis @ y_coef
    # T̄_{m}y in V_{m+1}'s coordinates: −U diag(σ) y_coef (U (m+1, kept))
    ty = -(model.U @ (model.sigma * y_coef))
    c = V[:m + 1] @ g
    r_sq = float(np.sum((ty + c) ** 2)) + max(g_norm ** 2 - float(c @ c), 0.0)
    hr = T @ ty
    hr[0] += beta1
    return math.sqrt(r_sq) <= tol * g_norm or float(np.linalg.norm(hr)) <= tol * beta1
