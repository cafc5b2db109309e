"""Finders of ∇L(θ) = 0 for any smooth L, from callables for its gradient and Hessian.

  gradnorm   min F = ½‖∇L‖²/s by scipy.optimize.minimize (L-BFGS-B | BFGS), exact ∇F = H∇L/s;
             s = ‖∇L‖² at each (re)start, so scipy's O(1) tolerances do not stop it at once.
  lm, trf    scipy.optimize.least_squares on r(θ) = ∇L(θ), jac = H (lm: engine.critical.minpack's
             padding, same steps in every process): (H² + μD)p = −H∇L, ker H's part of ∇L stays.
  newton     Newton-MR (Roosta et al. 2018): p = argmin ‖Hp + g‖ of least norm (truncated
             pseudo-inverse, |λ| > τ; for n > dense_max inexact, on a Krylov subspace built
             from HVPs), damped to a trust region ‖p‖ ≤ Δ (engine.critical.newton_mr). ρ =
             (actual / predicted decrease of ‖g‖²): ρ < ¼ shrinks Δ to ‖p‖/4, ρ > ¾ on the
             boundary doubles it, ρ > eta accepts the step.
             With geodesic acceleration (the default; Transtrum & Sethna 2012) the trial step
             is p + a/2, a the damped solve for the second directional derivative of ∇L along
             p (one more gradient, at θ + h·p), kept when 2‖a‖ ≤ alpha·‖p‖, else p alone.
  lm+newton  LM for the fast first phase, then Newton-MR for the slow one, traces
             concatenated (the default).

At a gradient-flat point (∇L ≠ 0 in the near-kernel of H; Frye et al. 2019) all of these stop
making progress, and scipy's tests fire there or never. So a finder stops as converged when
‖∇L‖² ≤ grad_sq_floor·max(1, ‖∇L(θ₀)‖²) (the float64 rounding floor), as stalled when the best
‖∇L‖ fell by less than `factor` over the last `window` evaluations (scipy) or accepted steps
(newton): no progress, not slow progress; and at `max_iter` only as a safety net. scipy's
status is reported, never trusted: θ is the evaluated point of least ‖∇L‖. Non-finite ∇L gives
status DIVERGED, never an exception (a non-finite θ₀ is refused: ValueError). Is the end point
critical? engine.critical.classification answers, after
the search. Cost per iteration: a gradient and a Hessian (lm, trf) or HVP (gradnorm); newton
adds an O(n³) eigh per accepted step (n ≤ dense_max) or an inexact Krylov solve on HVPs to
Eisenstat & Walker's forcing term (above it: Lanczos on 𝒦(H, Hg), one HVP per iteration, or
LSMR, two), and a gradient per trial radius (two with geodesic acceleration). Above dense_max a
search also stops when ∇L stays in H's near-kernel (κ̂ ≥ 0.9, confirmed) for 10 models.
"""
from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np
import scipy.optimize

from engine.critical.checks import shape_checked
from engine.critical.minpack import least_squares
from engine.critical.monitor import Halt, Monitor, result_of, run_scipy
from engine.critical.newton_mr import accelerated, newton_model, next_radius
from engine.critical.search_result import (  # noqa: F401 (STATUS_NAMES: public here too)
    CONVERGED,
    DIVERGED,
    MAX_ITER,
    SOLVER_STOPPED,
    STALLED,
    STATUS_NAMES,
    FinderResult,
    counted,
)
from engine.io.errors import check_finite

METHODS = ("gradnorm", "lm", "trf", "newton", "lm+newton")

_EPS = np.finfo(np.float64).eps
# The size switch: above it no stage factors the dense n × n Hessian — lm+newton skips LM and
# Newton-MR solves by LSMR on HVPs. One LM Hessian evaluation with MINPACK's unblocked QR (one
# BLAS thread, 1-h-h-1 tanh on 1000 sinc points): 0.01 s at n = 97, 0.16 s at 481, 1.15 s at
# 1021 (∝ n³), ~100 s at 2022; a search takes hundreds.
DENSE_MAX = 500
# windows: on tanh nets LM / Newton-MR still halve ‖∇L‖ every ~100 steps after the fast phase
# grad_sq_tol: a search that stops making progress with ‖∇L‖² ≤ this has converged (the
# classification's and Frye et al.'s 1e-10), not stalled; the stop itself is the same
_COMMON = {"grad_sq_floor": 1e-30, "window": 300, "factor": 2.0, "grad_sq_tol": 1e-10}
_OPTIONS = {"gradnorm": _COMMON | {"window": 100, "solver": "L-BFGS-B", "max_restarts": 20},
            "lm": _COMMON, "trf": _COMMON,
            "newton": _COMMON | {"window": 200, "rtol": 1e-6, "tau_max": math.inf,
                                 "max_step": 1.0, "eta": 1e-4, "max_rejections": 30,
                                 "dense_max": DENSE_MAX, "lsmr_tol": 1e-10, "forcing_max": 0.5,
                                 "lsmr_maxiter": 250, "warm_start": True, "max_hvp": None,
                                 "krylov": "lanczos", "flat_kappa": 0.9, "flat_window": 10,
                                 "geodesic": True,
                                 "geodesic_h": 0.1, "geodesic_alpha": 0.75}}
# In lm+newton, LM does the fast first phase only and hands over after 100 evaluations without
# halving ‖∇L‖: Newton-MR with geodesic acceleration follows the slow, curved valleys (hidden
# units merging) in fewer evaluations, and gets 600 steps. Measured on 100 searches of L + 1e-5/2
# ‖θ‖² (experiments.minratio): windows 300/200: 37 critical points, 11 saddles, 85 s; 300/600:
# 58 and 28, 113 s; 100/600: 60 and 32, 98 s; 30/600: 53 and 25, 91 s.
_CHAIN = {"lm": {"window": 100}, "newton": {"window": 600}}


def find_critical(theta0, grad_fn, hess_fn=None, *, method="lm+newton", hvp_fn=None,
                  max_iter=None, **opts) -> FinderResult:
    """Search for ∇L(θ) = 0 from theta0 (n,) by `method` (METHODS); grad_fn(θ) → (n,),
    hess_fn(θ) → (n, n), hvp_fn(θ, v) → Hv (hess_fn may be None where hvp_fn suffices).

    Raises ValueError for a theta0 that is not one finite vector, grad_fn or hess_fn values of
    the wrong shape, or unknown methods and options.
    max_iter caps evaluations (scipy methods, 20000) or Newton iterations (2000), per stage.
    opts: grad_sq_floor (1e-30), window (gradnorm 100, lm/trf 300, newton 200; in lm+newton
    100 then 600), factor (2);
    gradnorm: solver ('L-BFGS-B' | 'BFGS'), max_restarts (20); newton: rtol (1e-6) and tau_max
    (∞): keep |λ| > max(n·ε·‖H‖₂, min(rtol·‖H‖₂, tau_max)), engine.critical.classification's τ, so
    the polish
    removes the step that classification measures; max_step (1: Δ ≤ max_step·(1 + ‖θ‖)), eta
    (1e-4: accept when ρ > eta), max_rejections (30 trial radii per step), dense_max
    (DENSE_MAX = 500: above it lm+newton skips LM and Newton-MR runs on HVPs), krylov
    ('lanczos': the model on 𝒦(H, Hg), one HVP per iteration, engine.critical.krylov; 'lsmr'
    the former route), lsmr_tol (1e-10, the floor of the forcing term; both solvers),
    forcing_max (0.5: η_0 and the cap of `forcing_term`), lsmr_maxiter (250 iterations per
    solve: one HVP each with lanczos, two with lsmr), warm_start (True, lsmr only: LSMR starts
    from the best multiple of the previous step), flat_kappa (0.9) and flat_window (10; 0 turns
    it off; lanczos only): stop, stalled (or converged if ‖∇L‖² ≤ grad_sq_tol), when each of the
    last flat_window models left κ̂ ≥ flat_kappa of ∇L in H's near-kernel (classification's
    gradient-flat test, Frye et al. 2019), a tight solve (twice the iterations) confirms it, and
    ‖∇L‖ fell by less than `factor` over them (κ̂ ≥ κ: unresolved directions count as kernel;
    classify gives the label), max_hvp (None: no budget; else the search stops, status
    max_iter, once this many Hessian calls or HVPs are spent, checked before each step, so it
    can overshoot by one step's solves), geodesic (True: geodesic acceleration),
    geodesic_h (0.1: the finite difference's step, a share of p), geodesic_alpha (0.75: keep
    the correction a when 2‖a‖ ≤ alpha·‖p‖; Transtrum & Sethna's values for h and alpha).
    """
    start = time.perf_counter()
    theta0 = np.array(theta0, dtype=np.float64)
    if theta0.ndim != 1 or theta0.size == 0:
        raise ValueError(f"theta0 has shape {theta0.shape}; give one parameter vector (n,)")
    if method not in METHODS:
        raise ValueError(f"method={method!r} is unknown; choose one of {list(METHODS)}")
    dense = theta0.size <= opts.get("dense_max", DENSE_MAX)
    stages = (("lm", "newton") if dense else ("newton",)) if method == "lm+newton" else (method,)
    known = set().union(*(_OPTIONS[s] for s in (("lm", "newton") if method == "lm+newton"
                                                 else stages)))
    if set(opts) - known:
        raise ValueError(f"options {sorted(set(opts) - known)} are unknown for method="
                         f"{method!r}; valid options: {sorted(known)}")
    if max_iter is not None and not (int(max_iter) == max_iter and max_iter >= 1):
        raise ValueError(f"max_iter={max_iter!r} must be a positive integer or None")
    if hess_fn is None and any(s in ("lm", "trf") or hvp_fn is None or s == "newton" and dense
                               for s in stages):
        raise ValueError(f"method={method!r} needs hess_fn (the Hessian as an (n, n) array)")
    # a search from nan/inf has no first step to take
    check_finite("theta0", theta0, "start from a finite parameter vector")
    grad_fn = shape_checked(grad_fn, "grad_fn", theta0.shape)
    hess_fn = shape_checked(hess_fn, "hess_fn", theta0.shape * 2)
    hess_fn, hvp_fn, n_jev = counted(hess_fn, hvp_fn)
    results, theta = [], theta0
    for stage in stages:
        stage_opts = (_OPTIONS[stage] | (_CHAIN[stage] if method == "lm+newton" else {})
                      | {k: v for k, v in opts.items() if k in _OPTIONS[stage]})
        cap = int(max_iter or (2000 if stage == "newton" else 20000))
        runner = {"newton": _newton, "gradnorm": _gradnorm}.get(stage, _lsq)
        results.append(runner(theta, grad_fn, hess_fn, hvp_fn, stage, cap,
                              stage_opts | {"_count": n_jev}))
        theta = results[-1].theta
        if results[-1].status == DIVERGED:
            break
    if len(results) == 1:
        return replace(results[0], method=method, wall_time=time.perf_counter() - start,
                       n_jev=n_jev[0])
    # each stage's trace starts at the previous stage's end point: drop the repeated value
    return FinderResult(
        theta=theta, grad_norms=np.concatenate([results[0].grad_norms]
                                               + [r.grad_norms[1:] for r in results[1:]]),
        theta_norms=np.concatenate([results[0].theta_norms]
                                   + [r.theta_norms[1:] for r in results[1:]]),
        n_iter=sum(r.n_iter for r in results), n_eval=sum(r.n_eval for r in results),
        n_jev=n_jev[0], status=results[-1].status,
        message="; ".join(r.message for r in results), method=method,
        wall_time=time.perf_counter() - start, scipy_status=next(
            (r.scipy_status for r in results[::-1] if r.scipy_status is not None), None))


def forcing_term(norm, previous, last, forcing_max=0.5, floor=1e-10):
    """Eisenstat & Walker's (1996) forcing term, choice 1, from ‖∇L‖: the relative residual
    ‖Hp + g‖ ≤ η_k‖g‖ the Krylov solve must reach at step k,
      η_k = |‖g_k‖ − ‖g_{k−1} + H_{k−1}p_{k−1}‖| / ‖g_{k−1}‖,
    how far the actual ‖∇L‖ after the last step is from what the linear model promised (small
    where ∇L is nearly affine: solve tightly; large in curved regions: a rough step will do),
    kept ≥ η_{k−1}^φ, φ = (1 + √5)/2, when that exceeds 0.1 (their safeguard against η falling
    on one lucky step), capped by ‖g_k‖ (η_k = O(‖∇L‖): quadratic convergence at a
    nondegenerate critical point) and by forcing_max, floored at `floor`. previous: (‖g_{k−1}‖,
    ‖g_{k−1} + H_{k−1}p_{k−1}‖) or None at the first step (η_0 = forcing_max); last: η_{k−1}."""
    if previous is None or last is None:
        eta = forcing_max
    else:
        eta = abs(norm - previous[1]) / previous[0]
        safeguard = last ** (0.5 * (1.0 + math.sqrt(5.0)))
        if safeguard > 0.1:
            eta = max(eta, safeguard)
    return float(max(floor, min(forcing_max, eta, norm)))


def _lsq(theta0, grad_fn, hess_fn, hvp_fn, method, cap, opts):
    start, mon, n_jac = time.perf_counter(), Monitor(grad_fn, cap, opts), [0]

    def jac(theta):
        n_jac[0] += 1
        with np.errstate(all="ignore"):
            return hess_fn(theta)

    status, message, scipy_status = run_scipy(lambda: least_squares(
        lambda t: mon.strict(t)[0], theta0, jac, method=method, ftol=_EPS, xtol=_EPS,
        gtol=_EPS, max_nfev=cap + 1))
    return result_of(mon, n_jac[0], status, message, method, start, scipy_status)


def _gradnorm(theta0, grad_fn, hess_fn, hvp_fn, method, cap, opts):
    start, mon, n_iter = time.perf_counter(), Monitor(grad_fn, cap, opts), [0]
    solver = opts["solver"]
    if solver not in ("L-BFGS-B", "BFGS"):
        raise ValueError(f"solver={solver!r} is unknown; choose 'L-BFGS-B' or 'BFGS'")

    def objective(theta, scale):
        g, norm = mon.strict(theta)
        with np.errstate(all="ignore"):
            hg = hvp_fn(theta, g) if hvp_fn is not None else hess_fn(theta) @ g
        return 0.5 * norm * norm / scale, np.asarray(hg, dtype=np.float64) / scale

    def count(_):
        n_iter[0] += 1

    # Our rules stop the search; after scipy stops itself (a failed line search), F is rescaled
    # to ½ and the search restarts while that still buys progress.
    options = {"gtol": 0.0, "maxiter": cap + 1} | (
        {"ftol": 0.0, "maxfun": cap + 1} if solver == "L-BFGS-B" else {})
    theta, before = theta0, np.inf
    for _ in range(int(opts["max_restarts"]) + 1):
        norm0 = mon.evaluate(theta)[1]
        scale = norm0 * norm0 if np.isfinite(norm0) and norm0 > 0 else 1.0
        status, message, scipy_status = run_scipy(lambda s=scale, t=theta: scipy.optimize.minimize(
            objective, t, args=(s,), jac=True, method=solver, callback=count, options=options))
        if status != SOLVER_STOPPED or not mon.best_norm < before / opts["factor"]:
            break
        theta, before = mon.best_theta, mon.best_norm
    return result_of(mon, n_iter[0], status, message, method, start, scipy_status)


def _newton(theta0, grad_fn, hess_fn, hvp_fn, method, cap, opts):
    start, mon = time.perf_counter(), Monitor(grad_fn, cap + 1, opts)  # records: steps + 1
    theta, n_iter, radius = np.array(theta0, dtype=np.float64), 0, None
    g, norm = mon.evaluate(theta)
    krylov, forcing, warm, previous = theta.size > opts["dense_max"], None, None, None
    flat, window = [], opts["flat_window"]  # (κ̂, best ‖∇L‖) of the last Krylov models
    try:
        mon.record(theta, norm)
        while True:
            if opts["max_hvp"] is not None and opts["_count"][0] >= opts["max_hvp"]:
                raise Halt(MAX_ITER, f"HVP budget of {opts['max_hvp']} spent "
                                     f"({opts['_count'][0]}) at ‖∇L‖ = {mon.best_norm:.3g}")
            if krylov:  # inexact Newton: solve only as well as ‖∇L‖ warrants
                forcing = forcing_term(norm, previous, forcing, opts["forcing_max"],
                                       opts["lsmr_tol"])
            model = newton_model(theta, g, hess_fn, hvp_fn, rtol=opts["rtol"],
                                 tau_max=opts["tau_max"], dense_max=opts["dense_max"],
                                 lsmr_tol=forcing or opts["lsmr_tol"],
                                 lsmr_maxiter=opts["lsmr_maxiter"] if krylov else None,
                                 warm=warm if opts["warm_start"] else None,
                                 krylov=opts["krylov"])
            if model is None:
                raise Halt(DIVERGED, "H became non-finite (or not decomposable) during the "
                                      "search")
            if not model.newton_norm > 0.0:
                raise Halt(*mon.stop(f"∇L (‖∇L‖ = {norm:.3g}) is in H's near-kernel"))
            if window and getattr(model, "kernel_share", None) is not None:
                flat = (flat + [(model.kernel_share, mon.best_norm)])[-int(window):]
                if (len(flat) == window and min(f[0] for f in flat) >= opts["flat_kappa"]
                        and flat[0][1] < opts["factor"] * mon.best_norm):
                    # inexact solves count unresolved range directions in κ̂: confirm by a
                    # tight one (lsmr_tol, twice the iterations), the better model to go on with
                    model, flat = newton_model(
                        theta, g, hess_fn, hvp_fn, rtol=opts["rtol"], tau_max=opts["tau_max"],
                        dense_max=opts["dense_max"], lsmr_tol=opts["lsmr_tol"],
                        lsmr_maxiter=2 * opts["lsmr_maxiter"], krylov=opts["krylov"]), []
                    if model is not None and model.kernel_share >= opts["flat_kappa"]:
                        raise Halt(*mon.stop(
                            f"gradient-flat: the last {window} Newton models left κ̂ ≥ "
                            f"{opts['flat_kappa']:g} of ∇L in H's near-kernel (a tight solve: "
                            f"{model.kernel_share:.2f}) and the best ‖∇L‖ = "
                            f"{mon.best_norm:.3g} fell by less than {opts['factor']:g}×"))
                    if model is None:  # (no kept direction: κ̂ = 1, stopped above)
                        raise Halt(DIVERGED, "H became non-finite during the search")
            # Δ starts at the full step and carries over between steps (Moré 1978)
            radius = min(model.newton_norm if radius is None else radius,
                         opts["max_step"] * (1.0 + np.linalg.norm(theta)))
            for _ in range(int(opts["max_rejections"]) + 1):
                p, predicted = model.step(radius)
                trial = theta + (accelerated(model, p, theta, g, mon.evaluate,
                                             opts["geodesic_h"], opts["geodesic_alpha"])
                                 if opts["geodesic"] else p)
                g_trial, norm_trial = mon.evaluate(trial)
                ratio = ((norm - norm_trial) * (norm + norm_trial) / predicted
                         if np.isfinite(norm_trial) and predicted > 0.0 else -np.inf)
                radius = next_radius(radius, ratio, float(np.linalg.norm(p)))
                if ratio > opts["eta"]:
                    break
            else:
                raise Halt(*mon.stop(f"no decrease of ‖∇L‖ = {norm:.3g} within "
                                      f"{opts['max_rejections']} trust-region shrinks"))
            warm, previous = trial - theta, (norm, math.sqrt(max(norm * norm - predicted, 0.0)))
            theta, g, norm, n_iter = trial, g_trial, norm_trial, n_iter + 1
            mon.record(theta, norm)
    except Halt as halt:
        status, message = halt.args
    return result_of(mon, n_iter, status, message, method, start, None)


