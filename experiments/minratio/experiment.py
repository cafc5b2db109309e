"""When the gradient is almost zero: critical points and the minimal ratio.

`python -m experiments.minratio` (slides, "What Happened When Gradient is Almost Zero"). Each of
--runs runs (seeds from one SeedSequence) (1) trains a tanh MLP on sin(5πx)/(5πx) from its own
initialization for its own, seeded number of steps (log-uniform in [switch_min, switch_max],
saved): converged nets lead finders to minima only, earlier ones reach saddles too; (2)
searches for ∇L = 0 by --finder (engine.critical.finders); (3) classifies the end point
(engine.critical.classification)
and takes the exact Hessian's spectrum (engine.derivatives.curvature): minimal ratio n₊/n
(tolerance τ),
resolved ratio n₊/(n₊+n₋), index share n₋/n, the same at the --band rtols, and the slides' sampled
ratio: the share of K points θ + r·d, ‖d‖ = 1, with L > L(θ), per radius (Wilson interval);
(4) continues the search from a critical end point (engine.critical.classification.continuation) to
say
whether it stays put, slides along a connected set of critical points, or escapes to infinity
(‖θ‖ growing, hidden units saturating). --weight-decay λ runs all of it on the coercive
L_λ = MSE + (λ/2)‖θ‖² (no critical point at infinity), with the eigenvalue cut τ capped at λ/10
(tau_max): the decay curves every direction by λ, and a cut that does not resolve λ would
ignore those directions in the counts and in the critical test; --starts embedded starts from
a critical point of a smaller net split up to this one (engine.critical.embedding): saddles of
known origin.

Results contract, summary.npz: theta (n_runs, n_params) end points, theta_start, x, y, loss,
grad_norm, eigenvalues (n_runs, n_params) ascending (nan rows where θ is not finite),
minimal_ratio, resolved_ratio, index, *_band (n_runs, len(band)), label (strings), flat, kappa,
switch_step, sampled_ratio/_low/_high (n_runs, n_radii), and the ‖∇L‖ traces, run r's being
trace[trace_start[r]:trace_start[r + 1]] (theta_norm_trace: ‖θ‖ at the same points;
continuation_norms likewise with continuation_start). With a weight decay, `loss` is the MSE
part, `loss_total` the objective L_λ, `eigenvalues` those of ∇²L_λ; verdict ('' when not
critical), escaping, continuation_moved/_growth, n_neg, theta_norm, saturated_share (hidden units
constant on the data), max_preactivation, effective_units (hidden units left after dropping
dead and constant ones and merging copies: engine.critical.embedding.effective_widths) and
reducible (fewer
than the net's: an embedded critical point of a smaller net), n_near_tau (eigenvalues within a
factor 3 of ±τ: how much the counts hang on the cut). With summary.json's sizes, activation,
loss and bias (written for every run but the homework's sinc with biases; --no-bias: no b_l in
any layer, θ laid out by engine.nets.layout without them) anyone can rebuild the net and
recompute loss, gradient and spectrum (experiments.minratio.check does).
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from engine import MLP
from engine.critical.classification import classify, continuation, sampled_minimal_ratio, saturation
from engine.critical.embedding import effective_widths, embed
from engine.critical.finders import DIVERGED, FinderResult, find_critical
from engine.critical.linear_autoencoder import LinearAutoencoder
from engine.io.results import Store, UsageError
from experiments.harness.checks import check_ints, check_memory, check_range
from experiments.harness.parallel import LOCAL, compute, run_seeds
from experiments.minratio.objective import (
    check_sizes,
    check_task,
    finder_options,
    load_task,
    objective_fns,
    point_tolerances,
    task_sizes,
    train_until,
)
from experiments.minratio.summary import stack, summarize

EXPERIMENT = "minratio"


@dataclass(frozen=True)
class Config:
    """The settings of the minimal-ratio experiment; each field's comment is its --help text."""

    # --- compute (the task, the net, its training) ---
    runs: int = 100                      # the slides' "Train 100 times"
    seed: int = 0                        # run r uses SeedSequence(seed).spawn(runs)[r]
    task: str = "sinc"                   # a function (sinc, sign, …), digits, mnist, cifar10 or
    # …dlae, a linear autoencoder whose critical points are known
    loss: Literal["mse", "cross_entropy"] = "mse"  # cross_entropy: image tasks only
    data_root: str = ""                  # image tasks: holds MNIST/raw or cifar-10-batches-py
    n_train: int = 0                     # image tasks: a fixed subset of this many (0 = all)
    dlae_dim: int = 16                   # dlae: k inputs, data eigenvalues 1…k (Frye et al.)
    hidden: tuple[int, ...] = (8, 8)     # 1-8-8-1 (97 params): more end critical than 1-5-5-1
    activation: Literal["tanh", "sigmoid", "softplus", "relu", "linear"] = "tanh"  # smooth: the
    # …Hessian exists everywhere
    bias: bool = True                    # --no-bias: layers without b_l (dlae has none)
    n_samples: int = 100                 # grid on [−1, 1], 10 per zero of sinc (dlae: rows)
    trainer: Literal["trf", "lm", "lbfgs", "adam"] = "trf"  # trf/lm fit the residuals: 1e-8 in
    # …0.3 s
    switch_min: int = 2                  # fewest training steps before the search
    switch_max: int = 1000               # most (log-uniform): early stops reach saddles too
    lr: float = 0.01                     # Adam's step (--trainer adam)
    # --- search (for ∇L = 0 from each trained net) ---
    finder: Literal["lm+newton", "lm", "trf", "newton", "gradnorm"] = "lm+newton"  # lm+newton: LM,
    # …then Newton-MR once LM slows
    stall_window: int = 0                # > 0: a stage stops when ‖∇L‖ has not halved over this
    # …many LM evaluations or Newton-MR steps (0: the finder's own, lm+newton's 100 and 600);
    # longer searches end critical more often
    weight_decay: float = 0.0            # λ: search the coercive L + (λ/2)‖θ‖²
    starts: Literal["trained", "embedded"] = "trained"  # embedded: critical points of a smaller
    # …net (--embed-hidden) split up to --hidden, saddles of known origin
    embed_hidden: tuple[int, ...] = (2, 2)  # --starts embedded: the smaller net's hidden widths
    # --- classify (the end points) ---
    grad_sq_tol: float = 1e-10           # critical: ‖∇L‖² ≤ this (Frye et al. 2019)
    newton_tol: float = 1e-6             # critical: also the Newton step ‖H_τ⁺∇L‖ ≤ this
    kappa_tol: float = 0.9               # gradient-flat: κ = ‖P₀∇L‖/‖∇L‖ ≥ this (Frye et al.)
    cos_tol: float = 5e-4                # gradient-flat too: ‖H∇L‖/(‖H‖₂‖∇L‖) ≤ this
    rtol: float = 1e-6                   # sign cut τ = max(nε‖H‖₂, min(rtol·‖H‖₂, λ/10))
    cut: Literal["relative", "certified"] = "relative"  # certified: τ invariant on a symmetry orbit
    band: tuple[float, ...] = (1e-8, 1e-4)  # rtols of the sensitivity band
    radii: tuple[float, ...] = (1e-3, 1e-2, 1e-1)  # sampled ratio: radii r = ‖θ − θ*‖
    n_directions: int = 1000             # K samples per radius: standard error ≤ 0.016
    continue_evals: int = 100            # continuation: evaluations from each critical point
    move_tol: float = 1e-4               # stays put: the continuation moves < this·‖θ*‖

    @classmethod
    def quick(cls):
        """The tiny preset the tests use (4 runs of a 1-4-4-1 net)."""
        return cls(runs=4, hidden=(4, 4), n_samples=40, switch_max=100, n_directions=100,
                   continue_evals=20)

    def validate(self):
        """UsageError naming the flag for a setting that cannot run, before any work."""
        check_ints(self, seed=0, runs=1, switch_min=1, n_directions=1, n_samples=2, hidden=1,
                   switch_max=self.switch_min, embed_hidden=1, continue_evals=1,
                   stall_window=0, n_train=0, dlae_dim=1)
        check_range(self, "weight_decay", 0.0, low_open=False)
        check_range(self, "move_tol")
        # a --embed-hidden given is checked even when nothing embeds (a typo is still a typo); the
        # default is checked only where it is read, so any --hidden depth runs without it
        given = self.embed_hidden != type(self).__dataclass_fields__["embed_hidden"].default
        if (given or self.starts == "embedded") and (
                len(self.embed_hidden) != len(self.hidden) or any(
                s > b for s, b in zip(self.embed_hidden, self.hidden, strict=True))):
            raise UsageError(f"--embed-hidden {' '.join(map(str, self.embed_hidden))}: give one "
                             f"width per hidden layer of --hidden "
                             f"{' '.join(map(str, self.hidden))}, none larger")
        check_positive = ("lr", "grad_sq_tol", "newton_tol", "cos_tol", "rtol", "band", "radii")
        for name in check_positive:
            check_range(self, name)
        check_range(self, "kappa_tol", 0.0, 1.0, high_open=False)  # κ ∈ [0, 1]
        check_range(self, "rtol", 0.0, 1.0)
        check_task(self)
        if not self.bias and self.starts == "embedded":
            raise UsageError("--no-bias with --starts embedded: the embedding splits units of a "
                             "net with biases (engine.critical.embedding); use --starts trained")
        net = MLP(self.sizes, self.activation, bias=self.bias)
        if self.trainer == "lm" and self.n_samples < net.n_params:
            raise UsageError(f"--trainer lm needs --n-samples ≥ n_params = {net.n_params} "
                             f"(MINPACK needs as many residuals as parameters), got "
                             f"{self.n_samples}: raise --n-samples or use --trainer lbfgs")
        # per worker: the sampled directions and their θ, and a few dense n × n Hessians
        check_memory(8.0 * (2 * self.n_directions * net.n_params + 6 * net.n_params ** 2),
                     f"--n-directions {self.n_directions} with --hidden "
                     f"{' '.join(map(str, self.hidden))}")
        check_sizes(self, net)
        # the summary stacks θ, θ₀ and the spectrum of every run: (runs, n_params) each
        check_memory(8.0 * 3 * self.runs * net.n_params, f"--runs {self.runs}")

    @property
    def sizes(self) -> tuple[int, ...]:
        """The network (d_in, *hidden, d_out) of --task: (1, *hidden, 1) for a function."""
        return task_sizes(self)


def run(config: Config, out_dir=Path("results") / EXPERIMENT, options=LOCAL):
    """Compute the runs not yet saved (in parallel), then the summary."""
    start = time.perf_counter()
    # every run saves θ₀, θ and the spectrum (a run file without them is computed again)
    store = Store(out_dir, EXPERIMENT, config,
                  required=lambda run, info: ("theta_start", "theta", "eigenvalues"))
    todo = compute(store, functools.partial(search_unit, config), range(config.runs), options,
                   desc="minratio runs")
    if todo is None:
        return None
    runs = [store.load_run(r) for r in range(config.runs)]
    data, _ = load_task(config)
    arrays = stack(runs, config) | {"x": data.x_train, "y": data.y_train,
                                     "radii": np.array(config.radii),
                                     "band": np.array(config.band)}
    summary = {"sizes": config.sizes, "activation": config.activation}
    if config.task != "sinc" or not config.bias:  # the homework's summary stays as it was
        summary |= {"task": config.task, "loss": config.loss,
                    "bias": config.bias and config.task != "dlae"}
    summary |= summarize(arrays, [info for _, info in runs], config)
    summary |= {"wall_time": time.perf_counter() - start, "runs_computed": len(todo)}
    return store.save_summary(arrays, summary)


def search_start(config, net, data, rng):
    """(θ₀ of the search, switch step, steps taken, origin): trained for a seeded number of
    steps, or ('embedded') a critical point of the --embed-hidden net found the same way and
    split up to --hidden (engine.critical.embedding): a saddle or minimum of known origin. With
    --weight-decay the split point is a start, not an exact critical point of L_λ."""
    switch = int(round(np.exp(rng.uniform(np.log(config.switch_min), np.log(config.switch_max)))))
    if config.starts == "trained":
        theta, steps = train_until(net, net.init(rng), data, config.trainer, switch, rng,
                                   config.lr, config.weight_decay)
        return theta, switch, steps, []
    small = MLP((net.sizes[0], *config.embed_hidden, net.sizes[-1]), config.activation,
                config.loss)
    theta, steps = train_until(small, small.init(rng), data, config.trainer, switch, rng,
                               config.lr, config.weight_decay)
    _, gradient, hessian = objective_fns(small, data.x_train, data.y_train, config.weight_decay)
    theta = search(config, theta, gradient, hessian).theta
    theta, log = embed(small.sizes, theta, net.sizes, method="split", rng=rng)
    return theta, switch, steps, log


def search(config, theta0, gradient, hessian) -> FinderResult:
    """find_critical from θ₀ by --finder; a θ₀ that training left non-finite (the library
    refuses it) is recorded as a diverged search, as the run's result."""
    if np.all(np.isfinite(theta0)):
        return find_critical(theta0, gradient, hessian, method=config.finder,
                             **finder_options(config))
    return FinderResult(theta0, np.array([np.nan]), 0, 0, DIVERGED,
                        f"{config.finder}: θ₀ is not finite (training diverged)", config.finder,
                        0.0, theta_norms=np.array([np.nan]))


def search_unit(config: Config, run: int) -> tuple[dict, dict]:
    """Start run `run` (trained to its switch step, or embedded), search for ∇L_λ = 0, classify,
    continue from a critical end point to tell staying, manifold and escaping apart:
    (arrays, info)."""
    start, cpu_start = time.perf_counter(), time.process_time()
    rng = np.random.default_rng(run_seeds(config.seed, config.runs)[run])
    data, net = load_task(config)
    x, y = data.x_train, data.y_train
    linear = isinstance(net, LinearAutoencoder)
    theta_start, switch, steps, log = search_start(config, net, data, rng)
    train_time = time.perf_counter() - start
    objective, gradient, hessian = objective_fns(net, x, y, config.weight_decay)

    found = search(config, theta_start, gradient, hessian)
    g0, H0, g, H = (f(t) for t in (theta_start, found.theta) for f in (gradient, hessian))
    at_start = classify(theta_start, g0, H0, non_finite="not-converged",
                        **point_tolerances(config, theta_start, g0, H0, hessian))
    point = classify(found.theta, g, H, non_finite="not-converged",
                     **point_tolerances(config, found.theta, g, H, hessian))
    spec = point.spectrum
    cont = None
    if point.label == "critical":
        cont = continuation(found.theta, gradient, hessian, objective,
                            max_eval=config.continue_evals, grad_sq_tol=config.grad_sq_tol,
                            move_tol=config.move_tol)
    with np.errstate(all="ignore"):
        loss = float(net.loss(found.theta) if linear else net.loss(found.theta, x, y))
        loss_total = float(objective(found.theta))
        sampled = sampled_minimal_ratio(objective, found.theta, config.radii,
                                        n_directions=config.n_directions, rng=rng,
                                        loss0=loss_total, non_finite="nan")
        finite = np.all(np.isfinite(found.theta)) and not linear  # no units to saturate
        saturated, max_z = saturation(net, found.theta, x) if finite else (float("nan"),) * 2
        widths = list(effective_widths(net.sizes, found.theta, config.activation,
                                       bias=net.bias)) if finite else None
    nan, ratios = float("nan"), ("minimal_ratio", "resolved_ratio", "index")
    bands = [spec.at(r) for r in config.band] if spec else []
    arrays = {"theta_start": theta_start, "theta": found.theta, "trace": found.grad_norms,
              "theta_norm_trace": found.theta_norms,
              "continuation_norms": cont.theta_norms if cont else np.zeros(0),
              "eigenvalues": spec.eigenvalues if spec else np.full(net.n_params, nan),
              "sampled_ratio": sampled.share, "sampled_low": sampled.low,
              "sampled_high": sampled.high}
    arrays |= {f"{k}_band": [getattr(b, k) for b in bands] if spec else [nan] * len(config.band)
               for k in ratios}
    info = {"run": run, "switch_step": switch, "train_steps": steps,
            "train_loss": float(net.loss(theta_start) if linear
                                else net.loss(theta_start, x, y)), "loss": loss,
            "loss_total": loss_total, "theta_norm": float(np.linalg.norm(found.theta)),
            "grad_norm": float(np.sqrt(point.grad_sq)), "label": point.label,
            "label_start": at_start.label, "kappa_start": at_start.kappa,
            "saturated_share": saturated, "max_preactivation": max_z,
            "effective_hidden": widths,
            "embedding": [list(entry) for entry in log],
            "continuation": None if cont is None else {
                "verdict": cont.verdict, "moved": cont.moved, "growth": cont.growth,
                "loss_change": cont.loss_change, "grad_sq": cont.grad_sq,
                "n_eval": cont.n_eval}}
    info |= {k: getattr(point, k) for k in ("flat", "grad_sq", "newton_norm", "kappa",
                                            "flat_cosine")}
    info |= {k: getattr(spec, k) if spec else nan for k in ratios + ("tau", "n_pos", "n_neg",
                                                                       "n_zero")}
    # how much n₊/n₀/n₋ hang on the cut: eigenvalues within a factor 3 of ±τ (with a decay λ,
    # a τ near λ puts every direction curved by the decay alone here)
    info["n_near_tau"] = int(np.sum((np.abs(spec.eigenvalues) >= spec.tau / 3)
                                    & (np.abs(spec.eigenvalues) <= 3 * spec.tau))) if spec else nan
    info["finder"] = {"method": found.method, "status": found.status_name,
                      "message": found.message, "scipy_status": found.scipy_status,
                      "n_iter": found.n_iter, "n_eval": found.n_eval,
                      "wall_time": found.wall_time}
    # CPU seconds of this process: on a shared machine wall time also counts the others' work
    info |= {"train_time": train_time, "wall_time": time.perf_counter() - start,
             "cpu_time": time.process_time() - cpu_start}
    return arrays, info
