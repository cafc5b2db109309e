"""The report's sections for HW1-2 questions 1 and 2 (the optimization path, the gradient norm),
the bonus (the error surface) and the appendix (the Hessian spectrum); each a function of
`Facts` returning markdown lines, every number through `Facts.num`.
"""
from __future__ import annotations

from experiments.report.facts import Facts, figures, section_figures
from plots.common import data_name

OPTIMIZERS = {"adam": "Adam", "sgd": "SGD"}


def model_text(sizes, activation, n_params: str) -> str:
    """'64-128-64-10 relu, 17098 parameters' (n_params already formatted by Facts.num)."""
    return f"{'-'.join(map(str, sizes))} {activation}, {n_params} parameters"


def trajectory_section(f: Facts) -> list[str]:
    """HW1-2 question 1, "Visualize the optimization process": the runs, the variance the
    PCA plane explains and the off-plane shares (whole model, layer 1), the final test metrics,
    and the figures. Every measured number goes through Facts.num."""
    s = ("trajectory", "summary")
    runs = f.get(*s, "n_runs")
    c = f.get("trajectory", "config")
    lines = ["## 1-2.1 Visualize the optimization process — settings (1 %); 8 runs, one layer and "
             "the whole model in separate figures (1 %); comment (1 %)", ""]
    lines += f.settings("trajectory", [
        ("task", f"{data_name(f.get(*s, 'dataset'))}, {f.num(*s, 'n_train', fmt='{:d}')} "
                 "training samples, cross-entropy"),
        ("model", model_text(f.get(*s, "sizes"), c["activation"],
                             f.num(*s, "n_params", fmt="{:d}"))),
        ("optimizer", f"{OPTIMIZERS.get(c['optimizer'], c['optimizer'])}, learning rate "
                      f"{f.setting('trajectory', 'lr')}, batch {c['batch_size']}, "
                      f"{c['epochs']} epochs"),
        ("weights recorded", f"at epoch 0, every {c['every']} epochs and after the last"),
        ("dimension reduction", "PCA (scikit-learn): (a) one fit on the points of all runs "
                                "together; (b) one fit on all runs' displacements θₜ − θ₀"),
        ("runs", f"{runs} independent initializations (seeds spawned from seed {c['seed']})"),
    ])
    lines.append("- Whole model and layer 1: the median share of a point's displacement (from "
                 "the mean) off the PCA plane is "
                 f"{f.num(*s, 'whole', 'off_plane_median', fmt='{:.0%}')} and "
                 f"{f.num(*s, 'layer1', 'off_plane_median', fmt='{:.0%}')}: what the picture "
                 "hides.")
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
            + " The PCA of the displacements θₜ − θ₀ (b) puts every start at the origin and "
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
    c = f.get("gradnorm", "config")
    rows = []
    for task, info in f.get(*s, "tasks").items():
        t = (*s, "tasks", task)
        batch = ("full batch" if info["full_batch"] else
                 f"batch {f.num(*t, 'batch_size', fmt='{:d}')}, the whole set every "
                 f"{f.num(*t, 'full_every', fmt='{:d}')} steps")
        rows.append((f"task {task}", f"{data_name(info['dataset'])}, "
                     f"{f.num(*t, 'n_train', fmt='{:d}')} training samples, "
                     f"{'MSE' if info['loss'] == 'mse' else 'cross-entropy'}; "
                     f"{'-'.join(map(str, info['sizes']))} {info['activation']}; Adam, learning "
                     f"rate {f.num(*t, 'lr', fmt='{:g}')}, {f.num(*t, 'n_steps', fmt='{:d}')} "
                     f"iterations, {batch}"))
    rows.append(("smoothing", f"centred moving average of log values over {c['smooth']:.0%} of "
                              f"a series; a rise counts at ×{c['rise_factor']:g} while the loss "
                              f"is ≥ {c['rise_loss_drop']:.0%} lower"))
    lines += f.settings("gradnorm", rows)
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
    lines += [""] + section_figures(f, "gradnorm")
    rises = [(task, info["dataset"]) for task, info in f.get(*s, "tasks").items()
             if info["facts"]["full"]["rise"].get("occurred")]
    lines += ["**Comment.** The loss falls on both tasks while the gradient norm does not simply "
              "fall with it. "
              + ("On " + " and ".join(d for _, d in rises) + " the smoothed whole-data gradient "
                 "norm rose by at least the rise factor while the smoothed loss was still "
                 "falling (the rule of experiments.gradnorm, on a centred smoother with no "
                 "edge values). ‖∇L‖ measures the slope where the optimizer stands, not how "
                 "far the minimum is; a likely reason, not measured here: the path enters "
                 "steeper, narrower valleys, where the slope is larger although the loss is "
                 "lower, and Adam's per-parameter steps keep it oscillating across their "
                 "walls. " if rises else
                 "No rise of the smoothed whole-data gradient norm reached the rise factor while "
                 "the loss fell: the data do not show the gradient norm rising during "
                 "training here. ")
              + _smallest_norm_sentence(f, bool(rises))
              + "How sure: one seed per task; the end values are medians over the last "
              "smoothing window, so a single Adam spike does not set them.", ""]
    return lines


def _smallest_norm_sentence(f: Facts, rose: bool) -> str:
    """Where the smallest gradient norm of each series falls in training, and whether the loss
    fell further after it (the end's median loss below the loss there); rose: whether a rise of
    the gradient norm was found (the comment's sentence before)."""
    s = ("gradnorm", "summary")
    fell, late = [], True
    for task, info in f.get(*s, "tasks").items():
        for series, facts in info["facts"].items():
            low, final = facts["min_grad_norm"], facts["final"]
            late &= low["step"] >= 0.9 * final["step"]
            if low["step"] < 0.9 * final["step"] and facts["end"]["loss"] < low["loss"]:
                t = (*s, "tasks", task, "facts", series)
                fell.append(f"{info['dataset']} ({'whole set' if series == 'full' else series}"
                            f"): iteration {f.num(*t, 'min_grad_norm', 'step', fmt='{:d}')} of "
                            f"{f.num(*t, 'final', 'step', fmt='{:d}')}, the loss then "
                            f"{f.num(*t, 'min_grad_norm', 'loss')} and at the end "
                            f"{f.num(*t, 'end', 'loss')}")
    if fell:
        return ("A small gradient norm is not the end of training either: the loss fell "
                "further after the smallest gradient norm of " + "; ".join(fell) + ". ")
    return (("In every series the smallest gradient norm comes in the last tenth of training: "
             "here a small gradient norm did come at the end" if late else
             "Where the smallest gradient norm came before the last tenth of training, the loss "
             "did not fall further after it")
            + ("; the rises above show that ‖∇L‖ alone still says little about how far the "
               "minimum is. " if rose else ". "))


def surface_section(f: Facts) -> list[str]:
    """The HW1-2 bonus, the error surface: per net the line's monotonicity, the PCA plane's
    variance and λₘₐₓ, λₘᵢₙ at θ*; the t-SNE and perturbation facts; four of the ten figures.
    Every measured number goes through Facts.num."""
    s = ("surface", "summary")
    lines = ["## 1-2 Bonus: visualize the error surface — the method and a comment (1 %)", "",
             "Views of the loss around the trained weights θ*: the straight line from the "
             "initial to the final weights; planes spanned by two filter-normalized random "
             "directions, by the two leading PCA directions of the training path, and by the "
             "Hessian eigenvectors of the largest and the most negative eigenvalue; a t-SNE "
             "embedding of a second-order run and of sampled neighbours; and the loss with each "
             "parameter perturbed alone. The Hessian's extreme eigenpairs come from its exact "
             "eigendecomposition (sinc) or Lanczos on Hessian-vector products (DNN).", ""]
    rows = []
    for net in ("sinc", "dnn"):
        u = (*s, f"{net}_train")
        info = f.get(*u)
        rows.append((f"net {net}", f"{data_name(info['data'])}, "
                     f"{f.num(*u, 'n_train', fmt='{:d}')} training samples; "
                     f"{'-'.join(map(str, info['sizes']))}, "
                     f"{f.num(*u, 'n_params', fmt='{:d}')} parameters"))
    rows.append(("training", f"Adam: sinc learning rate {f.setting('surface', 'sinc_lr')}, "
                             f"{f.setting('surface', 'sinc_epochs')} epochs; DNN "
                             f"{f.setting('surface', 'dnn_lr')}, "
                             f"{f.setting('surface', 'dnn_epochs')} epochs"))
    lines += f.settings("surface", rows)
    for net in ("sinc", "dnn"):
        plane = (*s, f"{net}_plane")
        lines.append(
            f"- {net}: the training loss along the start→end line is "
            f"{'monotone' if f.get(*s, f'{net}_line', 'monotone_train') else 'not monotone'}; "
            f"the PCA plane holds {f.num(*plane, 'pca_explained_variance', 0, fmt='{:.1%}')} + "
            f"{f.num(*plane, 'pca_explained_variance', 1, fmt='{:.1%}')} of the path's variance; "
            f"λₘₐₓ = {f.num(*plane, 'lam_max')}, λₘᵢₙ = {f.num(*plane, 'lam_min')} at θ*.")
    t = (*s, "tiny_tsne")
    lines.append(f"- t-SNE example: gradient descent reached L = {f.num(*t, 'gd_loss')}, the "
                 f"second-order steps L = {f.num(*t, 'newton_loss')}; t-SNE KL divergence "
                 f"{f.num(*t, 'kl_divergence')}. t-SNE preserves neighbourhoods, not distances.")
    lines.append(f"- Perturbation view: the exact Hessian diagonal Hᵢᵢ ranges from "
                 f"{f.num(*s, 'sinc_perturb', 'H_diag_min')} to "
                 f"{f.num(*s, 'sinc_perturb', 'H_diag_max')}.")
    shown = ("surface_plane_hessian_sinc",)  # 1 of 10 views: the report has 10 pages
    lines.append(f"- Also drawn, in the figures folder: the other {len(f.figures['surface']) - 1}"
                 " views (`surface_line_dnn`: the start→end line of the DNN).")
    return lines + [""] + figures(f, "surface", shown) + surface_comment(f)


def surface_comment(f: Facts) -> list[str]:
    """The **Comment** of the bonus: what the line, the PCA plane, the Hessian plane and the
    t-SNE show, each sentence chosen by the saved facts."""
    s = ("surface", "summary")
    monotone = [net for net in ("sinc", "dnn") if f.get(*s, f"{net}_line", "monotone_train")]
    text = ("**Comment.** "
            + ("Along the straight line from the initial to the trained weights the training "
               "loss falls without a bump on " + (" and ".join(monotone)) + ": no barrier "
               "separates start and end on that line (as Goodfellow et al. 2015 found for many "
               "nets), although the optimizer did not travel along it. " if monotone else
               "The training loss is not monotone along the straight line from the initial "
               "to the trained weights: a barrier lies on that line, which the optimizer went "
               "around. "))
    pc1 = {net: f.get(*s, f"{net}_plane", "pca_explained_variance")[0] for net in ("sinc", "dnn")}
    if min(pc1.values()) > 0.5:
        text += ("The training path is close to one-dimensional: its first PCA direction holds "
                 "most of its variance on both nets (the bullets above), so the PCA plane shows "
                 "nearly all of the path but only two of the many directions around it. ")
    flat = [net for net in ("sinc", "dnn") if
            f.get(*s, f"{net}_plane", "lam_min") < 0 and
            abs(f.get(*s, f"{net}_plane", "lam_min")) < 0.01 * f.get(*s, f"{net}_plane",
                                                                      "lam_max")]
    if flat:
        text += ("At θ* of " + " and ".join(flat) + " the most negative Hessian eigenvalue is "
                 "below 1 % of λₘₐₓ in magnitude: a few directions still curve down, but "
                 "barely — θ* lies near the flat floor of a valley, not at the bottom of a round "
                 "bowl, which the Hessian plane shows as a basin stretched along the λₘᵢₙ "
                 "direction. ")
    p = (*s, "sinc_perturb")
    if f.get(*p, "H_diag_min") > 0 and f.get(*p, "H_diag_max") > 100 * f.get(*p, "H_diag_min"):
        text += ("Perturbed one at a time, the parameters' curvatures Hᵢᵢ differ by more than "
                 "a factor 100 (the bullet above): the loss is steep along a few parameters and "
                 "flat along most, so how sharp θ* looks depends on the direction one looks in. ")
    t = f.get(*s, "tiny_tsne")
    text += (("The second-order steps reached a lower loss than gradient descent on the tiny "
              "net; " if t["newton_loss"] < t["gd_loss"] else
              "The second-order steps did not reach a lower loss than gradient descent on the "
              "tiny net; ")
             + "t-SNE keeps neighbourhoods, not distances, so only which points are near one "
             "another can be read from it. How sure: one seed per net and one plane per view; "
             "a plane shows two of the n directions, and random directions (filter-normalized, "
             "Li et al. 2018) rarely meet the few sharp ones.")
    return [text, ""]


def spectrum_section(f: Facts) -> list[str]:
    """The Hessian spectra at the end of training, which the template does not ask for: one
    sentence saying what was computed and where it is (its figures stay in the figures folder:
    the report has ten pages)."""
    f.settings("spectrum", [])  # every setting in facts.json; the figures in the folder
    return []
