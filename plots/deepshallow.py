"""Figures of experiments.deepshallow: `python -m plots.deepshallow RESULTS_DIR [--figures DIR]`.

deepshallow_functions_loss  one panel per target function: the training loss (log y) of every
                            model against the L-BFGS iteration, one line per seed, a dot where
                            the stop rule ended it
deepshallow_functions_fit   one panel per target: the ground truth and, per depth, the prediction
                            of the seed with the median final loss
deepshallow_task            (digits) training loss, training accuracy (top), test loss, test
                            accuracy (bottom) against the epoch, one line per seed, a dot at its
                            stop
deepshallow_checkerboard    the same for the second task (the 2-D checkerboard)
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from .common import data_name, plot_main, save_figure
from .schema import NONE, Check, Each, Holding, load_results

_MODEL = {"sizes": [int], "n_params": int}
_MODELS = Each(_MODEL)
# (the epochs of each model, `steps`, only the report reads: it compares them where every model
# stopped at the target loss)
_CURVES = (("train_loss", 3), ("test_loss", 3), ("train_acc", 3), ("test_acc", 3), ("n_checks", 2),
           ("steps", 2))
# what render and figure_names read, checked when the results are loaded (plots.schema); the
# fit figure draws the median seed's fit: of one seed or more
SCHEMA = {
    "config": {"functions": [str], "second_task?": (str, NONE),
               "seeds": Check(int, lambda n: n >= 1, "a positive integer"),
               "checker_samples": int, "checker_cells": int},
    "summary": lambda meta: {
        "dataset": str, "n_train": int,
        "functions": {name: {"models": _MODELS} for name in meta["config"]["functions"]},
        **{task: {"models": _MODELS, "dataset?": str} for task in _tasks(meta["config"])}},
    "arrays": lambda meta: {"depths": Holding("integers", 1), **{
        f"{task}_{key}": Holding("integers", n) if key in ("n_checks", "steps") else n
        for task in _tasks(meta["config"]) for key, n in _CURVES},
                            **({"function_iters": Holding("integers", 4), "function_loss": 4,
                                "function_n_checks": Holding("integers", 3),
                                "function_x_test": 1, "function_y_test": 2,
                                "function_prediction": 4} if meta["config"]["functions"] else {})},
    "by_arrays": lambda meta, arrays: _by_depths(meta["config"], arrays),
}

FUNCTION_NAMES = {"sinc": "sin(5πx)/(5πx)", "sign": "sign(sin(5πx))",
                  "damped_cos": "exp(−x²)·cos(4πx)", "poly": "4x³ − 3x"}


def figure_names(meta: dict) -> list[str]:
    """The names of the figures `render` draws from a results folder whose summary.json holds
    `meta`: the two function figures if the config has target functions, then one per task
    (the report and the gallery read them here, never from a copy)."""
    config = meta["config"]
    return ((["deepshallow_functions_loss", "deepshallow_functions_fit"]
             if config["functions"] else []) + [f"deepshallow_{t}" for t in _tasks(config)])


def _by_depths(config, arrays) -> dict:
    """What the depths array names (plots.schema's by_arrays): a model per depth, keyed
    str(depth) as the figures look it up, and curves of one row per function, depth and seed
    (the figures zip them), the iterations beside their losses, predictions on every test
    point."""
    depths, functions, seeds = arrays["depths"], config["functions"], config["seeds"]
    models = {"models": {str(depth): _MODEL for depth in depths}}
    lead = (len(functions), len(depths), seeds)
    steps = arrays["function_loss"].shape[-1] if functions else None
    points = len(arrays["function_x_test"]) if functions else None
    curves = {"function_iters": lead + (steps,), "function_loss": lead + (steps,),
              "function_n_checks": _counts(lead, steps), "function_y_test": (
                  len(functions), points), "function_prediction": lead + (points,)
              } if functions else {}
    for task in _tasks(config):
        curves |= {f"{task}_{key}": (len(depths), seeds) + (None,) * (n - 2) for key, n in _CURVES}
        length = min(arrays[f"{task}_{key}"].shape[-1] for key, n in _CURVES if n == 3)
        curves[f"{task}_n_checks"] = _counts((len(depths), seeds), length)
    return {"summary": {"functions": {name: models for name in functions},
                        **{task: models for task in _tasks(config)}},
            "arrays": curves}


def _counts(shape, length) -> Check:
    """Each seed's number of checks (its curve is drawn up to it, a dot at its last point): an
    integer in 1 … the curves' length."""
    return Check(shape, lambda n: bool(((n >= 1) & (n <= length)).all()),
                 f"counts of 1 … {length} checks")


def _tasks(config) -> list[str]:
    """'task' (digits or --dataset) and the second task, if any."""
    return [task for task in ("task", config.get("second_task")) if task]


def render(results_dir, figures_dir=Path("figures")) -> list[Path]:
    """Draw the figures of a results folder of experiments.deepshallow (figure_names)."""
    arrays, meta = load_results(results_dir, "deepshallow", SCHEMA)
    summary, config = meta["summary"], meta["config"]
    paths = []
    if config["functions"]:
        paths += save_figure(functions_loss(arrays, summary, config), figures_dir,
                             "deepshallow_functions_loss")
        paths += save_figure(functions_fit(arrays, summary, config), figures_dir,
                             "deepshallow_functions_fit")
    for task in _tasks(config):
        paths += save_figure(task_figure(arrays, summary, config, task), figures_dir,
                             f"deepshallow_{task}", width="full")
    return paths


def model_label(depth, model) -> str:
    """Legend label of one depth: '2 hidden (18-18), 397 params' from its summary entry."""
    widths = "-".join(map(str, model["sizes"][1:-1]))
    return f"{depth} hidden ({widths}), {model['n_params']} params"


def _seeds(ax, xs, values, lengths, colour, label):
    """One line per seed (rows of xs, values) up to its own length, a dot at its last point
    (where the stop rule ended it); the legend label on the first seed only."""
    for s, (x, v, n) in enumerate(zip(xs, values, lengths, strict=True)):
        ax.plot(x[:n], v[:n], color=colour, lw=1.0, alpha=0.85, label=label if s == 0 else None)
        ax.plot(x[n - 1], v[n - 1], "o", color=colour, ms=3)


def _figure_legend(fig, ax):
    """One legend for the figure, below its panels (over a panel it hid the curves)."""
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=8, frameon=False)


def functions_loss(arrays, summary, config):
    """One panel per target function: the training loss ½·mean (f − y)² (log y) against the
    full-batch L-BFGS iteration, per depth one line per seed ending in a dot where the stop rule
    ended it. Returns the Figure."""
    names = config["functions"]
    fig, axes = plt.subplots(1, len(names), figsize=(5.2 * len(names), 3.8), squeeze=False,
                             constrained_layout=True)
    for ax, (i, name) in zip(axes[0], enumerate(names), strict=True):
        models = summary["functions"][name]["models"]
        for d, depth in enumerate(arrays["depths"]):
            _seeds(ax, arrays["function_iters"][i, d], arrays["function_loss"][i, d],
                   arrays["function_n_checks"][i, d], f"C{d}",
                   model_label(depth, models[str(depth)]))
        ax.set_yscale("log")
        ax.set_xlabel("iteration (full-batch L-BFGS)")
        ax.set_ylabel("training loss ½·mean (f − y)²")
        ax.set_title(f"{FUNCTION_NAMES.get(name, name)}: {config['seeds']} seeds, "
                     "• = stopped", fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
    _figure_legend(fig, axes[0, 0])
    return fig


def functions_fit(arrays, summary, config):
    """One panel per target function: f(x) against x ∈ [−1, 1] on the test midpoints, the
    ground truth and, per depth, the prediction of the seed with the median final loss.
    Returns the Figure."""
    names = config["functions"]
    fig, axes = plt.subplots(1, len(names), figsize=(5.2 * len(names), 3.8), squeeze=False,
                             constrained_layout=True)
    x = arrays["function_x_test"]
    for ax, (i, name) in zip(axes[0], enumerate(names), strict=True):
        models = summary["functions"][name]["models"]
        ax.plot(x, arrays["function_y_test"][i], color="black", lw=2.4, alpha=0.35,
                label="ground truth")
        for d, depth in enumerate(arrays["depths"]):
            final = arrays["function_loss"][i, d, :, -1]
            seed = int(np.argsort(final)[len(final) // 2])  # the median seed's fit
            ax.plot(x, arrays["function_prediction"][i, d, seed], color=f"C{d}", lw=1.2,
                    label=model_label(depth, models[str(depth)]))
        ax.set_xlabel("x")
        ax.set_ylabel("f(x)")
        ax.set_title(f"{FUNCTION_NAMES.get(name, name)}: fit of the median seed", fontsize=10)
        ax.grid(True, alpha=0.3)
    _figure_legend(fig, axes[0, 0])
    return fig


def task_figure(arrays, summary, config, task="task"):
    """2 × 2 panels against the epoch for `task` ('task': digits or --dataset; or the second
    task): training loss and accuracy (top), test loss and accuracy (bottom), cross-entropy on
    log y; per depth one line per seed ending in a dot where the stop rule ended it.
    Returns the Figure."""
    fig, axes = plt.subplots(2, 2, figsize=(10.4, 7.0), sharex=True, constrained_layout=True)
    models = summary[task]["models"]
    panels = (("train_loss", "training loss (cross-entropy, log)"),
              ("train_acc", "training accuracy"), ("test_loss", "test loss (cross-entropy, log)"),
              ("test_acc", "test accuracy"))
    for ax, (key, label) in zip(axes.ravel(), panels, strict=True):
        values = arrays[f"{task}_{key}"]
        epochs = np.broadcast_to(np.arange(values.shape[-1]), values.shape[1:])
        for d, depth in enumerate(arrays["depths"]):
            _seeds(ax, epochs, values[d], arrays[f"{task}_n_checks"][d], f"C{d}",
                   model_label(depth, models[str(depth)]))
        if "loss" in key:
            ax.set_yscale("log")
        ax.set_ylabel(label)
        ax.grid(True, which="major", alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("epoch")
    _figure_legend(fig, axes[0, 0])
    name = summary[task].get("dataset", summary["dataset"])
    n_train = summary["n_train"] if task == "task" else config["checker_samples"]
    what = (f"{config['checker_cells']}×{config['checker_cells']} checkerboard on [−1, 1]²"
            if name == "checkerboard" else data_name(name))
    fig.suptitle(f"{what}: {n_train} training samples, {config['seeds']} seeds, • = stopped",
                 fontsize=10)
    return fig


if __name__ == "__main__":
    plot_main(render, prog="plots.deepshallow")
