"""When training leaves the finite numbers: divergence as a result, detected where it arises.

A run whose loss, gradient or θ overflows (too large a step, a saturating tanh net whose weights
grow without bound) is not a failure of the program: `stop_on_nonfinite` wraps a training loop's
on_step callback (engine.training.loop) and raises `Diverged` at the first non-finite or runaway
step;
the caller catches it and records {'step', 'epoch', 'reason'}. `quiet_overflow` silences numpy's
overflow warnings around such a loop, because the overflow is detected and recorded instead.
"""
from __future__ import annotations

import math

import numpy as np

# a loss this many times above max(L₀, 1) has left any minimum: training is running away (a
# saturating tanh net can grow θ like 10^{2k} with a finite loss long before anything overflows)
RUNAWAY_FACTOR = 1e12


class Diverged(Exception):
    """Training produced a loss, gradient or θ that is not finite, or a runaway loss: a result,
    not a failure. Raised inside a unit of work by `stop_on_nonfinite`, caught by the unit, which
    saves what it has with info['diverged'] = {'step', 'epoch', 'reason'}."""

    def __init__(self, step: int, epoch: int, reason: str = "non-finite loss"):
        super().__init__(f"{reason} at step {step} (epoch {epoch})")
        self.step, self.epoch, self.reason = int(step), int(epoch), reason

    def info(self) -> dict:
        """{'step', 'epoch', 'reason'}: what a results file records of the divergence."""
        return {"step": self.step, "epoch": self.epoch, "reason": self.reason}


def stop_on_nonfinite(on_step=None):
    """An on_step callback for engine.training.loop: raises Diverged at the first step whose
    minibatch
    loss or gradient is not finite, or whose loss exceeds RUNAWAY_FACTOR·max(L₀, 1), else calls
    on_step. The caller trains inside quiet_overflow(): the overflow is detected here, not
    warned."""
    first = []

    def check(step):
        if not (math.isfinite(step.loss) and np.isfinite(step.grad).all()):
            raise Diverged(step.step, step.epoch)
        if not first:
            first.append(step.loss)
        if step.loss > RUNAWAY_FACTOR * max(first[0], 1.0):
            raise Diverged(step.step, step.epoch,
                           f"loss rose from {first[0]:.3g} to {step.loss:.3g}")
        if on_step is not None:
            on_step(step)

    return check


def quiet_overflow():
    """np.errstate for training that may diverge: overflow and 0·inf are detected by
    stop_on_nonfinite and recorded, so numpy's warnings would only repeat it."""
    return np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore")
