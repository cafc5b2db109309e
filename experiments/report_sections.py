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
    """{section: writer}; HW1-1 and HW1-3 live in experiments.report_hw1, the minimal ratio's two
    runs in experiments.report_minratio (imported here, late, because they build on this one)."""
    from .report_hw1 import deepshallow_section, generalization_section
    from .report_minratio import minratio_section, minratio_wd_section

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
