"""Figures of experiments.spectrum: `python -m plots.spectrum RESULTS_DIR [--figures DIR]`.

spectrum_sinc  the exact spectra of H and of its Gauss–Newton part G at the trained sinc net:
               sorted eigenvalues on a symmetric-log axis with the ±τ band in which a sign means
               nothing, and a histogram on symmetric-log bins.
spectrum_dnn   the DNN's spectral density by stochastic Lanczos quadrature (log density), with the
               Lanczos top eigenvalues marked and Hutchinson's trace estimate in the title.
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from .common import data_name, plot_main, save_figure
from .schema import NONE, NUM, AtLeast, Check, at, load_results

_COUNTS = {"n_pos": int, "n_neg": int, "n_zero": int}
# what the DNN's spectrum figure reads; a DNN that diverged has none (its figure says why)
_SPECTRUM = {"sizes": [int], "trace": NUM, "trace_se": NUM, "lambda_max": NUM,
             "lambda_min_ritz": NUM}


def _dnn(meta):
    """The spec of summary.dnn: its spectrum's fields required unless it diverged."""
    diverged = at(meta, "summary", "dnn", "diverged")
    return {"dataset": str, "n_params": int,
            "diverged?": ({"step": int, "epoch": int, "reason": str}, NONE),
            "top_verified?": bool, "top_message?": str,
            **{f"{key}?" if diverged else key: spec for key, spec in _SPECTRUM.items()}}


# the sinc figure's axes: τ is the linear width of its symmetric-log axis (τ = 0 only for H = 0,
# and the MSE's output bias has ∂²L/∂b² = 1), the largest |λ| its top and the log10 |λ| > 0 the
# histogram's bins: finite eigenvalues, and a nonzero one of H
_TAU = Check(NUM, lambda tau: 0 < tau < np.inf, "a positive, finite number")
_EIG_G = Check((AtLeast(1),), lambda eig: np.isfinite(eig).all(), "finite eigenvalues")
_EIG_H = Check((AtLeast(1),), lambda eig: np.isfinite(eig).all() and (eig != 0).any(),
               "finite eigenvalues, not all 0")


def _density(n: int) -> Check:
    """n values of a Gaussian-smoothed density (engine.spectra.slq): finite, not negative, its
    peak above 0 (the peak sets the log axis's limits)."""
    return Check((n,), lambda d: np.isfinite(d).all() and (d >= 0).all() and d.max() > 0,
                 "a density: finite, ≥ 0, somewhere > 0")


# what render reads, checked when the results are loaded (plots.schema)
SCHEMA = {
    "config": {"sinc_hidden": [int], "sinc_activation": str, "activation": str},
    "summary": lambda meta: {
        "sinc": {"loss": NUM, "residual_share": NUM, "sizes": [int], "n_params": int,
                 "counts": {"H": {"tau": _TAU, **_COUNTS}, "G": _COUNTS}},
        "dnn": _dnn(meta)},
    "arrays": lambda meta: {
        "sinc_eigenvalues_H": _EIG_H, "sinc_eigenvalues_G": _EIG_G,
        # the density's peak sets its axis: a value or more, one per grid point
        **({} if meta["summary"]["dnn"].get("diverged") else {
            "dnn_density_grid": (AtLeast(1),), "dnn_density": 1, "dnn_top_eigenvalues": 1})},
    "by_arrays": lambda meta, arrays: {"arrays": {} if meta["summary"]["dnn"].get("diverged")
                                       else {"dnn_density": _density(len(arrays[
                                           "dnn_density_grid"]))}},
}

FIGURES = ("spectrum_sinc", "spectrum_dnn")


def figure_names(meta: dict) -> list[str]:
    """The names of the figures `render` draws (the same for every results folder)."""
    return list(FIGURES)


def render(results_dir, figures_dir=Path("figures")) -> list[Path]:
    """Draw spectrum_sinc and spectrum_dnn from a results folder of experiments.spectrum."""
    arrays, meta = load_results(results_dir, "spectrum", SCHEMA)
    sinc, dnn = meta["summary"]["sinc"], meta["summary"]["dnn"]
    paths = save_figure(sinc_figure(arrays["sinc_eigenvalues_H"], arrays["sinc_eigenvalues_G"],
                                    sinc, meta["config"]), figures_dir, FIGURES[0])
    fig = diverged_figure(dnn) if dnn.get("diverged") else dnn_figure(arrays, dnn, meta["config"])
    paths += save_figure(fig, figures_dir, FIGURES[1])
    return paths


def sinc_figure(eig_h, eig_g, info, config):
    """The exact spectra of H and G (n_params,) of the sinc net: sorted eigenvalues on a
    symmetric-log λ axis, linear inside the grey band ±τ; and counts of log₁₀ |λ|, λ > 0 up and
    λ < 0 down, with τ dashed. Returns the Figure."""
    tau = info["counts"]["H"]["tau"]
    fig, (ax_sorted, ax_hist) = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    for eig, name, colour in ((eig_h, "H", "C3"), (eig_g, "G = JᵀΛJ", "C0")):
        c = info["counts"]["H" if name == "H" else "G"]
        label = f"{name}: n₊={c['n_pos']}, n₋={c['n_neg']}, n₀={c['n_zero']}"
        ax_sorted.plot(np.arange(1, eig.size + 1), eig, ".", ms=4, color=colour, label=label)
    ax_sorted.set_yscale("symlog", linthresh=tau)
    top = max(np.abs(eig_h).max(), np.abs(eig_g).max())
    decades = 10.0 ** np.arange(np.ceil(np.log10(tau)), np.ceil(np.log10(top)) + 1)
    ax_sorted.set_yticks(np.concatenate([-decades[::-1], [0.0], decades]))
    ax_sorted.axhspan(-tau, tau, color="0.85", zorder=0, label=f"|λ| ≤ τ = {tau:.1e}")
    ax_sorted.set_xlabel("eigenvalue number (ascending)")
    ax_sorted.set_ylabel("λ (symmetric log,\nlinear inside ±τ)")
    # the legends under their panels: inside, they covered eigenvalues (the --quick spectrum)
    ax_sorted.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)

    # Histogram of log10|λ| with the sign as the direction of the bar: a symmetric-log view in
    # which the eigenvalues below τ, whose sign is noise, stay visible left of the τ line.
    finite = np.concatenate([np.abs(eig_h), np.abs(eig_g)])
    low = np.log10(max(finite[finite > 0].min(), 1e-300))
    edges = np.linspace(low, np.log10(top) + 0.1, 40)
    for eig, name, colour, kw in ((eig_h, "H", "C3", {"alpha": 0.6}),
                                  (eig_g, "G", "C0", {"histtype": "step", "lw": 1.5})):
        for sign in (1, -1):
            part = eig[sign * eig > 0]
            counts, _ = np.histogram(np.log10(np.abs(part)), bins=edges)
            ax_hist.hist(edges[:-1], bins=edges, weights=sign * counts, color=colour,
                         label=name if sign > 0 else None, **kw)
    ax_hist.axvline(np.log10(tau), color="k", lw=0.8, ls="--", label="τ")
    ax_hist.axhline(0.0, color="k", lw=0.5)
    ax_hist.set_xlabel("log₁₀ |λ|")
    ax_hist.set_ylabel("count: λ > 0 up, λ < 0 down")
    ax_hist.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3,
                   frameon=False)
    fig.suptitle(f"Exact Hessian spectrum, {'-'.join(map(str, [1, *config['sinc_hidden'], 1]))} "
                 f"{config['sinc_activation']} net on sin(5πx)/(5πx)\nloss {info['loss']:.2e}; "
                 f"‖R‖/‖H‖ = {info['residual_share']:.1e}", fontsize=10)
    return fig


def diverged_figure(info):
    """The DNN's figure when its training diverged: no spectrum, and why."""
    d = info["diverged"]
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.text(0.5, 0.5, f"{data_name(info['dataset'])} DNN ({info['n_params']} parameters): "
            f"training diverged\n{d['reason']} at step {d['step']} (epoch {d['epoch']}): no "
            "spectrum\nlower --lr", transform=ax.transAxes, ha="center", va="center")
    ax.set(xticks=[], yticks=[])
    fig.tight_layout()
    return fig


def dnn_figure(arrays, info, config):
    """The DNN's SLQ spectral density (log y, six decades below its peak) against λ, with the
    Lanczos top eigenvalues as vertical lines; trace ± SE and λ_max in the title. Returns the
    Figure."""
    fig, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
    grid, density = arrays["dnn_density_grid"], arrays["dnn_density"]
    ax.semilogy(grid, density, color="C0", label="SLQ density")
    for i, lam in enumerate(arrays["dnn_top_eigenvalues"]):
        ax.axvline(lam, color="C3", lw=0.6, alpha=0.7,
                   label="Lanczos top eigenvalues" if i == 0 else None)
    ax.set_ylim(density.max() * 1e-6, density.max() * 3)  # the Gaussian tails say nothing below
    ax.set_xlabel("λ")
    ax.set_ylabel("density (log)")
    # under the panel: inside it, the legend covered the top eigenvalues' lines
    fig.legend(loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    unverified = ("" if info.get("top_verified", True) else
                  f"\ntop eigenvalues NOT verified: {info.get('top_message', '')}")
    ax.set_title(f"{data_name(info['dataset'])} DNN "
                 f"{'-'.join(map(str, info['sizes']))} {config['activation']} "
                 f"({info['n_params']} parameters): tr H = "
                 f"{info['trace']:.3g} ± {info['trace_se']:.2g} (Hutchinson), λₘₐₓ = "
                 f"{info['lambda_max']:.3g}, smallest Ritz value {info['lambda_min_ritz']:.3g}"
                 f"{unverified}",
                 fontsize=9)
    return fig  # laid out by its constrained layout (the legend outside the panel)


if __name__ == "__main__":
    plot_main(render, prog="plots.spectrum")
