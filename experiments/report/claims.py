"""Claim rules: the report says "rises", "falls", "steeper", "better" or "no relation" only when
the rule's statistical test passes on the saved results; otherwise the rule's text says that the
data do not show it. Each rule returns a `Claim` (holds, text, stats): the text quotes the
statistics it rests on, so a reader sees how sure the claim is.

- `trend`: "y rises / falls with x" — Spearman ρ with a percentile bootstrap interval over the
  pairs (BOOT resamples, seed 0); holds when the LEVEL interval excludes 0 and n ≥ MIN_POINTS.
- `no_relation`: "y shows no relation to x" — the same interval; holds when it lies inside
  ±NO_RELATION_MARGIN (an equivalence test) and n ≥ MIN_POINTS.
- `steeper`: "one end of a line is steeper (the other flatter)" — the rise L(end ± d) − L(end)
  at every distance d of the grid where the loss rises beyond both ends; holds when one end
  rises more at every d compared.
- `better`: "A is better than B" — the difference of the medians over seeds; holds when it is
  larger than the seed spread (the larger range max − min of the two), ≥ MIN_SEEDS each.

Sources: the percentile bootstrap (Efron & Tibshirani 1993, ch. 13); the one-sided picture of a
minimum's sharpness along a line (Keskar et al. 2017, fig. 3).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.stats import spearmanr

BOOT = 2000              # bootstrap resamples: the interval's ends move < 0.02 between seeds
LEVEL = 0.95             # two-sided coverage of the interval
MIN_POINTS = 5           # below 5 points even a perfect order has permutation p ≥ 2/4! > 0.05
MIN_SEEDS = 2            # a spread needs two seeds
NO_RELATION_MARGIN = 0.3  # |ρ| < 0.3: "weak" on Cohen's scale, the equivalence margin
NOT_SHOWN = "the data do not show it"


@dataclass(frozen=True)
class Claim:
    """The outcome of a rule: `holds` when its test passed, `text` the sentence to print
    (the claim, or what the data do not show), `stats` the numbers the text quotes."""

    holds: bool
    text: str
    stats: dict = field(default_factory=dict)


def spearman_interval(x, y, n_boot: int = BOOT, level: float = LEVEL, seed: int = 0):
    """(ρ, low, high): Spearman's ρ of the pairs (x_i, y_i) and its percentile bootstrap
    interval (pairs resampled with replacement; resamples with a constant x or y have no ρ and
    are dropped; fewer than 2 pairs have no ρ: nan). x, y: (n,). Cost: n_boot rank
    correlations of n points."""
    x, y = _pairs(x, y)
    if len(x) < 2:
        return float("nan"), float("nan"), float("nan")
    rho = float(spearmanr(x, y).statistic) if np.ptp(x) and np.ptp(y) else 0.0
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(x), size=(n_boot, len(x)))
    rx = np.apply_along_axis(_ranks, 1, x[idx])
    ry = np.apply_along_axis(_ranks, 1, y[idx])
    rx -= rx.mean(axis=1, keepdims=True)
    ry -= ry.mean(axis=1, keepdims=True)
    den = np.sqrt((rx ** 2).sum(axis=1) * (ry ** 2).sum(axis=1))
    ok = den > 0
    boot = (rx * ry).sum(axis=1)[ok] / den[ok]
    if len(boot) == 0:
        return rho, rho, rho
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(boot, [tail, 100 - tail])
    return rho, float(low), float(high)


def trend(x, y, what: str, against: str) -> Claim:
    """`what` rises (falls) with `against` when the bootstrap interval of Spearman's ρ lies
    above (below) 0 and there are ≥ MIN_POINTS pairs; else the data do not show it."""
    x, y = _pairs(x, y)
    rho, low, high = spearman_interval(x, y)
    stats = {"rho": rho, "low": low, "high": high, "n": len(x)}
    quoted = _rho_text(stats)
    if len(x) < MIN_POINTS:
        return Claim(False, f"{NOT_SHOWN}: {len(x)} points are too few to tell whether {what} "
                     f"rises or falls with {against} ({quoted})", {**stats, "direction": None})
    if np.ptp(y) == 0:  # no order to correlate: say so rather than quote ρ = 0 in [0, 0]
        return Claim(False, f"{NOT_SHOWN}: {what} is {y[0]:.3g} at all {len(x)} points",
                     {**stats, "direction": None})
    direction = "rises" if low > 0 else "falls" if high < 0 else None
    if direction:
        return Claim(True, f"{what} {direction} with {against} ({quoted})",
                     {**stats, "direction": direction})
    return Claim(False, f"{NOT_SHOWN}: no trend of {what} with {against} can be told from noise "
                 f"({quoted}, the interval includes 0)", {**stats, "direction": None})


def no_relation(x, y, what: str, against: str) -> Claim:
    """`what` shows no relation to `against` when the bootstrap interval of ρ lies inside
    ±NO_RELATION_MARGIN (an equivalence test: an interval merely containing 0 is not enough)."""
    x, y = _pairs(x, y)
    rho, low, high = spearman_interval(x, y)
    stats = {"rho": rho, "low": low, "high": high, "n": len(x)}
    inside = len(x) >= MIN_POINTS and -NO_RELATION_MARGIN < low and high < NO_RELATION_MARGIN
    if inside:
        return Claim(True, f"{what} shows no relation to {against} ({_rho_text(stats)}, "
                     f"inside ±{NO_RELATION_MARGIN:g})", stats)
    return Claim(False, f"{NOT_SHOWN}: a relation of {what} to {against} cannot be ruled out "
                 f"({_rho_text(stats)})", stats)


def steeper(alpha, loss, name_a: str, name_b: str) -> Claim:
    """Along θ(α) = (1 − α)θ_a + αθ_b, the end a (α = 0) is steeper than b (α = 1) when its
    rise L(−d) − L(0) exceeds b's L(1 + d) − L(1) at every distance d compared; b is steeper
    when the reverse holds at every d; otherwise neither. The distances compared are those of
    the grid beyond both ends where the loss has risen on both sides: where it still falls
    beyond an end, that end is not a minimum of the line at this scale and has no steepness
    there (the text says where). When neither end wins everywhere, `tail` in stats names the
    end that rises more at every compared distance from some d on to the farthest ({'end',
    'from'}, else None). alpha, loss: (n,), alpha ascending, containing 0 and 1."""
    alpha, loss = np.asarray(alpha, float), np.asarray(loss, float)
    i0, i1 = int(np.argmin(abs(alpha))), int(np.argmin(abs(alpha - 1)))
    dists = np.sort([d for d in np.round(-alpha[:i0], 9)
                     if d > 0 and np.isclose(alpha, 1 + d).any()])
    rise_a = np.array([loss[np.argmin(abs(alpha + d))] - loss[i0] for d in dists])
    rise_b = np.array([loss[np.argmin(abs(alpha - 1 - d))] - loss[i1] for d in dists])
    both = (rise_a > 0) & (rise_b > 0)
    stats = {"distances": dists.tolist(), "rise_a": rise_a.tolist(), "rise_b": rise_b.tolist(),
             "compared": dists[both].tolist(), "tail": None}
    if len(dists) == 0:
        return Claim(False, f"{NOT_SHOWN}: the grid has no point beyond both ends",
                     {**stats, "steeper": None})
    falls = (f"; at {_list(dists[~both])} the loss does not rise beyond an end"
             if (~both).any() else "")
    if not both.any():
        return Claim(False, f"{NOT_SHOWN}: at no distance on the grid ({_span(dists)}) does "
                     "the loss rise beyond both ends", {**stats, "steeper": None})
    d, a, b = dists[both], rise_a[both], rise_b[both]
    for winner, other, x, y in ((name_a, name_b, a, b), (name_b, name_a, b, a)):
        if (x > y).all():
            return Claim(True, f"the {winner} end is steeper than the {other} end at every "
                         f"distance compared ({_span(d)} beyond each end; at the farthest the "
                         f"loss rises {x[-1]:.3g} against {y[-1]:.3g}){falls}",
                         {**stats, "steeper": winner})
    tail = None
    for name, wins in ((name_a, a > b), (name_b, b > a)):
        if wins[-1]:  # the farthest distance's winner, from where it wins at every d on
            start = len(wins) - (int(np.argmin(wins[::-1])) if not wins.all() else len(wins))
            tail = {"end": name, "from": float(d[start])}
    return Claim(False, f"{NOT_SHOWN}: neither end is steeper at every distance compared "
                 f"({_span(d)}); the {name_a} end rises more at {_list(d[a > b])}, the "
                 f"{name_b} end at {_list(d[b > a])} (at the farthest {a[-1]:.3g} against "
                 f"{b[-1]:.3g}){falls}", {**stats, "steeper": None, "tail": tail})


def better(a, b, name_a: str, name_b: str, what: str, higher_is_better: bool) -> Claim:
    """A is better than B in `what` when the medians over seeds differ in A's favour by more
    than the seed spread (the larger of the two ranges max − min); each needs ≥ MIN_SEEDS
    values. a, b: (n_seeds,)."""
    a, b = np.asarray(a, float).ravel(), np.asarray(b, float).ravel()
    ma, mb = float(np.median(a)), float(np.median(b))
    spread = float(max(np.ptp(a), np.ptp(b)))
    stats = {"median_a": ma, "median_b": mb, "difference": ma - mb, "spread": spread,
             "better": None}
    if min(len(a), len(b)) < MIN_SEEDS:
        return Claim(False, f"{NOT_SHOWN}: one seed gives no spread to compare {name_a} and "
                     f"{name_b} against", stats)
    gap = f"medians {ma:.3g} and {mb:.3g}, seed spread {spread:.3g}"
    if abs(ma - mb) > spread:
        a_wins = (ma > mb) == higher_is_better
        win, lose = (name_a, name_b) if a_wins else (name_b, name_a)
        m_win, m_lose = (ma, mb) if a_wins else (mb, ma)  # in the order the sentence names them
        return Claim(True, f"{win} has the better {what} than {lose} (medians {m_win:.3g} and "
                     f"{m_lose:.3g}, seed spread {spread:.3g}: the difference exceeds the "
                     "spread)", {**stats, "better": win})
    return Claim(False, f"{NOT_SHOWN}: {name_a} and {name_b} do not differ in {what} by more "
                 f"than the seed spread ({gap})", stats)


RULES = {"trend": trend, "no_relation": no_relation, "steeper": steeper, "better": better}


def _pairs(x, y):
    x, y = np.asarray(x, float).ravel(), np.asarray(y, float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x and y must pair up: shapes {x.shape} and {y.shape}")
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]


def _ranks(v):
    order = np.argsort(v, kind="stable")
    ranks = np.empty(len(v))
    ranks[order] = np.arange(len(v))
    # ties share their mean rank, as in Spearman's ρ
    _, inverse, counts = np.unique(v, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return (sums / counts)[inverse]


def _rho_text(stats) -> str:
    return (f"Spearman ρ = {stats['rho']:.2f}, {LEVEL:.0%} bootstrap interval "
            f"{stats['low']:.2f} … {stats['high']:.2f}, n = {stats['n']}")


def _span(values) -> str:
    return f"d = {min(values):.2g} … {max(values):.2g}"


def _list(values) -> str:
    """'0.25, 0.5' — or, for more than four distances, their count and range (a sentence, not a
    table: the saved stats keep every distance)."""
    if len(values) > 4:
        return f"{len(values)} distances in {min(values):.2g} … {max(values):.2g}"
    return ", ".join(f"{v:.2g}" for v in values) or "no distance"
