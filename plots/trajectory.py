"""Figures of experiments.trajectory: `python -m plots.trajectory RESULTS_DIR [--figures DIR]`.

trajectory_whole, trajectory_layer1: (a) the collected points of every run in the PCA plane shared
by all runs, joined in time order (one colour per run, ○ start, ★ end), each labelled with its
training accuracy in % (training loss for regression) as in the slides; (b) the displacements
θₜ − θ₀ of every run in their own shared PCA plane (every run starts at 0), the ends labelled.
Labels never overlap: placed after the final layout, greedily, end points first, at the first of
four offsets around their point that is free; a label with no free offset is left out.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.transforms import Bbox

from plots.common import (
    CM,
    FULL_WIDTH,
    MIN_PT,
    RUN_COLOURS,
    data_name,
    legible,
    plot_main,
    save_figure,
    wrap_titles,
)
from plots.schema import NUM, Holding, Len, OneOf, at, load_results

PROJECTIONS = {"whole": "whole model", "layer1": "layer 1 (W₁, b₁)"}
# label directions (scaled by the marker's radius) and the alignment keeping text on that side
_OFFSETS = (((1, 1), "left", "bottom"), ((-1, 1), "right", "bottom"),
            ((1, -1), "left", "top"), ((-1, -1), "right", "top"))
LABEL_GAP = 1.5  # points kept free around a label
_MARKER_SIZE = {"point": 3.0, "start": 5.0, "end": 8.0}  # points (matplotlib's markersize)


# how each optimizer of experiments.trajectory is named in titles
OPTIMIZERS = {"adam": "Adam", "sgd": "SGD (momentum 0.9)"}
# what render reads, checked when the results are loaded (plots.schema); the title prints the
# net's input and output widths, its first and last size
SCHEMA = {
    "config": {"every": int, "hidden": [int], "optimizer": OneOf(*OPTIMIZERS), "activation": str,
               "batch_size": int},
    "summary": lambda meta: {
        "n_runs": int, "pca?": bool, "dataset": str, "sizes": Len(int, min=1), "n_train": int,
        "lr": NUM, "metrics?": [str],
        "diverged?": [{"run": int, "step": int, "epoch": int, "reason?": str}],
        # the figure without PCA says how many points were left
        "n_points" if at(meta, "summary", "pca") is False else "n_points?": int},
    "arrays": lambda meta: {"run": Holding("integers", 1), (
        "train_acc" if "train_acc" in meta["summary"].get("metrics", ["train_acc"])
        else "train_loss"): 1, **({
            f"{p}_{k}": n for p in PROJECTIONS for k, n in (
                ("coords", 2), ("explained_variance", 1), ("off_plane", 1),
                ("motion_coords?", 2), ("motion_explained_variance?", 1),
                ("motion_off_plane?", 1))} if meta["summary"].get("pca", True) else {})},
    # the motion panel reads all three of its arrays once its coordinates are there
    "by_arrays": lambda meta, arrays: {"arrays": _by_points(meta, arrays)},
}


def _by_points(meta, arrays) -> dict:
    """The arrays of each panel (the joint PCA, and the motion's once its coordinates are
    there): a point (x, y) for every collected point of the runs (picked by their run, an
    integer: its colour), the points the labels' values belong to; and the two PCs' explained
    variance ratios."""
    if not meta["summary"].get("pca", True):
        return {}
    n = len(arrays["run"])
    specs = {"train_acc" if "train_acc" in arrays else "train_loss": (n,)}
    for p in PROJECTIONS:
        for panel in [p] + ([f"{p}_motion"] if f"{p}_motion_coords" in arrays else []):
            specs |= {f"{panel}_coords": (n, 2), f"{panel}_explained_variance": (2,),
                      f"{panel}_off_plane": 1}
    return specs


def figure_names(meta: dict) -> list[str]:
    """The names of the figures `render` draws from a results folder whose summary.json holds
    `meta` (the report and the gallery read them here, never from a copy)."""
    return [f"trajectory_{projection}" for projection in PROJECTIONS]


def render(results_dir, figures_dir=Path("figures")) -> list[Path]:
    """Draw trajectory_whole and trajectory_layer1 (PNG, PDF) from a trajectory results folder."""
    arrays, meta = load_results(results_dir, "trajectory", SCHEMA)
    summary, config = meta["summary"], meta["config"]
    classify = "train_acc" in arrays
    values = 100.0 * arrays["train_acc"] if classify else arrays["train_loss"]
    diverged = summary.get("diverged", [])
    paths = []
    for projection, what in PROJECTIONS.items():
        title = (f"{what}: θ every {config['every']} epochs, {summary['n_runs']} "
                 f"run{'s' if summary['n_runs'] != 1 else ''}; {_setting(summary, config)}")
        if summary.get("pca", True):
            motion = (arrays[f"{projection}_motion_coords"],
                      arrays[f"{projection}_motion_explained_variance"],
                      arrays[f"{projection}_motion_off_plane"]) \
                if f"{projection}_motion_coords" in arrays else None
            fig = plot_trajectories(arrays[f"{projection}_coords"], arrays["run"], values,
                                    arrays[f"{projection}_explained_variance"],
                                    arrays[f"{projection}_off_plane"], title=title,
                                    value_label="train accuracy (%)" if classify else
                                    "train loss", value_format="{:.0f}" if classify else "{:.2g}",
                                    diverged=diverged, motion=motion)
        else:
            fig = _no_pca_figure(summary, title)
        paths += save_figure(fig, figures_dir, f"trajectory_{projection}", width="full")
    return paths


def _no_pca_figure(summary, title):
    """The figure of a folder whose runs left fewer than 3 finite points: what happened."""
    fig, ax = plt.subplots(figsize=(FULL_WIDTH * CM, 6 * CM))
    n_div = len(summary.get("diverged", []))
    what = (f"all {summary['n_runs']} runs diverged" if n_div == summary["n_runs"] else
            f"{n_div} of {summary['n_runs']} runs diverged; {summary['n_points']} points left")
    lines = [f"{what}: no PCA (it needs at least 3 points of runs that stayed finite)"]
    lines += [f"run {d['run']}: {d.get('reason', 'non-finite loss')} at step {d['step']} "
              f"(epoch {d['epoch']})"
              for d in summary.get("diverged", [])]
    ax.text(0.5, 0.5, "\n".join(lines + ["lower --lr to train them"]), transform=ax.transAxes,
            ha="center", va="center")
    ax.set(xticks=[], yticks=[])
    ax.set_title(title)
    return fig


def plot_trajectories(coords, run, values, explained_variance, off_plane, *, title="",
                      value_label="train accuracy (%)", value_format="{:.0f}", diverged=(),
                      motion=None):
    """Trajectories in the PCA plane shared by all runs, (a); with `motion` = (coords,
    explained_variance, off_plane) of the displacements θₜ − θ₀, the motion of each run
    beside it, (b). coords (n_points, 2), run (n_points,) in time order within each run, values
    (n_points,) the labels' numbers (every point in (a), the end points in (b)),
    explained_variance (2,) ratios, off_plane (n_points,) shares; diverged: {'run', 'step',
    'epoch'} of runs left out, listed in the legend. Drawn at its print size (16 cm wide);
    returns the Figure."""
    coords, run = np.asarray(coords), np.asarray(run)
    panels = [("(a) joint PCA of θ", coords, explained_variance, off_plane, True)]
    if motion is not None:
        panels.append(("(b) PCA of the displacements θₜ − θ₀", *motion, False))
    fig, axes = plt.subplots(1, len(panels), figsize=(FULL_WIDTH * CM, 7.2 * CM),
                             layout="constrained", squeeze=False)
    runs = np.unique(run)
    for ax, (name, xy_all, ratio, off, every) in zip(axes[0], panels, strict=True):
        xy_all = np.asarray(xy_all)
        for r in runs:
            xy, colour = xy_all[run == r], RUN_COLOURS[int(r) % len(RUN_COLOURS)]
            ax.plot(xy[:, 0], xy[:, 1], "-", color=colour, lw=0.8, alpha=0.8, marker=".",
                    ms=_MARKER_SIZE["point"], label=f"run {int(r)}" if every else None)
            ax.plot(*xy[0], "o", mfc="white", mec=colour, ms=_MARKER_SIZE["start"], mew=1.2)
            ax.plot(*xy[-1], "*", color=colour, ms=_MARKER_SIZE["end"], mec="black", mew=0.3)
        ratio = 100.0 * np.asarray(ratio)
        ax.set_xlabel(f"PC1 ({ratio[0]:.1f} % of variance)")
        ax.set_ylabel(f"PC2 ({ratio[1]:.1f} % of variance)")
        hidden = 100.0 * np.median(off)
        ax.set_title(f"{name}\nmedian share off the plane {hidden:.0f} %")
        ax.margins(0.08)
    ax = axes[0][0]
    ax.plot([], [], "o", mfc="white", mec="grey", ms=_MARKER_SIZE["start"], mew=1.2,
            label="start")
    ax.plot([], [], "*", color="grey", ms=_MARKER_SIZE["end"], mec="black", mew=0.3, label="end")
    for d in diverged:  # no points: a diverged run's last weights are not finite
        ax.plot([], [], "x", color=RUN_COLOURS[int(d["run"]) % len(RUN_COLOURS)],
                label=f"run {d['run']}: diverged at step {d['step']}, left out")
    fig.suptitle(f"{title}\nlabels: {value_label}")
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(len(labels), 10),
               fontsize=MIN_PT, handlelength=1.2, columnspacing=0.8, frameon=False)
    legible(fig)
    wrap_titles(fig)  # before the layout is frozen: a long setting line is not clipped
    fig.canvas.draw()  # the final layout, so the labels placed next are measured where printed
    fig.set_layout_engine("none")
    texts = [value_format.format(v) for v in values]
    for ax, (_, xy_all, *_rest, every) in zip(axes[0], panels, strict=True):
        _label_points(ax, np.asarray(xy_all), run, texts, ends_only=not every)
    return fig


def _label_points(ax, coords, run, texts, fontsize=MIN_PT, ends_only=False):
    """Annotate points so that no label covers another label or any point's marker: ends first,
    then starts, then later points before earlier ones (only the ends with `ends_only`); each at
    the first free offset, or not at all."""
    fig = ax.figure
    fig.canvas.draw()  # fixes limits and layout, so the boxes measured here are final
    renderer = fig.canvas.get_renderer()
    frame = ax.get_window_extent(renderer)
    index = np.arange(len(run))
    first = np.array([i == 0 or run[i - 1] != run[i] for i in index])
    last = np.array([i == len(run) - 1 or run[i + 1] != run[i] for i in index])
    # marker radius in points: ★ end, ○ start, · in between (the sizes plot_trajectories uses)
    radius = np.where(last, _MARKER_SIZE["end"], np.where(first, _MARKER_SIZE["start"],
                                                         _MARKER_SIZE["point"])) / 2
    centres = ax.transData.transform(coords)
    pixels = radius * fig.dpi / 72.0
    taken = [Bbox.from_extents(x - p, y - p, x + p, y + p)
             for (x, y), p in zip(centres, pixels, strict=True)]
    labels = []  # the boxes of the labels placed so far
    order = index[last] if ends_only else np.concatenate(
        [index[last], index[first & ~last], index[~first & ~last][::-1]])
    for i in order:
        colour = RUN_COLOURS[int(run[i]) % len(RUN_COLOURS)]
        for (sx, sy), ha, va in _OFFSETS:
            gap = radius[i] + 1.0
            label = ax.annotate(texts[i], coords[i], xytext=(sx * gap, sy * gap),
                                textcoords="offset points", ha=ha, va=va, fontsize=fontsize,
                                color=colour)
            box = label.get_window_extent(renderer)
            # LABEL_GAP kept between two labels: labels touching read as one ("12 99")
            spaced = box.padded(LABEL_GAP * fig.dpi / 72.0)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 \
                and box.y1 <= frame.y1
            if inside and not any(box.overlaps(other) for other in taken) \
                    and not any(spaced.overlaps(other) for other in labels):
                labels.append(box)
                break
            label.remove()


def _setting(summary, config) -> str:
    data = data_name(summary["dataset"]) + (" regression" if summary["dataset"] == "sinc" else "")
    sizes = "-".join(map(str, [summary["sizes"][0], *config["hidden"], summary["sizes"][-1]]))
    optimizer = OPTIMIZERS[config["optimizer"]]
    return (f"{data}, N = {summary['n_train']}: {sizes} {config['activation']}, {optimizer} "
            f"lr {summary['lr']:g}, batch {config['batch_size']}")


if __name__ == "__main__":
    plot_main(render, prog="plots.trajectory")
