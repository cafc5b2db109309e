"""Figures of experiments.surface: `python -m plots.surface RESULTS_DIR [--figures DIR]`.

One figure per view and model (PNG + PDF), drawn from summary.npz alone:
  surface_line_{sinc,dnn}           train and test loss on θ(α) = (1 − α)θ₀ + αθ*
  surface_plane_random_{sinc,dnn}   filter-normalized random plane: contour, 3-D surface of log₁₀ L
  surface_plane_pca_{sinc,dnn}      plane of the trajectory's two PCA directions, with the path
  surface_plane_hessian_{sinc,dnn}  plane of the eigenvectors of λ_max and λ_min, and both axis
                                    cuts beside L(θ*) + ½λr²
  surface_perturb_sinc              L(θ* + δeᵢ) for every parameter, one panel per layer, beside
                                    L(θ*) + ½Hᵢᵢδ²; and Hᵢᵢ per parameter
  surface_tsne                      t-SNE of the tiny model's path and sampled neighbours
Losses span decades, so every loss axis and colour scale is logarithmic.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from engine import Layout
from plots.common import RUN_COLOURS, data_name, plot_main, save_figure
from plots.schema import load_results
from plots.surface_units import SCHEMA, UNIT_FIGURES  # noqa: F401  (UNIT_FIGURES re-exported)


def figure_names(meta: dict) -> list[str]:
    """The names of the figures `render` draws from a results folder whose summary.json holds
    `meta`: those of every unit it holds."""
    return [name for unit, names in UNIT_FIGURES.items() if unit in meta["summary"]
            for name in names]


def render(results_dir, figures_dir=Path("figures")) -> list[Path]:
    """Draw every figure whose unit the surface results folder holds (PNG, PDF)."""
    arrays, meta = load_results(results_dir, "surface", SCHEMA)
    info = meta["summary"]

    def unit(name):
        prefix = name + "/"
        return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}

    paths = []

    def draw(name, plot):
        """Save plot() under each figure name of the unit, or a note when it diverged."""
        nonlocal paths
        if info[name].get("diverged"):
            for figure in UNIT_FIGURES[name]:
                paths += save_figure(plot_diverged(name, info[name]), figures_dir, figure)
            return
        figures = plot()
        for figure, fig in zip(UNIT_FIGURES[name], figures if isinstance(figures, tuple)
                               else (figures,), strict=True):
            paths += save_figure(fig, figures_dir, figure)

    for model in ("sinc", "dnn"):
        if f"{model}_line" in info:
            draw(f"{model}_line", lambda m=model: plot_line(
                unit(f"{m}_line"), _title(info[f"{m}_line"])))
        if f"{model}_plane" in info:
            def planes(m=model):
                plane, title = unit(f"{m}_plane"), _title(info[f"{m}_plane"])
                return (plot_random_plane(plane, title),
                        plot_pca_plane(plane, unit(f"{m}_train"), title),
                        plot_hessian_plane(plane, title))

            draw(f"{model}_plane", planes)
    if "sinc_perturb" in info:
        draw("sinc_perturb", lambda: plot_perturbation(
            unit("sinc_perturb"), info["sinc_perturb"]["sizes"], _title(info["sinc_perturb"])))
    if "tiny_tsne" in info:
        draw("tiny_tsne", lambda: plot_tsne(
            unit("tiny_tsne"), info["tiny_tsne"], meta["config"]))
    return paths


def plot_diverged(name, info):
    """The figure of a unit whose training diverged: what diverged, where, and what to do."""
    d = info["diverged"]
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    cause = f" ({info['skipped']})" if info.get("skipped") else ""
    note = (f"{name}: not drawn{cause}\n{d.get('phase', 'training')} diverged: "
            f"{d.get('reason', 'non-finite loss')} at step {d['step']} (epoch {d['epoch']})\n"
            "lower its step size (--sinc-lr, --dnn-lr or --gd-lr)")
    # wrapped to the half-width print (7.8 cm at 9 pt): a wider text collapses the layout
    note = "\n".join(textwrap.fill(line, 40) for line in note.split("\n"))
    ax.text(0.5, 0.5, note, transform=ax.transAxes, ha="center", va="center", fontsize=9)
    ax.set(xticks=[], yticks=[])
    ax.set_title(_title(info), fontsize=9)
    return fig


def plot_line(line, title):
    """Train and test loss (log scale) along the straight line θ₀ → θ*."""
    fig, ax = plt.subplots(figsize=(6.5, 4.2), layout="constrained")
    for split, colour, style in (("train", 0, "-"), ("test", 1, "--")):
        ax.plot(line["alphas"], line[f"{split}_loss"], style, color=RUN_COLOURS[colour],
                label=split)
    for a, name in ((0.0, "θ₀"), (1.0, "θ*")):
        ax.axvline(a, color="0.6", lw=0.8, ls=":")
        ax.annotate(name, (a, 1.0), xycoords=("data", "axes fraction"), ha="center", va="bottom")
    ax.set(xlabel="α in θ(α) = (1 − α)θ₀ + αθ*", ylabel="loss L (log scale)", yscale="log")
    ax.legend()
    fig.suptitle(f"Straight line from the initial to the trained weights\n{title}")
    return fig


def plot_random_plane(plane, title):
    """Contour and 3-D surface of log₁₀ L(θ* + a d₁ + b d₂), d₁, d₂ filter-normalized."""
    a, b, Z = plane["random_a"], plane["random_b"], np.log10(plane["random_Z"])
    fig = plt.figure(figsize=(11, 4.8), layout="constrained")
    ax = fig.add_subplot(1, 2, 1)
    _contour(fig, ax, a, b, Z)
    ax.plot(0, 0, "w*", ms=12, mec="k", label="θ*")
    ax.legend(loc="upper right")
    ax.set(xlabel="a (direction d₁)", ylabel="b (direction d₂)", aspect="equal")
    ax3 = fig.add_subplot(1, 2, 2, projection="3d")
    A, B = np.meshgrid(a, b)
    ax3.plot_surface(A, B, Z, cmap="viridis", linewidth=0, antialiased=True)
    ax3.set(xlabel="a", ylabel="b", zlabel="log₁₀ L")
    fig.suptitle("Random plane through θ*, directions filter-normalized (Li et al. 2018: each "
                 f"unit's weights rescaled to θ*'s norm)\n{title}")
    return fig


def plot_pca_plane(plane, trained, title):
    """Contour of log₁₀ L on the plane of the trajectory's two PCA directions, path on top."""
    ratio, coords = plane["pca_ratio"], plane["pca_coords"]
    fig, ax = plt.subplots(figsize=(7, 5.2), layout="constrained")
    _contour(fig, ax, plane["pca_a"], plane["pca_b"], np.log10(plane["pca_Z"]))
    ax.plot(coords[:, 0], coords[:, 1], "-o", color="w", lw=1.2, ms=3.5, mec="k", mew=0.3)
    ax.plot(*coords[0], "wo", ms=8, mec="k", label=f"θ₀ (epoch {trained['epochs'][0]})")
    ax.plot(*coords[-1], "w*", ms=13, mec="k", label=f"θ* (epoch {trained['epochs'][-1]})")
    # under the panel: inside, it covered the path wherever the path ran
    fig.legend(loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    # a short y label: "PC2 (… % of path variance)" is longer than the panel is high and ran
    # into the title (the x label says what the % are)
    ax.set(xlabel=f"PC1 ({100 * ratio[0]:.1f} % of path variance)",
           ylabel=f"PC2 ({100 * ratio[1]:.1f} %)")
    every = int(trained["epochs"][1] - trained["epochs"][0]) if len(trained["epochs"]) > 1 else 0
    fig.suptitle("Plane of the training path's two leading PCA directions (Li et al. §7),\n"
                 f"path projected onto it, one dot every {every} epochs\n{title}")
    return fig


def plot_hessian_plane(plane, title):
    """Contour on the plane of H's extreme eigenvectors, and both axis cuts beside the
    second-order model (∇L·v)r + ½λr²."""
    a, b, Z = plane["hessian_a"], plane["hessian_b"], plane["hessian_Z"]
    (lam_max, lam_min), loss0 = plane["lam"], float(plane["loss0"])
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6), layout="constrained")
    fig.get_layout_engine().set(wspace=0.06)
    _contour(fig, axes[0], a, b, np.log10(Z))
    axes[0].plot(0, 0, "w*", ms=12, mec="k")
    # at 16 cm for three panels every label is short: λ and ∇L·v go to each panel's title
    # Unicode subscripts, as log₁₀ and θ₀ elsewhere: "v_max" printed its underscore
    axes[0].set(xlabel="a along vₘₐₓ", ylabel="b along vₘᵢₙ",
                title="log₁₀ L on the plane")
    axes[0].yaxis.set_major_locator(MaxNLocator(4))
    cuts = ((a, Z[np.argmin(np.abs(b)), :], lam_max, plane["slopes"][0], "vₘₐₓ"),
            (b, Z[:, np.argmin(np.abs(a))], lam_min, plane["slopes"][1], "vₘᵢₙ"))
    for ax, (r, cut, lam, slope, name) in zip(axes[1:], cuts, strict=True):
        change = cut - loss0
        ax.plot(r, change, ".-", color=RUN_COLOURS[0], ms=3, label="L(θ* + r v) − L(θ*)")
        ax.plot(r, slope * r + 0.5 * lam * r**2, "k--", lw=1, label="(∇L·v) r + ½λr²")
        ax.axhline(0.0, color="0.6", lw=0.6)
        zoom = name == "vₘᵢₙ" and change.min() < 0
        if zoom:  # on the dip: the rise beyond it (often quartic) would flatten it to a line
            ax.set_ylim(1.6 * change.min(), -4.0 * change.min())
        ax.set(xlabel=f"r along {name}", title=f"{name}: λ {lam:.3g}, ∇L·v {slope:.2g}",
               ylabel="zoomed on the dip" if zoom else "")
        ax.xaxis.set_major_locator(MaxNLocator(3))
        ax.yaxis.set_major_locator(MaxNLocator(4))
        ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
    axes[1].set_ylabel("loss change")
    handles, labels = axes[1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=2)  # over a panel it hid a cut
    fig.suptitle("Plane of the Hessian eigenvectors of the largest and the most negative "
                 "eigenvalue at θ* — random planes average curvature and hide λ < 0\n" + title)
    return fig


def plot_perturbation(pert, sizes, title):
    """L(θ* + δeᵢ) of every parameter (one panel per layer, log y) beside its second-order
    Taylor polynomial L(θ*) + gᵢδ + ½Hᵢᵢδ²; and |Hᵢᵢ| sorted. sizes: the net's layer widths."""
    deltas, curves, H = pert["deltas"], pert["curves"], pert["H_diag"]
    layout = Layout(tuple(sizes))
    layer = np.repeat(np.arange(layout.n_layers), np.diff(layout.offsets))
    loss0, n_layers = float(pert["loss0"]), layout.n_layers
    # a grid of two columns: at 16 cm a strip of n_layers + 1 panels clipped its own labels
    rows = -(-(n_layers + 1) // 2)
    fig, grid = plt.subplots(rows, 2, figsize=(8.8, 4.2 * rows), layout="constrained",
                             squeeze=False)
    axes = list(grid.flat)
    for spare in axes[n_layers + 1:]:
        spare.remove()
    axes = axes[:n_layers + 1]
    # |Hᵢᵢ| on log scales: exact zeros (a unit that never bends) sit at the floor of the scale
    top = np.abs(H).max() if np.any(H != 0) else 1.0
    norm = LogNorm(max(np.abs(H).min(), 1e-12 * top), top)
    cmap = plt.get_cmap("viridis")
    fine = np.linspace(deltas[0], deltas[-1], 201)
    for ell, ax in enumerate(axes[:-1]):
        for i in np.flatnonzero(layer == ell):
            colour = cmap(norm(max(abs(H[i]), norm.vmin)))
            ax.plot(deltas, curves[i], color=colour, lw=0.9)
            quadratic = loss0 + pert["grad"][i] * fine + 0.5 * H[i] * fine**2
            ax.plot(fine, np.where(quadratic > 0, quadratic, np.nan), "--", color="k", lw=0.4,
                    alpha=0.5)
        ax.set(yscale="log", xlabel="δ (parameter i alone)", ylabel="L(θ* + δeᵢ)",
               title=f"layer {ell + 1}: W{ell + 1}, b{ell + 1} "
                     f"({np.sum(layer == ell)} parameters)")
    rank = np.empty(len(H), dtype=int)
    rank[np.argsort(np.abs(H))] = np.arange(len(H))
    for ell in range(n_layers):
        m = layer == ell
        axes[-1].scatter(rank[m], np.maximum(np.abs(H[m]), norm.vmin), color=RUN_COLOURS[ell],
                         s=8, label=f"layer {ell + 1}")
    axes[-1].legend(fontsize=8)
    axes[-1].set(yscale="log", xlabel="parameters sorted by |Hᵢᵢ|", ylabel="|Hᵢᵢ| (exact)",
                 title=f"{np.sum(H < 0)} of {len(H)} with Hᵢᵢ < 0"
                 + (f", {np.sum(H == 0)} with Hᵢᵢ = 0 (at {norm.vmin:.0e})" if np.any(H == 0)
                    else ""))
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=axes[:-1], label="|Hᵢᵢ|",
                 pad=0.01)
    fig.suptitle("Each parameter perturbed alone: the scales differ by decades; dashed: the "
                 f"second-order Taylor prediction from the exact gradient and Hᵢᵢ\n{title}")
    return fig


def plot_tsne(tsne, info, config):
    """t-SNE of the path (GD, then Newton) and the sampled neighbours, coloured by log loss."""
    emb, loss, kind = tsne["embedding"], tsne["loss"], tsne["kind"]
    norm = LogNorm(loss.min(), loss.max())
    fig, ax = plt.subplots(figsize=(7.5, 6.3), layout="constrained")
    s = kind == 2
    points = ax.scatter(emb[s, 0], emb[s, 1], c=loss[s], norm=norm, cmap="viridis", s=7,
                        alpha=0.8)
    handles = [Line2D([], [], ls="", marker="o", ms=3, color="0.5",
                      label=f"sampled neighbours ({s.sum()})")]
    for k, marker, label in ((0, "o", "gradient descent"), (1, "D", "trust-region Newton")):
        m = kind == k
        ax.plot(emb[m, 0], emb[m, 1], "-", color="0.3", lw=0.6)
        ax.scatter(emb[m, 0], emb[m, 1], c=loss[m], norm=norm, cmap="viridis", marker=marker,
                   s=22, edgecolors="k", linewidths=0.4)
        handles.append(Line2D([], [], ls="", marker=marker, mfc="0.8", mec="k",
                              label=f"{label} ({m.sum()} points)"))
    end = np.flatnonzero(kind < 2)[-1]
    for i, name in ((0, "start"), (end, "end")):
        ax.annotate(name, emb[i], xytext=(8, 8), textcoords="offset points", fontsize=9,
                    arrowprops={"arrowstyle": "-", "lw": 0.6})
    fig.colorbar(points, ax=ax, label="training loss L (log scale)")
    # under the map: inside, every corner holds sampled neighbours
    fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=8, frameon=False)
    ax.set(xticks=[], yticks=[], ylabel="t-SNE 2")
    ax.set_title(f"Tiny net {'-'.join(map(str, [1, *config['tiny_hidden'], 1]))} on "
                 f"{config['tiny_samples']} fixed inputs: {config['gd_epochs']} GD epochs, then "
                 f"{info['newton_iterations']} Newton steps\n(L: {info['gd_loss']:.2e} → "
                 f"{info['newton_loss']:.2e}); neighbours sampled around the last "
                 f"{config['extra_steps']}", fontsize=10)
    # the caveat under the x label, part of the axes' layout (as a figure text at y < 0 it was
    # cut off the page), wrapped to the print width
    caveat = ("Caveat: t-SNE keeps who is near whom, not distances — cluster sizes and gaps "
              f"between clusters mean nothing (perplexity {config['perplexity']:g}). Neighbour "
              "half-widths sᵢ ∝ each parameter's rate of descent in gradient descent (mean "
              f"|Δθᵢ| per epoch), largest {config['sample_radius']:g}.")
    ax.set_xlabel("t-SNE 1\n" + textwrap.fill(caveat, 95), fontsize=8)
    return fig


def _contour(fig, ax, a, b, logZ):
    levels = MaxNLocator(24).tick_values(logZ.min(), logZ.max())
    filled = ax.contourf(a, b, logZ, levels=levels, cmap="viridis")
    ax.contour(a, b, logZ, levels=levels[::3], colors="k", linewidths=0.3)
    bar = fig.colorbar(filled, ax=ax, label="log₁₀ L (training loss)")
    bar.locator = MaxNLocator(4)  # 24 levels: every one labelled overlaps at print size
    bar.update_ticks()
    ax.xaxis.set_major_locator(MaxNLocator(3))


def _title(info):
    sizes = info["sizes"]
    return (f"{'-'.join(map(str, sizes))} net ({info['n_params']} parameters) on "
            f"{data_name(info['data'])}, {info['n_train']} training samples")


if __name__ == "__main__":
    plot_main(render, prog="plots.surface")
