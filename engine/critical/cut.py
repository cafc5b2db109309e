"""Which eigenvalue cut τ counts the signs of a near-critical point's Hessian.

  relative   τ = max(n·ε·‖H‖₂, rtol·‖H‖₂) (engine.spectra.dense; the homework's rule). Not
             invariant along a symmetry orbit: the deep linear autoencoder's symmetry
             θ ↦ Tθ keeps the inertia of H (H(Tθ) = T⁻ᵀH(θ)T⁻¹, Sylvester's law) but scales its
             eigenvalues, and at a badly scaled point of an orbit (‖H‖₂ = 5e4) real eigenvalues
             fall below 1e-6·‖H‖₂ (measured: index 17 for the theory's 22).
  certified  τ = max(n·ε·‖H‖₂, 2‖H(θ + s) − H(θ)‖₂), s = −H_τ⁺∇L the truncated Newton step to
             the critical point θ* the point stands for. By Weyl's inequality every eigenvalue
             of H(θ*) lies within ‖H(θ*) − H(θ)‖₂ of one of H(θ), and H(θ + s) − H(θ) estimates
             that difference to first order in ‖s‖ (the factor 2: a margin for the second
             order). So an eigenvalue beyond τ has the same sign at θ* as here, and one within
             τ cannot be told from a zero of H(θ*) — the exact zeros of the orbit's tangent and
             the rounding floor included. The rule depends on H only through its eigenvalue
             errors, not its scale, so a point's place on its orbit does not change the
             counts, as long as the point is resolved (‖s‖ small). s is computed with the
             relative cut first, then once more with the certified τ (one fixed-point step).
Benchmark: `python -m experiments.bench.dlae --cut relative|certified` (2517 analytic classes;
the table in the closing note of issue 23).
Cost: relative none beyond the spectrum; certified two eigh and two more Hessians, O(n³).
"""
from __future__ import annotations

import numpy as np

from engine.io.errors import check_point
from engine.spectra.dense import EPS

CUTS = ("relative", "certified")


def sign_cut(cut, theta, g, H, hess_fn, rtol=1e-6) -> dict:
    """classify's keyword arguments {rtol, tau_max} for the cut named `cut` (CUTS) at θ (n,)
    with gradient g (n,), Hessian H (n, n) and hess_fn(θ) → (n, n). With certified, τ is given
    as tau_max and rtol = 1, so classify's τ = max(n·ε·‖H‖₂, τ). A non-finite θ, g or H falls
    back to the relative cut (classify then says not converged). Raises ValueError for an
    unknown cut."""
    if cut not in CUTS:
        raise ValueError(f"cut={cut!r} is unknown; choose one of {list(CUTS)}")
    if cut == "relative" or not (np.all(np.isfinite(g)) and np.all(np.isfinite(H))):
        return {"rtol": rtol}
    return {"rtol": 1.0, "tau_max": certified_tau(theta, g, H, hess_fn, rtol)}


def certified_tau(theta, g, H, hess_fn, rtol=1e-6) -> float:
    """τ of the certified rule (module docstring), > 0. Raises ValueError unless θ (n,), g (n,)
    and H (n, n) fit together and hess_fn is callable."""
    check_point(theta, g, H)
    if not callable(hess_fn):
        raise ValueError(f"hess_fn={hess_fn!r}: give a function θ ↦ H(θ) (n, n)")
    H = 0.5 * (H + H.T)
    lam, vecs = np.linalg.eigh(H)
    norm = float(np.max(np.abs(lam)))
    floor = max(lam.size * EPS * norm, np.finfo(np.float64).tiny)
    tau = max(floor, rtol * norm)
    coef = vecs.T @ g
    for _ in range(2):
        keep = np.abs(lam) > tau
        s = -(vecs[:, keep] @ (coef[keep] / lam[keep]))
        with np.errstate(all="ignore"):
            change = np.asarray(hess_fn(theta + s), dtype=np.float64) - H
        if not np.all(np.isfinite(change)):
            return max(tau, floor)
        tau = max(floor, min(2.0 * float(np.linalg.norm(0.5 * (change + change.T), 2)),
                             rtol * norm))
    return tau
