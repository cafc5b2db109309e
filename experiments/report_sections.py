"""The report's sections, one per question of the slides' "HW1-2 Report Questions", plus the
bonus and the Hessian spectrum: each a function of `Facts` (the saved summaries) returning
markdown lines.

Every number goes through `Facts.num`, which records its source (experiment, path in
summary.json) so that a test can check each printed number against the results files; settings
come from the saved configs. The statements are measurements, not commentary.
"""
from __future__ import annotations

from pathlib import Path

from .report_settings import settings_table  # noqa: F401  (the sections' one table builder)

# the report's order: HW1-1, HW1-2 (and its bonus), HW1-3, then the appendix
SECTIONS = ("deepshallow", "trajectory", "gradnorm", "minratio", "minratio_wd", "surface",
            "generalization", "spectrum")
PARTS = {"deepshallow": "# HW1-1 Deep vs shallow", "trajectory": "# HW1-2 Optimization",
         "generalization": "# HW1-3 Generalization", "spectrum": "# Appendix"}
FIGURES = {
    "deepshallow": ["deepshallow_functions_loss", "deepshallow_functions_fit", "deepshallow_task"],
    "generalization": ["generalization_random", "generalization_params", "generalization_interp",
                       "generalization_flatness"],
    "trajectory": ["trajectory_layer1", "trajectory_whole"],
    "gradnorm": ["gradnorm_sinc", "gradnorm_mnist"],
    "minratio": ["minratio", "minratio_traces"],
    "minratio_wd": ["minratio_wd"],
    "surface": ["surface_line_sinc", "surface_line_dnn", "surface_plane_random_sinc",
                "surface_plane_random_dnn", "surface_plane_pca_sinc", "surface_plane_pca_dnn",
                "surface_plane_hessian_sinc", "surface_plane_hessian_dnn",
                "surface_perturb_sinc", "surface_tsne"],
    "spectrum": ["spectrum_sinc", "spectrum_dnn"],
}


class Facts:
    """Numbers quoted in the report, each with its source: (experiment, key path in summary)."""

    def __init__(self, metas: dict, figure_dir: Path):
        self.metas = metas
        self.figure_dir = figure_dir  # the figures folder, relative to the report
        self.records = []

    def get(self, experiment, *path):
        """The value at metas[experiment][path…], not recorded: for settings, labels and the
        choice of words, never for a printed measurement (that is `num`). KeyError if absent."""
        value = self.metas[experiment]
        for key in path:
            value = value[key]
        return value

    def num(self, experiment, *path, fmt="{:.3g}") -> str:
        """The value at summary.json[path] of `experiment`, formatted, and recorded."""
        value = self.get(experiment, *path)
        text = "n/a" if value is None else fmt.format(value)
        self.records.append({"experiment": experiment, "path": list(path), "value": value,
                             "text": text})
        return text


def trajectory_section(f: Facts) -> list[str]:
    """HW1-2 question 1, "Visualize the optimization process": the runs, the variance the
    PCA plane explains and the off-plane shares (whole model, layer 1), the final test metrics,
    and the figures. Every measured number goes through Facts.num."""
    s = ("trajectory", "summary")
    runs = f.get(*s, "n_runs")
    lines = ["## 1. Visualize the optimization process", "",
             f"{runs} independent runs on `{f.get(*s, 'dataset')}` "
             f"({f.num(*s, 'n_params', fmt='{:d}')} parameters, "
             f"{f.num(*s, 'n_train', fmt='{:d}')} training samples); the weights were collected "
             f"at epoch 0, every {f.get('trajectory', 'config', 'every')} epochs and after the "
             "last epoch. Dimension reduction: one PCA (scikit-learn) fitted on the collected "
             "points of all runs together, so every run is drawn in the same basis; layer 1 is "
             "the block (W₁, b₁) of θ.", ""]
    lines += settings_table(f.get("trajectory", "config"), f.get("trajectory", "summary")) + [""]
    for name, label in (("whole", "Whole model"), ("layer1", "Layer 1")):
        lines.append(
            f"- {label}: PC1 explains "
            f"{f.num(*s, name, 'explained_variance_pc1', fmt='{:.1%}')} and PC2 "
            f"{f.num(*s, name, 'explained_variance_pc2', fmt='{:.1%}')} of the variance of the "
            "collected points; the median share of a point's displacement (from the mean) off the "
            f"PCA plane is {f.num(*s, name, 'off_plane_median', fmt='{:.1%}')} (largest "
            f"{f.num(*s, name, 'off_plane_max', fmt='{:.1%}')}).")
    for metric in ("test_acc", "test_loss"):
        if metric in f.get(*s, "final"):  # a regression run (sinc) has no accuracy
            lines.append(f"- Final {metric.replace('_', ' ')} over the runs: mean "
                         f"{f.num(*s, 'final', metric, 'mean', fmt='{:.4g}')}, standard deviation "
                         f"{f.num(*s, 'final', metric, 'std', fmt='{:.2g}')}.")
    return lines + [""] + _figures(f, "trajectory")


def gradnorm_section(f: Facts) -> list[str]:
    """HW1-2 question 2, "Observe gradient norm during training": per task and series the
    smallest gradient norm, the final values and the largest rise of the smoothed norm while
    the loss fell, and the figures. Every measured number goes through Facts.num."""
    s = ("gradnorm", "summary")
    lines = ["## 2. Gradient norm during training", "",
             f"At every iteration the loss and the gradient p-norm (p = {f.get(*s, 'p')}) are "
             "recorded; minibatch runs also record the loss and the gradient norm on the whole "
             "training set at regular steps. Both curves are drawn on one figure per task.", ""]
    lines += settings_table(f.get("gradnorm", "config"), f.get("gradnorm", "summary")) + [""]
    for task, info in f.get(*s, "tasks").items():
        t = (*s, "tasks", task, "facts")
        for series, facts in info["facts"].items():
            what = "whole training set" if series == "full" else "minibatch"
            lines.append(
                f"- {task} ({info['dataset']}, {what}): the smallest gradient norm, "
                f"{f.num(*t, series, 'min_grad_norm', 'value')}, occurs at iteration "
                f"{f.num(*t, series, 'min_grad_norm', 'step', fmt='{:d}')} where the loss is "
                f"{f.num(*t, series, 'min_grad_norm', 'loss')}; at the end (iteration "
                f"{f.num(*t, series, 'final', 'step', fmt='{:d}')}) the gradient norm is "
                f"{f.num(*t, series, 'final', 'grad_norm')} and the loss "
                f"{f.num(*t, series, 'final', 'loss')}.")
            rise = facts["rise"]
            if rise.get("from_step") is not None:
                verdict = "rose" if rise["occurred"] else "did not rise by the threshold factor"
                lines.append(
                    f"  The smoothed gradient norm {verdict} while the smoothed loss was still "
                    f"falling: largest rise ×{f.num(*t, series, 'rise', 'ratio')} from iteration "
                    f"{f.num(*t, series, 'rise', 'from_step', fmt='{:d}')} to "
                    f"{f.num(*t, series, 'rise', 'to_step', fmt='{:d}')}, while the loss fell "
                    f"from {f.num(*t, series, 'rise', 'loss_from')} to "
                    f"{f.num(*t, series, 'rise', 'loss_to')}.")
    return lines + [""] + _figures(f, "gradnorm")


_LM = ("scipy's Levenberg–Marquardt (least_squares, method {}) on r(θ) = ∇L(θ) with the exact "
       "Hessian as Jacobian")
_NEWTON = ("Newton-MR steps (the least-norm solution of H p = −∇L over the eigenvalues above the "
           "tolerance, damped by a trust region on ‖p‖ that follows the actual decrease of ‖∇L‖²)")
FINDERS = {  # what each --finder does, in the report's words
    "lm": _LM.format("'lm'") + ".",
    "trf": _LM.format("'trf'") + ".",
    "newton": _NEWTON[0].upper() + _NEWTON[1:] + ".",
    "lm+newton": _LM.format("'lm'") + ", then " + _NEWTON + ".",
    "gradnorm": "the slides' method i: L-BFGS on ½‖∇L‖² with its exact gradient H∇L (an HVP).",
}


def minratio_section(f: Facts) -> list[str]:
    """HW1-2 question 3 on the plain MSE: how the points with ∇L ≈ 0 are found, how the minimal
    ratio is defined, the counts per class, the continuation verdicts, the saddles and the
    index–loss fit (every number through Facts.num)."""
    s = ("minratio", "summary")
    c = f.get("minratio", "config")
    lines = ["## 3. What happens when the gradient is almost zero", "",
             "**How the points with ∇L ≈ 0 are found.** Each run trains the network "
             f"{'-'.join(map(str, [1, *c['hidden'], 1]))} ({c['activation']}) on sin(5πx)/(5πx) "
             "from its "
             "own seeded initialization for its own seeded number of steps (spread from early to "
             f"late training), then hands θ to the finder `{c['finder']}`: "
             f"{FINDERS[c['finder']]} A search stops when it no longer makes progress.",
             "",
             "**Classification** (after the search): *critical* when ‖∇L‖² ≤ "
             f"{c['grad_sq_tol']:g} and the truncated Newton step ‖H_τ⁺∇L‖ ≤ "
             f"{c['newton_tol']:g} (in units of θ: it must not loosen as ‖θ‖ grows); "
             "*gradient-flat* when not critical and the gradient "
             f"lies in the Hessian's near-kernel (κ ≥ {c['kappa_tol']:g} or ‖H∇L‖/(‖H‖₂‖∇L‖) ≤ "
             f"{c['cos_tol']:g}); *not converged* otherwise.", "",
             "**Minimal ratio.** The share n₊/n of Hessian eigenvalues λ > τ, τ = max(n·ε, "
             f"{c['rtol']:g})·‖H‖₂: below n·ε·‖H‖₂ the sign of an eigenvalue is rounding noise. "
             "Also reported: the resolved ratio n₊/(n₊ + n₋), the index n₋/n, and the sampled "
             "ratio (the share of random neighbours θ + r·d, ‖d‖ = 1, with a higher loss).", ""]
    lines += settings_table(c) + [""]
    for label in ("critical", "gradient-flat", "not-converged"):
        p = (*s, "per_class", label)
        lines.append(f"- {label}: {f.num(*p, 'count', fmt='{:d}')} of {c['runs']} runs; median "
                     f"final ‖∇L‖ {f.num(*p, 'median_grad_norm')}.")
    lines.append(f"- Critical points that are saddles (n₋ > 0): "
                 f"{f.num(*s, 'critical_saddles', fmt='{:d}')}; critical points whose residual "
                 f"gradient lies in the near-kernel (κ ≥ {c['kappa_tol']:g}, flagged flat): "
                 f"{f.num(*s, 'critical_flat', fmt='{:d}')}. A converged Newton polish leaves "
                 "only that part of ∇L, so after one this flag says how the search ended more "
                 "than "
                 "where; at the start of the searches that end critical the median κ was "
                 f"{f.num(*s, 'per_class', 'critical', 'median_kappa_start', fmt='{:.2g}')}.")
    lines.append("- The losses of the end points span "
                 f"{f.num(*s, 'loss_range', 'decades', fmt='{:.2f}')} decades, from "
                 f"{f.num(*s, 'loss_range', 'min')} to "
                 f"{f.num(*s, 'loss_range', 'max')}.")
    lines.append("- Spearman correlation of the minimal ratio and the loss over the critical "
                 f"points: ρ = {f.num(*s, 'spearman_minimal_ratio_loss')} (p = "
                 f"{f.num(*s, 'spearman_p_value', fmt='{:.2g}')}).")
    decay = c.get("weight_decay", 0.0)
    lines.append(f"- Objective: {'MSE + (λ/2)‖θ‖², λ = %g' % decay if decay else 'the MSE'}. "
                 "A continuation from each critical point says whether it stays put, slides "
                 "along a connected set of critical points, or escapes to infinity (‖θ‖ growing "
                 f"as hidden units saturate): {f.num(*s, 'verdicts', 'stays', fmt='{:d}')} stay, "
                 f"{f.num(*s, 'verdicts', 'manifold', fmt='{:d}')} slide, "
                 f"{f.num(*s, 'verdicts', 'escaping', fmt='{:d}')} escape, "
                 f"{f.num(*s, 'verdicts', 'drifted', fmt='{:d}')} drift off.")
    sad = (*s, "saddles")
    lines.append(f"- Saddles among the critical points that do not escape: "
                 f"{f.num(*sad, 'not_escaping', fmt='{:d}')}; below 0.99·½Var(y) = 0.99·"
                 f"{f.num(*s, 'trivial_loss')} (the constant fit's loss) and staying put: "
                 f"{f.num(*sad, 'nontrivial_staying', fmt='{:d}')}, of which "
                 f"{f.num(*sad, 'distinct', fmt='{:d}')} distinct (loss and spectrum).")
    if f.get(*sad, "index_range"):
        lines.append(f"  Their index n₋ runs from {f.num(*sad, 'index_range', 0, fmt='{:d}')} to "
                     f"{f.num(*sad, 'index_range', 1, fmt='{:d}')}; their MSE spans "
                     f"{f.num(*sad, 'loss_range', 'decades', fmt='{:.2f}')} decades; "
                     f"{f.num(*sad, 'reducible', fmt='{:d}')} of them are reducible — copies of "
                     "a unit, or dead units: critical points of a smaller network, embedded.")
    fit = (*s, "index_loss_fit")
    if f.get(*fit, "spearman"):
        lines.append(f"- Index against loss over the critical points that do not escape: "
                     f"Spearman ρ = {f.num(*fit, 'spearman', 'rho', fmt='{:.2f}')} (95 % "
                     f"bootstrap interval {f.num(*fit, 'spearman', 'low', fmt='{:.2f}')} … "
                     f"{f.num(*fit, 'spearman', 'high', fmt='{:.2f}')}).")
    if f.get(*fit, "power"):
        inside = f.get(*fit, "power", "contains")
        lines.append(f"  Pennington & Bahri's α = α₀·((ε − ε_c)/ε_c)^p: p = "
                     f"{f.num(*fit, 'power', 'exponent', fmt='{:.2f}')} (95 % interval "
                     f"{f.num(*fit, 'power', 'low', fmt='{:.2f}')} … "
                     f"{f.num(*fit, 'power', 'high', fmt='{:.2f}')}); " + (
                         "p sits at its bound: the data do not determine it." if f.get(
                             *fit, "power").get("at_bound") else
                         f"3/2 lies {'inside' if inside else 'outside: the data reject it'}."))
    else:
        lines.append("  No power-law fit: fewer than four distinct losses among the saddles.")
    lines.append(f"- Wall time of the experiment: {f.num(*s, 'wall_time', fmt='{:.1f}')} s.")
    return lines + [""] + _figures(f, "minratio")


def minratio_wd_section(f: Facts) -> list[str]:
    """HW1-2 question 3, second run: the same searches on the coercive L_λ = MSE + (λ/2)‖θ‖²,
    side by side with the plain MSE's counts (every number through Facts.num)."""
    s, m = ("minratio_wd", "summary"), ("minratio", "summary")
    c, c0 = f.get("minratio_wd", "config"), f.get("minratio", "config")
    changed = {k: v for k, v in c.items() if c0.get(k) != v}
    lines = ["**The same searches with a weight decay.** With L_λ = MSE + (λ/2)‖θ‖², "
             f"λ = {c['weight_decay']:g}, no critical point can sit at infinity (L_λ grows "
             "without bound), so a search cannot end on an escaping asymptote. Settings that "
             "differ from the run above:", ""]
    lines += settings_table(changed) + [""]
    lines += ["| | MSE | MSE + (λ/2)‖θ‖² |", "|---|---|---|"]
    for label in ("critical", "gradient-flat", "not-converged"):
        lines.append(f"| {label} | {f.num(*m, 'counts', label, fmt='{:d}')} | "
                     f"{f.num(*s, 'counts', label, fmt='{:d}')} |")
    for key, what in (("stays", "critical, staying put"), ("escaping", "critical, escaping")):
        lines.append(f"| {what} | {f.num(*m, 'verdicts', key, fmt='{:d}')} | "
                     f"{f.num(*s, 'verdicts', key, fmt='{:d}')} |")
    lines.append(f"| non-trivial saddles staying put (distinct) | "
                 f"{f.num(*m, 'saddles', 'distinct', fmt='{:d}')} | "
                 f"{f.num(*s, 'saddles', 'distinct', fmt='{:d}')} |")
    lines.append(f"| wall time, s | {f.num(*m, 'wall_time', fmt='{:.0f}')} | "
                 f"{f.num(*s, 'wall_time', fmt='{:.0f}')} |")
    lines.append(f"| critical, reducible (embedded from a smaller net) | "
                 f"{f.num(*m, 'critical_reducible', fmt='{:d}')} | "
                 f"{f.num(*s, 'critical_reducible', fmt='{:d}')} |")
    more = f.get(*s, "saddles", "distinct") > f.get(*m, "saddles", "distinct")
    lines += ["", "The weight decay " + ("found more finite, non-trivial saddles that stay put, "
                                        "as the coercive objective promises." if more else
                                        "did not find more finite, non-trivial saddles that "
                                        "stay put.") +
              " A reducible critical point — some hidden units copies of one another (up to "
              "sign), or dead — is a critical point of a smaller network, embedded. Searches "
              "reach such points only as the copies merge, along directions whose curvature is "
              "about λ: thousands of evaluations, and a search that stops earlier ends short "
              "of it (`--stall-window` buys longer searches). With the decay the eigenvalue cut "
              f"is capped at τ ≤ λ/10 = {c['weight_decay'] / 10:g}, so every direction curved by "
              "the decay alone counts as curved, in n₊ and in the critical test.", ""]
    return lines + _figures(f, "minratio_wd")


def surface_section(f: Facts) -> list[str]:
    """The HW1-2 bonus, the error surface: per net the line's monotonicity, the PCA plane's
    variance and λ_max, λ_min at θ*; the t-SNE and perturbation facts; four of the ten figures.
    Every measured number goes through Facts.num."""
    s = ("surface", "summary")
    lines = ["## Bonus: the error surface", "",
             "Views of the loss around the trained weights θ*: the straight line from the "
             "initial to the final weights; planes spanned by two filter-normalized random "
             "directions, by the two leading PCA directions of the training path, and by the "
             "Hessian eigenvectors of the largest and the most negative eigenvalue; a t-SNE "
             "embedding of a second-order run and of sampled neighbours; and the loss with each "
             "parameter perturbed alone.", ""]
    lines += settings_table(f.get("surface", "config"), f.get("surface", "summary")) + [""]
    for net in ("sinc", "dnn"):
        plane = (*s, f"{net}_plane")
        lines.append(
            f"- {net}: the training loss along the start→end line is "
            f"{'monotone' if f.get(*s, f'{net}_line', 'monotone_train') else 'not monotone'}; "
            f"the PCA plane holds {f.num(*plane, 'pca_explained_variance', 0, fmt='{:.1%}')} + "
            f"{f.num(*plane, 'pca_explained_variance', 1, fmt='{:.1%}')} of the path's variance; "
            f"λ_max = {f.num(*plane, 'lam_max')}, λ_min = {f.num(*plane, 'lam_min')} at θ*.")
    t = (*s, "tiny_tsne")
    lines.append(f"- t-SNE example: gradient descent reached L = {f.num(*t, 'gd_loss')}, the "
                 f"second-order steps L = {f.num(*t, 'newton_loss')}; t-SNE KL divergence "
                 f"{f.num(*t, 'kl_divergence')}. t-SNE preserves neighbourhoods, not distances.")
    lines.append(f"- Perturbation view: the exact Hessian diagonal H_ii ranges from "
                 f"{f.num(*s, 'sinc_perturb', 'H_diag_min')} to "
                 f"{f.num(*s, 'sinc_perturb', 'H_diag_max')}.")
    shown = ("surface_line_dnn", "surface_plane_hessian_sinc", "surface_tsne",
             "surface_perturb_sinc")  # four of the ten views: the PDF has a 10-page limit
    rest = [n for n in FIGURES["surface"] if n not in shown]
    lines.append(f"- Also drawn, in the figures folder: {', '.join(rest)}.")
    return lines + [""] + figures(f, "surface", shown)


def spectrum_section(f: Facts) -> list[str]:
    """The appendix, Hessian spectra at the end of training: the sign counts of H and G at τ
    on the sinc net, its loss and ‖R‖/‖H‖; the DNN's trace ± SE, λ_max and test accuracy; the
    figures. Every measured number goes through Facts.num."""
    s = ("spectrum", "summary")
    lines = ["## Appendix: Hessian spectra at the end of training", ""]
    lines += settings_table(f.get("spectrum", "config"), f.get("spectrum", "summary")) + [""]
    for name, label in (("H", "H"), ("G", "its Gauss–Newton part G = JᵀΛJ")):
        c = (*s, "sinc", "counts", name)
        lines.append(
            f"- sinc net, {label}: n₊ = {f.num(*c, 'n_pos', fmt='{:d}')}, n₋ = "
            f"{f.num(*c, 'n_neg', fmt='{:d}')}, n₀ = {f.num(*c, 'n_zero', fmt='{:d}')} at τ = "
            f"{f.num(*c, 'tau')}; the raw share of eigenvalues > 0 with no tolerance is "
            f"{f.num(*c, 'raw_positive_share', fmt='{:.2f}')}.")
    lines.append(f"- sinc net: loss {f.num(*s, 'sinc', 'loss')}, ‖R‖/‖H‖ = "
                 f"{f.num(*s, 'sinc', 'residual_share')}.")
    d = (*s, "dnn")
    lines.append(f"- {f.get(*d, 'dataset')} DNN ({f.num(*d, 'n_params', fmt='{:d}')} parameters): "
                 f"tr H = {f.num(*d, 'trace')} ± {f.num(*d, 'trace_se', fmt='{:.2g}')} "
                 f"(Hutchinson), λ_max = {f.num(*d, 'lambda_max')} (Lanczos), test accuracy "
                 f"{f.num(*d, 'test_acc', fmt='{:.1%}')}.")
    return lines + [""] + _figures(f, "spectrum")


def section_writers() -> dict:
    """{section: writer}; HW1-1 and HW1-3 live in experiments.report_hw1 (imported here, late,
    because that module builds on this one)."""
    from .report_hw1 import deepshallow_section, generalization_section

    return {"deepshallow": deepshallow_section, "trajectory": trajectory_section,
            "gradnorm": gradnorm_section, "minratio": minratio_section,
            "minratio_wd": minratio_wd_section,
            "surface": surface_section, "generalization": generalization_section,
            "spectrum": spectrum_section}


def _figures(f: Facts, section: str) -> list[str]:
    return figures(f, section, FIGURES[section])

def figures(f: Facts, section: str, names) -> list[str]:
    """Markdown image lines of the named figures of a section (each must be in FIGURES)."""
    unknown = [n for n in names if n not in FIGURES[section]]
    if unknown:
        raise ValueError(f"figures {unknown} are not figures of {section}")
    folder = f.figure_dir.as_posix()
    return [f"![{name}]({folder}/{name}.png)" for name in names] + [""]
