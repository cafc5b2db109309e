"""The report's sections for HW1-2 questions 1 and 2 (the optimization path, the gradient norm),
the bonus (the error surface) and the appendix (the Hessian spectrum); each a function of
`Facts` returning markdown lines, every number through `Facts.num`.
"""
from __future__ import annotations

from experiments.report.facts import FIGURES, Facts, figures, section_figures, settings_table


def trajectory_section(f: Facts) -> list[str]:
    """HW1-2 question 1, "Visualize the optimization process": the runs, the variance the
    PCA plane explains and the off-plane shares (whole model, layer 1), the final test metrics,
    and the figures. Every measured number goes through Facts.num."""
    s = ("trajectory", "summary")
    runs = f.get(*s, "n_runs")
    lines = ["## 1-2.1 Visualize the optimization process — settings (1 %); 8 runs, one layer and "
             "the whole model in separate figures (1 %); comment (1 %)", "",
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
    lines += [""] + section_figures(f, "trajectory")
    w = (*s, "whole")
    whole = f.get(*w)
    if whole.get("start_distance_median") and "motion_explained_variance_pc1" in whole:
        start_far = whole["travel_median"] < whole["start_distance_median"]
        lines += [
            "**Comment.** Each run moves its weights a median distance "
            f"{f.num(*w, 'travel_median')} while the runs start a median "
            f"{f.num(*w, 'start_distance_median')} apart"
            + (": independent initializations lie far apart in a space of this many parameters, "
               "and training moves each only a short way, so in the joint PCA (a) every run "
               "stays near its own start: different initializations end in different places, "
               "and the joint picture mostly shows where the runs started." if start_far else
               ": training moves the runs further than their starts lie apart, so the joint PCA "
               "(a) shows the motion as much as the starts.")
            + " The PCA of the displacements θ_t − θ_0 (b) puts every start at the origin and "
            f"shows the motion itself: its two axes hold "
            f"{f.num(*w, 'motion_explained_variance_pc1', fmt='{:.0%}')} and "
            f"{f.num(*w, 'motion_explained_variance_pc2', fmt='{:.0%}')} of the displacements' "
            "variance (the joint axes "
            f"{f.num(*w, 'explained_variance_pc1', fmt='{:.0%}')} and "
            f"{f.num(*w, 'explained_variance_pc2', fmt='{:.0%}')}). Layer 1 alone tells the "
            "same story in fewer dimensions; its picture differs from the whole model's because "
            "the other layers move too. How sure: one PCA over all runs, so the runs share "
            "coordinates; a 2-D picture of a high-dimensional path hides the share off the "
            "plane given in each panel's title.", ""]
    return lines


def gradnorm_section(f: Facts) -> list[str]:
    """HW1-2 question 2, "Observe gradient norm during training": per task and series the
    smallest gradient norm, the final values and the largest rise of the smoothed norm while
    the loss fell, and the figures. Every measured number goes through Facts.num."""
    s = ("gradnorm", "summary")
    lines = ["## 1-2.2 Observe the gradient norm during training — gradient norm and loss "
             "against iterations in one figure (1 %); comment (1 %)", "",
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
                f"{f.num(*t, series, 'end', 'grad_norm')} and the loss "
                f"{f.num(*t, series, 'end', 'loss')} (medians over the last window).")
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
    lines += [""] + gradnorm_figures(f)
    rises = [(task, info["dataset"]) for task, info in f.get(*s, "tasks").items()
             if info["facts"]["full"]["rise"].get("occurred")]
    lines += ["**Comment.** The loss falls on both tasks while the gradient norm does not simply "
              "fall with it. "
              + ("On " + " and ".join(d for _, d in rises) + " the smoothed whole-data gradient "
                 "norm rose by at least the rise factor while the smoothed loss was still "
                 "falling (the rule of experiments.gradnorm, on a centred smoother with no "
                 "edge values). Why: ‖∇L‖ measures the slope where the optimizer stands, not how "
                 "far the minimum is; leaving the flat region around the initialization, the "
                 "path enters a steeper, narrower valley, where the slope is larger although "
                 "the loss is lower, and Adam's per-parameter steps keep it oscillating across "
                 "the valley's walls. " if rises else
                 "No rise of the smoothed whole-data gradient norm reached the rise factor while "
                 "the loss fell: the data do not show the gradient norm rising during "
                 "training here. ")
              + "A small gradient norm is not the end of training either: the loss keeps "
              "falling after ‖∇L‖ has reached its smallest value on a plateau. How sure: one "
              "seed per task; the end values are medians over the last smoothing window, so a "
              "single Adam spike does not set them.", ""]
    return lines


def gradnorm_figures(f: Facts) -> list[str]:
    """The gradient-norm figures, the DNN's named by its data (gradnorm_digits …)."""
    folder = f.figure_dir.as_posix()
    names = ["gradnorm_" + ("sinc" if t == "sinc" else i["dataset"])
             for t, i in f.get("gradnorm", "summary", "tasks").items()]
    return [f"![{n}]({folder}/{n}.png)" for n in names] + [""]


def surface_section(f: Facts) -> list[str]:
    """The HW1-2 bonus, the error surface: per net the line's monotonicity, the PCA plane's
    variance and λ_max, λ_min at θ*; the t-SNE and perturbation facts; four of the ten figures.
    Every measured number goes through Facts.num."""
    s = ("surface", "summary")
    lines = ["## 1-2 Bonus: visualize the error surface — the method and a comment (1 %)", "",
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
    return lines + [""] + section_figures(f, "spectrum")
