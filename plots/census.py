"""Figure of experiments.census: `python -m plots.census RESULTS_DIR [--figures DIR]`.

census  Dauphin et al.'s (2014) plane: the index α = n₋/n of each critical point against its
        training loss and error, (a) the training MSE, (b) the training error ε (the
        misclassified share, Dauphin's ε), both on log axes;
        one point per search that ended critical. Settled points (the continuation stays or
        slides along a set of critical points) are filled, minima (α = 0) drawn as squares;
        points whose continuation escaped or drifted are hollow and out of the statistics.
        The title gives Spearman's ρ(MSE, α) over the settled non-trivial points with its 95 %
        bootstrap interval, how many there are and the decades of ε they span. End points that
        are not critical (the budget ran out first) are grey crosses, with their own ρ in the
        title: where the searches stopped, not a census of critical points.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from engine.critical.classification import LABELS

from .common import CM, FULL_WIDTH, data_name, plot_main, save_figure
from .schema import NONE, NUM, Holding, load_results

_RHO = ({"rho": NUM, "low": NUM, "high": NUM}, NONE)
# what render reads, checked when the results are loaded (plots.schema)
SCHEMA = {
    "summary": {"census": {"trivial_loss": NUM, "error_zero": NUM, "fit": {"spearman": _RHO},
                           "error_range": ({"decades": NUM}, NONE), "settled": int,
                           "distinct": int},
                "end_points": {"spearman": _RHO, "n": int}, "dataset": str, "sizes": [int],
                "activation": str, "n_params": int},
    "arrays": {"label": Holding("text", 1, among=LABELS), "settled": Holding("booleans", 1),
               "index": 1, "loss": 1, "error": 1},
    # one entry per search in each (they are masked by one another)
    "by_arrays": lambda meta, arrays: {"arrays": {
        key: (len(arrays["label"]),) for key in ("settled", "index", "loss", "error")}},
}

FIGURES = ("census",)


def figure_names(meta: dict) -> list[str]:
    """The names of the figures `render` draws."""
    return list(FIGURES)


def render(results_dir, figures_dir=Path("figures")) -> list[Path]:
    """Draw `census` from a results folder of experiments.census."""
    arrays, meta = load_results(results_dir, "census", SCHEMA)
    return save_figure(census_figure(arrays, meta["summary"]), figures_dir, FIGURES[0],
                       width="full")


def census_figure(arrays, summary):
    """Index α against training MSE and against the misclassified share (module docstring)."""
    fig, axes = plt.subplots(1, 2, figsize=(FULL_WIDTH * CM, 9.0 * CM), sharey=True)
    crit = arrays["label"] == "critical"
    settled = arrays["settled"]
    census = summary["census"]
    for ax, key, xlabel in ((axes[0], "loss", "training MSE (log)"),
                            (axes[1], "error", "training error ε: misclassified share (log)")):
        x, alpha = arrays[key], arrays["index"]
        shown = crit & (x > 0)
        ended = ~crit & (x > 0) & np.isfinite(alpha)
        for mask, style in (
                (ended, {"marker": "x", "color": "0.6", "linewidths": 0.8,
                         "label": "end point, not critical"}),
                (shown & settled & (alpha > 0), {"marker": "o", "color": "C0",
                                                 "label": "saddle, settled"}),
                (shown & settled & (alpha == 0), {"marker": "s", "color": "C2",
                                                  "label": "minimum, settled"}),
                (shown & ~settled, {"marker": "o", "facecolors": "none", "color": "C3",
                                    "label": "critical, escaped or drifted"})):
            if mask.any():
                ax.scatter(x[mask], alpha[mask], s=14, **style)
        ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    axes[0].axvline(census["trivial_loss"], color="0.5", lw=0.8, ls=":",
                    label="constant fit's MSE")
    axes[0].set_ylabel("index α = n₋/n")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=3,
               fontsize=7, handletextpad=0.2, borderpad=0.3)
    zero = census["error_zero"]
    if zero:
        axes[1].set_title(f"{zero} settled point(s) with no error are not drawn")
    rho, span = census["fit"]["spearman"], census["error_range"]
    head = (f"ρ(MSE, α) = {rho['rho']:.2f} ({rho['low']:.2f} … {rho['high']:.2f})"
            if rho else "ρ not computed (fewer than three non-trivial saddles)")
    decades = f"{span['decades']:.2f} decades of ε" if span else "no ε span"
    ends = summary["end_points"]["spearman"]
    tail = (f"; grey: end points that are not critical (all {summary['end_points']['n']}: "
            f"ρ = {ends['rho']:.2f}, {ends['low']:.2f} … {ends['high']:.2f})" if ends else "")
    fig.suptitle(f"{data_name(summary['dataset'])}, {'-'.join(map(str, summary['sizes']))} "
                 f"{summary['activation']}, {summary['n_params']:,} parameters: "
                 f"{census['settled']} settled critical points ({census['distinct']} distinct) of "
                 f"{len(crit)} searches, "
                 f"{decades}; {head}{tail}")
    return fig


if __name__ == "__main__":
    plot_main(render, prog="plots.census")
