"""How the index of critical points rises with their loss: a rank correlation and a slope per
decade of loss (the headline, no model), and Pennington & Bahri's (2017) power law only where the
data identify its parameters — each with a bootstrap interval over points (one point per run).

Dauphin et al. (2014) and Pennington & Bahri (2017) predict that the index α = n₋/n of critical
points grows with their loss ε; Pennington & Bahri's random-matrix model gives
α ≈ α₀·|(ε − ε_c)/ε_c|^{3/2} above a critical loss ε_c. That is a large-width law with three
parameters; on a small net with a few dozen critical points its fit often puts ε_c on its bound
(the lowest saddle's loss) or p on its own, and then the exponent means nothing. So the summary
leads with what needs no model — Spearman's ρ(ε, α) and the least-squares slope dα/d log₁₀ε —
and reports the power law only when it is identified (no parameter on a bound, in the fit or in
more than 5 % of its bootstrap refits), else says why it cannot be fitted.

Copies of the constant fit (the trivial critical points: all outputs ȳ, every hidden layer
degenerate, several indices at one loss) pin no trend down and are removed first when the
constant fit's loss is given. Cost: n_boot rank correlations, n_boot linear fits and, when the
power law is tried, n_boot small nonlinear fits (scipy.optimize.curve_fit).
"""
from __future__ import annotations

import warnings

import numpy as np
import scipy.optimize

from engine.io.errors import check_float_array, check_rng, is_real

N_PARAMETERS = 3  # α₀, ε_c, p
TRIVIAL_SHARE = 0.99  # ε ≥ 0.99·(the constant fit's loss): a copy of the constant fit
BOUND_RTOL = 1e-3  # a parameter within 0.1 % of a bound is on it (TRF stays just inside bounds)
BOUND_SHARE = 0.05  # at most this share of bootstrap refits may touch a bound


def index_loss_fit(loss, index, *, rng, n_boot=1000, exponent=1.5, trivial_loss=None):
    """How the index α = n₋/n of critical points rises with their loss ε, with 95 % percentile
    bootstrap intervals over points (resampled with replacement n_boot times).

    Points with ε ≥ 0.99·trivial_loss (copies of the constant fit) are removed first and
    counted in n_trivial; the rest are the data ("n_points", "n_saddles": those with α > 0).
    spearman: ρ(ε, α) with its interval (None with < 3 saddles or one loss only);
    slope: the least-squares slope of α against log₁₀ε, "per_decade" (index per decade of loss),
    its intercept and interval (None when spearman is);
    power: Pennington & Bahri's α = α₀·max(0, (ε − ε_c)/ε_c)^p (scipy curve_fit, α₀ ≥ 0,
    10⁻³ε_top ≤ ε_c ≤ ε_top the lowest saddle loss, p ∈ [0.1, 10]) with each parameter's
    interval, whether `exponent` (3/2) lies in p's, or None when not identified;
    power_status: "identified" (bool), "reason" (one sentence when not), "at_bound" (per
    parameter, of the fit), "bound_share" (share of refits with a parameter on a bound),
    "parameters_per_point" (3 / the number of points fitted), "n_distinct" (distinct saddle
    losses). loss, index: (n_points,) arrays; trivial_loss: a float or None (nothing removed).
    Raises ValueError for loss and index not 1-D of one length, an rng that is not a numpy
    Generator or n_boot < 1.
    """
    loss = check_float_array("loss", loss, "give one loss per critical point (n_points,)", 1)
    index = check_float_array("index", index, "give one index per critical point (n_points,)", 1)
    if index.shape != loss.shape:
        raise ValueError(f"index has shape {index.shape} but loss has {loss.shape}; give one "
                         "index per loss")
    check_rng(rng)
    if not (isinstance(n_boot, (int, np.integer)) and n_boot >= 1):
        raise ValueError(f"n_boot={n_boot!r} must be an integer ≥ 1 (bootstrap resamples)")
    keep = np.isfinite(loss) & np.isfinite(index)
    trivial = keep & (loss >= TRIVIAL_SHARE * trivial_loss) if trivial_loss else keep & False
    loss, index = loss[keep & ~trivial], index[keep & ~trivial]
    saddle = index > 0
    n_distinct = int(np.unique(np.round(np.log10(loss[saddle & (loss > 0)]), 7)).size)
    out = {"n_points": int(loss.size), "n_saddles": int(saddle.sum()),
           "n_trivial": int(trivial.sum()), "spearman": None, "slope": None, "power": None,
           "power_status": {"identified": False, "reason": "", "at_bound": None,
                            "bound_share": None, "n_distinct": n_distinct,
                            "parameters_per_point": (N_PARAMETERS / loss.size if loss.size
                                                     else None)}}
    status = out["power_status"]
    # with fewer than 3 saddles ρ is the rank of one or two points, and resamples without them
    # have no variation at all (they would be dropped, biasing the interval)
    if loss.size < 3 or saddle.sum() < 3 or np.ptp(loss) == 0 or np.any(loss <= 0):
        status["reason"] = "fewer than three non-trivial saddles at more than one loss"
        return out
    # imported here, not at the top: scipy.stats is ≈ 0.7 s of every command's start
    import scipy.stats

    boot = rng.integers(0, loss.size, size=(n_boot, loss.size))
    with warnings.catch_warnings():
        # a resample drawing one value only has no rank correlation: nan, dropped and counted
        warnings.simplefilter("ignore", scipy.stats.ConstantInputWarning)
        rhos = np.array([scipy.stats.spearmanr(loss[b], index[b])[0] for b in boot])
    rhos = rhos[np.isfinite(rhos)]
    out["spearman"] = {"rho": float(scipy.stats.spearmanr(loss, index)[0]),
                       "low": float(np.quantile(rhos, 0.025)),
                       "high": float(np.quantile(rhos, 0.975)), "n_boot": int(rhos.size)}
    decades = np.log10(loss)
    slopes = np.array([np.polyfit(decades[b], index[b], 1)[0] for b in boot
                       if np.ptp(decades[b]) > 0])
    per_decade, intercept = np.polyfit(decades, index, 1)
    out["slope"] = {"per_decade": float(per_decade), "intercept": float(intercept),
                    "low": float(np.quantile(slopes, 0.025)),
                    "high": float(np.quantile(slopes, 0.975)), "n_boot": int(slopes.size)}
    if n_distinct < N_PARAMETERS + 1:
        # three parameters: a curve needs at least four distinct losses among the saddles
        status["reason"] = (f"{n_distinct} distinct saddle losses: {N_PARAMETERS + 1} are the "
                            f"fewest that can determine {N_PARAMETERS} parameters")
        return out
    fit = _power_fit(loss, index)
    if fit is None:
        status["reason"] = "the least-squares fit failed"
        return out
    params, on_bound = fit
    status["at_bound"] = dict(zip(("alpha0", "loss_c", "exponent"), on_bound, strict=True))
    refits = [f for f in (_power_fit(loss[b], index[b]) for b in boot) if f is not None]
    status["bound_share"] = (float(np.mean([np.any(b) for _, b in refits])) if refits
                             else None)
    if any(on_bound):
        names = [n for n, b in status["at_bound"].items() if b]
        status["reason"] = f"{', '.join(names)} on {'its' if len(names) == 1 else 'their'} bound"
    elif not refits or status["bound_share"] > BOUND_SHARE:
        status["reason"] = (f"{status['bound_share']:.0%} of the bootstrap refits put a "
                            "parameter on its bound" if refits else "no bootstrap refit")
    if status["reason"]:
        status["reason"] = "not identified: " + status["reason"]
        return out
    status["identified"] = True
    low, high = (np.quantile([p for p, _ in refits], q, axis=0) for q in (0.025, 0.975))
    out["power"] = {"alpha0": params[0], "loss_c": params[1], "exponent": params[2],
                    "low": float(low[2]), "high": float(high[2]),
                    "alpha0_interval": [float(low[0]), float(high[0])],
                    "loss_c_interval": [float(low[1]), float(high[1])],
                    "n_boot": len(refits), "n_failed": n_boot - len(refits),
                    "contains": bool(low[2] <= exponent <= high[2]), "reference": exponent,
                    "at_bound": False}
    return out


def power_curve(loss, alpha0, loss_c, exponent):
    """α₀·max(0, (ε − ε_c)/ε_c)^p, elementwise. Raises ValueError for loss that is not numbers,
    or α₀, ε_c, p that are not finite numbers (ε_c ≠ 0)."""
    for name, value in (("alpha0", alpha0), ("loss_c", loss_c), ("exponent", exponent)):
        if not (is_real(value) and np.isfinite(value)) or (name == "loss_c" and value == 0):
            raise ValueError(f"{name}={value!r} must be a finite number (loss_c ≠ 0)")
    loss = check_float_array("loss", loss, "give losses ε (a number or an array)")
    return alpha0 * np.maximum(0.0, (loss - loss_c) / loss_c) ** exponent


def _power_fit(loss, index):
    """((α₀, ε_c, p), on_bound per parameter) by least squares, or None when it fails or the
    sample has < 4 distinct saddle losses."""
    saddle = index > 0
    if np.unique(np.round(np.log10(loss[saddle]), 7)).size < N_PARAMETERS + 1:
        return None
    top = float(loss[saddle].min())
    lower, upper = np.array([0.0, 1e-3 * top, 0.1]), np.array([np.inf, top, 10.0])
    guess = (float(index.max()), 0.5 * top, 1.0)
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            params, _ = scipy.optimize.curve_fit(power_curve, loss, index, p0=guess,
                                                 bounds=(lower, upper), maxfev=2000)
    except (RuntimeError, ValueError):
        return None
    if not np.all(np.isfinite(params)):
        return None
    # α₀ → 0 flattens the curve to zero; its bound has no scale of its own, so use max α
    on_bound = (np.abs(params - lower) <= BOUND_RTOL * np.maximum(np.abs(lower), [
        index.max(), 0, 0])) | (np.isfinite(upper) & (np.abs(params - upper)
                                                      <= BOUND_RTOL * np.abs(upper)))
    return tuple(float(v) for v in params), tuple(bool(b) for b in on_bound)
