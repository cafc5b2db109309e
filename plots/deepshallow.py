"""Figures of experiments.deepshallow: `python -m plots.deepshallow RESULTS_DIR [--figures DIR]`.

deepshallow_functions_loss  one panel per target function: the training loss (log y) of every
                            depth against the step, the median over seeds with the min–max band
deepshallow_functions_fit   one panel per target: the ground truth and, per depth, the prediction
                            of the seed with the median final loss
deepshallow_task            training loss, training accuracy (top), test loss, test accuracy
                            (bottom) against the epoch, median and min–max band over seeds
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from engine.io.results import load_summary

from .common import data_name, plot_main, save_figure

FUNCTION_NAMES = {"sinc": "sin(5πx)/(5πx)", "sign": "sign(sin(5πx))",
                  "damped_cos": "exp(−x²)·cos(4πx)", "poly": "4x³ − 3x"}


def render(results_dir, figures_dir=Path("figures")) -> list[Path]:
    """Draw the three figures of a results folder of experiments.deepshallow."""
    arrays, meta = load_summary(results_dir, "deepshallow")
    summary, config = meta["summary"], meta["config"]
    paths = []
    if config["functions"]:
        paths += save_figure(functions_loss(arrays, summary, config), figures_dir,
                             "deepshallow_functions_loss")
        paths += save_figure(functions_fit(arrays, summary, config), figures_dir,
                             "deepshallow_functions_fit")
    paths += save_figure(task_figure(arrays, summary, config), figures_dir, "deepshallow_task")
    return paths


def model_label(depth, model) -> str:
    """Legend label of one depth: '2 hidden (18-18), 397 params' from its summary entry."""
    widths = "-".join(map(str, model["sizes"][1:-1]))
    return f"{depth} hidden ({widths}), {model['n_params']} params"


def _band(ax, x, values, colour, label):
    """Median over the seed axis (0) with the min–max band."""
    ax.plot(x, np.median(values, axis=0), color=colour, lw=1.6, label=label)
    if values.shape[0] > 1:
        ax.fill_between(x, values.min(axis=0), values.max(axis=0), color=colour, alpha=0.2,
                        lw=0)


def functions_loss(arrays, summary, config):
    """One panel per target function: the training loss ½·mean (f − y)² (log y) against the
    full-batch Adam step, per depth the median over seeds with the min–max band. Returns the
    Figure."""
    names = config["functions"]
    fig, axes = plt.subplots(1, len(names), figsize=(5.2 * len(names), 3.8), squeeze=False,
                             constrained_layout=True)
    for ax, (i, name) in zip(axes[0], enumerate(names), strict=True):
        models = summary["functions"][name]["models"]
        for d, depth in enumerate(arrays["depths"]):
            _band(ax, arrays["function_steps"], arrays["function_loss"][i, d], f"C{d}",
                  model_label(depth, models[str(depth)]))
        ax.set_yscale("log")
        ax.set_xlabel("step (full-batch Adam)")
        ax.set_ylabel("training loss ½·mean (f − y)²  (log)")
        ax.set_title(f"{FUNCTION_NAMES.get(name, name)}: median and range of "
                     f"{config['seeds']} seeds", fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=8)
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
        ax.legend(fontsize=7, loc="best", framealpha=0.7)
    return fig


def task_figure(arrays, summary, config):
    """2 × 2 panels against the epoch: training loss and accuracy (top), test loss and accuracy
    (bottom), cross-entropy on log y; per depth the median over seeds with the min–max band.
    Returns the Figure."""
    fig, axes = plt.subplots(2, 2, figsize=(10.4, 7.0), sharex=True, constrained_layout=True)
    models = summary["task"]["models"]
    panels = (("train_loss", "training loss (cross-entropy, log)"),
              ("train_acc", "training accuracy"), ("test_loss", "test loss (cross-entropy, log)"),
              ("test_acc", "test accuracy"))
    for ax, (key, label) in zip(axes.ravel(), panels, strict=True):
        values = arrays[f"task_{key}"]
        epochs = np.arange(values.shape[-1])
        for d, depth in enumerate(arrays["depths"]):
            _band(ax, epochs, values[d], f"C{d}", model_label(depth, models[str(depth)]))
        if "loss" in key:
            ax.set_yscale("log")
        ax.set_ylabel(label)
        ax.grid(True, which="major", alpha=0.3)
    for ax in axes[1]:
        ax.set_xlabel("epoch")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle(f"{data_name(summary['dataset'])}: {summary['n_train']} training samples, "
                 f"median and range of {config['seeds']} seeds", fontsize=10)
    return fig


if __name__ == "__main__":
    plot_main(render, prog="plots.deepshallow")
