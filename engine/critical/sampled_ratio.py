"""The slides' sampled minimal ratio: the share of random nearby points with a higher loss.

The sampled ratio is the slides' second definition, named for what it measures: the share of
points θ + r·d, d uniform on the unit sphere, with L > L(θ). Along d the loss changes by
r∇L·d + ½r²dᵀHd, and dᵀHd = Σλᵢzᵢ² is dominated by a few large positive eigenvalues, so the share
is near 1 even at saddles whose negative eigenvalues are small (Li et al. 2018, §6): it measures
how rarely a random direction descends, not the share of positive eigenvalues.
Cost: one batched loss call per radius.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.io.errors import check_finite, check_float_array


@dataclass(frozen=True, eq=False)
class SampledRatio:
    """share[i] = n_higher[i]/n_directions of the points at radius radii[i] with L > loss0, and its
    95 % Wilson interval [low[i], high[i]]; all arrays of shape (n_radii,)."""

    radii: np.ndarray
    share: np.ndarray
    low: np.ndarray
    high: np.ndarray
    n_higher: np.ndarray
    n_directions: int
    loss0: float


def sampled_minimal_ratio(loss_batched, theta, radii, *, n_directions=1000, rng,
                          loss0=None, non_finite="raise") -> SampledRatio:
    """Share of K = n_directions points θ + r·d with L > L(θ), for each r in radii.

    d is uniform on the unit sphere (normalized Gaussian vectors), so every sample lies at exactly
    distance r and the share is a function of r alone; the same K directions serve every radius
    (common random numbers: differences between radii are not sampling noise). loss_batched maps
    (K, n) to (K,), called once per radius (no Python loop over samples). A sample whose loss is
    nan counts as not higher, +inf as higher. loss0 defaults to loss_batched(θ[None])[0]; where
    that is not finite the shares and intervals are nan. A non-finite θ or given loss0 raises
    ValueError naming it, unless non_finite="nan" (the caller samples where a search ended,
    which may have diverged): then nan shares too.
    Raises ValueError for radii that are not one or more positive finite numbers, a bad
    n_directions or rng. Cost: len(radii) batched loss calls of K networks; memory O(K·n).
    """
    theta = check_float_array("theta", theta, "give one parameter vector (n,)")
    radii = np.atleast_1d(check_float_array("radii", radii, "give positive radii, e.g. (1e-3,)"))
    if non_finite not in ("raise", "nan"):
        raise ValueError(f"non_finite={non_finite!r} must be 'raise' or 'nan'")
    if non_finite == "raise":
        check_finite("theta", theta, "sample around a finite point, or pass non_finite='nan'")
        if loss0 is not None:
            check_finite("loss0", loss0, "give L(θ), or leave loss0 out to compute it")
    if theta.ndim != 1 or theta.size == 0:
        raise ValueError(f"theta has shape {theta.shape}; give one parameter vector (n,)")
    if radii.ndim != 1 or radii.size == 0 or not np.all(np.isfinite(radii) & (radii > 0)):
        raise ValueError(f"radii={radii.tolist()} must be positive finite numbers, e.g. "
                         "(1e-3, 1e-2, 1e-1)")
    if int(n_directions) != n_directions or n_directions < 1:
        raise ValueError(f"n_directions={n_directions!r} must be a positive integer, e.g. 1000")
    n_directions = int(n_directions)
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator, e.g. np.random.default_rng(0)")
    d = rng.standard_normal((n_directions, theta.size))
    d /= np.linalg.norm(d, axis=1, keepdims=True)
    with np.errstate(all="ignore"):
        if loss0 is None and np.all(np.isfinite(theta)):
            loss0 = float(np.asarray(loss_batched(theta[None, :])).reshape(-1)[0])
    loss0 = float("nan") if loss0 is None else float(loss0)
    nan = np.full(radii.size, np.nan)
    if not (np.isfinite(loss0) and np.all(np.isfinite(theta))):
        return SampledRatio(radii, nan, nan.copy(), nan.copy(), np.zeros(radii.size, int),
                            n_directions, loss0)
    # imported here, not at the top: scipy.stats is ≈ 0.7 s of every command's start
    import scipy.stats

    n_higher = np.empty(radii.size, dtype=int)
    low, high = np.empty(radii.size), np.empty(radii.size)
    for i, r in enumerate(radii):
        with np.errstate(all="ignore"):
            losses = np.asarray(loss_batched(theta + r * d), dtype=np.float64)
        if losses.shape != (n_directions,):
            raise ValueError(f"loss_batched returned shape {losses.shape} for θ of shape "
                             f"{(n_directions, theta.size)}; it must return one loss per row")
        n_higher[i] = int(np.count_nonzero(losses > loss0))
        ci = scipy.stats.binomtest(int(n_higher[i]), n_directions).proportion_ci(
            confidence_level=0.95, method="wilson")
        low[i], high[i] = ci.low, ci.high
    return SampledRatio(radii, n_higher / n_directions, low, high, n_higher, n_directions, loss0)
