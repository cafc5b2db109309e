"""The independent numerics of experiments.minratio.check: a minratio run recomputed from θ.

From a run's θ, the data x, y, the sizes, activation, loss and biases (summary.json), the
config's rtol and the weight decay λ, every stored number is recomputed from scratch:
  L, the MSE or cross-entropy (experiments.minratio.independent)  vs `loss`
  L_λ = L + (λ/2)‖θ‖²                                   vs `loss_total` (when saved)
  ‖∇L_λ‖²                                                vs `grad_sq`
  the eigenvalues of ∇²L_λ                               vs `eigenvalues`, and τ vs `tau`
  τ = max(n·ε·‖H‖₂, min(rtol·‖H‖₂, λ/10)), n₋ = #{λ<−τ}  vs `n_neg` (the cap λ/10 only with λ > 0)
  ‖H_τ⁺∇L_λ‖ = ‖Σ_{|λᵢ|>τ} (vᵢᵀg/λᵢ) vᵢ‖                  vs `newton_norm`
  critical ⇔ ‖∇L_λ‖² ≤ grad_sq_tol and ‖H_τ⁺∇L_λ‖ ≤ newton_tol  vs label == "critical".

Why independent: a check that shares the code it checks shares its bugs. Written in the
checker: the forward pass, the activations (in e^{−|z|}: no overflow for saturated units), the
losses and the weight decay (experiments.minratio.independent), the derivatives (autograd's
reverse mode on that module's own function, not the engine's structured Hessian or NumPy
backward pass), the eigensolver (numpy.linalg.eigh, LAPACK syevd; the engine uses scipy's
syevr), the classification rule and the grouping into distinct points. Shared: engine.nets.layout
(where W_l, b_l sit in θ) and, in the checker, the results readers only.

Tolerances, within which a stored number agrees with its recomputation:
  L, L_λ        relative 1e-9 plus the rounding floor (1/N) Σᵢ |∂ℓᵢ/∂fᵢ|·e(fᵢ), e(f) the
                forward error bound of the layers (`objective`): the floor matters only for a
                near-interpolating fit (L ~1e-11). Measured on the default runs ≤ 4e-11.
  ‖∇L_λ‖        1e-6·‖∇L_λ‖ + 1e-6·√grad_sq_tol: the absolute part is a millionth of the
                critical threshold's ‖∇L‖ (measured differences ≤ 1e-15).
  eigenvalues   1e-8·‖H‖₂ each (Weyl: |Δλ| ≤ ‖ΔH‖₂; two exact Hessian routes differ by
                ~1e-15·‖H‖₂, the README's table; measured ≤ 3e-14·‖H‖₂). τ: relative 1e-8.
  n₋, Newton    each eigenvalue is known to δ, its measured disagreement (at least n·ε·‖H‖₂,
                eigh's own error; at most 1e-8·‖H‖₂): the stored n₋ and ‖H_τ⁺∇L‖ must be
                reached at some threshold in [τ − δ, τ + δ], the Newton norm to relative 1e-6
                plus engine.critical.classification's rounding floor ε‖H‖₂‖θ‖/τ (= ε‖θ‖/rtol
                uncapped).
  label         a stored "critical" must be possible and any other label must not be sure under
                these tolerances; runs where either can happen are listed as borderline.
Why the measured δ and not 1e-8·‖H‖₂: with λ > 0 the directions the MSE is flat in have
eigenvalues ≈ λ; before the experiment capped τ at λ/10, ‖H‖₂ ≈ 10 put τ = 1e-6·‖H‖₂ on λ
(10–43 eigenvalues per critical point within 1e-9 of τ, 15 runs borderline at a flat δ), and
any eigenvalue cluster near τ still makes a flat δ too coarse.
Distinct: two points are the same when their losses agree to relative 1e-7 and every eigenvalue
to 1e-7·‖H‖₂ (copies under permuted or sign-flipped units); points linked by a chain of such
pairs count once (connected components).
Cost: per run one gradient, one Hessian (`hessian`: two batched reverse passes) and one eigh,
O(n³): ~0.04 s for the 97 parameters of 1-8-8-1 on one BLAS thread (measured).
"""
from __future__ import annotations

from dataclasses import dataclass

import autograd
import autograd.numpy as anp
import numpy as np
from scipy.sparse.csgraph import connected_components

from experiments.minratio.independent import EPS, Objective, activation_fn, objective

__all__ = ["EPS", "Objective", "activation_fn", "objective", "recompute", "band", "distinct",
           "hessian", "stored_checks", "sizes_disagree", "newton_floor"]

LOSS_RTOL = 1e-9        # L and L_λ, relative
GRAD_RTOL = 1e-6        # ‖∇L_λ‖, relative, plus GRAD_RTOL·√grad_sq_tol absolute
EIG_RTOL = 1e-8         # each eigenvalue, in units of ‖H‖₂; also τ, relative
NEWTON_RTOL = 1e-6      # ‖H_τ⁺∇L‖, relative, plus ε‖H‖₂‖θ‖/τ absolute
DISTINCT_RTOL = 1e-7    # same loss and spectrum to this: one distinct point


@dataclass(frozen=True, eq=False)
class Point:
    """One run recomputed: loss (L), total (L_λ), grad_sq ‖∇L_λ‖², loss_floor (L's rounding
    floor, module docstring), eigenvalues (n,) ascending, coef Vᵀ∇L_λ (n,) in their eigenbasis,
    h_norm ‖H‖₂, tau τ, theta_norm ‖θ‖. Spectral fields are nan when θ, ∇L or H is not finite."""

    loss: float
    total: float
    grad_sq: float
    loss_floor: float
    eigenvalues: np.ndarray
    coef: np.ndarray
    h_norm: float
    tau: float
    theta_norm: float

    def n_neg(self, threshold=None) -> int:
        """#{λ < −threshold}, by default at τ; −1 without a spectrum."""
        if np.isnan(self.tau):
            return -1
        return int(np.sum(self.eigenvalues < -(self.tau if threshold is None else threshold)))

    def n_pos(self, threshold=None) -> int:
        """#{λ > threshold}, by default at τ; −1 without a spectrum."""
        if np.isnan(self.tau):
            return -1
        return int(np.sum(self.eigenvalues > (self.tau if threshold is None else threshold)))

    def newton(self, threshold=None) -> float:
        """‖Σ_{|λᵢ|>threshold} (vᵢᵀg/λᵢ) vᵢ‖, by default at τ (as
        engine.critical.classification's newton_norm)."""
        keep = np.abs(self.eigenvalues) > (self.tau if threshold is None else threshold)
        return float(np.linalg.norm(self.coef[keep] / self.eigenvalues[keep]))

    def critical(self, grad_sq_tol, newton_tol) -> bool:
        """The rule at τ: ‖∇L_λ‖² ≤ grad_sq_tol and ‖H_τ⁺∇L_λ‖ ≤ newton_tol."""
        return bool(self.grad_sq <= grad_sq_tol and self.newton() <= newton_tol)


@dataclass(frozen=True)
class Band:
    """What a stored number may be when each eigenvalue is only known to δ (the larger of the
    measured |λ − stored λ| and n·ε·‖H‖₂, at most 1e-8·‖H‖₂) and ‖∇L_λ‖ to its tolerance:
    n_neg (low, high) over thresholds τ ± δ, newton (low, high), critical (sure, possible)."""

    delta: float
    n_neg: tuple[int, int]
    newton: tuple[float, float]
    critical: tuple[bool, bool]

    @property
    def borderline(self) -> bool:
        """Whether the rule or n₋ can go either way within the tolerances."""
        return self.n_neg[0] != self.n_neg[1] or self.critical[0] != self.critical[1]


def hessian(total, theta):
    """∇²L(θ), (n, n), for a batched loss `total` (θ (..., n) ↦ (...)), by autograd reverse over
    reverse on n copies of θ at once: row b is ∇_θ_b (∇L(θ_b)·e_b) = H e_b. The numbers of
    autograd.hessian in two vectorized passes instead of n (3.5× faster on 1-8-8-1). Cost: two
    gradients of a batch of n, O(n·N·n_params) each."""
    n = theta.size
    grads = autograd.grad(lambda batch: anp.sum(total(batch)))
    return autograd.grad(lambda batch: anp.sum(grads(batch) * np.eye(n)))(np.tile(theta, (n, 1)))


def recompute(theta, fns: Objective, *, rtol, decay=0.0) -> Point:
    """The Point of θ (n,) for the functions of `objective`, the config's rtol and weight decay
    (τ capped at decay/10 when decay > 0).
    Cost: one gradient, one Hessian (`hessian`), one eigh, O(n³)."""
    n, nan = theta.size, float("nan")
    with np.errstate(all="ignore"):
        m, t, floor = float(fns.loss(theta)), float(fns.total(theta)), float(fns.loss_floor(theta))
        g = autograd.grad(fns.total)(theta) if np.all(np.isfinite(theta)) else np.full(n, nan)
        H = hessian(fns.total, theta) if np.all(np.isfinite(g)) else np.full((n, n), nan)
    norm = float(np.linalg.norm(theta))
    if not np.all(np.isfinite(H)):
        return Point(m, t, float(g @ g), floor, np.full(n, nan), np.full(n, nan), nan, nan, norm)
    lam, vecs = np.linalg.eigh(0.5 * (H + H.T))  # autograd's H is symmetric to rounding only
    h_norm = float(np.max(np.abs(lam)))
    cap = decay / 10 if decay > 0 else np.inf
    return Point(m, t, float(g @ g), floor, lam, vecs.T @ g, h_norm,
                 max(n * EPS * h_norm, min(rtol * h_norm, cap)), norm)


def band(point, stored_eigenvalues, config) -> Band:
    """The Band of `point` against the stored eigenvalues (n,) and config's tolerances."""
    if not np.isfinite(point.h_norm):
        return Band(float("nan"), (-1, -1), (float("nan"),) * 2, (False, False))
    lam, h_norm = point.eigenvalues, point.h_norm
    measured = float(np.max(np.abs(lam - stored_eigenvalues)))
    delta = min(max(np.nan_to_num(measured, nan=np.inf), lam.size * EPS * h_norm),
                EIG_RTOL * h_norm)
    # more terms kept (a lower threshold) can only lengthen the Newton step: the range's ends
    low, high = point.newton(point.tau + delta), point.newton(point.tau - delta)
    n_slack = NEWTON_RTOL * high + newton_floor(point)
    g_tol, n_tol = config["grad_sq_tol"], config["newton_tol"]
    g_norm = np.sqrt(point.grad_sq)
    g_slack = GRAD_RTOL * (g_norm + np.sqrt(g_tol))
    sure = (g_norm + g_slack) ** 2 <= g_tol and high + n_slack <= n_tol
    possible = max(g_norm - g_slack, 0.0) ** 2 <= g_tol and low - n_slack <= n_tol
    return Band(delta, (point.n_neg(point.tau + delta), point.n_neg(point.tau - delta)),
                (low, high), (bool(sure), bool(possible)))


def distinct(loss, eigenvalues, rtol=DISTINCT_RTOL) -> np.ndarray:
    """Indices of the first point of each connected group, two points joined when their losses
    agree to rtol (relative) and every eigenvalue to rtol·max(‖H‖₂); shape (n_groups,)."""
    if len(loss) == 0:
        return np.zeros(0, dtype=int)
    scale = np.max(np.abs(eigenvalues), axis=1)
    same = (np.abs(loss[:, None] - loss[None, :]) <= rtol * np.maximum.outer(np.abs(loss),
                                                                             np.abs(loss)))
    gap = np.max(np.abs(eigenvalues[:, None, :] - eigenvalues[None, :, :]), axis=2)
    same &= gap <= rtol * np.maximum.outer(scale, scale)
    _, group = connected_components(same, directed=False)
    return np.array(sorted(np.flatnonzero(group == g)[0] for g in np.unique(group)), dtype=int)


def stored_checks(points, bands, arrays, config) -> list[tuple]:
    """The arguments (quantity, tolerance text, errors, tolerances, unit, shown) of the checks of
    the stored minimal_ratio (n₊/n, anywhere in its range over τ ± δ), grad_norm (as √grad_sq)
    and sizes against the config's hidden widths: every quantity the summary reports is
    recomputed, so replacing one in the file is caught."""
    checks, n = [], arrays["theta"].shape[1]
    if "minimal_ratio" in arrays:
        misses, shown = [], []
        for p, b, s in zip(points, bands, arrays["minimal_ratio"], strict=True):
            # the stored ratio is a count over n: compare counts, not s·n in floating point,
            # which is 24.999999999999996 for 25/97 (a correct run 21 was called inconsistent)
            k = np.rint(s * n) if np.isfinite(s) else np.nan
            is_count = np.isfinite(s) and abs(s * n - k) <= 1e-9 * n
            if np.isnan(p.tau):  # no spectrum: nan on both sides agrees
                misses.append(not np.isnan(s))
            else:
                misses.append(not (is_count and
                                   p.n_pos(p.tau + b.delta) <= k <= p.n_pos(p.tau - b.delta)))
            shown.append(abs(s * n - p.n_pos()) if np.isfinite(s) else np.nan)
        checks.append(("n₊/n vs minimal_ratio", "n₊ at a threshold in τ ± δ", misses, 0.5,
                       " eigenvalues", shown))
    if "grad_norm" in arrays:
        norms, g_atol = [np.sqrt(p.grad_sq) for p in points], GRAD_RTOL * np.sqrt(
            config["grad_sq_tol"])
        checks.append(("‖∇L_λ‖ vs grad_norm", f"{GRAD_RTOL:.0e}·‖∇L_λ‖ + {g_atol:.0e}",
                       [0.0 if np.isnan(g) and np.isnan(s) else abs(g - s)
                        for g, s in zip(norms, arrays["grad_norm"], strict=True)],
                       [GRAD_RTOL * g + g_atol for g in norms], "", None))
    return checks


def sizes_disagree(summary, config) -> str | None:
    """A text when summary.json's sizes contradict the config's hidden widths, else None."""
    hidden = config.get("hidden")
    if hidden is not None and list(summary["sizes"][1:-1]) != list(hidden):
        return (f"summary.json's sizes {summary['sizes']} contradict the config's hidden "
                f"{list(hidden)}")
    return None


def newton_floor(point) -> float:
    """engine.critical.classification's rounding floor of ‖H_τ⁺∇L‖:
    ‖H_τ⁺‖·ε‖H‖₂‖θ‖ ≤ ε‖H‖₂‖θ‖/τ (0 at τ = 0)."""
    return EPS * point.h_norm * point.theta_norm / point.tau if point.tau > 0 else 0.0
