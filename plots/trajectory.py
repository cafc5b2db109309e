"""Figures of experiments.trajectory: `python -m plots.trajectory RESULTS_DIR [--figures DIR]`.

trajectory_whole, trajectory_layer1: the collected points of every run in the PCA plane shared by
all runs, joined in time order (one colour per run, ○ start, ★ end), each labelled with its
training accuracy in % (training loss for regression) as in the slides. Labels never overlap:
they are placed greedily, end points first, at the first of four offsets around their point that
is free, and a label with no free offset is left out (its point is still drawn).
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.transforms import Bbox

from engine.io.results import load_summary
from plots.common import RUN_COLOURS, data_name, plot_main, save_figure

PROJECTIONS = {"whole": "whole model", "layer1": "layer 1 (W₁, b₁)"}
# label directions (scaled by the marker's radius) and the alignment keeping text on that side
_OFFSETS = (((1, 1), "left", "bottom"), ((-1, 1), "right", "bottom"),
            ((1, -1), "left", "top"), ((-1, -1), "right", "top"))
_MARKER_SIZE = {"point": 4.0, "start": 7.0, "end": 11.0}  # points (matplotlib's markersize)


def render(results_dir, figures_dir=Path("figures")) -> list[Path]:
    """Draw trajectory_whole and trajectory_layer1 (PNG, PDF) from a trajectory results folder."""
    arrays, meta = load_summary(results_dir, "trajectory")
    summary, config = meta["summary"], meta["config"]
    classify = "train_acc" in arrays
    values = 100.0 * arrays["train_acc"] if classify else arrays["train_loss"]
    diverged = summary.get("diverged", [])
    paths = []
    for projection, what in PROJECTIONS.items():
        title = (f"{what}: weights every {config['every']} epochs, {summary['n_runs']} "
                 f"run{'s' if summary['n_runs'] != 1 else ''}, one PCA for all runs\n"
                 f"{_setting(summary, config)}")
        if summary.get("pca", True):
            fig = plot_trajectories(arrays[f"{projection}_coords"], arrays["run"], values,
                                    arrays[f"{projection}_explained_variance"],
                                    arrays[f"{projection}_off_plane"], title=title,
                                    value_label="train accuracy (%)" if classify else
                                    "train loss", value_format="{:.1f}" if classify else "{:.2g}",
                                    diverged=diverged)
        else:
            fig = _no_pca_figure(summary, title)
        paths += save_figure(fig, figures_dir, f"trajectory_{projection}")
    return paths


def _no_pca_figure(summary, title):
    """The figure of a folder whose runs left fewer than 3 finite points: what happened."""
    fig, ax = plt.subplots(figsize=(7.5, 5.8))
    n_div = len(summary.get("diverged", []))
    what = (f"all {summary['n_runs']} runs diverged" if n_div == summary["n_runs"] else
            f"{n_div} of {summary['n_runs']} runs diverged; {summary['n_points']} points left")
    lines = [f"{what}: no PCA (it needs at least 3 points of runs that stayed finite)"]
    lines += [f"run {d['run']}: {d.get('reason', 'non-finite loss')} at step {d['step']} "
              f"(epoch {d['epoch']})"
              for d in summary.get("diverged", [])]
    ax.text(0.5, 0.5, "\n".join(lines + ["lower --lr to train them"]), transform=ax.transAxes,
            ha="center", va="center", fontsize=9)
    ax.set(xticks=[], yticks=[])
    ax.set_title(title, fontsize=9)
    return fig


def plot_trajectories(coords, run, values, explained_variance, off_plane, *, title="",
                      value_label="train accuracy (%)", value_format="{:.1f}", diverged=()):
    """Trajectories in the PCA plane. coords (n_points, 2), run (n_points,) in time order within
    each run, values (n_points,) the labels' numbers, explained_variance (2,) ratios, off_plane
    (n_points,) shares; diverged: {'run', 'step', 'epoch'} of runs left out, listed in the
    legend. Returns the Figure."""
    coords, run = np.asarray(coords), np.asarray(run)
    fig, ax = plt.subplots(figsize=(7.5, 5.8))
    fig.subplots_adjust(left=0.1, right=0.78, top=0.86, bottom=0.1)
    runs = np.unique(run)
    for r in runs:
        xy, colour = coords[run == r], RUN_COLOURS[int(r) % len(RUN_COLOURS)]
        ax.plot(xy[:, 0], xy[:, 1], "-", color=colour, lw=1.0, alpha=0.8, marker=".",
                ms=_MARKER_SIZE["point"],
                label=f"run {int(r)}")
        ax.plot(*xy[0], "o", mfc="white", mec=colour, ms=_MARKER_SIZE["start"], mew=1.5)
        ax.plot(*xy[-1], "*", color=colour, ms=_MARKER_SIZE["end"], mec="black", mew=0.4)
    ax.plot([], [], "o", mfc="white", mec="grey", ms=_MARKER_SIZE["start"], mew=1.5,
            label="start (epoch 0)")
    ax.plot([], [], "*", color="grey", ms=_MARKER_SIZE["end"], mec="black", mew=0.4, label="end")
    for d in diverged:  # no points: a diverged run's last weights are not finite
        ax.plot([], [], "x", color=RUN_COLOURS[int(d["run"]) % len(RUN_COLOURS)],
                label=f"run {d['run']}: diverged at step {d['step']},\nleft out")
    ratio = 100.0 * np.asarray(explained_variance)
    ax.set_xlabel(f"PC1 ({ratio[0]:.1f} % of variance)")
    ax.set_ylabel(f"PC2 ({ratio[1]:.1f} % of variance)")
    ax.set_title(title, fontsize=9)
    ax.margins(0.08)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
    off = 100.0 * np.asarray(off_plane)
    ax.text(1.02, 0.0, f"labels: {value_label}\n\noff the PCA plane\n(share of ‖θ − θ̄‖²):\n"
            f"median {np.median(off):.0f} %,\nmax {off.max():.0f} %", transform=ax.transAxes,
            fontsize=7, va="bottom", ha="left")
    _label_points(ax, coords, run, [value_format.format(v) for v in values])
    return fig


def _label_points(ax, coords, run, texts, fontsize=5.5):
    """Annotate points so that no label covers another label or any point's marker: ends first,
    then starts, then later points before earlier ones; each at the first free offset, or not at
    all."""
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
    order = np.concatenate([index[last], index[first & ~last], index[~first & ~last][::-1]])
    for i in order:
        colour = RUN_COLOURS[int(run[i]) % len(RUN_COLOURS)]
        for (sx, sy), ha, va in _OFFSETS:
            gap = radius[i] + 1.0
            label = ax.annotate(texts[i], coords[i], xytext=(sx * gap, sy * gap),
                                textcoords="offset points", ha=ha, va=va, fontsize=fontsize,
                                color=colour)
            box = label.get_window_extent(renderer)
            inside = frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 \
                and box.y1 <= frame.y1
            if inside and not any(box.overlaps(other) for other in taken):
                taken.append(box)
                break
            label.remove()


def _setting(summary, config) -> str:
    data = data_name(summary["dataset"]) + (" regression" if summary["dataset"] == "sinc" else "")
    if summary["dataset"] == "digits" and not config["dataset"]:
        data += f" (no MNIST under {config['data_root']})" if config["data_root"] else \
            " (MNIST needs --data-root)"
    sizes = "-".join(map(str, [summary["sizes"][0], *config["hidden"], summary["sizes"][-1]]))
    optimizer = {"adam": "Adam", "sgd": "SGD (momentum 0.9)"}[config["optimizer"]]
    return (f"{data}, N = {summary['n_train']}: {sizes} {config['activation']}, {optimizer} "
            f"lr {summary['lr']:g}, batch {config['batch_size']}")


if __name__ == "__main__":
    plot_main(render, prog="plots.trajectory")
