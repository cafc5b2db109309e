"""The report's sections for HW1-1 (deep vs shallow) and HW1-3 (generalization), in the order of
the course's report template; each a function of `Facts` returning markdown lines.

As in experiments.report.facts: every number goes through `Facts.num` (recorded with its
path in summary.json), settings come from the saved configs, and every comment is chosen by the
measured facts — where a measurement contradicts the textbook expectation, the text says so.
"""
from __future__ import annotations

from experiments.report.facts import Facts, figures, settings_table

NAMES = {"sinc": "sin(5πx)/(5πx)", "sign": "sign(sin(5πx))", "damped_cos": "exp(−x²)cos(4πx)",
         "poly": "4x³ − 3x"}
MEASURE_NAMES = {"sensitivity": "the sensitivity", "lambda_max": "λ_max",
                 "sharpness": "the ε-sharpness"}


def deepshallow_section(f: Facts) -> list[str]:
    """HW1-1, deep vs shallow: question 1 "Simulate a function" (per target, the depths
    ranked by median final training loss) and question 2 "Train on an actual task" (ranking,
    accuracies, training time), each with its figures. Every measured number goes through
    Facts.num."""
    s, c = ("deepshallow", "summary"), f.get("deepshallow", "config")
    lines = ["## 1. Simulate a function", "",
             f"Models with {', '.join(map(str, c['depths']))} hidden layers "
             f"({c['activation']}) with the parameter count of the one-hidden-layer net (within "
             f"2 %, the widths solved by engine.nets.budget; largest spread "
             f"{f.num(*s, 'budget_spread', fmt='{:.1%}')}), each trained from {c['seeds']} seeds "
             f"by full-batch Adam on a grid of {c['function_samples']} points in [−1, 1]; the "
             "loss is the MSE ½·mean (f − y)².", ""]
    lines += settings_table(f.get("deepshallow", "config"), f.get(*s)) + [""]
    for name in c["functions"]:
        lines += _ranking(f, (*s, "functions", name), f"On {NAMES.get(name, name)}")
    lines += figures(f, "deepshallow", ("deepshallow_functions_loss", "deepshallow_functions_fit"))
    task = (*s, "task")
    lines += ["## 2. Train on an actual task", "",
              f"{f.get(*s, 'dataset')} ({f.num(*s, 'n_train', fmt='{:d}')} training samples), "
              f"cross-entropy, Adam (lr {c['lr']:g}), batch {c['batch_size']}, "
              f"{c['task_epochs']} epochs, the same depths at the budget of the "
              f"{c['task_width']}-unit one-hidden-layer net.", ""]
    lines += _ranking(f, task, "On the training loss")
    for depth in map(str, c["depths"]):
        m = (*task, "models", depth)
        lines.append(f"- {depth} hidden: median final training accuracy "
                     f"{f.num(*m, 'train_acc_median', fmt='{:.1%}')}, test accuracy "
                     f"{f.num(*m, 'test_acc_median', fmt='{:.1%}')}.")
    test = {d: f.get(*task, "models", str(d), "test_acc_median") for d in c["depths"]}
    best_test = max(test, key=test.get)
    lines.append(f"- The best median test accuracy belongs to the {best_test}-hidden-layer net"
                 + (", the same net as the lowest training loss." if best_test == f.get(
                     *task, "best_depth") else ", not to the net with the lowest training loss: "
                    "fitting the training set better did not generalize better here."))
    lines.append(f"- Training time summed over the {len(f.get(*s, 'functions')) + 1} × "
                 f"{len(c['depths'])} × {c['seeds']} models: "
                 f"{f.num(*s, 'unit_time_total', fmt='{:.0f}')} s (they run in parallel).")
    return lines + [""] + figures(f, "deepshallow", ("deepshallow_task",))


def _ranking(f: Facts, p, lead) -> list[str]:
    """The table of one target's models and the comment on their ranking."""
    facts = f.get(*p)
    rows = ["| hidden layers | sizes | parameters | final training loss: median | min | max |",
            "|---|---|---|---|---|---|"]
    for depth, m in facts["models"].items():
        q = (*p, "models", depth)
        rows.append(f"| {depth} | {'-'.join(map(str, m['sizes']))} | "
                    f"{f.num(*q, 'n_params', fmt='{:d}')} | {f.num(*q, 'final_loss_median')} | "
                    f"{f.num(*q, 'final_loss_min')} | {f.num(*q, 'final_loss_max')} |")
    best, runner = facts["best_depth"], facts["runner_up_depth"]
    deepest, shallowest = max(map(int, facts["models"])), min(map(int, facts["models"]))
    b, r = facts["models"][str(best)], facts["models"][str(runner)]
    overlap = b["final_loss_max"] >= r["final_loss_min"]
    text = (f"- {lead}, the {best}-hidden-layer net reached the lowest median training loss, "
            f"{f.num(*p, 'factor_to_runner_up', fmt='{:.2f}')}× below the {runner}-hidden-layer "
            f"net; it was the best in {f.num(*p, 'best_in_seeds', fmt='{:d}')} of "
            f"{f.num(*p, 'n_seeds', fmt='{:d}')} seeds, and the ranking "
            + ("is the same in every seed. " if facts["same_ranking_every_seed"] else
               "changes between seeds. ")
            + ("The ranges over seeds overlap, so the order of these two is within the seed "
               "spread. " if overlap else "The ranges over seeds do not overlap. "))
    if best == deepest:
        text += "This agrees with the usual expectation that depth helps at an equal budget."
    elif best == shallowest:
        text += ("This contradicts the usual expectation that depth helps at an equal budget: "
                 "the shallowest net fit best here.")
    else:
        text += "Neither the deepest nor the shallowest net fit best."
    return rows + ["", text, ""]


def generalization_section(f: Facts) -> list[str]:
    """HW1-3, generalization: fitting random labels, the number of parameters against
    generalization, and flatness (interpolation; sensitivity, λ_max and ε-sharpness against the
    batch size), each with its figures. Every measured number goes through Facts.num."""
    s, c = ("generalization", "summary"), f.get("generalization", "config")
    r = (*s, "random")
    rnd = f.get(*r)
    lines = ["## 1. Can the network fit random labels?", "",
             f"{f.get(*s, 'dataset')}: {f.num(*s, 'n_train', fmt='{:d}')} training samples whose "
             f"labels were permuted once (seeded; {f.num(*r, 'labels_unchanged', fmt='{:.0%}')} "
             "kept their label by chance), the test labels kept. The network "
             f"{'-'.join(map(str, rnd['sizes']))} has {f.num(*r, 'n_params', fmt='{:d}')} "
             f"parameters; Adam (lr {c['lr']:g}), batch {c['random_batch']}, until the training "
             f"accuracy reaches {c['random_target_acc']:g} or {c['random_max_epochs']} epochs.",
             "", *settings_table(c, f.get(*s)), "",
             f"- Stopped by {'the accuracy target' if rnd['stopped_by'] == 'rule' else 'the cap'}"
             f" after {f.num(*r, 'epochs', fmt='{:d}')} epochs: training accuracy "
             f"{f.num(*r, 'final_train_acc', fmt='{:.1%}')}, test accuracy "
             f"{f.num(*r, 'final_test_acc', fmt='{:.1%}')} (chance: 10 %).",
             f"- The test loss was lowest at epoch {f.num(*r, 'min_test_loss_epoch', fmt='{:d}')}"
             f" ({f.num(*r, 'min_test_loss')}) and ended at {f.num(*r, 'final_test_loss')}"
             + (": the more the net memorized labels that carry no information, the worse it "
                "predicted new data." if rnd["final_test_loss"] > 1.1 * rnd["min_test_loss"]
                else ": it did not rise by more than 10 %, unlike the usual picture."), ""]
    lines += figures(f, "generalization", ("generalization_random",))
    p = (*s, "parameters")
    par = f.get(*p)
    sat, big = par["saturation_n_params"], par["n_params_max"]
    lines += ["## 2. Number of parameters against generalization", "",
              f"{len(c['widths'])} nets of one hidden layer (widths {c['widths'][0]} … "
              f"{c['widths'][-1]}: {f.num(*p, 'n_params_min', fmt='{:d}')} to "
              f"{f.num(*p, 'n_params_max', fmt='{:d}')} parameters, "
              f"{f.num(*p, 'decades', fmt='{:.2f}')} decades), {c['width_seeds']} seed(s) each, "
              f"Adam (lr {c['lr']:g}), batch {c['width_batch']}. One stopping rule for all: "
              f"training loss ≤ 1e-3, or less than 1 % lower after {c['width_patience']} epochs, "
              f"or {c['width_max_epochs']} epochs; {f.num(*p, 'stopped_by_rule', fmt='{:d}')} of "
              f"{f.num(*p, 'n_models', fmt='{:d}')} stopped by the rule, the rest by the cap.", "",
              f"- Median test accuracy: {f.num(*p, 'test_acc_smallest', fmt='{:.1%}')} at the "
              f"smallest net, {f.num(*p, 'test_acc_largest', fmt='{:.1%}')} at the largest; "
              f"within 1 point of its best ({f.num(*p, 'test_acc_best', fmt='{:.1%}')}) from "
              f"{f.num(*p, 'saturation_n_params', fmt='{:d}')} parameters on"
              + (": it was still rising at the largest net, no saturation in this range."
                 if sat == big else
                 ": it peaks inside the range and is more than a point lower at the largest net."
                 if par["test_acc_largest"] < par["test_acc_best"] - 0.01 else
                 ": test accuracy saturates inside the range, as more parameters stop helping."),
              f"- Median test loss lowest at {f.num(*p, 'test_loss_best_n_params', fmt='{:d}')} "
              f"parameters ({f.num(*p, 'test_loss_best')}), {f.num(*p, 'test_loss_largest')} at "
              "the largest net"
              + (" (the same net: it kept falling)" if par["test_loss_best_n_params"] == big
                 else "")
              + ((": an interior minimum, while the test accuracy holds — the larger nets are "
                  "more confident on the test points they get wrong." if par["test_acc_largest"]
                  >= par["test_acc_best"] - 0.01 else ": an interior minimum.")
                 if par["test_loss_interior_minimum"] else ": no interior minimum in this range."),
              f"- Generalization gap (test − training loss, median): "
              f"{f.num(*p, 'gap_smallest', fmt='{:.3g}')} at the smallest net, "
              f"{f.num(*p, 'gap_largest', fmt='{:.3g}')} at the largest.", ""]
    lines += figures(f, "generalization", ("generalization_params",))
    return lines + _flatness(f, c)


def _flatness(f: Facts, c) -> list[str]:
    s = ("generalization", "summary")
    fl = (*s, "flatness")
    b1, b2 = c["interp_pair"]
    lines = ["## 1-3.3 Flatness, part 1: interpolation — task and the two training approaches "
             "(0.5 %); train and test loss and accuracy against the interpolation ratio (1 %); "
             "comment (1 %)", "",
             f"The net with hidden layers {'-'.join(map(str, c['hidden']))} ("
             f"{f.num(*fl, 'n_params', fmt='{:d}')} parameters) trained from one shared "
             f"initialization with each batch size until the training loss ≤ "
             f"{c['target_loss']:g} or {c['max_steps']} steps (the same loss, not the same "
             "epochs: a fixed epoch budget would leave the large batches under-trained); "
             f"{f.num(*fl, 'stopped_by_rule', fmt='{:d}')} of {f.num(*fl, 'n_models', fmt='{:d}')}"
             f" reached the loss. Along θ(α) = (1 − α)θ₁ + αθ₂, α ∈ [−1, 2] ({c['n_alphas']} "
             "points, one batched evaluation), the loss and accuracy on all training and test "
             "data.", ""]
    for name, (one, two) in (("batch", (f"batch {b1}", f"batch {b2}")),
                             ("lr", (f"lr {c['lr']:g}", f"lr {c['lr_variant']:g}"))):
        q = (*s, "interpolation", name)
        lines.append(
            f"- {one} (α = 0) → {two} (α = 1): training loss {f.num(*q, 'train_loss_a')} and "
            f"{f.num(*q, 'train_loss_b')}; between them it exceeds the higher end by at most "
            f"{f.num(*q, 'barrier')}; a quarter of the distance beyond each end the training "
            f"loss rises by {f.num(*q, 'rise_beyond_a')} ({one}) and "
            f"{f.num(*q, 'rise_beyond_b')} ({two}). Over every distance beyond the ends: "
            + f.claim("steeper", "generalization",
                      {"alpha": ("arrays", f"interp_{name}_alpha"),
                       "loss": ("arrays", f"interp_{name}_train_loss")},
                      name_a=one, name_b=two).text + ".")
    lines += [""] + figures(f, "generalization", ("generalization_interp",))
    lines += ["**Comment.** Keskar et al. (2017) picture large-batch minima as sharp: the loss "
              "should rise faster beyond the large-batch end. The rule above says whether the "
              "data show one end steeper over the whole range compared; a comparison that flips "
              "with the distance is not a difference in sharpness. Sharpness along one line also "
              "depends on how the line is scaled (Dinh et al. 2017): a reparametrization can "
              "make any minimum look sharp, so this view alone cannot settle whether flat minima "
              "generalize better.", ""]
    lines += ["## 1-3.4 Flatness, part 2: sensitivity — task and at least 5 training approaches "
              "(0.5 %); train and test loss and accuracy, and sensitivity, against the batch "
              "size (1 %); comment (1 %)", "",
              f"Batch sizes {', '.join(map(str, c['batch_sizes']))}. Sensitivity (Novak et al. "
              "2018): the Frobenius norm of the Jacobian of the softmax output with respect to "
              "the input, averaged over the test points — not the gradient of the loss. "
              "Bonus measures of sharpness: λ_max of the training-loss Hessian (Lanczos on "
              f"Hessian-vector products) and the ε-sharpness of Keskar et al. (ε = "
              f"{c['epsilon']:g}): 100·(max L(θ + δ) − L(θ))/(1 + L(θ)) over the box "
              "|δᵢ| ≤ ε(|θᵢ| + 1), maximized by L-BFGS-B with bounds from "
              f"{c['sharpness_starts']} starts, {c['sharpness_iters']} iterations each.", ""]
    claims = {}
    for key in ("sensitivity", "lambda_max", "sharpness", "test_acc", "test_loss"):
        q = (*fl, key)
        name = MEASURE_NAMES.get(key, key.replace("_", " "))
        claims[key] = f.claim("trend", "generalization",
                              {"x": ("arrays", "batch_sizes"), "y": ("arrays", f"batch_{key}")},
                              what=name, against="the batch size")
        lines.append(f"- {f.num(*q, 'smallest_batch')} at batch {c['batch_sizes'][0]}, "
                     f"{f.num(*q, 'largest_batch')} at batch {c['batch_sizes'][-1]}: "
                     f"{claims[key].text}.")
    v = (*fl, "lr_variant")
    lines += [f"- The batch-64 net with lr {c['lr_variant']:g}: test accuracy "
              f"{f.num(*v, 'test_acc', fmt='{:.1%}')}, sensitivity {f.num(*v, 'sensitivity')}, "
              f"λ_max {f.num(*v, 'lambda_max')}, ε-sharpness {f.num(*v, 'sharpness')}.",
              "- Training and measuring time summed over all the models of 1-3: "
              f"{f.num(*s, 'unit_time_total', fmt='{:.0f}')} s (they run in parallel).", ""]
    lines += figures(f, "generalization", ("generalization_flatness",))
    sens = claims["sensitivity"].stats.get("direction")
    return lines + [
        "**Comment.** The textbook picture (Keskar et al. 2017; Novak et al. 2018): larger "
        "batches find sharper, more input-sensitive minima that generalize worse. "
        + ("The sensitivity rises with the batch size, as that picture expects. "
           if sens == "rises" else "The sensitivity falls with the batch size, against that "
           "picture. " if sens == "falls" else "The data do not show the sensitivity changing "
           "with the batch size, so they neither support nor contradict that picture. ")
        + "Each measure above is claimed to rise or fall only when the bootstrap interval of "
        "its rank correlation excludes 0, over "
        f"{len(c['batch_sizes'])} batch sizes from one initialization and one seed: more seeds "
        "per batch size would settle the trends the data leave open. λ_max and ε-sharpness "
        "depend on the parametrization (Dinh et al. 2017); the sensitivity, a property of the "
        "function, does not.", ""]
