"""How the index of critical points rises with their loss: a rank correlation and Pennington &
Bahri's (2017) power law, each with a bootstrap interval over points (one point per run).

Dauphin et al. (2014) and Pennington & Bahri (2017) predict that the index α = n₋/n of critical
points grows with their loss ε; Pennington & Bahri's random-matrix model gives
α ≈ α₀·|(ε − ε_c)/ε_c|^{3/2} above a critical loss ε_c. `index_loss_fit` measures both the
monotone relation (Spearman's ρ) and the exponent, so the data can confirm or reject 3/2.
Cost: n_boot rank correlations and n_boot small nonlinear fits (scipy.optimize.curve_fit).
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.optimize
import scipy.stats


def index_loss_fit(loss, index, *, rng, n_boot=1000, exponent=1.5):
    """How the index α = n₋/n of critical points rises with their loss ε, with bootstrap
    intervals over points (one point per run; resampled with replacement n_boot times).

    spearman: ρ(ε, α) and its 95 % percentile interval (a monotone relation, no model);
    power: Pennington & Bahri's (2017) α = α₀·max(0, (ε − ε_c)/ε_c)^p, fitted by least squares
    (scipy curve_fit, α₀ > 0, 0 < ε_c < the smallest loss of a point with α > 0, p ∈ [0.1, 10]),
    with p's 95 % interval, whether `exponent` (3/2) lies inside it and whether p sits at a
    bound (then the data do not determine it). None where there are fewer than 3 saddles (ρ) or
    fewer than 4 distinct losses among the points with α > 0 (power); a bootstrap sample whose
    fit fails or is degenerate is skipped and counted. loss, index: (n_points,) arrays.
    Cost: n_boot rank correlations and n_boot small nonlinear fits.
    """
    loss, index = np.asarray(loss, dtype=np.float64), np.asarray(index, dtype=np.float64)
    keep = np.isfinite(loss) & np.isfinite(index)
    loss, index = loss[keep], index[keep]
    out = {"n_points": int(loss.size), "n_saddles": int((index > 0).sum()), "spearman": None,
           "power": None}
    # with fewer than 3 saddles ρ is the rank of one or two points, and resamples without them
    # have no variation at all (they would be dropped, biasing the interval)
    if loss.size < 3 or (index > 0).sum() < 3 or np.ptp(loss) == 0:
        return out
    boot = rng.integers(0, loss.size, size=(n_boot, loss.size))
    rho = float(scipy.stats.spearmanr(loss, index)[0])
    with warnings.catch_warnings():
        # a resample drawing one value only has no rank correlation: nan, dropped and counted
        warnings.simplefilter("ignore", scipy.stats.ConstantInputWarning)
        rhos = np.array([scipy.stats.spearmanr(loss[b], index[b])[0] for b in boot])
    rhos = rhos[np.isfinite(rhos)]
    out["spearman"] = {"rho": rho, "low": float(np.quantile(rhos, 0.025)),
                       "high": float(np.quantile(rhos, 0.975)), "n_boot": int(rhos.size)}
    if (index > 0).sum() < 4:
        return out
    fit = _power_fit(loss, index)
    if fit is None:
        return out
    ps = [f[2] for f in (_power_fit(loss[b], index[b]) for b in boot) if f is not None]
    low, high = ((float(np.quantile(ps, 0.025)), float(np.quantile(ps, 0.975))) if ps
                 else (float("nan"), float("nan")))
    out["power"] = {"alpha0": fit[0], "loss_c": fit[1], "exponent": fit[2], "low": low,
                    "high": high, "n_boot": len(ps), "n_failed": n_boot - len(ps),
                    "contains": bool(low <= exponent <= high), "reference": exponent,
                    "at_bound": bool(min(abs(fit[2] - 0.1), abs(fit[2] - 10.0)) < 1e-6)}
    return out


def power_curve(loss, alpha0, loss_c, exponent):
    """α₀·max(0, (ε − ε_c)/ε_c)^p, elementwise."""
    return alpha0 * np.maximum(0.0, (np.asarray(loss) - loss_c) / loss_c) ** exponent


def _power_fit(loss, index):
    """(α₀, ε_c, p) by least squares, or None when it fails or has < 4 points with α > 0."""
    saddle = index > 0
    # three parameters: a curve needs at least four distinct losses among the saddles (copies
    # of one saddle at one loss, e.g. of the constant fit, pin nothing down)
    if np.unique(np.round(np.log10(loss[saddle]), 7)).size < 4:
        return None
    top = float(loss[saddle].min())
    guess = (float(index.max()), 0.5 * top, 1.0)
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            params, _ = scipy.optimize.curve_fit(
                power_curve, loss, index, p0=guess, bounds=([0.0, 1e-3 * top, 0.1],
                                                            [np.inf, top, 10.0]), maxfev=2000)
    except (RuntimeError, ValueError):
        return None
    return tuple(float(v) for v in params) if np.all(np.isfinite(params)) else None
