"""The stop rules every finder of engine.critical.finders shares: a Monitor that counts gradient
evaluations, keeps the point of least ‖∇L‖ and its trace, and raises Halt(status, message) when a
rule fires (rounding floor, no progress over a window, safety cap, non-finite ∇L); run_scipy and
result_of turn a scipy solve or a finished search into a FinderResult.
"""
from __future__ import annotations

import time

import numpy as np

from engine.critical.search_result import (
    CONVERGED,
    DIVERGED,
    MAX_ITER,
    SOLVER_STOPPED,
    STALLED,
    FinderResult,
)


class Halt(Exception):
    """args = (status, message): a stop rule fired inside a callback."""


class Monitor:
    """Counts evaluations, keeps the best point and the trace, applies the stop rules."""

    def __init__(self, grad_fn, cap, opts):
        self.grad_fn, self.cap = grad_fn, cap
        self.window, self.factor = int(opts["window"]), float(opts["factor"])
        self.floor_rel, self.tol = float(opts["grad_sq_floor"]), float(opts["grad_sq_tol"])
        self.n_eval, self.trace, self.norms, self.history = 0, [], [], []
        self.best_theta, self.best_norm, self.floor = None, np.inf, None

    def evaluate(self, theta):  # (g, ‖g‖), ‖g‖ = inf when g is not finite
        self.n_eval += 1
        with np.errstate(all="ignore"):
            g = np.asarray(self.grad_fn(theta), dtype=np.float64)
            return g, float(np.linalg.norm(g)) if np.all(np.isfinite(g)) else np.inf

    def record(self, theta, norm):
        """Note an evaluated (or accepted) point; raise _Halt when a stop rule fires."""
        if self.floor is None:
            self.floor = self.floor_rel * max(1.0, norm * norm) if np.isfinite(norm) else 0.0
            self.best_theta = np.array(theta, dtype=np.float64)
        if norm < self.best_norm:
            self.best_theta, self.best_norm = np.array(theta, dtype=np.float64), norm
            self.trace.append(norm)
            self.norms.append(float(np.linalg.norm(self.best_theta)))
        self.history.append(self.best_norm)
        best, k = self.best_norm, len(self.history)
        if not np.isfinite(norm) and not self.trace:
            raise Halt(DIVERGED, "∇L is not finite at the start")
        if best ** 2 <= self.floor:
            raise Halt(CONVERGED, f"‖∇L‖² = {best ** 2:.3g} reached the rounding floor")
        if k > self.window and self.history[k - 1 - self.window] < self.factor * best:
            if best ** 2 <= self.tol:
                raise Halt(CONVERGED, f"converged: ‖∇L‖² = {best ** 2:.3g} ≤ {self.tol:g} and "
                                       f"no further progress over {self.window} steps")
            raise Halt(STALLED, f"stalled: best ‖∇L‖ = {best:.3g} fell by less than "
                                 f"{self.factor:g}× over the last {self.window} steps")
        if k >= self.cap:
            raise Halt(MAX_ITER, f"safety cap of {self.cap} reached at ‖∇L‖ = {best:.3g}")

    def stop(self, why):
        """(status, message) of a search that can make no more progress: converged when the best
        ‖∇L‖² ≤ grad_sq_tol, else stalled."""
        if self.best_norm ** 2 <= self.tol:
            return CONVERGED, f"converged: ‖∇L‖² = {self.best_norm ** 2:.3g} ≤ {self.tol:g}; {why}"
        return STALLED, f"stalled: {why}"

    def strict(self, theta):
        """evaluate and record, for scipy's callbacks: a non-finite ∇L ends the search."""
        g, norm = self.evaluate(theta)
        self.record(theta, norm)
        if not np.isfinite(norm):
            raise Halt(DIVERGED, "∇L became non-finite during the search")
        return g, norm


def run_scipy(solve):
    """(status, message, scipy status) of a scipy solve whose callbacks may raise Halt."""
    try:
        res = solve()
    except Halt as halt:
        return (*halt.args, None)
    return SOLVER_STOPPED, f"scipy stopped on its own test: {res.message}", int(res.status)


def result_of(mon, n_iter, status, message, method, start, scipy_status):
    return FinderResult(
        theta=mon.best_theta, grad_norms=np.array(mon.trace if mon.trace else [mon.best_norm]),
        theta_norms=np.array(mon.norms if mon.norms else [np.linalg.norm(mon.best_theta)]),
        n_iter=int(n_iter), n_eval=mon.n_eval, status=status, message=f"{method}: {message}",
        method=method, wall_time=time.perf_counter() - start, scipy_status=scipy_status)
