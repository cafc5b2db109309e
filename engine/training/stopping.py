"""When to stop training: one rule, a loss target or a plateau, with a cap, applied alike to all.

A trainer evaluates the training loss L_1, L_2, … at regular checks (every epoch, every k
iterations) and asks `stop_reason(losses, rule)` after each check:
  'target'   L_k ≤ target: the loss the comparison asks for is reached;
  'plateau'  the smoothed loss stopped falling: with w = rule.window checks and the medians
             m_now = median(L_{k−w+1 … k}), m_before = median(L_{k−2w+1 … k−w}),
             (m_before − m_now) < rule.rel_tol · m_before   (needs k ≥ 2w checks);
  None       keep training.
The cap (max checks, steps or epochs) is the trainer's: a run that hits it is recorded 'cap', and
one whose optimizer can make no further step (an L-BFGS line search that finds no descent) is
recorded 'stalled', so a results file says which ended every model. The medians make the rule
robust to a single minibatch spike (Adam's loss jumps for a few steps and falls back) that a mean
or the last value would read as the loss rising; a rise of the median itself counts as "stopped
falling".
Cost: O(window log window) per check.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from engine.io.errors import check_float_array

STOPPED_BY = ("target", "plateau", "cap", "stalled")  # every value a trainer records for a run


@dataclass(frozen=True)
class StopRule:
    """Stop at a training loss ≤ `target` (None: no target) or when the median loss over the
    last `window` checks is less than `rel_tol` (relative) below the median over the `window`
    checks before it (module docstring). ValueError for window < 1, rel_tol ∉ (0, 1) or a
    target that is not a finite number ≥ 0."""

    window: int = 10
    rel_tol: float = 0.01
    target: float | None = None

    def __post_init__(self):
        if not (isinstance(self.window, (int, np.integer)) and self.window >= 1):
            raise ValueError(f"window={self.window!r} must be a positive integer")
        if not (isinstance(self.rel_tol, (int, float)) and 0.0 < self.rel_tol < 1.0):
            raise ValueError(f"rel_tol={self.rel_tol!r} must lie in (0, 1)")
        if self.target is not None and not (math.isfinite(self.target) and self.target >= 0):
            raise ValueError(f"target={self.target!r} must be a finite number ≥ 0 or None")

    def as_dict(self) -> dict:
        """{'window', 'rel_tol', 'target'}: what a results file records of the rule."""
        return asdict(self)


def stop_reason(losses, rule: StopRule) -> str | None:
    """'target', 'plateau' or None (keep going) for the training losses of the checks so far,
    oldest first (a sequence of floats, the initial loss included if the trainer records it).
    A non-finite last loss is not a plateau: divergence is the trainer's to detect.
    Cost: two medians of `rule.window` values. Raises ValueError for losses that are not a 1-D
    sequence of numbers or a rule that is not a StopRule."""
    losses = check_float_array("losses", losses, "give a 1-D sequence of floats")
    if not isinstance(rule, StopRule):
        raise ValueError(f"rule is a {type(rule).__name__}; give a StopRule(window, rel_tol, …)")
    if losses.ndim != 1:
        raise ValueError(f"losses of shape {losses.shape}: expected a 1-D sequence")
    if len(losses) == 0 or not np.isfinite(losses[-1]):
        return None
    if rule.target is not None and losses[-1] <= rule.target:
        return "target"
    w = rule.window
    if len(losses) < 2 * w:
        return None
    now, before = np.median(losses[-w:]), np.median(losses[-2 * w:-w])
    if before - now < rule.rel_tol * before:
        return "plateau"
    return None


def count_stops(reasons) -> dict:
    """{'target': n, 'plateau': n, 'cap': n, 'stalled': n} over the recorded reasons of a set
    of runs; ValueError for a reason outside STOPPED_BY."""
    reasons = list(reasons)
    unknown = sorted(set(reasons) - set(STOPPED_BY))
    if unknown:
        raise ValueError(f"stop reasons {unknown} are unknown; expected {list(STOPPED_BY)}")
    return {k: reasons.count(k) for k in STOPPED_BY}
