"""Figures of experiments.generalization: `python -m plots.generalization RESULTS_DIR`.

generalization_random      random labels: train and test loss (left, log) and accuracy (right)
                           against the epoch
generalization_params      train and test loss (left) and accuracy (right) of every width
                           against the number of parameters (log x), median and range of seeds
generalization_interp      loss (log, left axis) and accuracy (right axis) along
                           θ(α) = (1 − α)θ₁ + αθ₂, α ∈ [−1, 2]: batch sizes (left panel), learning
                           rates (right panel); train solid, test dashed
generalization_flatness    against the batch size (log x): train and test loss on the left axis
                           and, on a twin axis, the sensitivity, λ_max and ε-sharpness (a panel
                           each), and the train and test accuracy
Cross-entropy axes are logarithmic, or linear where the values span less than a decade.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter, ScalarFormatter

from .common import data_name, plot_main, save_figure
from .schema import NUM, AtLeast, Check, Holding, Len, load_results

_CURVES = [f"{part}_{metric}" for part in ("train", "test") for metric in ("loss", "acc")]
_BATCH = _CURVES + ["sensitivity", "lambda_max", "sharpness"]
# what render reads, checked when the results are loaded (plots.schema): the first and last width
# (the experiment writes ≥ 2) and the interpolated pair of batch sizes, unpacked
SCHEMA = {
    "config": {"widths": Len(int, min=1), "interp_pair": Len(int, 2, 2), "lr": NUM,
               "lr_variant": NUM, "hidden": [int], "target_loss": NUM, "max_steps": int},
    "summary": {"dataset": str, "n_train": int, "parameters": {"stopped_by?": dict},
                "random": {"sizes": [int], "n_params": int, "stopped_by": str}},
    "arrays": {"random_epoch": Holding("integers", 1), "width_n_params": Holding("integers", 1),
               "batch_sizes": Check(Holding("integers", 1), lambda b: (b >= 1).all(),
                                    "batch sizes ≥ 1"),
               **{f"random_{k}": 1 for k in _CURVES}, **{f"width_{k}": 2 for k in _CURVES},
               **{f"batch_{k}": 1 for k in _BATCH},
               **{f"interp_{n}_{k}": 1 for n in ("batch", "lr") for k in _CURVES + ["alpha"]}},
    # each curve as long as its x (they are drawn against it); the widths' curves one row per
    # width and a seed or more (their median, min and max over seeds are drawn)
    "by_arrays": lambda meta, arrays: {"arrays": {
        **{f"random_{k}": (len(arrays["random_epoch"]),) for k in _CURVES},
        **{f"width_{k}": (len(arrays["width_n_params"]), AtLeast(1)) for k in _CURVES},
        **{f"batch_{k}": (len(arrays["batch_sizes"]),) for k in _BATCH},
        **{f"interp_{n}_{k}": (len(arrays[f"interp_{n}_alpha"]),) for n in ("batch", "lr")
           for k in _CURVES}}},
}

# each measure's axis label (mathtext for the subscripts; two lines: one would be longer than
# its panel)
MEASURES = (("sensitivity", "sensitivity (test): mean\n"
                            r"$\|\partial\,\mathrm{softmax}/\partial x\|_F$"),
            ("lambda_max", "$\\lambda_{\\max}$ of the\ntraining-loss Hessian"),
            ("sharpness", "ε-sharpness (%)"))


FIGURES = ("random", "params", "interp", "flatness")  # generalization_<name>, in this order


def figure_names(meta: dict) -> list[str]:
    """The names of the figures `render` draws (the same for every results folder; the report
    and the gallery read them here, never from a copy)."""
    return [f"generalization_{name}" for name in FIGURES]


def render(results_dir, figures_dir=Path("figures")) -> list[Path]:
    """Draw the four figures of a results folder of experiments.generalization."""
    arrays, meta = load_results(results_dir, "generalization", SCHEMA)
    summary, config = meta["summary"], meta["config"]
    draw = {"random": random_figure, "params": params_figure, "interp": interp_figure,
            "flatness": flatness_figure}
    paths = []
    for name, path in zip(FIGURES, figure_names(meta), strict=True):
        paths += save_figure(draw[name](arrays, summary, config), figures_dir, path)
    return paths


def _loss_acc_axes(ax, x, arrays, prefix, log_x=False):
    """Train/test loss on ax (log y, blue), accuracy on a twin axis (orange); returns the twin."""
    twin = ax.twinx()
    for part, style in (("train", "-"), ("test", "--")):
        ax.plot(x, arrays[f"{prefix}{part}_loss"], "C0" + style, lw=1.5, label=f"{part} loss")
        twin.plot(x, arrays[f"{prefix}{part}_acc"], "C1" + style, lw=1.5,
                  label=f"{part} accuracy")
    ax.set_yscale("log")
    _clean_log(ax)
    ax.set_ylabel("cross-entropy loss", color="C0")
    twin.set_ylabel("accuracy", color="C1")
    twin.set_ylim(-0.02, 1.02)
    if log_x:
        ax.set_xscale("log")
    ax.grid(True, alpha=0.3)
    return twin


def _legend_below(fig, lines, ncol=4):
    """One legend for the figure, under its panels: inside one, it covers the curves."""
    fig.legend(lines, [line.get_label() for line in lines], loc="outside lower center",
               ncol=ncol, fontsize=8, frameon=False, handlelength=3.0, columnspacing=1.2)


def _clean_log(ax, x_ticks=None):
    """A log y axis spanning less than a decade becomes linear (it would show no major label and
    crowded minor ones), one of less than two decades is labelled at 1, 2 and 5 of each decade;
    no minor labels otherwise; the batch sizes as x ticks (as 2ᵏ when they
    are powers of 2: the numbers of neighbouring sizes touch at print size)."""
    low, high = ax.get_ylim()
    if ax.get_yscale() == "log" and high < 10 * low:
        ax.set_yscale("linear")
    elif ax.get_yscale() == "log" and 0 < low and high < 100 * low:
        # one label a decade reads nothing: labels at 1, 2 and 5 of each decade, the axis
        # widened to the ones around the data, so that its first and last values can be read
        ticks = np.array([m * 10.0 ** e for e in range(int(np.floor(np.log10(low))) - 1,
                                                         int(np.ceil(np.log10(high))) + 1)
                          for m in (1.0, 2.0, 5.0)])
        ax.set_ylim(ticks[ticks <= low].max(), ticks[ticks >= high].min())
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_minor_formatter(NullFormatter())
    if x_ticks is not None:
        ax.set_xticks(x_ticks)
        exponents = np.log2(np.asarray(x_ticks, dtype=float))
        if np.allclose(exponents, np.round(exponents)):  # 2ᵏ: "512" and "1024" touched
            ax.set_xticklabels([f"$2^{{{k:.0f}}}$" for k in exponents])
        else:
            ax.xaxis.set_major_formatter(ScalarFormatter())


# what ended the random-labels run, as engine.training.stopping records it
STOPPED_BY_TEXT = {"target": "memorization (the accuracy target)", "plateau": "a loss plateau",
                   "cap": "the epoch cap", "rule": "the accuracy target"}  # 'rule': older files


def random_figure(arrays, summary, config):
    """Random labels: train and test cross-entropy (left axis) and accuracy (right axis, 0–1)
    against the epoch; the title says what stopped the training. Returns the Figure."""
    fig, ax = plt.subplots(figsize=(7.5, 4.0), constrained_layout=True)
    twin = _loss_acc_axes(ax, arrays["random_epoch"], arrays, "random_")
    _legend_below(fig, ax.get_lines() + twin.get_lines())
    r = summary["random"]
    ax.set_xlabel("epoch")
    widths = "-".join(map(str, r["sizes"]))
    ax.set_title(f"random training labels, {data_name(summary['dataset'])}: {widths} "
                 f"({r['n_params']} params, {summary['n_train']} samples); stopped by "
                 f"{STOPPED_BY_TEXT.get(r['stopped_by'], r['stopped_by'])}",
                 fontsize=9)
    return fig


def params_figure(arrays, summary, config):
    """Two panels against the number of parameters (log x): train and test cross-entropy and
    accuracy, the median over seeds with the min–max band. Returns the Figure."""
    fig, axes = plt.subplots(1, 2, figsize=(10.4, 3.9), constrained_layout=True)
    n = arrays["width_n_params"]
    for ax, metric, label in ((axes[0], "loss", "cross-entropy loss"),
                              (axes[1], "acc", "accuracy")):
        for part, colour, marker in (("train", "C0", "o"), ("test", "C3", "s")):
            values = arrays[f"width_{part}_{metric}"]
            ax.plot(n, np.median(values, axis=1), color=colour, marker=marker, ms=4,
                    label=f"{part} (median of {values.shape[1]} seeds)")
            ax.fill_between(n, values.min(axis=1), values.max(axis=1), color=colour, alpha=0.2,
                            lw=0)
        ax.set_xscale("log")
        if metric == "loss":
            ax.set_yscale("log")
        ax.set_xlabel("number of parameters (log)")
        _clean_log(ax)
        ax.set_ylabel(label)
        ax.grid(True, which="major", alpha=0.3)
    _legend_below(fig, axes[0].get_lines(), ncol=2)
    stops = summary["parameters"].get("stopped_by")
    ended = ", ".join(f"{n} by {k}" for k, n in stops.items() if n) if stops else ""
    fig.suptitle(f"one hidden layer of width {config['widths'][0]} … {config['widths'][-1]}, "
                 f"{data_name(summary['dataset'])}" + (f"; stopped: {ended}" if ended else ""),
                 fontsize=10)
    return fig


def interp_figure(arrays, summary, config):
    """Two panels against α of θ = (1 − α)θ₁ + αθ₂ (dotted at α = 0, 1): train (solid) and test
    (dashed) cross-entropy (left axis) and accuracy (right axis); θ₁, θ₂ differ by
    batch size (left) or learning rate (right). Returns the Figure."""
    fig, axes = plt.subplots(1, 2, figsize=(10.4, 3.9), constrained_layout=True)
    b1, b2 = config["interp_pair"]
    titles = {"batch": f"θ₁: batch {b1}, θ₂: batch {b2} (lr {config['lr']:g})",
              "lr": f"θ₁: lr {config['lr']:g}, θ₂: lr {config['lr_variant']:g} (batch 64)"}
    for ax, name in zip(axes, ("batch", "lr"), strict=True):
        twin = _loss_acc_axes(ax, arrays[f"interp_{name}_alpha"], arrays, f"interp_{name}_")
        for a in (0, 1):
            ax.axvline(a, color="grey", lw=0.8, ls=":")
        ax.set_xlabel("α   (θ = (1 − α)θ₁ + αθ₂)")
        ax.set_title(titles[name], fontsize=9)
    _legend_below(fig, [line for line in ax.get_lines() + twin.get_lines()
                        if not line.get_label().startswith("_")])
    return fig


def flatness_figure(arrays, summary, config):
    """2 × 2 panels against the batch size (log x): train and test cross-entropy with,
    on a twin axis, the sensitivity, λ_max or ε-sharpness (%) (one panel each); train and
    test accuracy (bottom right). Returns the Figure."""
    fig, axes = plt.subplots(2, 2, figsize=(10.4, 6.4), sharex=True, constrained_layout=True)
    b = arrays["batch_sizes"]
    for ax, (key, label) in zip(axes.ravel()[:3], MEASURES, strict=True):
        for part, style in (("train", "-"), ("test", "--")):
            ax.plot(b, arrays[f"batch_{part}_loss"], "C0" + style, marker="o", ms=3,
                    mfc="white" if part == "test" else "C0", label=f"{part} loss")
        ax.set_yscale("log")
        ax.set_ylabel("cross-entropy loss", color="C0")
        twin = ax.twinx()
        twin.plot(b, arrays[f"batch_{key}"], "C3-", marker="s", ms=4,
                  label="the panel's measure (right axis)")
        twin.set_ylabel(label, color="C3", fontsize=8)
        _clean_log(ax)
        ax.grid(True, alpha=0.3)
    ax = axes[1, 1]
    for part, style in (("train", "-"), ("test", "--")):
        ax.plot(b, arrays[f"batch_{part}_acc"], "C1" + style, marker="o", ms=3,
                mfc="white" if part == "test" else "C1", label=f"{part} accuracy")
    ax.set_ylabel("accuracy", color="C1")
    ax.grid(True, alpha=0.3)
    # one legend under the panels: in the upper left of each, it covered the curves
    _legend_below(fig, axes[0, 0].get_lines() + ax.get_lines() + twin.get_lines(), ncol=3)
    for ax in axes[1]:
        ax.set_xscale("log")
        ax.set_xlabel("batch size (log)")
        _clean_log(ax, b)
    fig.suptitle(f"{data_name(summary['dataset'])}, hidden layers "
                 f"{'-'.join(map(str, config['hidden']))}, each batch size trained to "
                 f"training loss ≤ {config['target_loss']:g} or {config['max_steps']} steps",
                 fontsize=10)
    return fig


if __name__ == "__main__":
    plot_main(render, prog="plots.generalization")
