"""Generalization (HW1-3): `python -m experiments.generalization`.

Four parts on one classification task (digits offline; MNIST or CIFAR-10 with --data-root), all
cross-entropy with Adam; each unit of work is one trained network:
Every model stops by the one rule of engine.training.stopping (as in experiments.deepshallow):
its target, or a plateau — the median training loss over the last `stop_window` checks less
than `stop_rel_tol` below the median over the window before — or the cap; which ended each
model is saved ('target', 'plateau', 'cap'):
  random labels   the training labels permuted once (seeded), the test labels kept; a network
                  with more parameters than training samples, checked every epoch; its target is
                  memorization, a training accuracy ≥ `random_target_acc`; cap
                  `random_max_epochs`; train and test loss and accuracy after every epoch
  parameters      one hidden layer of each width in `widths` (≥ 10, ≥ 2 decades of parameters),
                  `width_seeds` seeds each, checked every epoch, target a training loss ≤
                  `width_target`, cap `width_max_epochs`
  flatness        one network trained with each of `batch_sizes` from one shared initialization,
                  checked every `check_every` steps (its plateau window: `stop_window` epochs,
                  at least that many checks), target a training loss ≤ `target_loss`
                  (same loss, not the same epochs: a fixed epoch budget leaves large batches
                  under-trained), cap `max_steps`; per
                  model: train/test loss and accuracy, the sensitivity
                  (engine.landscape.generalization:
                  mean ‖∂softmax/∂x‖_F over the test points), λ_max of the training-loss Hessian
                  (Lanczos on HVPs) and Keskar's ε-sharpness; plus the batch-64 network trained
                  with `lr_variant`
  interpolation   (in the summary, from the saved θ) train and test loss and accuracy along
                  θ(α) = (1 − α)θ₁ + αθ₂, α ∈ [−1, 2], for batch `interp_pair` and for lr
                  (lr, lr_variant) at batch 64
Results: runs/run_u.npz per unit (θ, curves); summary.npz the stacked arrays and the lines;
summary.json the facts the report quotes. Cost: dominated by the flatness runs' steps.
"""
from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from engine import MLP, Dataset, mlp_value_and_gradient
from engine.io.results import Store, UsageError
from engine.landscape.generalization import epsilon_sharpness, sensitivity, top_eigenvalue
from engine.training.loop import evaluate
from engine.training.optim import adam
from engine.training.stopping import StopRule, stop_reason
from experiments.generalization.summary import summarize
from experiments.harness.checks import (
    FULL_TRAIN,
    check_batch,
    check_image_data,
    check_ints,
    check_network_memory,
    check_positive,
    check_range,
    check_series,
)
from experiments.harness.datasets import check_data, image_dataset_name, load_data
from experiments.harness.parallel import LOCAL, compute, run_seeds

EXPERIMENT = "generalization"


@dataclass(frozen=True)
class Config:
    """Experiment settings; each field's comment is its --help text; quick(): the tests' preset."""

    # --- compute (the data and nets of every part) ---
    seed: int = 0                            # one SeedSequence for every unit
    dataset: Literal["", "digits", "mnist", "cifar10"] = ""  # '' = mnist with --data-root
    data_root: str = ""                      # holds MNIST/raw or cifar-10-batches-py
    n_train: int = 0                         # 0 = every training sample; >0 a fixed subset
    activation: Literal["relu", "tanh"] = "relu"  # the usual DNN choice on images
    lr: float = 0.001                        # Adam's usual step size, for every part
    # --- random labels ---
    random_hidden: tuple[int, ...] = (256, 256)  # 85k parameters, ≫ the 1437 digits samples
    random_target_acc: float = 0.99          # "memorized": stop at this training accuracy
    random_max_epochs: int = 1000            # the cap, if memorizing takes longer (never hit)
    random_batch: int = 128                  # a common minibatch
    # --- parameters (the width sweep) ---
    widths: tuple[int, ...] = (1, 2, 3, 4, 6, 8, 16, 32, 64, 128)  # 10 nets, 85 … 9.6k params
    width_seeds: int = 2                     # seeds per width: the spread, not one draw
    width_max_epochs: int = 2000             # cap of the width sweep (never hit)
    width_target: float = 0.01               # cross-entropy target, as experiments.deepshallow
    # --- compute (the data and nets of every part) ---
    stop_window: int = 10                    # checks per window of the plateau rule
    stop_rel_tol: float = 0.01               # plateau: window median < 1 % below the one before
    # --- parameters (the width sweep) ---
    width_batch: int = 128                   # minibatch of the width sweep
    # --- flatness (batch sizes, interpolation, sharpness) ---
    hidden: tuple[int, ...] = (64, 64)       # the flatness network (9k parameters on digits)
    batch_sizes: tuple[int, ...] = (8, 32, 64, 128, 512, 1024)  # 2.1 decades of batch size
    target_loss: float = 0.01                # train each batch size to this training loss
    max_steps: int = 6000                    # the cap: at most this many steps
    check_every: int = 20                    # steps between checks of the whole training loss
    lr_variant: float = 0.01                 # the second learning rate of the interpolation
    interp_pair: tuple[int, ...] = (64, 1024)  # the two batch sizes interpolated
    n_alphas: int = 61                       # points on α ∈ [−1, 2]: a step of 0.05
    epsilon: float = 0.001                   # ε of the ε-sharpness box (Keskar et al.: 1e-3)
    sharpness_starts: int = 3                # L-BFGS-B starts: δ = 0 and 2 random
    sharpness_iters: int = 10                # L-BFGS-B iterations per start (Keskar et al.: 10)

    @classmethod
    def quick(cls):
        """The tiny preset the tests use (and --quick): every part runs, at smoke size."""
        return cls(n_train=256, random_hidden=(64,), random_max_epochs=3, widths=(2, 4, 8),
                   width_seeds=1, width_max_epochs=3, stop_window=2, hidden=(8,),
                   batch_sizes=(16, 64, 256), target_loss=0.5, max_steps=30, check_every=5,
                   interp_pair=(16, 256), n_alphas=7, sharpness_starts=2, sharpness_iters=3)

    def validate(self):
        """Raise UsageError, naming the flag, for an integer below its minimum, a step
        size, loss or ε ≤ 0, an accuracy outside (0, 1], unknown data, an --interp-pair not in
        --batch-sizes, no batch 64, or < 2 distinct widths or batch sizes; before any work."""
        check_ints(self, seed=0, n_train=0, random_hidden=1, random_max_epochs=1, random_batch=1,
                   widths=1, width_seeds=1, width_max_epochs=1, stop_window=1, width_batch=1,
                   hidden=1, batch_sizes=1, max_steps=1, check_every=1, interp_pair=1,
                   n_alphas=3, sharpness_starts=1, sharpness_iters=1)
        check_positive(self, "lr", "lr_variant", "target_loss", "epsilon", "width_target")
        check_range(self, "stop_rel_tol", 0.0, 1.0)
        check_range(self, "random_target_acc", 0.0, 1.0, high_open=False)
        check_image_data(self.dataset, self.data_root)
        if len(self.interp_pair) != 2 or not set(self.interp_pair) <= set(self.batch_sizes):
            raise UsageError(f"--interp-pair {' '.join(map(str, self.interp_pair))}: give two of "
                             f"--batch-sizes {' '.join(map(str, self.batch_sizes))}")
        if 64 not in self.batch_sizes:
            raise UsageError("--batch-sizes must include 64, the batch of the lr variant")
        for name in ("widths", "batch_sizes"):
            values = getattr(self, name)
            if len(set(values)) != len(values) or len(values) < 2:
                raise UsageError(f"--{name.replace('_', '-')}: give ≥ 2 different values")
        # memory before any write: θ, Adam's (m, v, ∇L) and the activations on the whole
        # training set (evaluated at each check) of every network; a lower bound
        data = self.dataset or ("mnist" if self.data_root else "digits")
        rows = self.n_train or FULL_TRAIN[data]
        check_series(self.n_alphas, f"--n-alphas {self.n_alphas}", 4)  # losses, accuracies
        for flag, hidden in (("--random-hidden", self.random_hidden), ("--hidden", self.hidden),
                             ("--widths", (max(self.widths),))):
            check_network_memory(data, hidden, 4, rows, f"{flag} {' '.join(map(str, hidden))}")

    @property
    def units(self) -> list[tuple]:
        """('random',), ('width', w, s) …, ('batch', b, lr) …, ('batch', 64, lr_variant)."""
        return ([("random",)] + [("width", w, s) for w in self.widths
                                 for s in range(self.width_seeds)]
                + [("batch", b, self.lr) for b in self.batch_sizes]
                + [("batch", 64, self.lr_variant)])

    def stop_rule(self, target: float | None = None) -> StopRule:
        """The one stop rule of every model (engine.training.stopping), with a loss target."""
        return StopRule(self.stop_window, self.stop_rel_tol, target)


def run(config: Config, out_dir=Path("results") / EXPERIMENT, options=LOCAL):
    """Train the missing units (in parallel), then interpolate and summarize."""
    name = image_dataset_name(config.dataset, config.data_root)
    data = check_data(name, config.data_root, config.n_train)  # before any write
    for field in ("batch_sizes", "random_batch", "width_batch"):  # on the data's real size
        check_batch(config, field, len(data.x_train), name)
    # every unit saves θ and its training curves (healing: a run file without them is redone)
    store = Store(out_dir, EXPERIMENT, config, required=lambda u, info: ("theta", "train_loss"))
    start = time.perf_counter()
    ids = range(len(config.units))
    if compute(store, functools.partial(unit, config), ids, options, desc="models") is None:
        return None
    runs = [store.load_run(u) for u in ids]
    arrays, summary = summarize(config, runs, data)
    summary |= {"dataset": name, "n_train": len(data.x_train), "n_test": len(data.x_test),
                "wall_time": time.perf_counter() - start,  # this call's: resumed units are free
                "unit_time_total": float(sum(info["wall_time"] for _, info in runs))}
    return store.save_summary(arrays, summary)


def unit(config: Config, index: int) -> tuple[dict, dict]:
    """Train unit `index` of config.units; pure: returns (arrays, info)."""
    kind, *args = config.units[index]
    data = load_data(image_dataset_name(config.dataset, config.data_root), config.data_root,
                     config.n_train)
    rng = np.random.default_rng(run_seeds(config.seed, len(config.units))[index])
    start = time.perf_counter()
    if kind == "random":
        arrays, info = _random_labels(config, data, rng)
    elif kind == "width":
        net = network(data, (args[0],), config.activation)
        epochs = -(-len(data.x_train) // config.width_batch)
        theta, records, info = fit(net, net.init(rng, "he"), data, adam(config.lr),
                                   config.width_batch, rng, config.width_max_epochs * epochs,
                                   epochs, loss_rule(config.stop_rule(config.width_target)))
        info["epochs"] = info["steps"] // epochs  # a check is one epoch of steps
        arrays = _curves(records) | {"theta": theta}
    else:
        batch, lr = args
        net = network(data, config.hidden, config.activation)
        # one initialization shared by every batch size: the batch is the only difference
        # (its own stream: child n_units of the SeedSequence, which no unit draws from)
        shared = run_seeds(config.seed, len(config.units) + 1)[-1]
        theta0 = net.init(np.random.default_rng(shared), "he")
        # the plateau window spans stop_window epochs (as the width sweep's) or checks, whichever
        # is longer: 10 checks of 20 steps at batch 8 are one noisy epoch, and the rule stopped
        # that run at loss 0.023, short of the target every other batch size reached
        epoch_steps = -(-len(data.x_train) // batch)
        rule = StopRule(config.stop_window * max(1, -(-epoch_steps // config.check_every)),
                        config.stop_rel_tol, config.target_loss)
        theta, records, info = fit(net, theta0, data, adam(lr), batch, rng, config.max_steps,
                                   config.check_every, loss_rule(rule))
        arrays = _curves(records) | {"theta": theta}
        info |= measures(config, net, theta, data, rng)
    return arrays, info | {"kind": kind, "args": args, "wall_time": time.perf_counter() - start}


def network(data, hidden, activation) -> MLP:
    """The MLP (input width, *hidden, classes) with softmax cross-entropy for `data`."""
    return MLP((data.x_train.shape[1], *hidden, data.y_train.shape[1]), activation,
               "cross_entropy")


def fit(net, theta, data, opt, batch_size, rng, max_steps, check_every, stop):
    """Adam/SGD minibatch steps (a permutation per epoch, as engine.training.loop) until
    stop(records) names a reason ('target', 'plateau') after a check, or max_steps. A check every
    `check_every` steps evaluates train/test loss and accuracy (engine.training.loop.evaluate).
    Returns (θ, records, info) with info["stopped_by"] the reason or 'cap' and the step
    count."""
    x, y = data.x_train, data.y_train
    n = len(x)
    state, step, position, order = opt.init(theta), 0, n, np.arange(n)
    records = [evaluate(net, theta, data) | {"step": 0}]
    stopped_by = "cap"
    while step < max_steps:
        if batch_size >= n:
            idx = order  # full batch: no permutation, as engine.training.loop
        else:
            if position >= n:  # a new epoch: a new order, the last batch may be short
                order, position = rng.permutation(n), 0
            idx = order[position:position + batch_size]
            position += batch_size
        _, g = mlp_value_and_gradient(net, opt.params(state), x[idx], y[idx])
        state = opt.update(step, g, state)
        step += 1
        if step % check_every == 0 or step == max_steps:
            records.append(evaluate(net, opt.params(state), data) | {"step": step})
            reason = stop(records)
            if reason is not None:
                stopped_by = reason
                break
    return opt.params(state), records, {"steps": step, "stopped_by": stopped_by,
                                        "sizes": net.sizes, "n_params": net.n_params}


def loss_rule(rule: StopRule):
    """stop(records) for `fit`: engine.training.stopping's reason on the checks' training
    losses."""
    return lambda records: stop_reason([r["train_loss"] for r in records], rule)


def memorized(target_acc: float, rule: StopRule):
    """stop(records) for random labels: 'target' once the training accuracy is ≥ target_acc
    (memorized), else the plateau of `rule` on the training loss."""
    def stop(records):
        return "target" if records[-1]["train_acc"] >= target_acc else stop_reason(
            [r["train_loss"] for r in records], rule)
    return stop


def measures(config: Config, net, theta, data, rng) -> dict:
    """Sensitivity on the test points, λ_max and ε-sharpness of the whole training loss."""
    sens, _ = sensitivity(net, theta, data.x_test)
    lam = top_eigenvalue(net, theta, data.x_train, data.y_train, tol=1e-6, rng=rng)
    sharp = epsilon_sharpness(net, theta, data.x_train, data.y_train, config.epsilon,
                              n_starts=config.sharpness_starts, rng=rng,
                              maxiter=config.sharpness_iters)
    return {"sensitivity": sens, "lambda_max": lam, "sharpness": sharp.value,
            "sharpness_max_loss": sharp.max_loss}


def _random_labels(config: Config, data, rng):
    perm = rng.permutation(len(data.y_train))
    shuffled = Dataset(data.name, data.task, data.x_train, data.y_train[perm], data.x_test,
                       data.y_test, data.n_classes)
    net = network(data, config.random_hidden, config.activation)
    epoch = -(-len(data.x_train) // config.random_batch)
    theta, records, info = fit(
        net, net.init(rng, "he"), shuffled, adam(config.lr), config.random_batch, rng,
        config.random_max_epochs * epoch, epoch,
        memorized(config.random_target_acc, config.stop_rule()))
    kept = float(np.mean(shuffled.labels_train == data.labels_train))
    return _curves(records) | {"theta": theta}, info | {
        "labels_unchanged": kept, "epochs": info["steps"] // epoch}


def _curves(records) -> dict:
    return {k: np.array([r[k] for r in records]) for k in records[0]}
