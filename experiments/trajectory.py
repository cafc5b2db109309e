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

Data: `--dataset mnist|digits|cifar10|sinc`, or '' (default): MNIST when `--data-root` is given,
else scikit-learn's digits (offline). Every run sees the same data (the loaders' fixed
split); the seed only changes initializations and batch orders.
Results (engine.results.Store): runs/run_r.npz = snapshots (n_snapshots, n_params), epochs,
train_loss, test_loss (+ train_acc, test_acc for classification); summary.npz = the stacked
points, their run and epoch, metrics, PCA coordinates and off-plane shares of both projections
and their explained-variance ratios; summary.json = the numbers a report quotes.
Cost: runs × epochs × ⌈N / batch_size⌉ gradient steps, plus a train and test evaluation per
collected point, and two exact SVDs of an (n_points × n_params) matrix.
"""
from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from scipy.spatial.distance import pdist
from sklearn.decomposition import PCA

from engine import MLP, Layout
from engine.optim import make_optimizer
from engine.results import Store, UsageError
from engine.train import evaluate, train

from .checks import check_image_data, check_ints, check_memory, check_range
from .config import main
from .datasets import check_data, image_dataset_name, load_data
from .parallel import LOCAL, compute, run_seeds

EXPERIMENT = "trajectory"
# Step sizes by optimizer when --lr is 0: Adam's default, and an SGD step (momentum 0.9) that
# trains the DNN on digits within the default epochs without diverging.
DEFAULT_LR = {"adam": 1e-3, "sgd": 0.01}


@dataclass(frozen=True)
class Config:
    seed: int = 0                            # one SeedSequence; run r uses its spawn(runs)[r]
    runs: int = 8                            # "train 8 times" (slides 3/3)
    every: int = 3                           # collect the weights every 3 epochs (slides 3/3)
    epochs: int = 24                         # 0, 3, …, 24: nine points per run (≥ 8 wanted)
    dataset: Literal["", "mnist", "digits", "cifar10", "sinc"] = ""  # '' = mnist with --data-root
    data_root: str = ""                      # holds MNIST/raw or cifar-10-batches-py
    n_train: int = 0                         # 0 = every training sample; >0 a fixed subset
    hidden: tuple[int, ...] = (128, 64)      # the slides' DNN: two hidden layers
    activation: Literal["relu", "tanh", "sigmoid", "softplus", "linear"] = "relu"  # usual on images
    init: Literal["he", "lecun", "glorot"] = "he"  # variance 2/d_in keeps ReLU activations at scale
    optimizer: Literal["adam", "sgd"] = "adam"  # 'sgd': heavy-ball momentum 0.9
    lr: float = 0.0                          # step size; 0 = 1e-3 for Adam, 0.01 for SGD
    batch_size: int = 128                    # the common MNIST minibatch

    @classmethod
    def quick(cls):
        return cls(runs=3, every=1, epochs=2, n_train=120, hidden=(8,), batch_size=40)

    def validate(self):
        check_ints(self, seed=0, runs=1, every=1, epochs=1, batch_size=1, n_train=0, hidden=1)
        check_range(self, "lr", low=0.0, low_open=False)
        check_image_data(self.dataset, self.data_root, ("mnist", "digits", "cifar10", "sinc"))
        if self.runs * self.n_snapshots < 3:
            raise UsageError(f"--runs {self.runs} with {self.n_snapshots} points per run: a 2-D "
                             "PCA needs at least 3 points in all; raise --runs or --epochs")
        # θ per snapshot (parent: all runs stacked, plus the PCA's copies) and the Adam state
        widths = (3072, *self.hidden, 10)
        n_params = sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:], strict=False))
        check_memory(8.0 * n_params * (3 * self.runs * self.n_snapshots + 4),
                     f"--hidden {' '.join(map(str, self.hidden))} with --runs {self.runs}")

    @property
    def n_snapshots(self) -> int:
        """Points per run: epochs 0, every, 2·every, … below `epochs`, and `epochs` itself."""
        return self.epochs // self.every + 1 + (self.epochs % self.every != 0)

    @property
    def step_size(self) -> float:
        return self.lr or DEFAULT_LR[self.optimizer]


def run(config: Config, out_dir=Path("results") / EXPERIMENT, options=LOCAL):
    """Train the runs not saved in out_dir yet (in parallel), fit the PCAs, save the summary."""
    name = dataset_name(config)
    data = check_data(name, config.data_root, config.n_train)  # before any write
    store = Store(out_dir, EXPERIMENT, config)
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
    arrays, summary = summarize([arrays for arrays, _ in results], layer1)
    summary |= {"dataset": name, "sizes": infos[0]["sizes"], "n_params": infos[0]["n_params"],
                "n_train": len(data.x_train),
                "lr": config.step_size, "wall_time_per_run": [i["wall_time"] for i in infos],
                "train_samples_per_s": float(np.median([i["samples_per_s"] for i in infos]))}
    return store.save_summary(arrays, summary)


def dataset_name(config: Config) -> str:
    """The dataset the config resolves to ('' = MNIST when --data-root is given, else digits)."""
    return image_dataset_name(config.dataset, config.data_root)


def summarize(runs: list[dict], layer1: slice) -> tuple[dict, dict]:
    """Stack the runs' points (each run's dict as saved) and project the whole model and the
    block `layer1` of θ with one PCA each: (summary arrays, summary numbers)."""
    points = np.concatenate([r["snapshots"] for r in runs])
    arrays = {"snapshots": points,
              "run": np.concatenate([np.full(len(r["epochs"]), i) for i, r in enumerate(runs)]),
              "epoch": np.concatenate([r["epochs"] for r in runs])}
    metrics = [k for k in ("train_loss", "test_loss", "train_acc", "test_acc") if k in runs[0]]
    arrays |= {k: np.concatenate([r[k] for r in runs]) for k in metrics}
    summary = {"n_runs": len(runs), "n_points": len(points), "metrics": metrics}
    for name, block in (("whole", slice(None)), ("layer1", layer1)):
        coords, ratio, off = pca_projection(points[:, block])
        arrays |= {f"{name}_coords": coords, f"{name}_explained_variance": ratio,
                   f"{name}_off_plane": off}
        summary[name] = {"explained_variance_pc1": float(ratio[0]),
                         "explained_variance_pc2": float(ratio[1]),
                         "off_plane_median": float(np.median(off)),
                         "off_plane_max": float(off.max())}
    # how far training moves θ, against how far apart the runs start: the scale of the picture
    start, end = (np.stack([r["snapshots"][i] for r in runs]) for i in (0, -1))
    travel = np.linalg.norm(end - start, axis=1)
    summary["whole"] |= {"travel_median": float(np.median(travel)),
                         "start_distance_median": float(np.median(pdist(start))) if len(runs) > 1
                         else float("nan")}
    final = {k: np.array([r[k][-1] for r in runs]) for k in metrics}
    # std over runs with ddof = 1: the sample standard deviation the report names
    summary["final"] = {k: {"per_run": v.tolist(), "mean": float(v.mean()),
                            "std": float(v.std(ddof=1)) if v.size > 1 else float("nan")}
                        for k, v in final.items()}
    return arrays, summary


def pca_projection(points: np.ndarray):
    """PCA of points (n_points, dim) to 2-D: coordinates (n_points, 2), explained-variance ratios
    (2,) and off-plane shares (n_points,) ‖(I − P)dᵢ‖² / ‖dᵢ‖², dᵢ = pointᵢ − mean.
    Cost: an exact SVD, O(n_points² · dim)."""
    pca = PCA(n_components=2, svd_solver="full")  # exact; sklearn fixes the component signs
    coords = pca.fit_transform(points)
    d = points - pca.mean_
    total = np.einsum("ij,ij->i", d, d)
    # ‖(I − P)d‖² = ‖d‖² − ‖Pd‖² (orthonormal components); clip the rounding below 0
    hidden = np.clip(total - np.einsum("ij,ij->i", coords, coords), 0.0, None)
    off = np.divide(hidden, total, out=np.zeros_like(total), where=total > 0)
    return coords, pca.explained_variance_ratio_, np.minimum(off, 1.0)


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
    train(net, net.init(rng, config.init), data, make_optimizer(config.optimizer, config.step_size),
          epochs=config.epochs, batch_size=config.batch_size, rng=rng, every=config.every,
          on_snapshot=collect, progress=True, desc=f"run {run} epochs")
    train_time = time.perf_counter() - start
    metrics = [evaluate(net, theta, data) for theta in snapshots]
    keys = ["train_loss", "test_loss"]
    keys += ["train_acc", "test_acc"] if loss == "cross_entropy" else []
    arrays = {"snapshots": np.stack(snapshots), "epochs": np.array(epochs)}
    arrays |= {k: np.array([m[k] for m in metrics]) for k in keys}
    n_steps = config.epochs * math.ceil(len(data.x_train) / config.batch_size)
    return arrays, {
        "dataset": data.name, "sizes": net.sizes, "n_params": net.n_params,
        "n_train": len(data.x_train),
        "n_steps": n_steps, "wall_time": time.perf_counter() - start, "train_time": train_time,
        "samples_per_s": config.epochs * len(data.x_train) / train_time,
        "final": {k: metrics[-1][k] for k in keys}}


if __name__ == "__main__":
    from plots.trajectory import render

    main(Config, run, render, prog="experiments.trajectory", description=__doc__)
