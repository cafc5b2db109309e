"""What a search for ∇L = 0 returns (engine.critical.finders): FinderResult with our verdict
(status, one of STATUS_NAMES) and scipy.optimize.OptimizeResult's names for the same fields, and
the counter of Hessian and HVP calls behind its njev.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# FinderResult.status: our verdict; scipy's own is kept in scipy_status.
CONVERGED, STALLED, MAX_ITER, DIVERGED, SOLVER_STOPPED = range(5)
STATUS_NAMES = dict(enumerate(("converged", "stalled", "max_iter", "diverged", "solver_stopped")))


@dataclass(frozen=True, eq=False)
class FinderResult:
    """theta: the evaluated point of least ‖∇L‖; grad_norms: ‖∇L‖ at the start and after each
    accepted step (decreasing); theta_norms: ‖θ‖ at the same points (a search drifting to
    infinity shows here); n_iter: accepted steps, scipy or Newton iterations; n_eval: gradient
    evaluations; n_jev: Hessian evaluations or Hessian-vector products; scipy_status: of the
    last scipy stage, None if we stopped it. scipy.optimize.OptimizeResult's names read the
    same fields: x (theta), success (status CONVERGED), nit, nfev (gradients), njev (n_jev)."""

    theta: np.ndarray
    grad_norms: np.ndarray
    n_iter: int
    n_eval: int
    status: int
    message: str
    method: str
    wall_time: float
    scipy_status: int | None = None
    theta_norms: np.ndarray | None = None
    n_jev: int = 0

    x = property(lambda self: self.theta, doc="θ, scipy's name")
    success = property(lambda self: self.status == CONVERGED, doc="status is CONVERGED")
    nit = property(lambda self: self.n_iter, doc="n_iter, scipy's name")
    nfev = property(lambda self: self.n_eval, doc="gradient evaluations, scipy's name")
    njev = property(lambda self: self.n_jev, doc="Hessians or HVPs, scipy's name")

    @property
    def status_name(self) -> str:
        """The status as a word of STATUS_NAMES ('converged', 'stalled', …)."""
        return STATUS_NAMES[self.status]


def counted(hess_fn, hvp_fn):
    """(hess_fn, hvp_fn, counter): the callables (None stays None) counting their calls."""
    count = [0]

    def wrap(fn):
        if fn is None:
            return None

        def counted(*args):
            count[0] += 1
            return fn(*args)
        return counted

    return wrap(hess_fn), wrap(hvp_fn), count
