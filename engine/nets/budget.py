"""Networks of different depths with the same number of parameters (HW1-1, "deep vs shallow").

A dense network (d_in, h_1, …, h_D, d_out) has n(h) = Σ_l (d_l + 1)·d_{l+1} parameters
(engine.nets.layout). For D hidden layers of one width h,

    n(h) = (d_in + 1)·h + (D − 1)·(h + 1)·h + (h + 1)·d_out,

a quadratic in h for D ≥ 2 (linear for D = 1). Without biases (`bias`, engine.nets.layout:
β_l = 0 for a bias-free layer l) each (d_l + 1) becomes (d_l + β_l):
    n(h) = (D − 1)·h² + (d_in + β_0 + Σ_{0<l<D} β_l + d_out)·h + β_D·d_out.
`width_for_budget` solves n(h) = budget for real h;
`sizes_for_budget` then tries integer widths near it, one per layer (each within ±`spread` of
⌊h⌋), and keeps the vector whose count is closest to the budget, preferring the most uniform one
among those within the tolerance: a single integer width moves n by ≈ 2(D − 1)h, more than 2 % of
small budgets, while unequal neighbours (h, h + 1, h, …) fill the gaps.

Cost: (2·spread + 1)^D candidate width vectors, counted with one integer matrix product; D ≤ 8.
Errors: ValueError when no width vector is within `rtol` of the budget (a budget too small for
the depth, or too coarse), naming the closest count reached.
"""
from __future__ import annotations

import itertools
import math

import numpy as np

from engine.io.errors import is_real
from engine.nets.layout import Layout

MAX_DEPTH = 8  # (2·2 + 1)^8 = 390625 candidates: still a fraction of a second


def n_params_of(sizes, bias=True) -> int:
    """Σ_l (d_l + β_l)·d_{l+1} for sizes (d_in, h_1, …, d_out) and `bias` (True, False or one bool
    per layer, engine.nets.layout); ValueError as Layout."""
    return Layout(tuple(sizes), bias).n_params


def _betas(bias, depth: int) -> tuple[int, ...]:
    """β_l per layer l = 0 … depth (depth + 1 layers) as ints; ValueError naming bias."""
    flags = bias if not isinstance(bias, (bool, np.bool_)) else (bool(bias),) * (depth + 1)
    return tuple(int(b) for b in Layout((1,) * (depth + 2), tuple(flags)).has_bias)


def width_for_budget(budget: int, d_in: int, d_out: int, depth: int, bias=True) -> float:
    """The real width h ≥ 0 at which `depth` equal hidden layers have n(h) = budget parameters.

    n(h) = a·h² + b·h + c with a = D − 1, b = d_in + β_0 + Σ_{0<l<D} β_l + d_out, c = β_D·d_out
    (β_l = 1 for every layer with the default bias=True: b = d_in + 1 + (D − 1) + d_out,
    c = d_out); the positive root of the quadratic (computed as 2(budget − c)/(b + √(b² +
    4a(budget − c))), which does not cancel for small a). ValueError if depth < 1, budget
    cannot hold one unit per layer, or bias is not a bool or one bool per layer (depth + 1).
    """
    _check_positive(depth=depth, d_in=d_in, d_out=d_out, budget=budget)
    beta = _betas(bias, depth)
    a, b, c = depth - 1, d_in + beta[0] + sum(beta[1:-1]) + d_out, beta[-1] * d_out
    rest = budget - c
    if rest <= 0:
        raise ValueError(f"budget={budget} is at most the {c} output biases; give more")
    return 2.0 * rest / (b + math.sqrt(b * b + 4.0 * a * rest))


def sizes_for_budget(budget: int, d_in: int, d_out: int, depth: int, *, rtol: float = 0.02,
                     spread: int = 2, bias=True) -> tuple[int, ...]:
    """Sizes (d_in, h_1, …, h_depth, d_out) whose parameter count (with `bias`, as
    n_params_of) is within rtol·budget of budget, widths as equal as that allows (see the
    module docstring). ValueError when none is, or for a bias as width_for_budget refuses."""
    if not (isinstance(spread, (int, np.integer)) and spread >= 0):
        raise ValueError(f"spread={spread!r}: give a non-negative integer")
    if not 0.0 <= rtol < 1.0:
        raise ValueError(f"rtol={rtol!r}: give a relative tolerance in [0, 1)")
    if depth > MAX_DEPTH:
        raise ValueError(f"depth={depth}: at most {MAX_DEPTH} hidden layers (the search grows "
                         "as 5^depth)")
    h = width_for_budget(budget, d_in, d_out, depth, bias)
    base = max(1, math.floor(h))
    offsets = range(-spread, spread + 1)
    widths = np.array(list(itertools.product(offsets, repeat=depth)), dtype=np.int64) + base
    widths = widths[(widths >= 1).all(axis=1)]
    full = np.column_stack([np.full(len(widths), d_in), widths, np.full(len(widths), d_out)])
    counts = ((full[:, :-1] + np.array(_betas(bias, depth))) * full[:, 1:]).sum(axis=1)
    error = np.abs(counts - budget)
    uneven = widths.max(axis=1) - widths.min(axis=1)
    ok = error <= rtol * budget
    if not ok.any():
        best = int(counts[np.argmin(error)])
        raise ValueError(f"no {depth}-hidden-layer network of ({d_in} → {d_out}) has {budget} "
                         f"parameters within {rtol:.0%}; the closest has {best}: change the "
                         "budget or the depth")
    # most uniform first, then closest to the budget; lexsort keys are listed last-key-first
    candidates = np.flatnonzero(ok)
    pick = candidates[np.lexsort((error[candidates], uneven[candidates]))[0]]
    return (d_in, *map(int, widths[pick]), d_out)


def equal_budget_sizes(budget: int, d_in: int, d_out: int, depths, *, rtol: float = 0.02,
                       bias: bool = True):
    """{depth: sizes} for each depth, every count (biases everywhere, or none: bias) within
    rtol·budget of budget; ValueError naming the first depth that cannot meet it, or for
    depths that are not a sequence of integers."""
    listed = None if isinstance(depths, (str, bytes)) or not np.iterable(depths) else tuple(depths)
    if listed is None or not all(is_real(d) and np.isfinite(d) and int(d) == d for d in listed):
        raise ValueError(f"depths={depths!r}: give a sequence of integers, e.g. (1, 2, 3)")
    return {int(depth): sizes_for_budget(budget, d_in, d_out, int(depth), rtol=rtol, bias=bias)
            for depth in listed}


def _check_positive(**values):
    for name, value in values.items():
        if not (isinstance(value, (int, np.integer)) and value >= 1):
            raise ValueError(f"{name}={value!r}: give a positive integer")
