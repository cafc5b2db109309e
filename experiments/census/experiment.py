"""Dauphin's census on real data: the index of critical points against their training error.

`python -m experiments.census` (Dauphin et al. 2014, Fig. 1: critical points of MLPs on image
data; the fraction α = n₋/n of negative Hessian eigenvalues rises with the training error ε).
Each of --runs searches (seeds from one SeedSequence) on all 1797 images of scikit-learn's 8×8
digits, pixels/16, one-hot targets, with an MLP of 2,000–5,000 parameters:
  1. starts (experiments.census.starts; the share --embedded of the runs, spread evenly, the
     second kind): from the net trained for its own, seeded number of L-BFGS steps (log-uniform
     in [switch_min, switch_max]) on L_λ = MSE + (λ/2)‖θ‖², or from a narrower net's critical
     point (k ≤ --embed-max hidden units) embedded with zero units and perturbed;
  2. searches for ∇L_λ = 0 by engine.critical.find_critical (above its size switch: Newton-MR on
     Hessian-vector products), with a budget of --max-hvp products (a stated stop);
  3. classifies the end point (engine.critical.classify): beyond the dense limit (EIGH_MAX) the
     counts n₋/n₀/n₊ come from the LDLᵀ inertia of H ± τI with ‖H‖₂ from verified Lanczos —
     exact, no eigh (engine.spectra.inertia); τ is capped at λ/10 as in minratio;
  4. continues a critical end point (engine.critical.continuation, Newton-MR on HVPs) to tell
     points that stay from those that escape or drift; only those that stay (neither escaping
     nor drifting: `settled`) enter the census.
The weight decay makes L_λ coercive, so no critical point lies at infinity (on the plain MSE the
searches crawl towards saturated units; measured: from the same starts ‖∇L‖² stayed ≥ 5e-6
after 5000 HVPs with λ = 1e-4, and reached 5e-11 with λ = 1e-2).

ε is the training error, as in Dauphin et al.'s Fig. 1: the misclassified share, with the training
MSE (the data part of L_λ) beside it. Results contract, summary.npz: theta_start, theta
(n_runs, n_params), per run start ('trained' | 'embedded'), embed_width (k, 0 for a trained
start), embed_grad_sq (‖∇L_λ‖² of the embedded point before the noise), switch_step,
train_loss, loss (ε), error (misclassified share), loss_total, grad_sq, newton_norm, kappa,
n_neg, n_zero, n_pos, index (n₋/n), tau, label, verdict ('' when not critical), settled,
n_hvp, cpu_time, wall_time; summary.json: the counts, the census (settled critical points:
their ε range and decades, index range, Spearman ρ(ε, α) with its bootstrap interval and the
slope per decade, engine.critical.index_loss), the finder's statuses and the times.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from engine import MLP
from engine.critical.classification import EIGH_MAX, LABELS, VERDICTS, classify, continuation
from engine.critical.finders import STATUS_NAMES, find_critical
from engine.critical.index_loss import index_loss_fit
from engine.data.datasets import Dataset
from engine.io.results import Store, UsageError
from experiments.census.starts import STARTS, embedded_start, start_kinds, trained_start
from experiments.harness.checks import check_ints, check_memory, check_range
from experiments.harness.parallel import LOCAL, compute, run_seeds
from experiments.minratio.objective import objective_fns, objective_hvp
from experiments.minratio.summary import decade_span

EXPERIMENT = "census"
N_PARAMS = (2000, 5000)  # the size: beyond the dense limit, within one machine's reach


@dataclass(frozen=True)
class Config:
    """The settings of the census; each field's comment is its --help text."""

    # --- compute (the net and its starts) ---
    runs: int = 100                      # searches: Dauphin's census is a cloud of points
    seed: int = 0                        # run r uses SeedSequence(seed).spawn(runs)[r]
    hidden: tuple[int, ...] = (32,)      # 64-32-10: 2,410 parameters
    activation: Literal["tanh", "sigmoid", "softplus"] = "tanh"  # smooth: H exists everywhere
    weight_decay: float = 1e-2           # λ: a coercive L_λ, no critical point at infinity
    switch_min: int = 2                  # fewest L-BFGS steps before the search
    switch_max: int = 1000               # most (log-uniform): early stops reach saddles
    embedded: float = 0.8                # share of the searches from an embedded narrower net's
    # …critical point (the rest from training paths; experiments.census.starts says why)
    embed_max: int = 12                  # the narrower net has k = 1 … this hidden units (uniform)
    embed_switch_min: int = 30           # fewest L-BFGS steps of the narrower net before its
    # …Newton-MR (earlier stops seldom end critical within its 50 steps)
    embed_switch_max: int = 3000         # most (log-uniform): a late stop is near its minimum
    embed_noise: float = 1e-2            # σ of the Gaussian noise added to the embedded point
    # --- search (for ∇L_λ = 0 from each trained net) ---
    max_hvp: int = 4000                  # the search's budget of Hessian-vector products: with
    # …training and classification ≈ 10 s of CPU a search, 100 searches in 10 min on 2 cores
    continue_steps: int = 30             # continuation: Newton-MR steps from a critical point
    continue_hvp: int = 600              # continuation: its budget of products
    move_tol: float = 1e-4               # stays put: the continuation moves < this·‖θ*‖
    # --- classify (the end points) ---
    grad_sq_tol: float = 1e-10           # critical: ‖∇L‖² ≤ this (Frye et al. 2019)
    newton_tol: float = 1e-6             # critical: also the Newton step ‖H_τ⁺∇L‖ ≤ this
    rtol: float = 1e-6                   # eigenvalue sign cut τ = max(n·ε, rtol)·‖H‖₂, ≤ λ/10
    eigh_max: int = EIGH_MAX             # the dense limit: larger H are counted without eigh

    @classmethod
    def quick(cls):
        """The tiny preset the tests use: 4 searches with small budgets (the same net)."""
        return cls(runs=4, switch_max=200, max_hvp=300, continue_steps=5, continue_hvp=100,
                   embed_max=2, embed_switch_max=200)

    def validate(self):
        """UsageError naming the flag for a setting that cannot run, before any work."""
        check_ints(self, runs=1, seed=0, hidden=1, switch_min=1, switch_max=self.switch_min,
                   max_hvp=1, continue_steps=1, continue_hvp=1, eigh_max=1, embed_max=1,
                   embed_switch_min=1, embed_switch_max=self.embed_switch_min)
        check_range(self, "embedded", 0.0, 1.0, low_open=False, high_open=False)
        check_range(self, "embed_noise", 0.0, low_open=False)
        for name in ("weight_decay", "move_tol", "grad_sq_tol", "newton_tol"):
            check_range(self, name)
        check_range(self, "rtol", 0.0, 1.0)
        n = MLP(self.sizes).n_params
        if not N_PARAMS[0] <= n <= N_PARAMS[1]:
            raise UsageError(f"--hidden {' '.join(map(str, self.hidden))}: {n} parameters; the "
                             f"census is of nets with {N_PARAMS[0]}–{N_PARAMS[1]} (e.g. --hidden "
                             "32, 2,410)")
        # the summary stacks θ, θ₀ and the spectrum of every search: (runs, n_params) each
        check_memory(8.0 * 3 * self.runs * n, f"--runs {self.runs}")
        if self.embed_max > min(self.hidden):
            raise UsageError(f"--embed-max {self.embed_max}: the narrower net must fit in "
                             f"--hidden {' '.join(map(str, self.hidden))}; give at most "
                             f"{min(self.hidden)}")

    @property
    def sizes(self) -> tuple[int, ...]:
        """64 pixels in, the hidden widths, 10 classes out."""
        return (64, *self.hidden, 10)


def digits() -> Dataset:
    """All 1797 images of scikit-learn's digits, pixels/16 (x (1797, 64)), one-hot y (1797, 10);
    the test split is the first image only (nothing is tested: the census is of training
    error)."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x, y = bunch.data / 16.0, np.eye(10)[bunch.target]
    return Dataset("digits", "classification", x, y, x[:1], y[:1], 10)


def run(config: Config, out_dir=Path("results") / EXPERIMENT, options=LOCAL):
    """Compute the searches not yet saved (in parallel), then the summary."""
    start = time.perf_counter()
    store = Store(out_dir, EXPERIMENT, config,
                  required=lambda run, info: ("theta_start", "theta"))
    todo = compute(store, functools.partial(search_unit, config), range(config.runs), options,
                   desc="census searches")
    if todo is None:
        return None
    runs = [store.load_run(r) for r in range(config.runs)]
    arrays = stack(runs)
    summary = {"sizes": config.sizes, "activation": config.activation,
               "n_params": MLP(config.sizes).n_params, "n_samples": 1797,
               "dataset": "digits"} | summarize(arrays, [i for _, i in runs], config)
    summary |= {"wall_time": time.perf_counter() - start, "runs_computed": len(todo)}
    return store.save_summary(arrays, summary)


def search_unit(config: Config, run: int) -> tuple[dict, dict]:
    """Train run `run` to its switch step, search, classify, continue: (arrays, info)."""
    start, cpu_start = time.perf_counter(), time.process_time()
    rng = np.random.default_rng(run_seeds(config.seed, config.runs)[run])
    data = digits()
    x, y = data.x_train, data.y_train
    net = MLP(config.sizes, config.activation, "mse")
    decay = config.weight_decay
    kind = start_kinds(config.runs, config.embedded)[run]
    theta_start, origin = (embedded_start if kind == "embedded" else trained_start)(
        config, net, data, rng)
    train_time = time.perf_counter() - start
    objective, gradient, hessian = objective_fns(net, x, y, decay)
    hvp = objective_hvp(net, x, y, decay)
    found = find_critical(theta_start, gradient, None, hvp_fn=hvp, max_hvp=config.max_hvp,
                          rtol=0.0)  # resolve every curvature the decay gives (minratio's rule)
    search_time = time.perf_counter() - start - train_time
    theta = found.theta
    point = classify(theta, gradient(theta), hessian(theta), grad_sq_tol=config.grad_sq_tol,
                     newton_tol=config.newton_tol, rtol=config.rtol, tau_max=decay / 10,
                     eigh_max=config.eigh_max, non_finite="not-converged")
    cont = None
    if point.label == "critical":
        cont = continuation(theta, gradient, None, objective, method="newton", hvp_fn=hvp,
                            max_eval=config.continue_steps, max_hvp=config.continue_hvp,
                            grad_sq_tol=config.grad_sq_tol, move_tol=config.move_tol)
    spec, nan = point.spectrum, float("nan")
    with np.errstate(all="ignore"):
        out = net.forward(theta, x)
    info = {"run": run, **origin,
            "train_loss": float(net.loss(theta_start, x, y)), "loss": float(net.loss(theta, x, y)),
            "error": float(np.mean(np.argmax(out, axis=1) != np.argmax(y, axis=1))),
            "loss_total": float(objective(theta)), "label": point.label,
            "grad_sq": point.grad_sq, "newton_norm": point.newton_norm, "kappa": point.kappa,
            "n_neg": spec.n_neg if spec else nan, "n_zero": spec.n_zero if spec else nan,
            "n_pos": spec.n_pos if spec else nan, "index": spec.index if spec else nan,
            "tau": spec.tau if spec else nan, "exact": bool(spec.exact) if spec else False,
            "route": getattr(spec, "route", "eigh") if spec else "",
            "verdict": cont.verdict if cont else "", "moved": cont.moved if cont else nan,
            "finder": {"status": STATUS_NAMES[found.status], "message": found.message,
                       "n_hvp": int(found.n_jev), "n_iter": int(found.n_iter)},
            "train_time": train_time, "search_time": search_time,
            "wall_time": time.perf_counter() - start,
            "cpu_time": time.process_time() - cpu_start}
    return {"theta_start": theta_start, "theta": theta}, info


SCALARS = ("switch_step", "embed_width", "embed_grad_sq", "train_loss", "loss", "error",
           "loss_total", "grad_sq", "newton_norm", "kappa", "n_neg", "n_zero", "n_pos",
           "index", "tau", "moved", "cpu_time", "wall_time", "search_time")


def stack(runs) -> dict:
    """Per-run arrays stacked (n_runs, n_params) and the scalars of the results contract."""
    out = {k: np.stack([a[k] for a, _ in runs]) for k in ("theta_start", "theta")}
    out |= {k: np.array([np.nan if info[k] is None else info[k] for _, info in runs],
                        dtype=np.float64) for k in SCALARS}
    out |= {k: np.array([info[k] for _, info in runs]) for k in ("label", "verdict", "start")}
    out["n_hvp"] = np.array([info["finder"]["n_hvp"] for _, info in runs])
    out["settled"] = (out["label"] == "critical") & np.isin(out["verdict"], ("stays",
                                                                             "manifold"))
    return out


def summarize(arrays, infos, config) -> dict:
    """Counts per label and verdict; the census of settled critical points: how many, their ε
    and error ranges with decades, index range, ρ(ε, α) and the slope of α per decade of ε with
    95 % bootstrap intervals (engine.critical.index_loss, constant-fit copies out); the
    finder's statuses and per-search times."""
    label, settled = arrays["label"], arrays["settled"]
    crit = label == "critical"
    y = digits().y_train
    trivial = 0.5 * float(np.sum(np.var(y, axis=0)))  # the constant fit's MSE, ½Σ_c Var(y_c)
    loss, index = arrays["loss"][settled], arrays["index"][settled]
    fit = index_loss_fit(loss, index, rng=np.random.default_rng(config.seed),
                         trivial_loss=trivial)
    error = arrays["error"][settled]
    # every end point, critical or not: where the searches stopped, not a census of critical
    # points (the figure draws them grey); says how far the budget took them
    ended = np.isfinite(arrays["index"])
    ends = index_loss_fit(arrays["loss"][ended], arrays["index"][ended],
                          rng=np.random.default_rng(config.seed), trivial_loss=trivial)
    statuses = [info["finder"]["status"] for info in infos]
    cpu, search = arrays["cpu_time"], arrays["search_time"]
    # one critical point found twice counts once: the same index at the same L_λ (to 1e-9)
    distinct = len({(int(n), round(float(v), 9)) for n, v in
                    zip(arrays["n_neg"][settled], arrays["loss_total"][settled], strict=True)})
    return {
        "counts": {name: int((label == name).sum()) for name in LABELS},
        "verdicts": {v: int((crit & (arrays["verdict"] == v)).sum()) for v in VERDICTS},
        "census": {"settled": int(settled.sum()), "distinct": distinct,
                   "saddles": int((index > 0).sum()), "minima": int((index == 0).sum()),
                   "loss_range": decade_span(loss),
                   "error_range": decade_span(error), "error_zero": int((error == 0).sum()),
                   "index_range": ([int(v) for v in (arrays["n_neg"][settled].min(),
                                                     arrays["n_neg"][settled].max())]
                                   if settled.any() else None),
                   "exact": int(sum(info["exact"] for info in infos
                                    if info["label"] == "critical")),
                   "trivial_loss": trivial, "fit": fit,
                   "by_start": {kind: {"runs": int((arrays["start"] == kind).sum()),
                                       "critical": int((crit & (arrays["start"] == kind)).sum()),
                                       "settled": int((settled & (arrays["start"] == kind)).sum())}
                                for kind in STARTS}},
        "end_points": {"n": int(ended.sum()), "spearman": ends["spearman"],
                       "loss_range": decade_span(arrays["loss"][ended]),
                       "index_range": [int(np.nanmin(arrays["n_neg"])),
                                       int(np.nanmax(arrays["n_neg"]))] if ended.any() else None,
                       "median_grad_sq": float(np.nanmedian(arrays["grad_sq"])),
                       "median_newton_norm": float(np.nanmedian(arrays["newton_norm"])),
                       "grad_sq_passed": int(np.sum(arrays["grad_sq"] <= config.grad_sq_tol))},
        "finder": {"status_counts": {s: statuses.count(s) for s in STATUS_NAMES.values()
                                     if s in statuses},
                   "median_hvp": float(np.median(arrays["n_hvp"]))},
        "time": {"cpu_sum": float(cpu.sum()), "cpu_median": float(np.median(cpu)),
                 "search_median": float(np.median(search)),
                 "wall_sum": float(arrays["wall_time"].sum())}}

