"""Bonus: the error surface (slides, "Example of Bonus" 1/3–3/3), `python -m experiments.surface`.

  sinc  1-10-10-1 tanh, MSE on sinc, Adam                 --view line, plane, perturb
  dnn   64-32-10 ReLU, cross-entropy on digits, Adam      --view line, plane
  tiny  1-5-5-1 tanh (46 parameters), 64 inputs: GD, trust-region Newton, sampled neighbours
        (half-widths ∝ each parameter's GD rate of descent), t-SNE    --view tsne
Unit k of UNITS is saved as runs/run_k; summary.npz holds them all as 'unit/key'. --view is not
part of the stored config: views run by separate commands share one folder.
"""
from __future__ import annotations

import dataclasses
import functools
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from engine import MLP
from engine.data.datasets import function_dataset
from engine.io.results import Store, UsageError
from engine.landscape import surface as es
from experiments.harness.checks import (
    FULL_TRAIN,
    check_batch,
    check_image_data,
    check_ints,
    check_memory,
    check_network_memory,
    check_positive,
    n_params_of,
)
from experiments.harness.datasets import check_data, image_dataset_name, load_data
from experiments.harness.parallel import LOCAL, compute, run_seeds
from experiments.surface import views as surface_views
from experiments.surface.views import DENSE_MAX, TSNE_EXAGGERATION

EXPERIMENT = "surface"
VIEWS = ("line", "plane", "tsne", "perturb")
# perturb: sinc net only (thousands of one-parameter curves on a figure say nothing)
MODELS = {"line": ("sinc", "dnn"), "plane": ("sinc", "dnn"), "tsne": ("tiny",),
          "perturb": ("sinc",)}
UNITS = ("sinc_train", "dnn_train", *(f"{m}_{v}" for v in VIEWS for m in MODELS[v]))
CHUNK_BYTES = 32e6  # per loss call: DNN plane 1.3 s CPU, 1.7-2.1 s with 200 MB
# the arrays a saved unit must hold, by view
UNIT_KEYS = {"train": ("theta0", "theta_end", "snapshots", "epochs"),
             "line": ("alphas", "train_loss", "test_loss"),
             "plane": tuple(f"{p}_{k}" for p in ("random", "pca", "hessian")
                            for k in ("a", "b", "d1", "d2", "Z")) + ("lam", "loss0", "slopes"),
             "perturb": ("deltas", "curves", "H_diag", "grad", "loss0"),
             "tsne": ("embedding", "kind", "loss", "scale")}
@dataclass(frozen=True)
class Config:
    """Experiment settings; each field's comment is its --help text; quick(): the tests' preset."""

    # --- compute (which views) ---
    view: Literal["all", "line", "plane", "tsne", "perturb"] = "all"  # which views to compute
    seed: int = 0  # unit k draws from SeedSequence(seed).spawn(8)[k]
    # --- trained ends (the sinc net and the dnn) ---
    sinc_hidden: tuple[int, ...] = (10, 10)  # the homework's net, 141 parameters
    sinc_samples: int = 1000  # x evenly spaced in [-1, 1]; test: midpoints
    sinc_epochs: int = 300  # Adam reaches L ~ 2e-4: a trained end
    sinc_lr: float = 0.01  # Adam's step: trains it smoothly
    dataset: Literal["", "digits", "mnist", "cifar10"] = ""  # '' = mnist with --data-root
    data_root: str = ""  # holds MNIST/raw or cifar-10-batches-py
    n_train: int = 0  # 0: all digits, 2000 of MNIST/CIFAR-10
    dnn_hidden: tuple[int, ...] = (32,)  # 2410 parameters on digits
    dnn_epochs: int = 60  # ~99 % training accuracy on digits
    dnn_lr: float = 0.001  # Adam's usual step (Kingma & Ba)
    batch_size: int = 64  # minibatches of both Adam runs
    every: int = 3  # snapshot period (epochs) for the PCA plane
    # --- line, planes and perturbation ---
    line_points: int = 81  # alpha in [-0.5, 1.5], steps of 0.025
    grid: int = 51  # points per plane axis: 2601 losses a plane
    plane_radius: float = 1.0  # random planes: a, b in [-1, 1] (Li et al.)
    hessian_rise: float = 1.0  # Hessian plane: to L = (1+rise) L(theta*)
    perturb_range: float = 0.5  # delta in [-0.5, 0.5] for every parameter
    perturb_points: int = 41  # odd: delta = 0 is on the grid
    # --- tsne (a tiny net's path and sampled neighbours) ---
    tiny_hidden: tuple[int, ...] = (5, 5)  # 46 parameters: the slides ask for < 50
    tiny_samples: int = 64  # the fixed set of inputs
    gd_epochs: int = 2000  # full-batch gradient descent
    gd_lr: float = 1.0  # stable here (2.0 diverges)
    newton_steps: int = 20  # trust-region Newton steps before sampling
    extra_steps: int = 10  # "about 10 epochs further" (Newton steps), sampling
    neighbours: int = 100  # samples per extra epoch
    sample_radius: float = 0.2  # half-width for the fastest-descending parameter (others ∝
    # …their GD rate of descent)
    perplexity: float = 30.0  # t-SNE neighbourhood size (5-50 typical)
    tsne_iter: int = 500  # KL 0.68 here vs 0.65 at 1000: the same picture

    @classmethod
    def quick(cls):
        """The tiny preset the tests use (and --quick): every part runs, at smoke size."""
        return cls(sinc_hidden=(4,), sinc_samples=100, sinc_epochs=6, n_train=200,
                   dnn_hidden=(8,), dnn_epochs=3, every=1, line_points=9, grid=7,
                   perturb_points=5, gd_epochs=30, newton_steps=3, extra_steps=2, neighbours=15,
                   perplexity=5.0, tsne_iter=300)

    def validate(self):
        """Raise UsageError, naming the flag, for an integer below its minimum, a float ≤ 0,
        an even grid, a line that misses θ₀ or θ*, a PCA path of < 3 points, a perplexity
        outside [5, 50] or too large for the t-SNE's points, or arrays too large for memory;
        before any work."""
        check_image_data(self.dataset, self.data_root)
        # t-SNE: scikit-learn spends the first 250 iterations in its early-exaggeration phase; at
        # 250 the embedding is that phase's, not a t-SNE
        check_ints(self, seed=0, grid=3, perturb_points=3, tsne_iter=TSNE_EXAGGERATION + 1,
                   n_train=0, **{f.name: 1 for f in dataclasses.fields(self)
                                 if f.type in ("int", "tuple[int, ...]") and f.name not in
                                 ("seed", "grid", "perturb_points", "tsne_iter", "n_train")})
        check_positive(self, *(f.name for f in dataclasses.fields(self) if f.type == "float"))
        if self.perturb_points % 2 == 0:
            raise UsageError(f"--perturb-points {self.perturb_points}: give an odd number")
        if self.grid % 2 == 0:  # the axis cuts through θ* need 0 on the grid
            raise UsageError(f"--grid {self.grid}: give an odd number")
        for name in ("sinc_samples", "tiny_samples"):  # a 1-D function needs 2 grid points
            check_ints(self, **{name: 2})
        if (self.line_points - 1) % 4:  # α = 0 and α = 1 on the grid: θ₀ and θ* on the line
            raise UsageError(f"--line-points {self.line_points}: give 4k + 1 points (e.g. 41, "
                             "81), so that the line passes through θ₀ (α = 0) and θ* (α = 1)")
        if self.view in ("all", "plane"):  # the PCA plane needs three points of each path
            for model in ("sinc", "dnn"):
                epochs = getattr(self, f"{model}_epochs")
                if epochs // self.every + 1 + (epochs % self.every != 0) < 3:
                    raise UsageError(f"--every {self.every} with --{model}-epochs {epochs}: the "
                                     "PCA plane needs three points of the path; lower --every")
        if not 5 <= self.perplexity <= 50:  # t-SNE's useful range
            raise UsageError(f"--perplexity {self.perplexity}: give a number in [5, 50]")
        if self.view in ("all", "tsne") and 3 * self.perplexity + 1 >= self.tsne_points_min:
            # scikit-learn's t-SNE looks at the 3·perplexity + 1 nearest neighbours: with fewer
            # points it would quietly compute another perplexity than the flag's
            raise UsageError(f"--perplexity {self.perplexity:g} needs more than "
                             f"{3 * self.perplexity + 1:g} points, but the t-SNE may have only "
                             f"{self.tsne_points_min}; raise --neighbours or --extra-steps, or "
                             "lower --perplexity")
        self._check_sizes()

    @property
    def tsne_points_min(self) -> int:
        """The fewest points the t-SNE can get: the GD snapshots, one Newton step, the samples."""
        every = max(1, self.gd_epochs // 100)
        return -(-self.gd_epochs // every) + 1 + 1 + self.extra_steps * self.neighbours

    def _check_sizes(self):
        """Refuse, naming the flag, a setting whose arrays cannot fit in memory."""
        views = VIEWS if self.view == "all" else (self.view,)
        dnn = image_dataset_name(self.dataset, self.data_root)
        n_train = self.n_train or (FULL_TRAIN[dnn] if dnn == "digits" else 2000)
        n_sinc = n_params_of("sinc", self.sinc_hidden)
        sinc = f"--sinc-hidden {' '.join(map(str, self.sinc_hidden))}"
        # θ, Adam's state, the path's snapshots (--sinc-epochs / --every of them), the grid's
        # activations and their gradients
        check_network_memory("sinc", self.sinc_hidden, 3 * (self.sinc_epochs // self.every + 2)
                             + 8, self.sinc_samples, f"{sinc} with --sinc-samples "
                             f"{self.sinc_samples} and --sinc-epochs {self.sinc_epochs}")
        check_batch(self, "batch_size", self.sinc_samples, f"--sinc-samples {self.sinc_samples}")
        # the dense Hessian of the sinc net (perturb; plane when small) and its eigh
        if "perturb" in views or ("plane" in views and n_sinc <= DENSE_MAX):
            check_memory(8.0 * 4 * n_sinc**2, f"{sinc} (its exact Hessian)")
        if "perturb" in views:
            check_memory(8.0 * n_sinc * self.perturb_points, f"{sinc} with --perturb-points "
                         f"{self.perturb_points}")
        if any(v in views for v in ("line", "plane")):
            n_dnn = check_network_memory(
                dnn, self.dnn_hidden, 3 * (self.dnn_epochs // self.every + 2) + 8, n_train,
                f"--dnn-hidden {' '.join(map(str, self.dnn_hidden))}")
            if "plane" in views and n_dnn <= DENSE_MAX:
                check_memory(8.0 * 4 * n_dnn**2, "--dnn-hidden (its exact Hessian)")
        check_memory(8.0 * 3 * self.grid**2 + 8.0 * 3 * self.line_points,
                     f"--grid {self.grid} with --line-points {self.line_points}")
        if "tsne" in views:
            n_tiny = check_network_memory("sinc", self.tiny_hidden, 8, self.tiny_samples,
                                          f"--tiny-samples {self.tiny_samples}")
            n_points = self.tsne_points_min + self.newton_steps + self.extra_steps
            # trust-exact keeps a few dense Hessians; t-SNE a neighbour graph per point
            check_memory(8.0 * (6 * n_tiny**2 + n_points * (2 * n_tiny + 4 * 3 * self.perplexity
                                                             + 8)),
                         f"--tiny-hidden {' '.join(map(str, self.tiny_hidden))} with "
                         f"--neighbours {self.neighbours} and --extra-steps {self.extra_steps}")


def run(config: Config, out_dir=Path("results") / EXPERIMENT, options=LOCAL):
    """Compute the view's units missing in out_dir, then save the summary of all."""
    if config.view in ("all", "line", "plane"):
        data = check_data(_dnn_dataset(config), config.data_root, _dnn_n_train(config))
        check_batch(config, "batch_size", len(data.x_train), _dnn_dataset(config))
    store = Store(out_dir, EXPERIMENT, dataclasses.replace(config, view="all"),
                  required=lambda k, info: () if info.get("diverged") else
                  UNIT_KEYS[UNITS[k].split("_")[1]])
    store.missing(range(len(UNITS)))  # a damaged unit of any view: notice, delete, recompute
    wanted = [u for u in UNITS[2:] if config.view in ("all", u.split("_")[1])]
    # tsne, the longest unit, trains its own model: it runs beside the trainings
    first = [u for u in wanted if u == "tiny_tsne"] + sorted(
        {u.split("_")[0] + "_train" for u in wanted} & set(UNITS))
    second = [UNITS.index(u) for u in wanted if u not in first]
    if compute(store, functools.partial(unit, config, None), map(UNITS.index, first), options,
               desc="surface units") is None:
        return None
    # the views get the trained weights from the parent: workers never read results files
    trained = {}
    for m in ("sinc", "dnn"):
        if f"{m}_train" in first:
            saved, info = store.load_run(UNITS.index(f"{m}_train"))
            trained[m] = {"diverged": info["diverged"]} if info.get("diverged") else saved
    if compute(store, functools.partial(unit, config, trained), second, options,
               desc="surface units") is None:
        return None
    arrays, summary = {}, {}
    for k in filter(store.done, range(len(UNITS))):
        unit_arrays, summary[UNITS[k]] = store.load_run(k)
        arrays |= {f"{UNITS[k]}/{key}": v for key, v in unit_arrays.items()}
    summary["wall_time_total"] = sum(info["wall_time"] for info in summary.values())
    diverged = [name for name, info in summary.items() if isinstance(info, dict)
                and info.get("diverged")]
    if diverged:
        where = "; ".join(f"{name}: {summary[name]['diverged'].get('reason', 'non-finite')} at "
                          f"step {summary[name]['diverged']['step']}" for name in diverged)
        print(f"experiments.surface: {len(diverged)} of {len(summary) - 1} units diverged "
              f"({where}); the figures say so: lower the step size (--sinc-lr, --dnn-lr, "
              "--gd-lr)", file=sys.stderr)
    return store.save_summary(arrays, summary)


def problem(config: Config, model: str):
    """(net, data) of 'sinc', 'dnn' or 'tiny'; the DNN's: --dataset, MNIST if found, digits."""
    if model != "dnn":
        return (MLP((1, *getattr(config, model + "_hidden"), 1), "tanh", "mse"),
                function_dataset("sinc", getattr(config, model + "_samples")))
    data = load_data(_dnn_dataset(config), config.data_root, _dnn_n_train(config))
    return MLP((data.x_train.shape[1], *config.dnn_hidden, data.n_classes), "relu",
               "cross_entropy"), data


def _dnn_dataset(config: Config) -> str:
    return image_dataset_name(config.dataset, config.data_root)


def _dnn_n_train(config: Config) -> int:
    return config.n_train or (0 if _dnn_dataset(config) == "digits" else 2000)


def unit(config: Config, trained: dict | None, k: int) -> tuple[dict, dict]:
    """Unit UNITS[k]: (arrays, info) to save; views of a trained model read trained[model]
    (its theta0, theta_end and snapshots), handed over by the parent."""
    model, view = UNITS[k].split("_")
    rng = np.random.default_rng(run_seeds(config.seed, len(UNITS))[k])
    net, data = problem(config, model)
    chunk = es.chunk_for(net.sizes, len(data.x_train), budget_bytes=CHUNK_BYTES)
    loss = functools.partial(net.loss, x=data.x_train, y=data.y_train)
    start = time.perf_counter()
    trained = trained[model] if view not in ("train", "tsne") else None
    compute_view = {"train": surface_views.train_view, "tsne": surface_views.tsne,
                    "line": surface_views.line, "plane": surface_views.plane,
                    "perturb": surface_views.perturb}[view]
    if trained is not None and trained.get("diverged"):  # nothing finite to look at
        arrays, info = {}, {"diverged": trained["diverged"], "skipped": f"{model}_train diverged"}
    else:
        arrays, info = compute_view(config, model, net, data, trained, loss, rng, chunk)
        info.setdefault("diverged", None)
    info |= {"unit": UNITS[k], "sizes": list(net.sizes), "n_params": net.n_params,
             "data": data.name, "n_train": len(data.x_train),
             "wall_time": time.perf_counter() - start}
    return arrays, info
