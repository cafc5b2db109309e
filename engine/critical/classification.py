"""What a finder's end point is: critical, gradient-flat or not converged; and the sampled ratio.

Classification (after the search, never as its stopping rule; Frye et al. 2019, 2021), with
H = V diag(λ) Vᵀ, τ = max(n·ε·‖H‖₂, min(rtol·‖H‖₂, tau_max)) (engine.spectra.dense) and
  newton_norm  ‖H_τ⁺ g‖ = ‖Σ_{|λᵢ|>τ} (vᵢᵀg/λᵢ) vᵢ‖   (the truncated Newton step still to go),
  kappa        κ = ‖P₀g‖/‖g‖, P₀ the projector on the eigenvectors with |λ| ≤ τ,
  flat_cosine  c = ‖Hg‖/(‖H‖₂‖g‖)                  (≈ 0 where g is a stationary point of ‖g‖):
  critical       ‖g‖² ≤ grad_sq_tol  and  ‖H_τ⁺g‖ ≤ newton_tol;
  gradient-flat  not critical, and κ ≥ kappa_tol or c ≤ cos_tol;
  not-converged  everything else, including non-finite θ, g or H.
`flat` is κ ≥ kappa_tol (for a critical point: what is left of g sits in a flat valley).
Defaults: ‖g‖² ≤ 1e-10 is the cutoff Frye et al. (2019) validated on networks with known critical
points (1e-8 was too loose); κ ≥ 0.9 and c ≤ 5e-4 are their gradient-flat criteria.
The Newton test is absolute, in the units of θ: ‖H_τ⁺g‖ estimates the distance to the critical
point (exactly, to second order, at a non-degenerate one), and a test relative to ‖θ‖ would
accept points ever farther from any critical point as θ drifts to infinity (saturating units:
‖θ‖ ×3–×100 while ‖g‖ decays). Its rounding floor is ‖H_τ⁺‖·δg ≤ (1/(rtol·‖H‖₂))·ε‖H‖₂‖θ‖ =
ε‖θ‖/rtol ≈ 2e-10·‖θ‖ at rtol 1e-6, so 1e-6 is above rounding for ‖θ‖ ≲ 4000; the embedded
critical points of engine.critical.embedding (‖θ‖ ≈ 18, known exactly) come out at ≤ 1e-9 (the
tests).

Isolated, on a connected set, or escaping (`continuation`): from a critical end point θ* the
search goes on for a fixed budget with no convergence floor, and ‖θ‖ is recorded. With θ_c its
end, moved = ‖θ_c − θ*‖/‖θ*‖ and growth = (‖θ_c‖ − ‖θ*‖)/‖θ*‖:
  stays      moved ≤ move_tol: nothing left to reduce (an isolated point, or a flat set the
             search has no reason to follow);
  drifted    moved > move_tol and L changed by more than loss_rtol (relative) or ‖∇L(θ_c)‖² >
             grad_sq_tol: the continuation left the point, which was not critical after all;
  escaping   moved > move_tol at an unchanged loss, with growth ≥ grow_share·moved: the search
             keeps lowering ‖∇L‖ by moving outward at a level loss, towards a critical point at
             infinity (saturating units; Fukumizu & Amari 2000);
  manifold   moved > move_tol at an unchanged loss, ‖θ‖ bounded: it slid along a connected set of
             critical points (symmetry-induced, Şimşek et al. 2021).
A tangent move along a bounded set of radius ~‖θ*‖ changes ‖θ‖ only to second order (growth ≈
moved²/2), hence the test on the outward share of the move.

Beyond the dense limit (n > eigh_max, EIGH_MAX; or H a LinearOperator of HVPs) there is no eigh:
engine.spectra.inertia counts the signs (LDLᵀ inertia, or verified Lanczos with "index ≥ k" when
not exact) and gives newton_norm and κ Tikhonov-filtered (λ²/(λ² + τ²) for the 0/1 step at τ);
measured 1.7× cheaper than eigh at n = 2,410 (EIGH_MAX says where).
The sampled ratio: engine.critical.sampled_ratio (re-exported here).
Cost: classify one eigh, O(n³) (beyond the limit three LDLᵀ and a complex solve, ≈ 7n³/3 flops).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy.sparse.linalg import LinearOperator

from engine.critical.finders import find_critical
from engine.critical.sampled_ratio import SampledRatio, sampled_minimal_ratio  # noqa: F401
from engine.io.errors import check_finite, check_float_array, is_real
from engine.nets.activations import get_activation
from engine.spectra.dense import Spectrum, kernel_share, spectrum, spectrum_from_eigenvalues
from engine.spectra.inertia import EIGH_MAX, counted_newton

LABELS = ("critical", "gradient-flat", "not-converged")
VERDICTS = ("stays", "manifold", "escaping", "drifted")


@dataclass(frozen=True, eq=False)
class PointClass:
    """label (one of LABELS), flat (κ ≥ kappa_tol), grad_sq ‖g‖², newton_norm ‖H_τ⁺g‖, kappa κ,
    flat_cosine c, spectrum (eigenvalues, eigenvectors, τ and counts; None when θ, g or H is not
    finite, and then the numbers are nan). eq=False: the spectrum holds arrays."""

    label: str
    flat: bool
    grad_sq: float
    newton_norm: float
    kappa: float
    flat_cosine: float
    spectrum: Spectrum | None

    @property
    def kind(self) -> str:
        """What the point is, in words: for a critical point 'minimum', 'maximum' or 'saddle of
        index k' (k = n₋, the eigenvalues below −τ), with ' (m flat)' when m eigenvalues lie
        within ±τ — the second-order test cannot tell along them, so 'minimum (2 flat)' may be a
        degenerate saddle; otherwise the label ('gradient-flat', 'not-converged')."""
        if self.label != "critical" or self.spectrum is None:
            return self.label
        s = self.spectrum
        flat = f" ({s.n_zero} flat)" if s.n_zero else ""
        if s.n_neg == 0:
            return "minimum" + flat
        if s.n_pos == 0:
            return "maximum" + flat
        bound = "" if getattr(s, "exact", True) else "≥ "  # a Lanczos count that ran out
        return f"saddle of index {bound}{s.n_neg}{flat}"


def classify(theta, g, H, *, grad_sq_tol=1e-10, newton_tol=1e-6, kappa_tol=0.9, cos_tol=5e-4,
             rtol=1e-6, tau_max=math.inf, non_finite="raise", eigh_max=EIGH_MAX) -> PointClass:
    """Classify θ (n,) with gradient g (n,) and Hessian H (n, n; an array or a LinearOperator)
    by the rules in the module docstring, without eigh when n > eigh_max or H is an operator.
    c = 0 when Hg = 0 and κ = 0 when g = 0.

    non_finite: a nan/inf in θ, g or H raises ValueError naming it ("raise", the library's door,
    as in spectrum and find_critical), or, where a search ended ("not-converged", what the
    experiments pass), is that label with spectrum None and nan diagnostics — as when both
    LAPACK eigensolvers fail on a finite H. Raises ValueError on shapes that do not fit,
    tolerances that are not positive numbers, kappa_tol > 1, or an unknown non_finite."""
    if non_finite not in ("raise", "not-converged"):
        raise ValueError(f"non_finite={non_finite!r} must be 'raise' or 'not-converged'")
    for name, value in (("grad_sq_tol", grad_sq_tol), ("newton_tol", newton_tol),
                        ("kappa_tol", kappa_tol), ("cos_tol", cos_tol), ("rtol", rtol)):
        if not (isinstance(value, (int, float)) and np.isfinite(value) and value > 0):
            raise ValueError(f"{name}={value!r} must be a positive finite number")
    if kappa_tol > 1:  # κ = ‖P₀g‖/‖g‖ ≤ 1: a larger cut never fires (the CLI's --kappa-tol too)
        raise ValueError(f"kappa_tol={kappa_tol!r} must lie in (0, 1]: κ is a share of ‖∇L‖")
    theta, g = (check_float_array(name, a, "give a vector (n,) of numbers")
                for name, a in (("theta", theta), ("g", g)))
    H = H if isinstance(H, LinearOperator) else check_float_array(
        "H", H, "give the Hessian as an array (n, n) or a LinearOperator, not a function")
    n, nan = theta.size, float("nan")
    if theta.shape != (n,) or g.shape != (n,) or H.shape != (n, n) or n == 0:
        raise ValueError(f"classify needs theta (n,), g (n,), H (n, n); got {theta.shape}, "
                         f"{g.shape}, {H.shape}")
    with np.errstate(all="ignore"):
        grad_sq = float(g @ g)
    if not (np.all(np.isfinite(theta)) and np.all(np.isfinite(g))
            and (isinstance(H, LinearOperator) or np.all(np.isfinite(H)))):
        if non_finite == "raise":
            for name, value in (("theta", theta), ("g", g), ("H", H)):
                check_finite(name, value, "classify a finite point, or pass "
                             "non_finite='not-converged' for where a search ended")
        return PointClass("not-converged", False, grad_sq, nan, nan, nan, None)
    if isinstance(H, LinearOperator) or n > eigh_max:  # no eigh (module docstring)
        counted = counted_newton(H, g, rtol, tau_max)
        if counted is None:  # a non-finite product, Lanczos or a factorization failed
            return PointClass("not-converged", False, grad_sq, nan, nan, nan, None)
        return _labelled(grad_sq, *counted, grad_sq_tol, newton_tol, kappa_tol, cos_tol)
    try:
        spec = spectrum(H, rtol=rtol, eigenvectors=True, tau_max=tau_max)
    except np.linalg.LinAlgError:
        # LAPACK's syevr (scipy) failed on a finite H — seen on Hessians of saturated nets with
        # entries over many decades; syevd (numpy) is another algorithm on the same matrix
        try:
            lam, vecs = np.linalg.eigh(0.5 * (H + H.T))
        except np.linalg.LinAlgError:
            return PointClass("not-converged", False, grad_sq, nan, nan, nan, None)
        spec = replace(spectrum_from_eigenvalues(lam, rtol, tau_max), eigenvectors=vecs)
    lam, vecs = spec.eigenvalues, spec.eigenvectors
    coef = vecs.T @ g
    keep = np.abs(lam) > spec.tau
    newton_norm = float(np.linalg.norm(coef[keep] / lam[keep]))
    kappa = kernel_share(g, lam, vecs, spec.tau)
    hg_norm = float(np.linalg.norm(lam * coef))
    return _labelled(grad_sq, spec, newton_norm, kappa, hg_norm, grad_sq_tol, newton_tol,
                     kappa_tol, cos_tol)


def _labelled(grad_sq, spec, newton_norm, kappa, hg_norm, grad_sq_tol, newton_tol, kappa_tol,
              cos_tol) -> PointClass:
    h_norm = float(np.max(np.abs(spec.eigenvalues)))  # ‖H‖₂ (the extremes found, at scale)
    flat_cosine = hg_norm / (h_norm * np.sqrt(grad_sq)) if hg_norm > 0.0 else 0.0

    critical = grad_sq <= grad_sq_tol and newton_norm <= newton_tol
    if critical:
        label = "critical"
    elif kappa >= kappa_tol or flat_cosine <= cos_tol:
        label = "gradient-flat"
    else:
        label = "not-converged"
    return PointClass(label, bool(kappa >= kappa_tol), grad_sq, newton_norm, kappa,
                      float(flat_cosine), spec)


@dataclass(frozen=True, eq=False)
class Continuation:
    """verdict (one of VERDICTS), moved ‖θ_c − θ*‖/‖θ*‖, growth (‖θ_c‖ − ‖θ*‖)/‖θ*‖,
    loss_change |L(θ_c) − L(θ*)|/|L(θ*)|, grad_sq ‖∇L(θ_c)‖², theta_norms ‖θ‖ along the
    continuation (accepted steps), n_eval gradient evaluations. eq=False: holds an array."""

    verdict: str
    moved: float
    growth: float
    loss_change: float
    grad_sq: float
    theta_norms: np.ndarray
    n_eval: int


def continuation(theta, grad_fn, hess_fn, loss_fn, *, method="lm", max_eval=200,
                 grad_sq_tol=1e-10, move_tol=1e-4, grow_share=0.1, loss_rtol=1e-6,
                 hvp_fn=None, **finder_opts) -> Continuation:
    """Continue the search from a critical point θ (n,) by engine.critical.finders' `method` (with
    hvp_fn and finder_opts, e.g. max_hvp: beyond its dense switch) for at most
    max_eval evaluations, with no convergence floor and no stall window shorter than the budget,
    and give the verdict of the module docstring. grad_fn(θ) → (n,), hess_fn(θ) → (n, n),
    loss_fn(θ) → float. Cost: up to max_eval gradients and Hessians (lm). Raises ValueError on
    tolerances that are not positive or a θ that is not finite."""
    for name, value in (("grad_sq_tol", grad_sq_tol), ("move_tol", move_tol),
                        ("grow_share", grow_share), ("loss_rtol", loss_rtol)):
        if not (isinstance(value, (int, float)) and np.isfinite(value) and value > 0):
            raise ValueError(f"{name}={value!r} must be a positive finite number")
    theta = np.asarray(theta, dtype=np.float64)
    if theta.ndim != 1:
        raise ValueError(f"continuation needs one parameter vector θ (n,); got {theta.shape}")
    check_finite("theta", theta, "continue from a finite critical point")
    res = find_critical(theta, grad_fn, hess_fn, method=method, max_iter=int(max_eval),
                        grad_sq_floor=0.0, window=int(max_eval), hvp_fn=hvp_fn, **finder_opts)
    end = res.theta
    scale = max(float(np.linalg.norm(theta)), np.finfo(np.float64).tiny)
    moved = float(np.linalg.norm(end - theta)) / scale
    growth = (float(np.linalg.norm(end)) - scale) / scale
    with np.errstate(all="ignore"):
        loss0, loss1 = float(loss_fn(theta)), float(loss_fn(end))
        g = np.asarray(grad_fn(end), dtype=np.float64)
    loss_change = abs(loss1 - loss0) / max(abs(loss0), np.finfo(np.float64).tiny)
    grad_sq = float(g @ g)
    if moved <= move_tol:
        verdict = "stays"
    elif not (grad_sq <= grad_sq_tol and loss_change <= loss_rtol):
        verdict = "drifted"
    elif growth >= grow_share * moved:
        verdict = "escaping"
    else:
        verdict = "manifold"
    return Continuation(verdict, moved, float(growth), float(loss_change), grad_sq,
                        res.theta_norms, res.n_eval)


def saturation(net, theta, x, *, tol=1e-3):
    """(share, max |z|): the share of hidden units of `net` at θ (n,) saturated on the inputs x
    (N, d_in) — σ'(z_{n,i}) ≤ tol·σ'(0) for every sample n: the unit is a constant there and its
    incoming weights are free to grow — and the largest |pre-activation| of a hidden unit.
    Cost: one forward pass, O(N·n). Raises ValueError on a non-finite θ, x that is not (N, d_in)
    or a tol that is not a finite number > 0."""
    if not (is_real(tol) and np.isfinite(tol) and tol > 0):
        raise ValueError(f"tol={tol!r} must be a finite number > 0 (a share of σ'(0))")
    check_finite("theta", theta, "saturation is measured at a finite parameter vector")
    act = get_activation(net.activation)
    h, zs = net.check_data(x)[0], []
    params = net.layout.unpack(np.asarray(theta, dtype=np.float64))
    with np.errstate(all="ignore"):
        for W, b in params[:-1]:
            zs.append(h @ W if b is None else h @ W + b)  # b None: a bias-free layer
            h = act.fn(zs[-1])
        z = np.concatenate(zs, axis=1) if zs else np.zeros((len(h), 0))
        ref = abs(float(act.d1(np.zeros(1))[0]))
        flat = np.all(np.abs(act.d1(z)) <= tol * ref, axis=0)
    return (float(flat.mean()) if flat.size else 0.0,
            float(np.max(np.abs(z))) if z.size else 0.0)
