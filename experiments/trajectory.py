"""Visualize the optimization process (slides, "Visualize the Optimization Process" 1/3–3/3):
`python -m experiments.trajectory`.

Train the same network `runs` times from independent initializations (run r draws its init and
its minibatch orders from SeedSequence(seed).spawn(runs)[r]); collect θ at epoch 0, every `every`
epochs and after the last epoch, and record at each collected point the train and test loss and
accuracy (the loss only, for the sinc regression). Then reduce the collected points to 2-D by one
PCA (scikit-learn, exact SVD) fitted on the points of all runs stacked, so every run is drawn in
the same basis — a PCA per run gives each trajectory its own coordinates, which cannot be
compared. Two projections: the whole model θ, and layer 1 alone (θ[layout.slice_of(0)] = W₁, b₁).

What the picture hides: with θ̄ the mean of the stacked points and P the projection onto the PCA
plane, a point's off-plane share is ‖(I − P)(θ − θ̄)‖² / ‖θ − θ̄‖² ∈ [0, 1] (0 where θ = θ̄);
summed over points the ratio Σ‖(I − P)dᵢ‖² / Σ‖dᵢ‖² equals 1 − EVR₁ − EVR₂, the variance the
two components leave unexplained.

The motion of each run: the joint PCA is dominated by where the runs start (independent
initializations lie far apart, and training moves each only a little), so a second PCA is fitted
on the displacements θ_t − θ_0 of every run from its own start (again one basis for all runs,
coordinates about 0 so that every run starts at the origin): it shows how far and in which
shared directions the runs move.

Data: `--dataset mnist|digits|cifar10|sinc`, or '' (default): MNIST when `--data-root` is given,
else scikit-learn's digits (offline). Every run sees the same data (the loaders' fixed
split); the seed only changes initializations and batch orders.
Results (engine.io.results.Store): runs/run_r.npz = snapshots (n_snapshots, n_params), epochs,
train_loss, test_loss (+ train_acc, test_acc for classification); summary.npz = the stacked
points, their run and epoch, metrics, PCA coordinates and off-plane shares of both projections
and their explained-variance ratios, the same for the displacements (`<projection>_motion_*`);
summary.json = the numbers a report quotes.
Cost: runs × epochs × ⌈N / batch_size⌉ gradient steps, plus a train and test evaluation per
collected point, and four exact SVDs of an (n_points × n_params) matrix.
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
from scipy.spatial.distance import pdist

from engine import MLP, Layout
from engine.io.results import Store, UsageError
from engine.landscape.surface import path_pca
from engine.training.divergence import Diverged, quiet_overflow, stop_on_nonfinite
from engine.training.loop import evaluate, train
from engine.training.optim import make_optimizer
from experiments.harness.checks import (
    FULL_TRAIN,
    check_batch,
    check_image_data,
    check_ints,
    check_network_memory,
    check_range,
)
from experiments.harness.config import main
from experiments.harness.datasets import check_data, image_dataset_name, load_data
from experiments.harness.parallel import LOCAL, compute, run_seeds

EXPERIMENT = "trajectory"
# Step sizes by optimizer when --lr is 0: Adam's default, and an SGD step (momentum 0.9) that
# trains the DNN on digits within the default epochs without diverging.
DEFAULT_LR = {"adam": 1e-3, "sgd": 0.01}
# the choices of --activation and --init
Activation = Literal["relu", "tanh", "sigmoid", "softplus", "linear"]
Init = Literal["he", "lecun", "glorot"]


@dataclass(frozen=True)
class Config:
    """Experiment settings; each field's comment is its --help text; quick(): the tests' preset."""

    # --- runs (how many, and what is recorded) ---
    seed: int = 0                            # one SeedSequence; run r uses its spawn(runs)[r]
    runs: int = 8                            # "train 8 times" (slides 3/3)
    every: int = 3                           # collect the weights every 3 epochs (slides 3/3)
    epochs: int = 24                         # 0, 3, …, 24: nine points per run (≥ 8 wanted)
    # --- data and net ---
    dataset: Literal["", "mnist", "digits", "cifar10", "sinc"] = ""  # '' = mnist with --data-root
    data_root: str = ""                      # holds MNIST/raw or cifar-10-batches-py
    n_train: int = 0                         # 0 = every training sample; >0 a fixed subset
    hidden: tuple[int, ...] = (128, 64)      # the slides' DNN: two hidden layers
    activation: Activation = "relu"          # usual on images
    init: Init = "he"                        # variance 2/d_in keeps ReLU activations at scale
    # --- training ---
    optimizer: Literal["adam", "sgd"] = "adam"  # 'sgd': heavy-ball momentum 0.9
    lr: float = 0.0                          # step size; 0 = 1e-3 for Adam, 0.01 for SGD
    batch_size: int = 128                    # the common MNIST minibatch

    @classmethod
    def quick(cls):
        """The tiny preset the tests use (and --quick): every part runs, at smoke size."""
        return cls(runs=3, every=1, epochs=2, n_train=120, hidden=(8,), batch_size=40)

    def validate(self):
        """Raise UsageError, naming the flag, for an integer below its minimum, lr < 0,
        unknown data, < 3 points in all for the PCA, or snapshots too large for memory; before
        any work."""
        check_ints(self, seed=0, runs=1, every=1, epochs=1, batch_size=1, n_train=0, hidden=1)
        check_range(self, "lr", low=0.0, low_open=False)
        check_image_data(self.dataset, self.data_root, ("mnist", "digits", "cifar10", "sinc"))
        if self.runs * self.n_snapshots < 3:
            raise UsageError(f"--runs {self.runs} with {self.n_snapshots} points per run: a 2-D "
                             "PCA needs at least 3 points in all; raise --runs or --epochs")
        # θ per snapshot (parent: all runs stacked, plus the PCA's copies), the optimizer state
        # and gradient, and one evaluation of the training set
        name = dataset_name(self)
        check_network_memory(name, self.hidden, 3 * self.runs * self.n_snapshots + 4,
                             self.n_train or FULL_TRAIN[name],
                             f"--hidden {' '.join(map(str, self.hidden))} with --runs {self.runs}")

    @property
    def n_snapshots(self) -> int:
        """Points per run: epochs 0, every, 2·every, … below `epochs`, and `epochs` itself."""
        return self.epochs // self.every + 1 + (self.epochs % self.every != 0)

    @property
    def step_size(self) -> float:
        """The optimizer's step size: `lr`, or when it is 0 the default (Adam 1e-3, SGD 0.01)."""
        return self.lr or DEFAULT_LR[self.optimizer]


def run(config: Config, out_dir=Path("results") / EXPERIMENT, options=LOCAL):
    """Train the runs not saved in out_dir yet (in parallel), fit the PCAs, save the summary."""
    name = dataset_name(config)
    data = check_data(name, config.data_root, config.n_train)  # before any write
    # after the data's own checks (a subset of 1 is refused there first), on its real size
    check_batch(config, "batch_size", len(data.x_train), name)
    store = Store(out_dir, EXPERIMENT, config, required=_run_keys)
    store.missing(range(config.runs))  # a damaged run is deleted (one-line notice) before use
    for r in range(config.runs):  # a saved run must have used the data the config resolves to now
        if store.done(r) and (saved := store.load_run(r)[1]["dataset"]) != name:
            raise UsageError(f"{store.out} holds runs on {saved}, but this command resolves to "
                             f"{name}; choose another --out or delete that folder")
    if compute(store, functools.partial(train_run, config), range(config.runs), options,
                   desc="runs") is None:
        return None
    results = [store.load_run(r) for r in range(config.runs)]
    infos = [info for _, info in results]
    layer1 = Layout(tuple(infos[0]["sizes"])).slice_of(0)
    arrays, summary = summarize([arrays for arrays, _ in results], layer1,
                                [info.get("diverged") for info in infos])
    summary |= {"dataset": name, "sizes": infos[0]["sizes"], "n_params": infos[0]["n_params"],
                "n_train": len(data.x_train),
                "lr": config.step_size, "wall_time_per_run": [i["wall_time"] for i in infos],
                "train_samples_per_s": float(np.median([i["samples_per_s"] for i in infos]))}
    if summary["diverged"]:
        first = min(summary["diverged"], key=lambda d: d["step"])
        what = (f"all {config.runs} runs diverged" if len(summary["diverged"]) == config.runs else
                f"{len(summary['diverged'])} of {config.runs} runs diverged")
        print(f"experiments.trajectory: {what} (first: run {first['run']}, "
              f"{first.get('reason', 'non-finite loss')} at step {first['step']}); they are "
              "left out of the PCA and marked in the figures; "
              "lower --lr to train them", file=sys.stderr)
    return store.save_summary(arrays, summary)


def dataset_name(config: Config) -> str:
    """The dataset the config resolves to ('' = MNIST when --data-root is given, else digits)."""
    return image_dataset_name(config.dataset, config.data_root)


def summarize(runs: list[dict], layer1: slice, diverged=None) -> tuple[dict, dict]:
    """Stack the points of the runs that did not diverge (each run's dict as saved; diverged[r]
    is None or run r's {'step', 'epoch'}) and project the whole model and the block `layer1` of θ
    with one PCA each: (summary arrays, summary numbers). A diverged run is listed in
    summary['diverged'] and left out: its last points are astronomically far and would be the
    whole picture. Fewer than 3 points left: no PCA (summary['pca'] False)."""
    diverged = diverged or [None] * len(runs)
    used = [r for r, d in enumerate(diverged) if d is None]
    points = np.concatenate([runs[r]["snapshots"] for r in used]) if used else \
        np.empty((0, runs[0]["snapshots"].shape[1]))
    arrays = {"snapshots": points,
              "run": np.concatenate([np.full(len(runs[r]["epochs"]), r) for r in used]
                                    ).astype(int) if used else np.empty(0, int),
              "epoch": np.concatenate([runs[r]["epochs"] for r in used]).astype(int) if used
              else np.empty(0, int)}
    metrics = [k for k in ("train_loss", "test_loss", "train_acc", "test_acc") if k in runs[0]]
    arrays |= {k: np.concatenate([runs[r][k] for r in used]) if used else np.empty(0)
               for k in metrics}
    summary = {"n_runs": len(runs), "n_points": len(points), "metrics": metrics,
               "runs_used": used, "pca": len(points) >= 3,
               "diverged": [{"run": r, **d} for r, d in enumerate(diverged) if d is not None]}
    if summary["pca"]:
        for name, block in (("whole", slice(None)), ("layer1", layer1)):
            _, ratio, coords, off = path_pca(points[:, block])
            arrays |= {f"{name}_coords": coords, f"{name}_explained_variance": ratio,
                       f"{name}_off_plane": off}
            summary[name] = {"explained_variance_pc1": float(ratio[0]),
                             "explained_variance_pc2": float(ratio[1]),
                             "off_plane_median": float(np.median(off)),
                             "off_plane_max": float(off.max())}
            # the motion of each run: displacements θ_t − θ_0 from its own start, one PCA for
            # all runs. The joint PCA above is dominated by where the runs start (far apart);
            # this one shows how each moves, in a basis shared by every run
            moved = points[:, block] - np.concatenate(
                [np.repeat(runs[r]["snapshots"][:1, block], len(runs[r]["epochs"]), axis=0)
                 for r in used])
            _, ratio, coords, off = path_pca(moved, center=np.zeros(moved.shape[1]))  # 0: start
            arrays |= {f"{name}_motion_coords": coords,
                       f"{name}_motion_explained_variance": ratio,
                       f"{name}_motion_off_plane": off}
            summary[name] |= {"motion_explained_variance_pc1": float(ratio[0]),
                              "motion_explained_variance_pc2": float(ratio[1]),
                              "motion_off_plane_median": float(np.median(off))}
    if used:
        # how far training moves θ, against how far apart the runs start: the picture's scale
        start, end = (np.stack([runs[r]["snapshots"][i] for r in used]) for i in (0, -1))
        travel = np.linalg.norm(end - start, axis=1)
        summary.setdefault("whole", {})
        summary["whole"] |= {"travel_median": float(np.median(travel)),
                             "start_distance_median": float(np.median(pdist(start)))
                             if len(used) > 1 else None}
    final = {k: np.array([runs[r][k][-1] for r in used]) for k in metrics}
    # std over runs with ddof = 1: the sample standard deviation the report names
    summary["final"] = {k: {"per_run": v.tolist(), "mean": float(v.mean()) if v.size else None,
                            "std": float(v.std(ddof=1)) if v.size > 1 else None}
                        for k, v in final.items()}
    return arrays, summary


def train_run(config: Config, run: int) -> tuple[dict, dict]:
    """Train run `run`, collect and evaluate its snapshots: (arrays, info) to save."""
    data = load_data(dataset_name(config), config.data_root, config.n_train)
    rng = np.random.default_rng(run_seeds(config.seed, config.runs)[run])
    loss = "cross_entropy" if data.task == "classification" else "mse"
    sizes = (data.x_train.shape[1], *config.hidden, data.y_train.shape[1])
    net = MLP(sizes, config.activation, loss)
    epochs, snapshots = [], []

    def collect(epoch, theta):
        epochs.append(epoch)
        snapshots.append(np.array(theta))

    start = time.perf_counter()
    optimizer = make_optimizer(config.optimizer, config.step_size)
    diverged = None
    with quiet_overflow():  # a diverging run overflows: detected and recorded, not warned
        try:
            state = train(net, net.init(rng, config.init), data, optimizer, epochs=config.epochs,
                          batch_size=config.batch_size, rng=rng, every=config.every,
                          on_step=stop_on_nonfinite(), on_snapshot=collect, progress=True,
                          desc=f"run {run} epochs")
            if not np.all(np.isfinite(optimizer.params(state))):  # the last update overflowed
                raise Diverged(config.epochs * _steps_per_epoch(config, data), config.epochs,
                               "non-finite weights")
        except Diverged as err:
            diverged = err.info()
        train_time = time.perf_counter() - start
        # a diverged run keeps the points collected before it left the finite numbers
        keep = [i for i, theta in enumerate(snapshots) if np.all(np.isfinite(theta))]
        metrics = [evaluate(net, snapshots[i], data) for i in keep]
    keys = ["train_loss", "test_loss"]
    keys += ["train_acc", "test_acc"] if loss == "cross_entropy" else []
    n_params = net.n_params
    arrays = {"snapshots": np.array([snapshots[i] for i in keep]).reshape(len(keep), n_params),
              "epochs": np.array([epochs[i] for i in keep], dtype=int)}
    arrays |= {k: np.array([m[k] for m in metrics], dtype=float) for k in keys}
    n_steps = config.epochs * _steps_per_epoch(config, data)
    return arrays, {
        "dataset": data.name, "sizes": net.sizes, "n_params": n_params,
        "n_train": len(data.x_train), "diverged": diverged,
        "n_steps": n_steps if diverged is None else diverged["step"],
        "wall_time": time.perf_counter() - start, "train_time": train_time,
        "samples_per_s": (config.epochs * len(data.x_train) if diverged is None else
                          diverged["step"] * min(config.batch_size, len(data.x_train)))
        / train_time,
        "final": {k: metrics[-1][k] for k in keys} if diverged is None else None}


def _run_keys(run: int, info: dict) -> list[str]:
    """The arrays a saved run must hold (accuracies for classification only)."""
    return ["snapshots", "epochs", "train_loss", "test_loss"] + (
        ["train_acc", "test_acc"] if info.get("dataset") != "sinc" else [])


def _steps_per_epoch(config: Config, data) -> int:
    return math.ceil(len(data.x_train) / config.batch_size)


if __name__ == "__main__":
    main(Config, run, "plots.trajectory", prog="experiments.trajectory", description=__doc__)
