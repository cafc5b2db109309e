"""Deep vs shallow at an equal parameter budget (HW1-1): `python -m experiments.deepshallow`.

Two parts, each comparing MLPs of `depths` hidden layers whose parameter counts differ by ≤ 2 %
(engine.nets.budget: widths as equal as the budget allows). The budget is the parameter count of the
one-hidden-layer net of width `function_width` (`task_width`), so that net is met exactly
whatever the input size (a unit of a 784-input layer alone costs 795 parameters, 2 % of 40k):
  simulate a function  each target of `functions` (engine.data.datasets.FUNCTIONS: sin(5πx)/(5πx),
  the
                       square wave sign(sin(5πx)), …) on a fixed grid of `function_samples` points
                       in [−1, 1], MSE, full-batch Adam for `function_steps` steps; the training
                       loss every `record_every` steps and the prediction on the midpoints
  actual task          digits (offline), MNIST or CIFAR-10 (--data-root), cross-entropy, Adam
                       with minibatches; train and test loss and accuracy after every epoch
Each (target, depth) is trained from `seeds` independent initializations (unit u draws from
SeedSequence(seed).spawn(n_units)[u]): a ranking read off one seed is noise, so the summary gives
the median and the range over seeds, the depth with the lowest median final training loss, the
factor to the runner-up, and in how many seeds that depth was the best.
Results: runs/run_u.npz = the curves, the final θ and (functions) the prediction;
summary.npz = the same stacked (target, depth, seed, …); summary.json = the facts above.
Cost: seeds·depths·(functions·function_steps full-batch steps + task_epochs·⌈N/batch⌉ steps).
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from engine import MLP
from engine.data.datasets import FUNCTIONS, function_dataset
from engine.io.results import Store, UsageError
from engine.nets.budget import n_params_of, sizes_for_budget
from engine.training.loop import evaluate, train
from engine.training.optim import adam
from experiments.harness.checks import (
    FULL_TRAIN,
    INPUT_WIDTH,
    N_OUTPUTS,
    check_image_data,
    check_ints,
    check_network_memory,
    check_positive,
)
from experiments.harness.config import main
from experiments.harness.datasets import check_data, image_dataset_name, load_data
from experiments.harness.parallel import LOCAL, compute, run_seeds

EXPERIMENT = "deepshallow"
TASK_METRICS = ("train_loss", "test_loss", "train_acc", "test_acc")


@dataclass(frozen=True)
class Config:
    """Experiment settings; each field's comment is its --help text; quick(): the tests' preset."""

    seed: int = 0                            # one SeedSequence; unit u uses its spawn(n_units)[u]
    seeds: int = 3                           # initializations per model: ≥ 3 to see the spread
    depths: tuple[int, ...] = (1, 2, 4)      # hidden layers: shallow, middle, deep (bonus: ≥ 3)
    functions: tuple[str, ...] = ("sinc", "sign")  # sin(5πx)/(5πx) and the square wave
    function_width: int = 133                # 1-133-1: a budget of 400 parameters (±2 %)
    function_samples: int = 256              # training grid on [−1, 1]; tested on its midpoints
    function_steps: int = 2000               # full-batch Adam steps, enough to rank the fits
    function_lr: float = 0.003               # Adam step: 3× its default, fits in few steps
    record_every: int = 20                   # steps between recorded training losses
    activation: Literal["relu", "tanh"] = "relu"  # kinks let depth pay off on the square wave
    dataset: Literal["", "digits", "mnist", "cifar10"] = ""  # '' = mnist with --data-root
    data_root: str = ""                      # holds MNIST/raw or cifar-10-batches-py
    n_train: int = 0                         # 0 = every training sample; >0 a fixed subset
    task_width: int = 67                     # 64-67-10 on digits: 5035 parameters (±2 %)
    task_epochs: int = 30                    # digits is learnt in ~20 epochs at this size
    batch_size: int = 64                     # a common minibatch
    lr: float = 0.001                        # Adam's default step size

    @classmethod
    def quick(cls):
        """The tiny preset the tests use (and --quick): every part runs, at smoke size."""
        return cls(seeds=2, depths=(1, 2), function_width=20, function_samples=50,
                   function_steps=40, record_every=10, n_train=200, task_width=10,
                   task_epochs=2)

    def validate(self):
        """Raise UsageError, naming the flag, for an integer below its minimum, a step size
        ≤ 0, unknown data or targets, < 2 distinct depths, or a width whose parameter count a
        depth cannot match within 2 %; before any work."""
        check_ints(self, seed=0, seeds=1, depths=1, function_width=1, function_samples=2,
                   function_steps=1, record_every=1, n_train=0, task_width=1, task_epochs=1,
                   batch_size=1)
        check_positive(self, "function_lr", "lr")
        check_image_data(self.dataset, self.data_root)
        unknown = [f for f in self.functions if f not in FUNCTIONS]
        if unknown or not self.functions:
            raise UsageError(f"--functions {' '.join(self.functions)}: choose among "
                             f"{list(FUNCTIONS)}")
        if len(set(self.depths)) != len(self.depths) or len(self.depths) < 2:
            raise UsageError(f"--depths {' '.join(map(str, self.depths))}: give ≥ 2 different "
                             "depths to compare")
        for width, (d_in, d_out), flag in ((self.function_width, (1, 1), "--function-width"),
                                           (self.task_width, (64, 10), "--task-width")):
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

    @property
    def n_units(self) -> int:
        """Units of work: (len(functions) + 1 task) · len(depths) · seeds."""
        return (len(self.functions) + 1) * len(self.depths) * self.seeds


def run(config: Config, out_dir=Path("results") / EXPERIMENT, options=LOCAL):
    """Train the missing units (in parallel), stack them, save the summary."""
    name = image_dataset_name(config.dataset, config.data_root)
    data = check_data(name, config.data_root, config.n_train)  # before any write
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
    that order, then (depth d, seed s) of the task. Pure: returns (arrays, info)."""
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
        losses = []
        opt = adam(config.function_lr)
        state = train(net, spread_biases(net, net.init(rng, init), rng), data, opt,
                      epochs=config.function_steps, batch_size=len(data.x_train), rng=rng,
                      every=config.record_every,
                      on_snapshot=lambda _, t: losses.append(net.loss(t, data.x_train,
                                                                      data.y_train)))
        theta = opt.params(state)
        arrays = {"train_loss": np.array(losses), "theta": theta,
                  "prediction": net.forward(theta, data.x_test)[:, 0],
                  "test_loss": np.array(net.loss(theta, data.x_test, data.y_test))}
        target = config.functions[part]
    else:
        data = load_data(image_dataset_name(config.dataset, config.data_root), config.data_root,
                         config.n_train)
        net = MLP(_sizes(config.task_width, data.x_train.shape[1], 10, depth, "--task-width"),
                  config.activation, "cross_entropy")
        records = []
        opt = adam(config.lr)
        state = train(net, net.init(rng, init), data, opt, epochs=config.task_epochs,
                      batch_size=config.batch_size, rng=rng, every=1,
                      on_snapshot=lambda _, t: records.append(evaluate(net, t, data)))
        theta = opt.params(state)
        arrays = {k: np.array([r[k] for r in records]) for k in TASK_METRICS} | {"theta": theta}
        target = data.name
    return arrays, {"target": target, "depth": depth, "sizes": net.sizes,
                    "n_params": net.n_params, "wall_time": time.perf_counter() - start}


def _run_keys(index, info) -> tuple[str, ...]:
    """The arrays `unit` saves: a function fit's or a task model's."""
    if info.get("target") in FUNCTIONS:
        return ("train_loss", "theta", "prediction", "test_loss")
    return (*TASK_METRICS, "theta")


def spread_biases(net, theta, rng) -> np.ndarray:
    """θ with every bias drawn from U(−1/√d_l, 1/√d_l) (PyTorch's default for a dense layer).
    Why: with zero biases every unit of the first layer of a 1-input ReLU net has its kink at
    x = 0, and the fits stall on a few kinks; spread biases put them all over [−1, 1]."""
    theta = np.array(theta)
    for layer in range(net.layout.n_layers):
        fan_in = net.layout.shape_of(layer)[0]
        block = net.layout.bias_slice(layer)
        theta[block] = rng.uniform(-1.0, 1.0, size=block.stop - block.start) / np.sqrt(fan_in)
    return theta


def summarize(config: Config, runs) -> tuple[dict, dict]:
    """Stack the units as (target, depth, seed, …) and rank the depths of each target."""
    shape = (len(config.functions) + 1, len(config.depths), config.seeds)
    grid = np.array([runs[u][0] for u in range(len(runs))], dtype=object).reshape(shape)
    infos = np.array([runs[u][1] for u in range(len(runs))], dtype=object).reshape(shape)
    arrays, summary = {"depths": np.array(config.depths)}, {"functions": {}, "task": {}}
    n_f = len(config.functions)
    if n_f:
        arrays["function_loss"] = _stack(grid[:n_f], "train_loss")
        arrays["function_steps"] = config.record_every * np.arange(
            arrays["function_loss"].shape[-1])
        arrays["function_steps"][-1] = config.function_steps  # the final θ, after the last step
        arrays["function_prediction"] = _stack(grid[:n_f], "prediction")
        arrays["function_test_loss"] = _stack(grid[:n_f], "test_loss")
        data = [function_dataset(f, n_samples=config.function_samples) for f in config.functions]
        arrays["function_x_test"] = data[0].x_test[:, 0]
        arrays["function_y_test"] = np.stack([d.y_test[:, 0] for d in data])
        for i, name in enumerate(config.functions):
            summary["functions"][name] = rank(config.depths, arrays["function_loss"][i, :, :, -1],
                                              infos[i, :, 0])
    for key in TASK_METRICS:
        arrays[f"task_{key}"] = _stack(grid[n_f:], key)[0]
    summary["task"] = rank(config.depths, arrays["task_train_loss"][:, :, -1], infos[n_f, :, 0])
    for key in ("train_acc", "test_acc", "test_loss"):
        final = arrays[f"task_{key}"][:, :, -1]
        for d, depth in enumerate(config.depths):
            summary["task"]["models"][str(depth)][f"{key}_median"] = float(np.median(final[d]))
    # (largest − smallest)/smallest parameter count among the depths, worst over the targets
    summary["budget_spread"] = max(_spread([info["n_params"] for info in row[:, 0]])
                                   for row in infos)
    return arrays, summary


def rank(depths, final, infos) -> dict:
    """Facts about the final training losses `final` (depths, seeds): per depth the sizes, the
    parameter count, the median and range; the depth of the lowest median, its factor to the
    runner-up's median, and the number of seeds in which it was the best."""
    median = np.median(final, axis=1)
    order = np.argsort(median)
    best_per_seed = np.argmin(final, axis=0)
    models = {str(depth): {"sizes": list(info["sizes"]), "n_params": info["n_params"],
                           "final_loss_median": float(median[d]),
                           "final_loss_min": float(final[d].min()),
                           "final_loss_max": float(final[d].max())}
              for d, (depth, info) in enumerate(zip(depths, infos, strict=True))}
    return {"models": models, "best_depth": int(depths[order[0]]),
            "runner_up_depth": int(depths[order[1]]),
            "factor_to_runner_up": float(median[order[1]] / median[order[0]]),
            "best_in_seeds": int(np.sum(best_per_seed == order[0])), "n_seeds": final.shape[1],
            "worst_depth": int(depths[order[-1]]),
            "ranking": [int(depths[d]) for d in order],
            "same_ranking_every_seed": bool(all(
                list(np.argsort(final[:, s])) == list(order) for s in range(final.shape[1])))}


def _stack(grid, key) -> np.ndarray:
    return np.stack([np.stack([np.stack([cell[key] for cell in row]) for row in part])
                     for part in grid])


def _spread(counts) -> float:
    return float((max(counts) - min(counts)) / min(counts))


def _sizes(width, d_in, d_out, depth, flag) -> tuple[int, ...]:
    """Sizes of `depth` hidden layers with the parameter count of (d_in, width, d_out), ±2 %."""
    budget = n_params_of((d_in, width, d_out))
    if depth == 1:
        return (d_in, width, d_out)
    try:
        return sizes_for_budget(budget, d_in, d_out, depth)
    except ValueError as err:
        raise UsageError(f"{flag} {width}: {err}") from None


if __name__ == "__main__":
    # the importable module, not __main__: worker processes unpickle the units by their names
    from experiments import deepshallow as experiment
    from plots.deepshallow import render

    main(experiment.Config, experiment.run, render, prog="experiments.deepshallow",
         description=__doc__)
