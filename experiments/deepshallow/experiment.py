"""Deep vs shallow at an equal parameter budget (HW1-1): `python -m experiments.deepshallow`.

Three parts, each comparing MLPs of `depths` hidden layers whose parameter counts differ by ≤ 2 %
(engine.nets.budget: widths as equal as the budget allows). The budget is the parameter count of
the one-hidden-layer net of width `function_width` (`task_width`, `checker_width`), so that net is
met exactly whatever the input size:
  simulate a function  each target of `functions` (engine.data.datasets.FUNCTIONS: sin(5πx)/(5πx),
                       the square wave sign(sin(5πx)), …) on a fixed grid of `function_samples`
                       points in [−1, 1], MSE, full-batch L-BFGS from kinks on the data
                       (kinks_on_data); the loss every `record_every` iterations, the
                       prediction on the midpoints
  actual task          digits (offline), MNIST or CIFAR-10 (--data-root), cross-entropy, Adam
                       with minibatches; train and test loss and accuracy after every epoch
  second task          `second_task`: the 2-D checkerboard of checker_cells² squares
                       (engine.data.datasets.load_checkerboard; offline), as the task, step
                       `checker_lr`
Every model stops by one rule (engine.training.stopping): its training loss reaches the target
(`task_target`, cross-entropy only) or the median over the last `stop_window` checks is less than
`stop_rel_tol` below the median over the window before (a check is `record_every` L-BFGS
iterations or one epoch), or the cap (`function_max_iters`, `task_max_epochs`); which of them
stopped each model is saved. Curves of models stopped early are held at their final value to
the longest run's length (the model no longer changes); `*_n_checks` gives each one's length.
Each (target, depth) is trained from `seeds` independent initializations (unit u draws from
SeedSequence(seed).spawn(n_units)[u]): the summary gives the median and the range over seeds,
the depth with the lowest median final training loss, the factor to the runner-up, and in how
many seeds that depth was the best.
Results: runs/run_u.npz = the curves, the final θ and (functions) the prediction and ‖∇L‖;
summary.npz stacks them (target, depth, seed, …); summary.json = the facts above.
Cost: seeds·depths·(Σ L-BFGS iterations + Σ epochs·⌈N/batch⌉ Adam steps), set by the rule.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from engine import MLP
from engine.data.datasets import FUNCTIONS, function_dataset, load_checkerboard
from engine.io.results import Store, UsageError
from engine.nets.budget import n_params_of, sizes_for_budget
from engine.training.loop import evaluate, train
from engine.training.optim import adam
from engine.training.stopping import StopRule, stop_reason
from experiments.deepshallow.fitting import fit_function, kinks_on_data
from experiments.deepshallow.summary import TASK_METRICS, summarize
from experiments.harness.checks import (
    FULL_TRAIN,
    INPUT_WIDTH,
    N_OUTPUTS,
    check_batch,
    check_distinct,
    check_image_data,
    check_ints,
    check_memory,
    check_network_memory,
    check_positive,
    check_range,
)
from experiments.harness.datasets import check_data, image_dataset_name, load_data
from experiments.harness.parallel import LOCAL, compute, run_seeds

EXPERIMENT = "deepshallow"


@dataclass(frozen=True)
class Config:
    """Experiment settings; each field's comment is its --help text; quick(): the tests' preset."""

    # --- compute (models, seeds) ---
    seed: int = 0                            # one SeedSequence; unit u uses its spawn(n_units)[u]
    seeds: int = 3                           # initializations per model: ≥ 3 to see the spread
    depths: tuple[int, ...] = (1, 2, 4)      # hidden layers: shallow, middle, deep (bonus: ≥ 3)
    # --- simulate a function ---
    functions: tuple[str, ...] = ("sinc", "sign")  # sin(5πx)/(5πx) and the square wave
    function_width: int = 133                # 1-133-1: a budget of 400 parameters (±2 %)
    function_samples: int = 256              # training grid on [−1, 1]; tested on its midpoints
    function_max_iters: int = 20000          # cap of full-batch L-BFGS iterations (never hit)
    record_every: int = 20                   # L-BFGS iterations between checks of the stop rule
    stop_window: int = 10                    # checks per window of the plateau rule
    stop_rel_tol: float = 0.01               # plateau: window median < 1 % below the one before
    # --- compute (models, seeds) ---
    activation: Literal["relu", "tanh"] = "relu"  # kinks let depth pay off on the square wave
    # --- train on an actual task ---
    dataset: Literal["", "digits", "mnist", "cifar10"] = ""  # '' = mnist with --data-root
    data_root: str = ""                      # holds MNIST/raw or cifar-10-batches-py
    n_train: int = 0                         # 0 = every training sample; >0 a fixed subset
    task_width: int = 67                     # 64-67-10 on digits: 5035 parameters (±2 %)
    task_max_epochs: int = 1000              # cap of the tasks' epochs (never hit)
    task_target: float = 0.01                # cross-entropy target (as HW1-3's): fitted
    batch_size: int = 64                     # a common minibatch
    lr: float = 0.001                        # Adam's usual step size (Kingma & Ba)
    second_task: Literal["checkerboard", ""] = "checkerboard"  # '' = digits (or --dataset) only
    checker_cells: int = 6                   # 6×6 squares: no depth reaches 97 % at 500 params
    checker_samples: int = 2000              # training points; as many test points
    checker_width: int = 100                 # 2-100-2: a budget of 502 parameters (±2 %)
    checker_lr: float = 0.003                # at 0.001 some seeds sat at chance for 20 epochs

    @classmethod
    def quick(cls):
        """The tiny preset the tests use (and --quick): every part runs, at smoke size."""
        return cls(seeds=2, depths=(1, 2), function_width=20, function_samples=50,
                   function_max_iters=40, record_every=10, stop_window=2, n_train=200,
                   task_width=10, task_max_epochs=3, checker_samples=100, checker_width=16)

    def validate(self):
        """Raise UsageError, naming the flag, for an integer below its minimum, a step size
        ≤ 0, unknown data or targets, < 2 distinct depths, or a width whose parameter count a
        depth cannot match within 2 %; before any work."""
        check_ints(self, seed=0, seeds=1, depths=1, function_width=1, function_samples=2,
                   function_max_iters=1, record_every=1, stop_window=1, n_train=0, task_width=1,
                   task_max_epochs=1, batch_size=1, checker_cells=2, checker_samples=1,
                   checker_width=1)
        check_positive(self, "lr", "task_target", "checker_lr")
        check_range(self, "stop_rel_tol", 0.0, 1.0)
        check_image_data(self.dataset, self.data_root)
        unknown = [f for f in self.functions if f not in FUNCTIONS]
        if unknown or not self.functions:
            raise UsageError(f"--functions {' '.join(self.functions)}: choose among "
                             f"{list(FUNCTIONS)}")
        check_distinct(self, "functions")
        if len(set(self.depths)) != len(self.depths) or len(self.depths) < 2:
            raise UsageError(f"--depths {' '.join(map(str, self.depths))}: give ≥ 2 different "
                             "depths to compare")
        for width, (d_in, d_out), flag in ((self.function_width, (1, 1), "--function-width"),
                                           (self.task_width, (64, 10), "--task-width"),
                                           (self.checker_width, (2, 2), "--checker-width")):
            for depth in self.depths:  # (64 → 10) is digits; other data are checked in run
                _sizes(width, d_in, d_out, depth, flag)
        # memory before any write: every net's θ and Adam's (m, v, ∇L), and its activations on
        # the whole training set (evaluated each epoch); a lower bound
        name = self.dataset or ("mnist" if self.data_root else "digits")
        for width, data, rows, flag in (
                (self.function_width, "sinc", self.function_samples, "--function-width"),
                (self.task_width, name, self.n_train or FULL_TRAIN[name], "--task-width")):
            for depth in self.depths:
                hidden = _sizes(width, INPUT_WIDTH[data], N_OUTPUTS[data], depth, flag)[1:-1]
                check_network_memory(data, hidden, 4, rows, f"{flag} {width} at depth {depth}")
        if self.second_task:  # its train and test points, their activations and gradients
            for depth in self.depths:
                hidden = _sizes(self.checker_width, 2, 2, depth, "--checker-width")[1:-1]
                check_memory(8.0 * 2 * 2 * self.checker_samples * (4 + sum(hidden)),
                             f"--checker-samples {self.checker_samples} at depth {depth}")

    @property
    def tasks(self) -> tuple[str, ...]:
        """The classification tasks: 'task' (digits or --dataset), then the second task."""
        return ("task", self.second_task) if self.second_task else ("task",)

    @property
    def n_units(self) -> int:
        """Units of work: (len(functions) + len(tasks)) · len(depths) · seeds."""
        return (len(self.functions) + len(self.tasks)) * len(self.depths) * self.seeds

    def stop_rule(self, target: float | None = None) -> StopRule:
        """The one stop rule of every model (engine.training.stopping), with a loss target."""
        return StopRule(self.stop_window, self.stop_rel_tol, target)


def run(config: Config, out_dir=Path("results") / EXPERIMENT, options=LOCAL):
    """Train the missing units (in parallel), stack them, save the summary."""
    name = image_dataset_name(config.dataset, config.data_root)
    data = check_data(name, config.data_root, config.n_train)  # before any write
    check_batch(config, "batch_size", len(data.x_train), name)  # on the data's real size
    for depth in config.depths:
        _sizes(config.task_width, data.x_train.shape[1], 10, depth, "--task-width")
    store = Store(out_dir, EXPERIMENT, config, required=_run_keys)
    start = time.perf_counter()
    if compute(store, functools.partial(unit, config), range(config.n_units), options,
               desc="models") is None:
        return None
    runs = [store.load_run(u) for u in range(config.n_units)]
    arrays, summary = summarize(config, runs)
    summary |= {"dataset": name, "n_train": len(data.x_train),
                "wall_time": time.perf_counter() - start,
                "unit_time_total": float(sum(info["wall_time"] for _, info in runs))}
    return store.save_summary(arrays, summary)


def unit(config: Config, index: int) -> tuple[dict, dict]:
    """Train model `index`: (function f, depth d, seed s) for index < functions·depths·seeds, in
    that order, then (depth d, seed s) of each task. Pure: returns (arrays, info)."""
    rng = np.random.default_rng(run_seeds(config.seed, config.n_units)[index])
    n_depths, n_seeds = len(config.depths), config.seeds
    part, rest = divmod(index, n_depths * n_seeds)
    depth = config.depths[rest // n_seeds]
    init = "he" if config.activation == "relu" else "lecun"
    start = time.perf_counter()
    if part < len(config.functions):
        data = function_dataset(config.functions[part], n_samples=config.function_samples)
        net = MLP(_sizes(config.function_width, 1, 1, depth, "--function-width"),
                  config.activation, "mse")
        theta0 = kinks_on_data(net, net.init(rng, init), data.x_train, rng)
        theta, arrays, info = fit_function(net, theta0, data, config.stop_rule(),
                                           config.function_max_iters, config.record_every)
        arrays |= {"prediction": net.forward(theta, data.x_test)[:, 0],
                   "test_loss": np.array(net.loss(theta, data.x_test, data.y_test))}
        target = config.functions[part]
    else:
        data = _task_data(config, config.tasks[part - len(config.functions)])
        width = config.checker_width if data.name == "checkerboard" else config.task_width
        net = MLP(_sizes(width, data.x_train.shape[1], data.n_classes, depth, "--task-width"),
                  config.activation, "cross_entropy")
        records = []
        opt = adam(config.checker_lr if data.name == "checkerboard" else config.lr)
        rule = config.stop_rule(config.task_target)

        def stop():
            return stop_reason([r["train_loss"] for r in records], rule) is not None

        state = train(net, net.init(rng, init), data, opt, epochs=config.task_max_epochs,
                      batch_size=config.batch_size, rng=rng, every=1,
                      on_snapshot=lambda _, t: records.append(evaluate(net, t, data)), stop=stop)
        theta = opt.params(state)
        arrays = {k: np.array([r[k] for r in records]) for k in TASK_METRICS}
        epochs = len(records) - 1  # the last record is θ after that many epochs
        why = "cap" if epochs == config.task_max_epochs else stop_reason(arrays["train_loss"],
                                                                           rule)
        info = {"stopped_by": why, "steps": epochs}
        target = data.name
    arrays["theta"] = theta
    info |= {"stop_rule": rule_dict(config, target)}
    return arrays, info | {"target": target, "depth": depth, "sizes": net.sizes,
                           "n_params": net.n_params, "wall_time": time.perf_counter() - start}


def rule_dict(config: Config, target: str) -> dict:
    """What a run records of its stop rule: window, rel_tol, target and the cap with its unit."""
    if target in FUNCTIONS:
        return config.stop_rule().as_dict() | {"cap": config.function_max_iters,
                                                "check": f"{config.record_every} iterations"}
    return config.stop_rule(config.task_target).as_dict() | {"cap": config.task_max_epochs,
                                                              "check": "1 epoch"}


def _task_data(config: Config, task: str):
    """The data of a task: 'task' is digits (or --dataset), else the named second task."""
    if task == "task":
        return load_data(image_dataset_name(config.dataset, config.data_root),
                         config.data_root, config.n_train)
    return _checkerboard(config.checker_cells, config.checker_samples)


@functools.lru_cache(maxsize=2)
def _checkerboard(cells: int, n_samples: int):
    # one fixed draw (default_rng(0)) for every unit, as load_data does for digits
    return load_checkerboard(n_samples, np.random.default_rng(0), cells=cells)


def _run_keys(index, info) -> tuple[str, ...]:
    """The arrays `unit` saves: a function fit's or a task model's."""
    fit = ("train_loss", "loss_iters", "theta", "prediction", "test_loss")
    return fit if info.get("target") in FUNCTIONS else (*TASK_METRICS, "theta")


def _sizes(width, d_in, d_out, depth, flag) -> tuple[int, ...]:
    """Sizes of `depth` hidden layers with the parameter count of (d_in, width, d_out), ±2 %."""
    budget = n_params_of((d_in, width, d_out))
    if depth == 1:
        return (d_in, width, d_out)
    try:
        return sizes_for_budget(budget, d_in, d_out, depth)
    except ValueError as err:
        raise UsageError(f"{flag} {width}: {err}") from None
