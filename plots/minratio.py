"""Figures of experiments.minratio: `python -m plots.minratio RESULTS_DIR [--figures DIR]`.

minratio         (a) minimal ratio n₊/n against the loss (log axis), one point per run, colour
                 and marker by class, counts in the legend; the bar through each point spans the
                 ratios at the two --band rtols (the sensitivity band); critical points whose
                 residual gradient lies in the near-kernel (flat) are drawn hollow;
                 (b) resolved ratio n₊/(n₊ + n₋) and index n₋/n against the loss;
                 (c) the sampled ratio (share of K random neighbours at distance r with a higher
                 loss, 95 % Wilson bars) against the eigenvalue ratio, one marker per radius;
                 (d) the index n₋/n of the critical points that are not escaping against their
                 loss, with Pennington & Bahri's fit α₀·((ε − ε_c)/ε_c)^p and the bootstrap
                 intervals of p and of Spearman's ρ; the constant fit's loss marked.
                 Critical points whose continuation escaped to infinity, or drifted off (L or ∇L
                 changed), are classes of their own: the fit and ρ use the settled ones only.
minratio_traces  ‖∇L‖ of every run along its search (accepted steps) on a log axis, by class,
                 with the critical cutoff ‖∇L‖ = √grad_sq_tol.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import NullFormatter

from engine.critical.classification import LABELS
from engine.critical.index_loss import power_curve

from .common import CM, FULL_WIDTH, HALF_WIDTH, data_name, plot_main, save_figure
from .schema import ANY, NONE, NUM, Check, Holding, Len, load_results

STYLE = {"critical": ("C0", "o"), "drifting": ("C2", "s"), "escaping": ("C4", "D"),
         "gradient-flat": ("C1", "^"), "not-converged": ("C3", "x")}


# panel (d)'s fit (engine.critical.index_loss.index_loss_fit): the power law and Spearman's ρ,
# each with its interval, or null; why there is no power law. ε_c lies in [10⁻³, 1]× the lowest
# saddle loss (> 0): the curve is drawn on a log grid from it
_POWER = {"alpha0": NUM, "loss_c": Check(NUM, lambda v: v > 0, "a positive loss"),
          "exponent": NUM, "low": NUM, "high": NUM, "n_boot": int, "contains": bool,
          "at_bound?": bool}
_FIT = {"power?": (_POWER, NONE), "spearman?": ({"rho": NUM, "low": NUM, "high": NUM}, NONE),
        "power_status?": ({"reason?": (str, NONE)}, NONE)}
_RUNS = ("label", "loss", "flat", "minimal_ratio", "resolved_ratio", "index", "escaping?",
         "verdict?")  # one entry per run
# the runs' labels and verdicts (names), their masks
_KINDS = {"label": Holding("text", 1, among=LABELS), "verdict?": Holding("text", 1),
          "flat": Holding("booleans", 1), "escaping?": Holding("booleans", 1)}
# what render and figure_names read, checked when the results are loaded (plots.schema): the
# band's first and last rtol
SCHEMA = {
    "config": {"band": Len(NUM, min=1), "n_directions": int, "finder": str, "activation": str,
               "grad_sq_tol": NUM, "weight_decay?": NUM, "task?": str, "loss?": str},
    "summary": {"sizes": [int], "index_loss_fit?": (_FIT, NONE), "trivial_loss?": NUM},
    "arrays": {**dict.fromkeys(_RUNS, 1), **_KINDS, "minimal_ratio_band": 2, "radii": 1,
               "sampled_ratio": 2, "sampled_low": 2, "sampled_high": 2, "y": 2,
               "trace_start": Holding("integers", 1), "trace": 1},
    "by_arrays": lambda meta, arrays: _by_runs(arrays),
}


def _by_runs(arrays) -> dict:
    """What the number of runs asks (plots.schema's by_arrays): every run's entries, one column
    per radius of the sampled ratios, the start of every run's trace and the end of the last
    (each trace is sliced out between two); and a power law only when a settled critical point
    is there to draw it over (the fit is made of those: their largest loss ends its curve)."""
    n = len(arrays["label"])
    names = [key.rstrip("?") for key in _RUNS if key.rstrip("?") in arrays]
    # runs of other lengths are refused by the arrays' shapes below: not classified here
    lengths_fit = all(np.shape(arrays[k]) == (n,) for k in names)
    settled = not lengths_fit or bool(np.any(categories(arrays) == "critical"))
    return {"arrays": {**{key: (n,) for key in _RUNS}, "minimal_ratio_band": (n, None),
                       **{f"sampled_{k}": (n, len(arrays["radii"]))
                          for k in ("ratio", "low", "high")}, "trace_start": (n + 1,)},
            "summary": {} if settled else {"index_loss_fit?": ({"power?": Check(
                ANY, lambda p: p is None, "null: no settled critical point to fit")}, NONE)}}


def render(results_dir, figures_dir=Path("figures")) -> list[Path]:
    """Draw minratio and minratio_traces (PNG, PDF) from a minratio results folder; a run with a
    weight decay draws minratio_wd and minratio_wd_traces, so both runs share a figures folder."""
    arrays, meta = load_results(results_dir, "minratio", SCHEMA)
    config = meta["config"] | {"sizes": meta["summary"]["sizes"]}
    ratio_name, trace_name = figure_names(meta)
    paths = save_figure(ratio_figure(arrays, config, meta["summary"]), figures_dir, ratio_name,
                        width="full")
    paths += save_figure(trace_figure(arrays, config), figures_dir, trace_name, width="half")
    return paths


def figure_names(meta: dict) -> list[str]:
    """The names of the figures `render` draws from a results folder whose summary.json holds
    `meta`: [ratio figure, traces], with a _wd infix for a run with a weight decay."""
    name = "minratio_wd" if meta["config"].get("weight_decay") else "minratio"
    return [name, f"{name}_traces"]


def categories(arrays):
    """The label of each run, 'escaping' for critical points whose continuation escaped and
    'drifting' for those it moved off (L or ∇L changed): neither is a settled critical point."""
    label = arrays["label"].astype(object).copy()
    crit = label == "critical"
    if "escaping" in arrays:
        label[arrays["escaping"].astype(bool) & crit] = "escaping"
    if "verdict" in arrays:
        label[(arrays["verdict"] == "drifted") & crit] = "drifting"
    return label.astype(str)


def ratio_figure(arrays, config, summary=None):
    """Panels (a) minimal ratio n₊/n with its rtol band, (b) resolved ratio and index, (c) the
    sampled ratio against the eigenvalue ratio, (d) index against loss with the fit — all
    against the end points' loss on a log axis, one marker per class; returns the Figure."""
    label, loss = categories(arrays), arrays["loss"]
    flat = arrays["flat"].astype(bool)
    fig, axes = plt.subplots(2, 2, figsize=(FULL_WIDTH * CM, 14 * CM), layout="constrained")
    ax_min, ax_res, ax_samp, ax_idx = axes.ravel()
    for name, (colour, marker) in STYLE.items():
        sel = (label == name) & np.isfinite(loss) & (loss > 0)
        n_flat = int((sel & flat).sum())
        text = f"{name} ({int((label == name).sum())}" + (f", {n_flat} flat)" if name ==
                                                            "critical" else ")")
        if name == "critical":
            text = text.replace("critical", "critical, settled")
        band = arrays["minimal_ratio_band"][sel]
        ratio = arrays["minimal_ratio"][sel]
        ax_min.errorbar(loss[sel], ratio, yerr=_bar(ratio, band), fmt="none", ecolor=colour,
                        alpha=0.35, lw=0.8)
        for hollow in (False, True):
            part = (flat[sel] == hollow) if name == "critical" else np.full(sel.sum(), not hollow)
            _points(ax_min, loss[sel][part], ratio[part], colour, marker, hollow,
                    None if hollow else text)
            _points(ax_res, loss[sel][part], arrays["resolved_ratio"][sel][part], colour, marker,
                    hollow, None if hollow else f"{name}: resolved ratio")
        ax_res.scatter(loss[sel], arrays["index"][sel], marker="_", color=colour, s=60,
                       label=f"{name}: index")
    for ax in (ax_min, ax_res):
        ax.set_xscale("log")
        ax.set_xlabel("loss L(θ*) at the end point (log scale)")
    tight, loose = config["band"][0], config["band"][-1]
    ax_min.set_ylabel("minimal ratio n₊/n")
    ax_min.set_title(f"(a) minimal ratio; bars: rtol {tight:g} … {loose:g}")
    ax_res.set_ylabel("n₊/(n₊ + n₋) (dots), n₋/n (bars)")
    ax_res.set_title("(b) resolved ratio and index")

    for i, radius in enumerate(arrays["radii"]):
        share = arrays["sampled_ratio"][:, i]
        yerr = np.abs(np.stack([arrays["sampled_low"][:, i], arrays["sampled_high"][:, i]])
                      - share)
        ax_samp.errorbar(arrays["minimal_ratio"], share, yerr=yerr, fmt="osd^v"[i % 5],
                         ms=4, lw=0.6, alpha=0.7, label=f"r = {radius:g}")
    ax_samp.plot([0, 1], [0, 1], color="0.6", lw=0.8, ls="--", label="sampled = eigenvalue ratio")
    ax_samp.set_xlabel("minimal ratio n₊/n from the Hessian")
    ax_samp.set_ylabel(f"share of {config['n_directions']} θ*+r·d\nwith L > L(θ*)")
    ax_samp.set_title("(c) sampled ratio against the Hessian's")
    # the legends of (a) (classes, as in (b)) and (c) (radii) under the grid: inside a panel,
    # the points reach every corner
    # (rows: the classes, then (c)'s entries; matplotlib fills a legend column by column)
    rows = [list(zip(*ax.get_legend_handles_labels(), strict=True)) for ax in (ax_min, ax_samp)]
    ncol = max(map(len, rows))
    blank = (plt.Line2D([], [], alpha=0.0), "")
    entries = [row[i] if i < len(row) else blank for i in range(ncol) for row in rows]
    fig.legend(*zip(*entries, strict=True), loc="outside lower center", ncol=ncol, fontsize=7,
               handletextpad=0.3, labelspacing=0.2, columnspacing=1.0, frameon=False)
    _index_panel(ax_idx, arrays, label, summary or {}, _loss_name(config))
    decay = config.get("weight_decay", 0.0)
    loss_name = _loss_name(config)
    objective = f"{loss_name} + ({decay:g}/2)‖θ‖²" if decay else loss_name
    task = config.get("task", "sinc")
    fig.suptitle(f"{len(label)} searches ({config['finder']}) on {objective}, "
                 f"{'-'.join(map(str, config['sizes']))} {config['activation']}, "
                 + ("linear autoencoder" if task == "dlae" else data_name(task)))
    return fig


def _loss_name(config) -> str:
    return "cross-entropy" if config.get("loss") == "cross_entropy" else "MSE"


def _index_panel(ax, arrays, label, summary, loss_name):
    loss, index = arrays["loss"], arrays["index"]
    fit = summary.get("index_loss_fit")
    # the constant fit's loss as the experiment computed it (½ mean‖y − ȳ‖² for the MSE, the
    # class entropy for cross-entropy, ½ mean‖y‖² bias-free); a summary older than the field
    # holds a 1-output MSE run, where it is ½Var(y)
    trivial = summary.get("trivial_loss", 0.5 * float(np.var(arrays["y"])))
    for name in ("critical", "drifting", "escaping"):
        sel = (label == name) & np.isfinite(loss) & (loss > 0)
        colour, marker = STYLE[name]
        _points(ax, loss[sel], index[sel], colour, marker, name != "critical",
                f"{name} ({int(sel.sum())})")
    ax.axvline(0.99 * trivial, color="0.5", ls=":", lw=0.8,
               label="0.99 × constant fit's loss")
    text = []
    if fit and fit.get("power"):
        p = fit["power"]
        grid = np.geomspace(p["loss_c"], max(np.nanmax(loss[label == "critical"]), p["loss_c"]
                                               * 1.01), 200)
        ax.plot(grid, power_curve(grid, p["alpha0"], p["loss_c"], p["exponent"]), color="k",
                lw=1, label=rf"$\alpha_0((\varepsilon - \varepsilon_c)/\varepsilon_c)^p$, "
                      f"p = {p['exponent']:.2f}")
        text.append(f"p = {p['exponent']:.2f} [{p['low']:.2f}, {p['high']:.2f}] (95 %, "
                    f"{p['n_boot']} resamples)" + ("; p at its bound: undetermined" if p.get(
                        "at_bound") else f"; 3/2 {'inside' if p['contains'] else 'outside'}"))
    if fit and fit.get("spearman"):
        r = fit["spearman"]
        text.append(f"Spearman ρ = {r['rho']:.2f} [{r['low']:.2f}, {r['high']:.2f}]")
    if not text:
        text.append("too few critical saddles for a fit")
    elif fit and not fit.get("power"):
        reason = (fit.get("power_status") or {}).get("reason", "< 4 distinct saddle losses")
        text.append(f"no power-law fit: {reason}")
    ax.set_xscale("log")
    ax.set_xlabel(f"loss ({loss_name}) at the end point (log scale)")
    ax.set_ylabel("index n₋/n")
    ax.set_ylim(bottom=-0.01)
    ax.xaxis.set_minor_formatter(NullFormatter())  # no crowded minor labels on a short range
    ax.set_title("(d) " + "\n".join(text))
    ax.legend(fontsize=7, handletextpad=0.2, borderpad=0.3, labelspacing=0.2)


def trace_figure(arrays, config):
    """‖∇L‖ along every search (log axis, by class) with the critical cutoff √grad_sq_tol;
    returns the Figure."""
    fig, ax = plt.subplots(figsize=(HALF_WIDTH * CM, 8 * CM), layout="constrained")
    starts, trace, label = arrays["trace_start"], arrays["trace"], categories(arrays)
    seen = set()
    for run in range(len(label)):
        colour = STYLE.get(str(label[run]), ("0.5", "."))[0]
        values = trace[starts[run]:starts[run + 1]]
        values = np.where(np.isfinite(values) & (values > 0), values, np.nan)
        first = label[run] not in seen
        seen.add(label[run])
        ax.plot(np.arange(values.size), values, color=colour, lw=0.8, alpha=0.5,
                label=f"{label[run]} ({int((label == label[run]).sum())})" if first else None)
    ax.axhline(np.sqrt(config["grad_sq_tol"]), color="k", ls="--", lw=0.8,
               label=f"‖∇L‖ = √{config['grad_sq_tol']:g} (critical cutoff)")
    ax.set_yscale("log")
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlim(left=0)
    ax.set_xlabel("accepted step of the search (symlog)")
    ax.set_ylabel("‖∇L(θ)‖ (log scale)")
    ax.set_title(f"‖∇L‖ along each search ({config['finder']})")
    # under the panel: inside, the traces fill every corner
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=2, fontsize=7,
               handletextpad=0.4, labelspacing=0.2, columnspacing=0.8, frameon=False)
    return fig


def _points(ax, xs, ys, colour, marker, hollow, label):
    if marker == "x":  # an unfilled marker: only a colour
        ax.scatter(xs, ys, marker=marker, color=colour, s=28, label=label)
    else:
        ax.scatter(xs, ys, marker=marker, facecolors="none" if hollow else colour,
                   edgecolors=colour, s=28, label=label)


def _bar(values, band):
    """errorbar yerr (2, n) covering the values and both band ends (the band may not contain
    the value when the ratios at the band's rtols both lie on one side)."""
    low = np.nanmin(np.column_stack([values, band]), axis=1) if values.size else values
    high = np.nanmax(np.column_stack([values, band]), axis=1) if values.size else values
    return np.stack([values - low, high - values])


if __name__ == "__main__":
    plot_main(render, prog="plots.minratio")
