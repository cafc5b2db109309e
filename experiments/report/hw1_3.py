"""The report's sections for HW1-3 (generalization), in the order of the course's report
template: random labels, parameters against generalization, flatness (interpolation,
sensitivity) and the bonus (sharpness); a function of `Facts` returning markdown lines.

Every number goes through `Facts.num`, every trend, steeper or better through a claim rule
(experiments.report.claims), and the comment's words are chosen by the claims' outcomes.
"""
from __future__ import annotations

from experiments.report.facts import Facts, figures, resolve
from plots.common import data_name

STOPS = {"target": "the target", "plateau": "the plateau rule", "cap": "the cap",
         "stalled": "a stalled optimizer", "rule": "the target"}
WIDTH_NAMES = {"train_loss": "training loss", "test_loss": "test loss",
               "test_acc": "test accuracy"}
MEASURE_NAMES = {"sensitivity": "the sensitivity", "lambda_max": "λₘₐₓ",
                 "sharpness": "the ε-sharpness", "test_acc": "test accuracy"}


def _stops(f: Facts, *path) -> str:
    """'target 3, plateau 2, cap 0 …': the recorded stop reasons at summary path `path`."""
    counts = f.get("generalization", "summary", *path)
    return ", ".join(f"{k} {f.num('generalization', 'summary', *path, k, fmt='{:d}')}"
                     for k, n in counts.items() if n) or "none"


def generalization_section(f: Facts) -> list[str]:
    """HW1-3, generalization: fitting random labels, the number of parameters against
    generalization (trend rules over the parameter count), flatness (interpolation,
    sensitivity) and the bonus (λₘₐₓ, ε-sharpness), each with its figures. Every measured
    number goes through Facts.num, every trend through a claim rule."""
    s, c = ("generalization", "summary"), f.get("generalization", "config")
    r = (*s, "random")
    rnd = f.get(*r)
    rule = f.get(*s, "stopping", "rule")
    stop = (f"the median training loss over the last {rule['window']} checks less than "
            f"{rule['rel_tol']:.0%} below the median over the {rule['window']} before (a "
            "plateau), a target, or a cap")
    data = data_name(f.get(*s, "dataset"))
    lines = ["## 1-3.1 Can the network fit random labels? — task, learning rate, optimizer "
             "(1 %); train and test loss against epochs (1 %)", ""]
    lines += f.settings("generalization", [
        ("task", f"{data}, {f.num(*s, 'n_train', fmt='{:d}')} training samples whose labels "
                 f"were permuted once (seeded; {f.num(*r, 'labels_unchanged', fmt='{:.0%}')} "
                 "kept their label by chance), the test labels kept; cross-entropy"),
        ("model", f"{'-'.join(map(str, rnd['sizes']))} {c['activation']}, "
                  f"{f.num(*r, 'n_params', fmt='{:d}')} parameters"),
        ("optimizer", f"Adam, learning rate {c['lr']:g}, batch {c['random_batch']}"),
        ("stop rule (all of 1-3)", f"{stop}; here the target training accuracy "
                                   f"{c['random_target_acc']:g} or {c['random_max_epochs']} "
                                   "epochs")])
    epochs = ("arrays", "random_epoch")
    acc = f.claim("trend", "generalization", {"x": epochs, "y": ("arrays", "random_train_acc")},
                  what="the training accuracy", against="the epoch")
    test = f.claim("trend", "generalization", {"x": epochs, "y": ("arrays", "random_test_loss")},
                   what="the test loss", against="the epoch")
    lines += [f"- Stopped by {STOPS.get(rnd['stopped_by'], rnd['stopped_by'])} after "
              f"{f.num(*r, 'epochs', fmt='{:d}')} epochs: "
              f"training accuracy {f.num(*r, 'final_train_acc', fmt='{:.1%}')}, test accuracy "
              f"{f.num(*r, 'final_test_acc', fmt='{:.1%}')} (chance: 10 %); the test loss was "
              f"lowest at epoch {f.num(*r, 'min_test_loss_epoch', fmt='{:d}')} "
              f"({f.num(*r, 'min_test_loss')}) and ended at {f.num(*r, 'final_test_loss')}.", ""]
    lines += figures(f, "generalization", ("generalization_random",))
    memorized = rnd["final_train_acc"] >= c["random_target_acc"]
    lines += ["**Comment.** Over the epochs " + acc.text + "; " + test.text + ". "
              + ("The net memorized labels that carry no information about the images: with "
                 "more parameters than training samples it can fit any labelling (Zhang et al. "
                 "2017), so a low training loss alone says nothing about generalization. "
                 if memorized else
                 "The net did not reach the memorization target before it stopped, so these "
                 "data show only the start of memorization; a longer cap would settle it. ")
             + ("Nothing learned from permuted labels can transfer to the true ones, so the "
                "test accuracy can only be near chance (the bullet above gives it), and as the "
                "net grows more confident on its memorized labels its test loss grows. "
                if test.stats.get("direction") == "rises" else
                "Nothing learned from permuted labels can transfer to the true ones, so the "
                "test accuracy can only be near chance (the bullet above gives it). ")
             + "How sure: one seed; the curves are per epoch on all training and test data.", ""]
    p = (*s, "parameters")
    lines += ["## 1-3.2 Number of parameters against generalization — task and the ≥ 10 "
              "structures (1 %); train and test loss and accuracy against the parameter count "
              "(1 %); comment (1 %)", ""]
    lines += f.settings("generalization", [
        ("task", f"{data} with its true labels, {f.num(*s, 'n_train', fmt='{:d}')} training "
                 "samples, cross-entropy"),
        ("structures", f"{len(c['widths'])} nets of one hidden layer, widths "
                       f"{', '.join(map(str, c['widths']))}: "
                       f"{f.num(*p, 'n_params_min', fmt='{:d}')} to "
                       f"{f.num(*p, 'n_params_max', fmt='{:d}')} parameters; "
                       f"{c['width_seeds']} seed(s) each"),
        ("optimizer", f"Adam, learning rate {c['lr']:g}, batch {c['width_batch']}; the stop "
                      f"rule above, cap {c['width_max_epochs']} epochs")])
    n = ("arrays", "width_n_params")
    claims = {k: f.claim("trend", "generalization",
                         {"x": n, "y": ("arrays", f"width_{k}", "median:1")},
                         what=f"the median {WIDTH_NAMES[k]}", against="the parameter count")
              for k in ("train_loss", "test_loss", "test_acc")}
    lines += [f"- Stopped by: {_stops(f, 'parameters', 'stopped_by')} (of "
              f"{f.num(*p, 'n_models', fmt='{:d}')} models), after "
              f"{f.num(*p, 'epochs_min', fmt='{:d}')} to {f.num(*p, 'epochs_max', fmt='{:d}')} "
              "epochs.",
              f"- Median test accuracy {f.num(*p, 'test_acc_smallest', fmt='{:.1%}')} at the "
              f"smallest net, {f.num(*p, 'test_acc_largest', fmt='{:.1%}')} at the largest "
              f"(best {f.num(*p, 'test_acc_best', fmt='{:.1%}')}); median test loss lowest at "
              f"{f.num(*p, 'test_loss_best_n_params', fmt='{:d}')} parameters "
              f"({f.num(*p, 'test_loss_best')}), {f.num(*p, 'test_loss_largest')} at the "
              f"largest; generalization gap (test − training loss) "
              f"{f.num(*p, 'gap_smallest')} at the smallest net, {f.num(*p, 'gap_largest')} "
              "at the largest.", ""]
    lines += figures(f, "generalization", ("generalization_params",))
    acc_dir = claims["test_acc"].stats.get("direction")
    interior = f.get(*p, "test_loss_interior_minimum")
    lines += ["**Comment.** Across the widths, " + "; ".join(claims[k].text for k in claims)
              + ". "
              + ("Over the range the test accuracy rose with the parameter count, although the "
                 "largest nets have many more parameters than training samples: the classical view "
                 "(more capacity, more overfitting) does not hold here, as Zhang et al. (2017) "
                 "and Neyshabur et al. (2017) observed. " if acc_dir == "rises" else
                 "The test accuracy fell with the parameter count, as the classical view of "
                 "overfitting expects. " if acc_dir == "falls" else
                 "The data do not show the test accuracy changing with the parameter count. ")
              + (_past_minimum(f) if interior else "")
              + f"How sure: {c['width_seeds']} seed(s) per width; "
              + ("some models hit the cap, so they may be under-trained."
                 if f.get(*p, "stopped_by").get("cap") else
                 "no model hit the cap, so all were trained to the same rule."), ""]
    return lines + _flatness(f, c)


def _past_minimum(f: Facts) -> str:
    """The comment's sentence on the widths past the median test loss's minimum: does the
    largest net's test loss (and accuracy) differ from the loss-minimum net's by more than the
    seed spread (the `better` rule on the seeds at the two widths)?"""
    widths = list(resolve(f.results, "generalization", ("arrays", "width_n_params")))
    best = widths.index(f.get("generalization", "summary", "parameters",
                              "test_loss_best_n_params"))
    at = {key: f"the {widths[i]:g}-parameter net" for key, i in (("best", best), ("last", -1))}

    def pair(k):
        return f.claim("better", "generalization",
                       {"a": ("arrays", f"width_{k}", best), "b": ("arrays", f"width_{k}", -1)},
                       name_a=at["best"], name_b=at["last"], what=f"median {WIDTH_NAMES[k]}",
                       higher_is_better=k == "test_acc")

    loss = pair("test_loss")
    if not loss.holds:
        lowest = f.num("generalization", "summary", "parameters", "test_loss_best_n_params",
                       fmt="{:d}")
        return (f"The median test loss is lowest at {lowest} parameters; against the "
                f"largest net, {loss.text}: a rise past the minimum cannot be told from seed "
                "noise. ")
    acc = pair("test_acc")
    return (f"Past its minimum the test loss rises: {loss.text}; "
            + ("and the test accuracy falls with it (" + acc.text + "): mild overfitting. "
               if acc.stats["better"] == at["best"] else
               "yet " + acc.text + ". Large nets grow more confident, and a confident mistake "
               "costs much cross-entropy, so test loss can rise while test accuracy holds or "
               "rises. "))


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
             f"stopped by: {_stops(f, 'flatness', 'stopped_by')} of "
             f"{f.num(*fl, 'n_models', fmt='{:d}')} models. Along θ(α) = (1 − α)θ₁ + αθ₂, "
             f"α ∈ [−1, 2] ({c['n_alphas']} "
             "points, one batched evaluation), the loss and accuracy on all training and test "
             "data.", ""]
    steep = {}
    for name, (one, two) in (("batch", (f"batch {b1}", f"batch {b2}")),
                             ("lr", (f"lr {c['lr']:g}", f"lr {c['lr_variant']:g}"))):
        q = (*s, "interpolation", name)
        lines.append(
            f"- {one} (α = 0) → {two} (α = 1): training loss {f.num(*q, 'train_loss_a')} and "
            f"{f.num(*q, 'train_loss_b')}; between them it exceeds the higher end by at most "
            f"{f.num(*q, 'barrier')}; a quarter of the distance beyond each end the training "
            f"loss rises by {f.num(*q, 'rise_beyond_a')} ({one}) and "
            f"{f.num(*q, 'rise_beyond_b')} ({two}). Over every distance beyond the ends: "
            + steep.setdefault(name, f.claim(
                "steeper", "generalization", {"alpha": ("arrays", f"interp_{name}_alpha"),
                                              "loss": ("arrays", f"interp_{name}_train_loss")},
                name_a=one, name_b=two)).text + ".")
    lines += [""] + figures(f, "generalization", ("generalization_interp",))
    winner, tail = steep["batch"].stats.get("steeper"), steep["batch"].stats.get("tail")
    lr_winner = steep["lr"].stats.get("steeper")
    small_lr = f"lr {min(c['lr'], c['lr_variant']):g}"
    lines += ["**Comment.** Keskar et al. (2017) picture large-batch minima as sharp: the loss "
              "should rise faster beyond the large-batch end. "
              + (f"Here the batch-{b2} end is steeper at every distance compared, as that "
                 "picture expects. " if winner == f"batch {b2}" else
                 f"Here the batch-{b1} end is steeper at every distance compared, against that "
                 "picture. " if winner == f"batch {b1}" else
                 f"Here neither end is steeper at every distance: the {tail['end']} end rises "
                 f"more from d = {tail['from']:.2g} to the farthest, not nearer, so this line "
                 + ("agrees with that picture only at larger distances. "
                    if tail["end"] == f"batch {b2}" else "goes against it at larger distances. ")
                 if tail else "Here neither end is steeper: the data do not show a difference "
                 "in sharpness. ")
              + (f"Of the learning-rate pair the {lr_winner} end is the steeper, "
                 + ("as expected of the smaller step (SGD's noise scales with learning rate "
                    "over batch size; Jastrzębski et al. 2017). "
                    if lr_winner == small_lr else "against the picture that a smaller step "
                    "(less SGD noise; Jastrzębski et al. 2017) finds sharper minima. ")
                 if lr_winner else "Between the two learning rates neither end is steeper at "
                 "every distance. ")
              + "One line cannot settle whether flat minima generalize better: a rescaling of "
              "θ can make any minimum look sharp (Dinh et al. 2017). How sure: one pair of "
              "trained nets per comparison; more seeds would settle it.", ""]
    lines += ["## 1-3.4 Flatness, part 2: sensitivity — task and at least 5 training approaches "
              "(0.5 %); train and test loss and accuracy, and sensitivity, against the batch "
              "size (1 %); comment (1 %)", "",
              f"The same task and net; {len(c['batch_sizes'])} training approaches: batch "
              f"sizes {', '.join(map(str, c['batch_sizes']))}, each trained to the same "
              "training loss as above. Sensitivity (Novak et al. 2018): the Frobenius norm of "
              "the Jacobian of the softmax output with respect to the input, averaged over the "
              "test points — not the gradient of the loss.", ""]
    claims = {}
    for key in ("sensitivity", "test_loss", "test_acc", "lambda_max", "sharpness"):
        q = (*fl, key)
        name = MEASURE_NAMES.get(key, key.replace("_", " "))
        claims[key] = f.claim("trend", "generalization",
                              {"x": ("arrays", "batch_sizes"), "y": ("arrays", f"batch_{key}")},
                              what=name, against="the batch size")
        if key in ("lambda_max", "sharpness"):
            continue  # the bonus section's
        lines.append(f"- {f.num(*q, 'smallest_batch')} at batch {c['batch_sizes'][0]}, "
                     f"{f.num(*q, 'largest_batch')} at batch {c['batch_sizes'][-1]}: "
                     f"{claims[key].text}.")
    lines += [""] + figures(f, "generalization", ("generalization_flatness",))
    sens = claims["sensitivity"].stats.get("direction")
    loss = claims["test_loss"].stats.get("direction")
    lines += [
        "**Comment.** The textbook picture (Keskar et al. 2017; Novak et al. 2018): larger "
        "batches find sharper, more input-sensitive minima that generalize worse, and a lower "
        "sensitivity goes with a lower test loss. "
        + ("The sensitivity rises with the batch size, as that picture expects"
           if sens == "rises" else "The sensitivity falls with the batch size, against that "
           "picture" if sens == "falls" else "The data do not show the sensitivity changing "
           "with the batch size")
        + ("; the test loss falls with it" if loss == "falls" else
           "; the test loss rises with it" if loss == "rises" else
           "; nor do they show the test loss changing with it" if sens is None else
           "; the data do not show the test loss changing with it")
        + (", so here a larger sensitivity does not mean worse generalization. "
           if sens == "rises" and loss == "falls" or sens == "falls" and loss == "rises" else
           ", as the picture expects. " if sens == loss and sens is not None else ". ")
        + f"How sure: {len(c['batch_sizes'])} batch sizes from one initialization and one seed; "
        "more seeds per batch size would settle the trends the data leave open.", ""]
    lam, sharp = claims["lambda_max"], claims["sharpness"]
    agree = [name for name, cl in (("λₘₐₓ", lam), ("the ε-sharpness", sharp))
             if cl.stats.get("direction") and loss and cl.stats["direction"] == loss]
    lines += [
        "## 1-3 Bonus: another metric for generalization — sharpness", "",
        "Two measures of how sharp a minimum is, computed for every net of 1-3.4: λₘₐₓ, the "
        "largest eigenvalue of the training-loss Hessian (Lanczos on Hessian-vector products), "
        f"and the ε-sharpness of Keskar et al. (2017), ε = {c['epsilon']:g}: "
        "100·(max L(θ + δ) − L(θ))/(1 + L(θ)) over the box |δᵢ| ≤ ε(|θᵢ| + 1), maximized by "
        f"L-BFGS-B with bounds from {c['sharpness_starts']} starts of "
        f"{c['sharpness_iters']} iterations.", "",
        f"- λₘₐₓ {f.num(*fl, 'lambda_max', 'smallest_batch')} at batch "
        f"{c['batch_sizes'][0]}, {f.num(*fl, 'lambda_max', 'largest_batch')} at batch "
        f"{c['batch_sizes'][-1]}: {lam.text}.",
        f"- ε-sharpness {f.num(*fl, 'sharpness', 'smallest_batch')} at batch "
        f"{c['batch_sizes'][0]}, {f.num(*fl, 'sharpness', 'largest_batch')} at batch "
        f"{c['batch_sizes'][-1]}: {sharp.text}.", "",
        "**Comment.** A measure of generalization should move with the test loss. "
        + (f"Over the batch sizes, {' and '.join(agree)} move in the same direction as the test "
           "loss" if agree else "Over the batch sizes, the data do not show λₘₐₓ or the "
           "ε-sharpness moving in the same direction as the test loss")
        + " (the claims above and in 1-3.4). Both depend on θ's coordinates: α in one ReLU "
        "layer and 1/α in the next leave the function unchanged and change them at will (Dinh "
        "et al. 2017); the sensitivity of 1-3.4, a property of the function, has no such "
        "freedom.", ""]
    return lines
