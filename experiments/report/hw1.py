"""The report's sections for HW1-1 (deep vs shallow), in the order of the course's report
template; each a function of `Facts` returning markdown lines (HW1-3: experiments.report.hw1_3).

As in experiments.report.facts: every number goes through `Facts.num` (recorded with its
path in summary.json), settings come from the saved configs, and every comment is chosen by the
measured facts — where a measurement contradicts the textbook expectation, the text says so.
"""
from __future__ import annotations

from experiments.report.facts import Facts, figures
from plots.common import data_name

NAMES = {"sinc": "sin(5πx)/(5πx)", "sign": "sign(sin(5πx))", "damped_cos": "exp(−x²)cos(4πx)",
         "poly": "4x³ − 3x"}


def deepshallow_section(f: Facts) -> list[str]:
    """HW1-1, deep vs shallow: question 1 "Simulate a function" (per target, the depths
    ranked by median final training loss, the `better` rule between the two best and between
    the deepest and the shallowest, which rule stopped the models) and question 2 "Train on an
    actual task" (the same per task, with accuracies). Every measured number goes through
    Facts.num, every comparison through a claim rule."""
    s, c = ("deepshallow", "summary"), f.get("deepshallow", "config")
    rule = f.get(*s, "stopping", "rule")
    stop = (f"one stop rule for every model: the median training loss over the last "
            f"{rule['window']} checks less than {rule['rel_tol']:.0%} below the median over the "
            f"{rule['window']} before (a plateau), or a cap")
    lines = ["## 1-1.1 Simulate a function — models with their parameter counts and the "
             "functions (0.5 %); training loss of all models (0.5 %); predictions and the ground "
             "truth (0.5 %); comment (1 %); bonus: > 2 models, > 1 function (0.5 %)", ""]
    lines += f.settings("deepshallow", [
        ("functions", ", ".join(NAMES.get(n, n) for n in c["functions"])
         + f" on {c['function_samples']} grid points in [−1, 1], MSE ½·mean (f − y)²"),
        ("models", f"{', '.join(map(str, c['depths']))} hidden layers ({c['activation']}) at "
                   f"the parameter count of the 1-{c['function_width']}-1 net (within 2 %; "
                   f"largest spread {f.num(*s, 'budget_spread', fmt='{:.1%}')}); sizes and "
                   "counts in the tables"),
        ("training", f"full-batch L-BFGS, {c['seeds']} seeds per model; {stop} of "
                     f"{rule['function_max_iters']} iterations")])
    for i, name in enumerate(c["functions"]):
        lines += _ranking(f, ("functions", name), f"On {NAMES.get(name, name)}",
                          ("function_loss", i), "iterations")
    lines += figures(f, "deepshallow", ("deepshallow_functions_loss", "deepshallow_functions_fit"))
    lines += [_depth_comment(f, [("functions", n) for n in c["functions"]]), ""]
    tasks = [t for t in ("task", c.get("second_task")) if t]
    lines += ["## 1-1.2 Train on an actual task — models and task (0.5 %); training loss "
              "(0.5 %); training accuracy (0.5 %); comment (1 %); bonus: > 2 models, > 1 task "
              "(0.5 %)", ""]
    lines += f.settings("deepshallow", [
        *((f"task {i + 1}", _task_text(f, t)) for i, t in enumerate(tasks)),
        ("models", f"{', '.join(map(str, c['depths']))} hidden layers ({c['activation']}) at "
                   "the parameter count of the one-hidden-layer net of each task"),
        ("training", f"Adam (learning rate {c['lr']:g}"
                     + (f"; {c['checker_lr']:g} on the checkerboard" if "checkerboard" in tasks
                        and c["checker_lr"] != c["lr"] else "")
                     + f"), batch {c['batch_size']}; {stop} of "
                     f"{rule['task_max_epochs']} epochs, or the target training loss "
                     f"{rule['task_target']:g}")])
    for task in tasks:
        lines += _ranking(f, (task,), f"On {_task_name(f, task)}", (f"{task}_train_loss",),
                          "epochs")
        lines += ["- Median final training / test accuracy: " + "; ".join(
            f"{depth} hidden "
            f"{f.num(*s, task, 'models', depth, 'train_acc_median', fmt='{:.1%}')} / "
            f"{f.num(*s, task, 'models', depth, 'test_acc_median', fmt='{:.1%}')}"
            for depth in map(str, c["depths"])) + ".", ""]
        lines += figures(f, "deepshallow", (f"deepshallow_{task}",))
    lines += [_depth_comment(f, [(t,) for t in tasks]), ""]
    return lines


def _task_name(f: Facts, task: str) -> str:
    return data_name(f.get("deepshallow", "summary", task, "dataset"))


def _task_text(f: Facts, task: str) -> str:
    """What a task of deepshallow is: its data, size and loss."""
    c = f.get("deepshallow", "config")
    if task == "task":
        return (f"{_task_name(f, task)}, {f.num('deepshallow', 'summary', 'n_train', fmt='{:d}')}"
                " training images, 10 classes, cross-entropy")
    if task == "checkerboard":
        return (f"the 2-D checkerboard of {c['checker_cells']}×{c['checker_cells']} squares "
                f"(two classes), {c['checker_samples']} training points, cross-entropy")
    return f"{_task_name(f, task)}, cross-entropy"


def _ranking(f: Facts, p, lead, curve, unit) -> list[str]:
    """The table of one target's models (sizes, parameters, final loss, what stopped them), the
    ranking, and the `better` rule between the two best depths."""
    q = ("deepshallow", "summary", *p)
    facts = f.get(*q)
    depths = list(f.get("deepshallow", "config", "depths"))
    rows = ["| hidden layers | sizes | parameters | final training loss: median (min … max) | "
            "stopped by |", "|---|---|---|---|---|"]
    for depth, m in facts["models"].items():
        d = (*q, "models", depth)
        stops = facts.get("stopped_by_depth", {}).get(depth, {})
        rows.append(f"| {depth} | {'-'.join(map(str, m['sizes']))} | "
                    f"{f.num(*d, 'n_params', fmt='{:d}')} | {f.num(*d, 'final_loss_median')} "
                    f"({f.num(*d, 'final_loss_min')} … {f.num(*d, 'final_loss_max')}) | "
                    + (", ".join(f"{k} {f.num(*q, 'stopped_by_depth', depth, k, fmt='{:d}')}"
                                 for k, n in stops.items() if n) or "n/a") + " |")
    best, runner = facts["best_depth"], facts["runner_up_depth"]

    def final(depth):
        return ("arrays", *curve, depths.index(depth), "end")

    claim = f.claim("better", "deepshallow", {"a": final(best), "b": final(runner)},
                    name_a=f"the {best}-hidden-layer net", name_b=f"the {runner}-hidden-layer net",
                    what="final training loss", higher_is_better=False)
    text = (f"- {lead}, the {best}-hidden-layer net has the lowest median final training loss "
            f"and was the best in {f.num(*q, 'best_in_seeds', fmt='{:d}')} of "
            f"{f.num(*q, 'n_seeds', fmt='{:d}')} seeds; by the seed-spread rule, {claim.text}. "
            "Training took "
            f"{f.num(*q, 'steps_min', fmt='{:d}')} to {f.num(*q, 'steps_max', fmt='{:d}')} "
            f"{unit}.")
    if _at_target(f, p):  # the final losses all sit at the target: they rank nothing
        text += (" Every model stopped at the target loss, so the final losses are the target's; "
                 "what depth changes is the epochs needed to reach it (medians): " + "; ".join(
                     f"{depth} hidden "
                     f"{f.num(*q, 'models', str(depth), 'steps_median', fmt='{:g}')}"
                     for depth in depths) + ".")
    return rows + ["", text, ""]


def _at_target(f: Facts, p) -> bool:
    """Whether every model of target p stopped because its training loss reached the target."""
    stops = f.get("deepshallow", "summary", *p, "stopped_by")
    return bool(stops.get("target")) and sum(stops.values()) == stops["target"]


def _depth_comment(f: Facts, targets) -> str:
    """The **Comment** of an HW1-1 question: for each target, the `better` rule between the
    deepest and the shallowest net; the course's expectation (depth gives more linear pieces
    for the same parameters); whether every model converged (no cap)."""
    s = ("deepshallow", "summary")
    c = f.get("deepshallow", "config")
    depths = list(c["depths"])
    deep, shallow = max(depths), min(depths)
    sentences, wins, kinds = [], {"deep": 0, "shallow": 0, "none": 0}, {}
    for p in targets:
        name = (NAMES.get(p[1], p[1]) if p[0] == "functions" else _task_name(f, p[0]))
        curve = ("function_loss", list(c["functions"]).index(p[1])) if p[0] == "functions" \
            else (f"{p[0]}_train_loss",)
        shortest = f.get(*s, *p, "steps_min")
        if _at_target(f, p):
            measure = ({"a": ("arrays", f"{p[0]}_steps", depths.index(deep)),
                        "b": ("arrays", f"{p[0]}_steps", depths.index(shallow))},
                       "epoch count to the target loss")
            kind = "speed"
        elif p[0] != "functions" and shortest < f.get(*s, *p, "steps_max"):
            # stopped after different epoch counts: compared where every model still has its
            # curve, after the shortest run's epochs (a model cut off by the plateau rule early
            # would otherwise be ranked by a loss it was still lowering)
            at = f"at:{shortest}"
            measure = ({"a": ("arrays", *curve, depths.index(deep), at),
                        "b": ("arrays", *curve, depths.index(shallow), at)},
                       f"training loss after {shortest} epochs (the shortest run's)")
            kind = "capacity"
        else:
            measure = ({"a": ("arrays", *curve, depths.index(deep), "end"),
                        "b": ("arrays", *curve, depths.index(shallow), "end")},
                       "final training loss")
            kind = "capacity"
        claim = f.claim("better", "deepshallow", measure[0],
                        name_a=f"the {deep}-hidden-layer net",
                        name_b=f"the {shallow}-hidden-layer net",
                        what=measure[1], higher_is_better=False)
        who = claim.stats.get("better")
        if who is not None and str(deep) in who:  # the reasons below are for the deep wins
            kinds[kind] = True
        wins["none" if who is None else "deep" if str(deep) in who else "shallow"] += 1
        sentences.append(f"on {name}, {claim.text}")
    capped = sum(f.get(*s, *p, "stopped_by").get("cap", 0) for p in targets)
    stalled = sum(f.get(*s, *p, "stopped_by").get("stalled", 0) for p in targets)
    text = ("**Comment.** Deepest against shallowest at the same parameter count: "
            + "; ".join(sentences) + ". ")
    if wins["deep"] and not wins["shallow"]:
        text += ("Where the difference exceeds the seed spread, the deeper net does better in "
                 "training, as the course expects"
                 + (": with ReLU units, composing layers multiplies the number of linear pieces "
                    "a net can make with the same parameters, while one hidden layer adds pieces "
                    "only one unit at a time (Montúfar et al. 2014)" if kinds.get("capacity")
                    else "") + (
                     "; where the measure is the epochs to the target, that is speed of "
                     "training, which a count of linear pieces does not explain"
                     if kinds.get("speed") else "") + ". ")
    elif wins["shallow"] and not wins["deep"]:
        text += ("Where the difference exceeds the seed spread, the shallow net does better, "
                 "against the course's expectation that depth, which multiplies the linear "
                 "pieces of a ReLU net, helps at an equal budget. Possible reasons, not "
                 "measured here: the target may need fewer pieces than one layer already "
                 "offers at this budget, or the deeper nets may be harder to optimize. ")
    elif wins["deep"] and wins["shallow"]:
        text += ("Depth helps on some targets and hurts on others; these runs do not measure "
                 "why (how many linear pieces a target needs, how hard a deeper net is to "
                 "optimize). ")
    else:
        text += ("The data do not show a difference between depths larger than the seed "
                 "spread: the course's expectation that depth helps (more linear pieces for the "
                 "same parameters) is neither confirmed nor contradicted here; more seeds or a "
                 "harder target would settle it. ")
    text += (f"How sure: {c['seeds']} seeds per model, a difference counted only when it "
             "exceeds the range over the seeds; "
             + (f"{capped} model(s) hit the cap before the stop rule, so they may not have "
                "converged: train them longer before trusting their rank."
                if capped else "no model hit the cap (a plateau stop is no proof of a minimum)"
                + (f" ({stalled} ended where L-BFGS found no further descent: a stalled line "
                   "search, counted apart in the tables)." if stalled else ".")))
    return text
