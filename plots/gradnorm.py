"""Figures of experiments.gradnorm: `python -m plots.gradnorm RESULTS_DIR [--figures DIR]`.

gradnorm_sinc, gradnorm_<data> (the DNN's, named by its data: digits, mnist, cifar10), printed at
half width: two stacked panels sharing the step
axis, the training loss L above and the gradient norm ‖∇L‖_p below, both on log axes. Each series
is drawn raw (faint) with its smoothed curve over it. Minibatch runs show the minibatch values of
every step and the whole-training-set values every k steps, labelled as such, and mark epoch
boundaries. The smallest whole-data gradient norm is marked, and the largest rise of the smoothed
gradient norm while the smoothed loss fell is shaded (paler when below the rise factor).
"""
from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from .common import CM, HALF_WIDTH, data_name, plot_main, save_figure
from .schema import NONE, NUM, AtLeast, Check, Each, Holding, at, load_results

_END = {"loss": NUM, "grad_norm": NUM}
# the largest rise of the gradient norm: found (its ratio a number), or not (ratio null)
_RISE = ({"occurred": bool, "ratio": NUM, "from_step": NUM, "to_step": NUM, "loss_from": NUM,
          "loss_to": NUM}, {"ratio?": NONE})
_SERIES = {"window": int, "rise?": _RISE, "min_grad_norm?": {"step": NUM, "value": NUM},
           "final?": _END, "end?": _END}
_TASK = {"dataset": str, "n_train": int, "sizes": list, "activation": str, "loss": str,
         "lr": NUM, "batch_size": int, "full_batch": bool, "n_steps": int, "full_every": int,
         "diverged?": ({"step": int, "reason": str}, NONE),
         "facts": {"full": _SERIES, "step?": _SERIES}}
# a minibatch task's figure reads the facts of its minibatch series too
_MINIBATCH = _TASK | {"facts": {"full": _SERIES, "step": _SERIES}}


def _tasks(meta):
    """The spec of summary.tasks: every task's, its minibatch facts required unless it trained
    on the full batch."""
    tasks = at(meta, "summary", "tasks")
    if not isinstance(tasks, dict):
        return Each(_TASK)
    return {task: _MINIBATCH if at(info, "full_batch") is False else _TASK
            for task, info in tasks.items()}


_FULL = ["full_loss", "full_grad_norm", "full_loss_smooth", "full_grad_norm_smooth"]
_STEP = ["step_loss", "step_grad_norm", "step_loss_smooth", "step_grad_norm_smooth"]


def _arrays(meta):
    """Every task's series, each as long as the steps it is drawn against: the whole-data ones
    as its full_step (by_arrays), the minibatch ones n_steps; and an epoch or more (every epoch
    start is marked)."""
    specs = {}
    for task, info in meta["summary"]["tasks"].items():
        specs |= {f"{task}_full_step": Holding("integers", 1),
                  **{f"{task}_{key}": 1 for key in _FULL}}
        if not info["full_batch"]:
            specs |= {f"{task}_epoch_start": Holding("integers", (AtLeast(1),)),
                      **{f"{task}_{key}": (info["n_steps"],) for key in _STEP}}
    return specs


# p is written as a string ('2', 'inf') and read as a number
_P = Check((str, NUM), lambda p: isinstance(float(p), float), "a norm order ('2', 'inf')")
# what render and figure_names read, checked when the results are loaded (plots.schema)
SCHEMA = {
    "config": {"rise_factor": NUM},
    "summary": lambda meta: {"p": _P, "tasks": _tasks(meta)},
    "arrays": _arrays,
    "by_arrays": lambda meta, arrays: {"arrays": {
        f"{task}_{key}": (len(arrays[f"{task}_full_step"]),)
        for task in meta["summary"]["tasks"] for key in _FULL}},
}

MAX_EPOCH_LINES = 40  # more vertical lines than this turn the panel grey


def render(results_dir, figures_dir=Path("figures")) -> list[Path]:
    """Draw gradnorm_<task> for each task of a results folder of experiments.gradnorm."""
    arrays, meta = load_results(results_dir, "gradnorm", SCHEMA)
    summary = meta["summary"]
    paths = []
    for task, info in summary["tasks"].items():
        task_arrays = {k[len(task) + 1:]: v for k, v in arrays.items() if k.startswith(task + "_")}
        fig = task_figure(task_arrays, info, summary["p"], meta["config"])
        paths += save_figure(fig, figures_dir, figure_name(task, info), width="half")
    return paths


def figure_names(meta: dict) -> list[str]:
    """The names of the figures `render` draws from a results folder whose summary.json holds
    `meta`: one per task, the DNN's named by its data."""
    return [figure_name(task, info) for task, info in meta["summary"]["tasks"].items()]


def figure_name(task, info) -> str:
    """gradnorm_sinc, and the DNN's figure named by its data (gradnorm_digits, gradnorm_mnist):
    a file name says what was trained on."""
    return f"gradnorm_{'sinc' if task == 'sinc' else info['dataset']}"


def task_figure(arrays, info, p, config):
    """The loss and gradient-norm panels of one task (module docstring); returns the Figure."""
    fig, (ax_loss, ax_grad) = plt.subplots(2, 1, sharex=True, figsize=(HALF_WIDTH * CM, 12 * CM),
                                           layout="constrained")
    norm = grad_symbol(p)
    loss_name = {"mse": "MSE", "cross_entropy": "cross-entropy"}.get(info["loss"], info["loss"])
    full_facts = info["facts"]["full"]
    if info["full_batch"]:
        sources = [("full", arrays["full_step"], "C0", "full batch")]
    else:
        sources = [("step", np.arange(info["n_steps"]), "C0", "minibatch"),
                   ("full", arrays["full_step"], "C1", f"whole set /{info['full_every']}")]
    for ax, quantity in ((ax_loss, "loss"), (ax_grad, "grad_norm")):
        for key, steps, colour, label in sources:
            raw, smooth = arrays[f"{key}_{quantity}"], arrays[f"{key}_{quantity}_smooth"]
            window = info["facts"][key]["window"]
            marker = "o" if key == "full" and not info["full_batch"] else None
            ax.plot(steps, raw, color=colour, lw=0.5, alpha=0.3, marker=marker, ms=1.5,
                    label=f"{label}, raw")
            if window > 1:
                ax.plot(steps, smooth, color=colour, lw=1.2, label=f"{label}, {window}-pt mean")
        ax.set_yscale("log")
        ax.grid(True, which="major", alpha=0.3)
    if not info["full_batch"]:
        _epoch_lines((ax_loss, ax_grad), arrays["epoch_start"])
    diverged = info.get("diverged")
    if diverged:  # training stopped here: the curves end at the last finite step
        for i, ax in enumerate((ax_loss, ax_grad)):
            ax.axvline(diverged["step"], color="k", lw=1.0, ls="--", label=(
                f"diverged at step {diverged['step']}" if i == 0 else None))
    if "rise" in full_facts:
        _rise_band((ax_loss, ax_grad), full_facts["rise"], config["rise_factor"], norm)
    if "min_grad_norm" in full_facts:
        m = full_facts["min_grad_norm"]
        ax_grad.plot([m["step"]], [m["value"]], "*", color="C3", ms=7, zorder=5,
                     label=f"smallest: {m['value']:.1e}")
    # two short lines each: one line longer than its panel runs into the other panel's label
    ax_loss.set_ylabel(f"training loss\n({loss_name})")
    ax_grad.set_ylabel(f"gradient norm\n{norm}")
    fig.align_ylabels((ax_loss, ax_grad))
    ax_grad.set_xlabel("iteration (optimizer step)")
    # one legend for both panels, under them: inside, the noisy raw curves fill every corner
    handles, labels = {}, []
    for ax in (ax_loss, ax_grad):
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in handles:
                handles[label] = handle
                labels.append(label)
    fig.legend([handles[k] for k in labels], labels, loc="outside lower center",
               ncol=1 if len(labels) < 3 else 2, fontsize=7, handlelength=1.2, borderpad=0.3,
               labelspacing=0.2, columnspacing=0.8, frameon=False)
    if "final" in full_facts:
        final = full_facts["final"]
        end = full_facts.get("end", final)
        last = (f"{'last finite point' if diverged else 'end'}: L = {end['loss']:.2e}, "
                f"{norm} = {end['grad_norm']:.2e}")
    else:
        last = "no finite whole-data point"
    if diverged:
        last += f"; diverged at step {diverged['step']} ({diverged['reason']})"
    fig.suptitle(f"{title(info, config)}\n{last}")
    return fig


def title(info, config) -> str:
    """What was trained on what: data, network, optimizer, batch."""
    net = "-".join(map(str, info["sizes"])) + f" {info['activation']}"
    batch = (f"full batch N = {info['n_train']}" if info["full_batch"] else
             f"batch {info['batch_size']}/{info['n_train']}")
    return f"{data_name(info['dataset'])}: {net},\nAdam lr {info['lr']:g}, {batch}"


def grad_symbol(p) -> str:
    """‖∇L‖_p in mathtext, p given as saved ('2', 'inf', '1.5')."""
    value = float(p)
    sub = r"\infty" if np.isinf(value) else f"{value:g}"
    return rf"$\|\nabla L\|_{{{sub}}}$"


def _epoch_lines(axes, epoch_start):
    every = int(np.ceil(len(epoch_start) / MAX_EPOCH_LINES))
    label = "epochs" if every == 1 else f"every {every} epochs"
    for i, ax in enumerate(axes):
        for n, step in enumerate(epoch_start[every::every]):
            ax.axvline(step, color="0.5", lw=0.5, alpha=0.5, zorder=0,
                       label=label if n == 0 and i == 0 else None)


def _rise_band(axes, rise, rise_factor, norm):
    if rise.get("ratio") is None:
        return
    reached = rise["occurred"]
    text = f"rise ×{rise['ratio']:.2f}"
    # a smoothed loss that reached exactly 0 (cross-entropy can, in float64) stays there, and
    # 0 ≤ (1 − drop)·0 counts as falling: a rise found from L = 0 has no relative drop to print
    if rise["loss_from"]:
        text += f", L −{1.0 - rise['loss_to'] / rise['loss_from']:.0%}"
    else:
        text += ", from L = 0"
    for i, ax in enumerate(axes):
        ax.axvspan(rise["from_step"], rise["to_step"], color="C3", alpha=0.15 if reached else 0.06,
                   lw=0, zorder=0, label=text if i == 1 else None)


if __name__ == "__main__":
    plot_main(render, prog="plots.gradnorm")
