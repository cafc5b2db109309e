"""Gradient norm and loss during training (slides: Observe Gradient Norm During Training).

--task both: sinc (tanh MLP fitting sin(5πx)/(5πx), MSE, full batch or --sinc-minibatch) and
dnn (the trajectory DNN, 128-64 ReLU, cross-entropy, batch 128; MNIST (or --dataset) with
--data-root, else scikit-learn's digits 8×8), both by Adam, in one folder, a figure each
(gradnorm_sinc, and the DNN's named by its data: gradnorm_digits, gradnorm_mnist, …).
Recorded, with ‖g‖_p (--p 2):
  step series  each step k: L_B(θ_k), ‖∇L_B(θ_k)‖_p on the minibatch B_k the step used
  full series  L(θ), ‖∇L(θ)‖_p on all training data at steps 0, k, 2k, … and the final θ,
               k = ⌈n_steps/full_evals⌉ (full batch: the step series plus the final θ)
Facts per series: the smallest gradient norm with its step and loss, the final values, the end
value (medians of the raw values over the last smoothing window), and the largest rise of the
log-smoothed norm G̃ while the smoothed loss L̃ fell: ratio(j) = G̃(j)/G̃(i*),
i* the last step ≤ j with G̃ at its running minimum, counted if L̃(j) ≤ (1 − rise_loss_drop)·L̃(i*)
(falling, not flat: Adam's spikes lift G̃ ×10 as L̃ moves < 0.1 per cent); "occurred" if one
≥ rise_factor. The smoothed curves exist only where the centred window fits (no edge values).
"""
from __future__ import annotations

import functools
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from engine import MLP, check_p
from engine.data.datasets import function_dataset
from engine.io.results import Store, UsageError
from engine.training.optim import adam
from engine.training.recording import FULL_CHUNK, record_training
from experiments.harness.checks import (
    FULL_TRAIN,
    check_image_data,
    check_ints,
    check_network_memory,
    check_range,
    check_series,
)
from experiments.harness.config import main
from experiments.harness.datasets import check_data, image_dataset_name, load_data
from experiments.harness.parallel import LOCAL, compute, run_seeds

EXPERIMENT = "gradnorm"
TASKS = ("sinc", "dnn")  # the task; the DNN's data are named apart (digits, mnist, …)
RUN_KEYS = ("step_loss", "step_grad_norm", "epoch_start", "full_step", "full_loss",
            "full_grad_norm", "check_step", "check_theta", "check_batch", "check_batch_start",
            "full_loss_smooth", "full_grad_norm_smooth")


@dataclass(frozen=True)
class Config:
    """Experiment settings; each field's comment is its --help text; quick(): the tests' preset."""

    # --- compute (which task, which norm) ---
    task: Literal["both", "sinc", "dnn"] = "both"  # one folder, a figure per task
    p: str = "2"                         # gradient p-norm: a number ≥ 1 or 'inf' (slides: 2)
    seed: int = 0                        # task t trains on SeedSequence(seed).spawn(2)[t]
    # --- sinc (the function task) ---
    sinc_hidden: tuple[int, ...] = (10, 10)  # 1-10-10-1, 141 parameters: < 1 ms per step
    sinc_activation: Literal["tanh", "sigmoid", "softplus", "relu", "linear"] = "tanh"  # smooth,
    # …as in the slides
    sinc_samples: int = 1000             # grid points of sin(5πx)/(5πx) on [−1, 1]
    sinc_steps: int = 8000               # iterations (whole epochs): ~4 s CPU
    sinc_lr: float = 3e-3                # Adam's step on sinc: 1e-3 needs 2× the steps
    sinc_minibatch: bool = False         # minibatches instead of the slides' full batch
    sinc_batch_size: int = 100           # minibatch size with --sinc-minibatch
    # --- dnn (the image task, trained by Adam too) ---
    dataset: Literal["", "digits", "mnist", "cifar10"] = ""  # '' = mnist with --data-root
    data_root: str = ""                  # folder holding MNIST/raw (torchvision layout)
    n_train: int = 0                     # 0 = every training image; >0 a seeded subset
    hidden: tuple[int, ...] = (128, 64)  # the DNN of the trajectory experiment
    activation: Literal["relu", "tanh", "sigmoid", "softplus", "linear"] = "relu"  # as trajectory's
    steps: int = 3000                    # iterations (whole epochs): MNIST 7 epochs, digits 8×8 250
    batch_size: int = 128                # minibatch size of the trajectory experiment
    lr: float = 1e-3                     # Adam's usual step (Kingma & Ba)
    full_evals: int = 60                 # whole-data gradients per minibatch run (MNIST 0.6 s)
    # --- rises (when a rise of the gradient norm counts) ---
    smooth: float = 0.02                 # moving-average window: share of a series, ≥ 3 points
    rise_factor: float = 1.5             # a rise of G̃ by ≥ 1.5× counts (clear on a log axis)
    rise_loss_drop: float = 0.05         # the rise counts if L̃ fell ≥ 5 % meanwhile (not a spike)

    @classmethod
    def quick(cls):
        """The tiny preset the tests use (and --quick): every part runs, at smoke size."""
        return cls(sinc_hidden=(6,), sinc_samples=200, sinc_steps=150, hidden=(16,),
                   n_train=300, steps=15, batch_size=64, full_evals=5)

    def __post_init__(self):
        # one spelling per value: '2', '2.0' and '2e0' are the same norm, so the same config
        try:
            object.__setattr__(self, "p", f"{check_p(self.p):g}")
        except ValueError as err:
            raise UsageError(f"--p {self.p!r}: {err}") from None

    def validate(self):
        """Raise UsageError, naming the flag, for an integer below its minimum, a step size
        ≤ 0, unknown data, a smoothing window beyond half a series, a rise factor ≤ 1 or loss
        drop outside (0, 1), more whole-data gradients than steps, or networks too large for
        memory; before any work."""
        check_image_data(self.dataset, self.data_root)
        check_ints(self, seed=0, sinc_steps=1, sinc_batch_size=1, steps=1, batch_size=1,
                   full_evals=1, sinc_samples=2, n_train=0, sinc_hidden=1, hidden=1)
        for name in ("sinc_lr", "lr"):
            check_range(self, name)
        # a centred window wider than half the series centres on no point: every smoothed value
        # would be an end's fitted line, not a moving average
        check_range(self, "smooth", 0.0, 0.5, high_open=False)
        check_range(self, "rise_factor", 1.0)
        check_range(self, "rise_loss_drop", 0.0, 1.0)
        # minibatch runs take full_evals whole-data gradients: at most one per step
        for flag_steps, steps, minibatch in (("--steps", self.steps, self.task != "sinc"), (
                "--sinc-steps", self.sinc_steps, self.task != "dnn" and self.sinc_minibatch)):
            if minibatch and self.full_evals > steps:
                raise UsageError(f"--full-evals {self.full_evals} with {flag_steps} {steps}: at "
                                 f"most one whole-data gradient per step; give --full-evals ≤ "
                                 f"{flag_steps}")
        # the per-step series (loss, gradient norm) of each task run
        check_series(self.sinc_steps, f"--sinc-steps {self.sinc_steps}")
        check_series(self.steps, f"--steps {self.steps}")
        # θ, Adam's moments, the gradient, 4 checkpoints; activations of a whole-data slice
        check_network_memory("sinc", self.sinc_hidden, 10, self.sinc_samples,
                             f"--sinc-hidden {' '.join(map(str, self.sinc_hidden))}")
        if self.task != "sinc":
            name = _image_dataset(self)
            check_network_memory(name, self.hidden, 10, min(self.n_train or FULL_TRAIN[name],
                                                            FULL_CHUNK),
                                 f"--hidden {' '.join(map(str, self.hidden))}")


def run(config: Config, out_dir=Path("results") / EXPERIMENT, options=LOCAL):
    """Record each task (skipping saved ones); save the summary."""
    runs = [TASKS.index(t) for t in (TASKS if config.task == "both" else (config.task,))]
    if 1 in runs:
        check_data(_image_dataset(config), config.data_root, config.n_train)  # before any write
    store = Store(out_dir, EXPERIMENT, config, required=lambda run, info: RUN_KEYS)
    store.missing(runs)  # a damaged task is deleted (one-line notice) before its info is read
    if 1 in runs and store.done(1) and store.load_run(1)[1]["dataset"] != _image_dataset(config):
        raise UsageError(f"{store.out} holds a run on other data; use another --out")
    if compute(store, functools.partial(task_unit, config), runs, options, desc="tasks") is None:
        return None
    arrays, tasks = {}, {}
    for r in runs:
        task_arrays, tasks[TASKS[r]] = store.load_run(r)
        arrays |= {f"{TASKS[r]}_{k}": v for k, v in task_arrays.items()}
    diverged = [t for t, info in tasks.items() if info.get("diverged")]
    if diverged:
        what = "every task" if len(diverged) == len(tasks) else " and ".join(diverged)
        where = "; ".join(f"{t}: {tasks[t]['diverged']['reason']} at step "
                          f"{tasks[t]['diverged']['step']}" for t in diverged)
        print(f"experiments.gradnorm: {what} diverged ({where}); the figures end there: lower "
              "--lr or --sinc-lr", file=sys.stderr)
    return store.save_summary(arrays, {"p": config.p, "tasks": tasks})


def smooth_log(values, window: int) -> np.ndarray:
    """exp of the centred mean of log(values) over `window` points (odd, ≤ n, else no change),
    where the whole window fits; nan within window // 2 points of either end, where a centred
    mean does not exist (a line fitted there extrapolates the last noisy points: the "rise"
    that lived in the last two samples). (n,) → (n,)."""
    v = np.log(np.maximum(np.asarray(values, float), np.finfo(float).tiny))
    if window < 3 or window % 2 == 0 or window > len(v):
        return np.exp(v)
    out = np.full(len(v), np.nan)
    half = window // 2
    out[half:len(v) - half] = np.convolve(v, np.ones(window) / window, mode="valid")
    return np.exp(out)


def series_facts(steps, loss, grad, loss_smooth, grad_smooth, rise_factor, loss_drop) -> dict:
    """The facts of one series (module docstring)."""
    steps = np.asarray(steps)
    k = int(np.argmin(grad))
    # the end, robustly: the median over the last window's raw values (one Adam spike on the
    # last step is not the end value); "final" keeps the last raw point
    tail = max(1, int(np.isnan(grad_smooth).sum()) + 1)
    facts = {"min_grad_norm": {"step": steps[k], "value": grad[k], "loss": loss[k]},
             "final": {"step": steps[-1], "grad_norm": grad[-1], "loss": loss[-1]},
             "end": {"from_step": steps[-tail], "grad_norm": float(np.median(grad[-tail:])),
                     "loss": float(np.median(loss[-tail:]))},
             "rise": {"occurred": False, "ratio": None}}
    valid = np.isfinite(grad_smooth) & np.isfinite(loss_smooth)  # the rise: where centred
    steps, loss_smooth, grad_smooth = steps[valid], loss_smooth[valid], grad_smooth[valid]
    if not len(steps):
        return facts
    running_min = np.minimum.accumulate(grad_smooth)
    at_min = np.maximum.accumulate(np.where(grad_smooth <= running_min, np.arange(len(steps)), 0))
    ratio = grad_smooth / running_min
    counted = loss_smooth <= (1.0 - loss_drop) * loss_smooth[at_min]
    if counted.any():
        j = int(np.argmax(np.where(counted, ratio, -np.inf)))
        i = int(at_min[j])
        facts["rise"] = {"occurred": bool(ratio[j] >= rise_factor), "ratio": ratio[j],
                         "from_step": steps[i], "to_step": steps[j],
                         "grad_norm_from": grad_smooth[i], "grad_norm_to": grad_smooth[j],
                         "loss_from": loss_smooth[i], "loss_to": loss_smooth[j]}
    return facts


def _image_dataset(config):
    return image_dataset_name(config.dataset, config.data_root)


def task_unit(config: Config, run: int) -> tuple[dict, dict]:
    """Train and record task TASKS[run]: (arrays, info) to save."""
    start = time.perf_counter()
    rng = np.random.default_rng(run_seeds(config.seed, len(TASKS))[run])
    if TASKS[run] == "sinc":
        data = function_dataset("sinc", n_samples=config.sinc_samples)
        net = MLP((1, *config.sinc_hidden, 1), config.sinc_activation, "mse")
        batch_size = config.sinc_batch_size if config.sinc_minibatch else len(data.x_train)
        steps, lr, theta0 = config.sinc_steps, config.sinc_lr, net.init(rng)
    else:  # split and subset by a stream of their own: the same data for any task
        data = load_data(_image_dataset(config), config.data_root, config.n_train)
        net = MLP((data.x_train.shape[1], *config.hidden, data.n_classes), config.activation,
                  "cross_entropy")
        batch_size, steps, lr = config.batch_size, config.steps, config.lr
        theta0 = net.init(rng, "he")
    arrays = record_training(net, theta0, data, adam(lr), steps=steps, batch_size=batch_size,
                             rng=rng, p=config.p, full_evals=config.full_evals, progress=True,
                             desc=TASKS[run])
    diverged = arrays.pop("diverged")
    n_train, full_step = len(data.x_train), arrays["full_step"]
    n_steps = len(arrays["epoch_start"]) * (1 if batch_size >= n_train else
                                            math.ceil(n_train / batch_size))
    info = {"task": TASKS[run], "dataset": data.name, "n_train": n_train, "sizes": net.sizes,
            "activation": net.activation, "loss": net.loss_name, "lr": lr,
            "batch_size": min(batch_size, n_train), "full_batch": bool(batch_size >= n_train),
            "n_steps": len(arrays["step_loss"]), "diverged": diverged,
            "full_every": 1 if batch_size >= n_train else math.ceil(n_steps / config.full_evals),
            "facts": {}}
    series = {"full": full_step, "step": np.arange(info["n_steps"])}
    if info["full_batch"]:
        del series["step"]
    for key, at in series.items():
        if len(at) == 0:  # diverged at once: nothing finite to describe
            info["facts"][key] = {"window": 1}
            for q in ("loss", "grad_norm"):
                arrays[f"{key}_{q}_smooth"] = arrays[f"{key}_{q}"]
            continue
        window = min(max(3, round(config.smooth * len(at))) | 1, len(at) - 1 + len(at) % 2)
        for q in ("loss", "grad_norm"):
            arrays[f"{key}_{q}_smooth"] = smooth_log(arrays[f"{key}_{q}"], window)
        info["facts"][key] = {"window": window, **series_facts(
            at, arrays[f"{key}_loss"], arrays[f"{key}_grad_norm"], arrays[f"{key}_loss_smooth"],
            arrays[f"{key}_grad_norm_smooth"], config.rise_factor, config.rise_loss_drop)}
    info["wall_time"] = time.perf_counter() - start
    return arrays, info


if __name__ == "__main__":
    main(Config, run, "plots.gradnorm", prog="experiments.gradnorm", description=__doc__)
