"""Hessian spectra at the end of training: `python -m experiments.spectrum`.

(a) The sinc net (small enough for dense linear algebra): the full exact spectrum of H = ∇²L and of
    its Gauss–Newton part G = JᵀΛJ at the trained θ, with the sign counts n₊, n₋, n₀ at the
    tolerance τ (engine.spectra.dense). G is positive semi-definite by construction; what H has
    beyond
    it comes from the residual part R = Σᵢ (∂ℓ/∂fᵢ) ∇²fᵢ, which vanishes as the fit becomes exact.
(b) The DNN on digits (MNIST with --data-root): too large to form H, so only through HVPs — the
    top-k eigenvalues by Lanczos (eigsh), tr H by Hutchinson with its standard error, and the
    spectral density by stochastic Lanczos quadrature (the tools PyHessian offers for PyTorch).
Each part is one saved unit (runs/run_000 = sinc, run_001 = DNN): an interrupted run resumes.
"""
from __future__ import annotations

import functools
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from engine import MLP, mlp_value_and_gradient
from engine.data.datasets import function_dataset
from engine.derivatives.curvature import hessian_parts
from engine.io.results import Store, UsageError
from engine.spectra.dense import spectrum_from_eigenvalues, symmetric_eigh
from engine.spectra.eigenpairs import extreme_eigenvalues
from engine.spectra.lanczos import hutchinson_trace, hvp_operator, slq_density
from engine.training.divergence import Diverged, quiet_overflow, stop_on_nonfinite
from engine.training.loop import evaluate, fit_lbfgs, train
from engine.training.optim import adam
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

EXPERIMENT = "spectrum"
RUN_KEYS = (("theta", "eigenvalues_H", "eigenvalues_G"),
            ("theta", "top_eigenvalues", "density_grid", "density", "slq_nodes", "slq_weights"))


@dataclass(frozen=True)
class Config:
    """Experiment settings; each field's comment is its --help text; quick(): the tests' preset."""

    # --- (a) sinc: the exact spectrum of a small net ---
    seed: int = 0                            # one SeedSequence for both parts
    sinc_hidden: tuple[int, ...] = (10, 10)  # 1-10-10-1, 141 parameters
    sinc_activation: Literal["tanh", "sigmoid", "softplus"] = "tanh"  # smooth: H exists everywhere
    sinc_samples: int = 1000                 # grid points of sin(5πx)/(5πx) on [−1, 1]
    sinc_iterations: int = 3000              # L-BFGS iterations: far into the flat end of training
    rtol: float = 1e-6                       # sign tolerance τ = max(n·ε, rtol)·‖H‖₂
    # --- (b) dnn: the image net, through Hessian-vector products ---
    dataset: Literal["", "digits", "mnist", "cifar10"] = ""  # '' = mnist with --data-root
    data_root: str = ""                      # folder holding MNIST/raw (torchvision layout)
    n_train: int = 0                         # 0 = every training image; >0 a seeded subset
    hidden: tuple[int, ...] = (128, 64)      # the DNN of the trajectory experiment
    activation: Literal["relu", "tanh", "sigmoid", "softplus", "linear"] = "relu"  # as trajectory's
    epochs: int = 20                         # Adam epochs before the spectrum is taken
    batch_size: int = 128                    # minibatch size
    lr: float = 1e-3                         # Adam's usual step (Kingma & Ba)
    # --- (b) dnn: the estimators on its Hessian ---
    top_k: int = 20                          # largest eigenvalues by Lanczos
    probes: int = 100                        # Hutchinson probes: SE ∝ 1/√probes
    slq_steps: int = 80                      # Lanczos steps per SLQ probe
    slq_probes: int = 10                     # SLQ probes (PyHessian uses 1–10)

    @classmethod
    def quick(cls):
        """The tiny preset the tests use (and --quick): every part runs, at smoke size."""
        return cls(sinc_hidden=(4, 4), sinc_samples=100, sinc_iterations=200, hidden=(16,),
                   n_train=200, epochs=2, top_k=3, probes=10, slq_steps=15, slq_probes=2)

    def validate(self):
        """Raise UsageError, naming the flag, for an integer below its minimum, rtol outside
        (0, 1), a step size ≤ 0, unknown data, a sinc net over 4000 parameters, a DNN too large
        for memory, or --top-k / --slq-steps beyond the DNN's size; before any work."""
        check_image_data(self.dataset, self.data_root)
        check_ints(self, seed=0, sinc_samples=2, sinc_iterations=1, epochs=1, batch_size=1,
                   top_k=1, probes=2, slq_steps=2, slq_probes=1, n_train=0, sinc_hidden=1,
                   hidden=1)
        check_range(self, "rtol", 0.0, 1.0)
        check_range(self, "lr")
        n_sinc = MLP((1, *self.sinc_hidden, 1)).n_params
        if n_sinc > 4000:  # H, G, R and eigh's workspace: 5 dense n × n matrices
            raise UsageError(f"--sinc-hidden {' '.join(map(str, self.sinc_hidden))}: {n_sinc} "
                             "parameters; the dense spectrum takes at most 4000")
        # H, G, R and eigh's workspace, and the sinc grid's activations and their gradients
        check_network_memory("sinc", self.sinc_hidden, 5 * n_sinc, self.sinc_samples,
                             f"--sinc-samples {self.sinc_samples}")
        name = _dnn_dataset(self)
        rows = self.n_train or FULL_TRAIN[name]
        # the Lanczos vectors of eigsh (ncv ≥ 2k + 1) and of SLQ, Hutchinson's probes, Adam
        n_dnn = check_network_memory(
            name, self.hidden, 2 * self.top_k + 20 + self.slq_steps + self.probes + 8, rows,
            f"--hidden {' '.join(map(str, self.hidden))} with --top-k {self.top_k}, "
            f"--slq-steps {self.slq_steps} and --probes {self.probes}")
        # ARPACK finds k < n eigenvalues with a subspace of min(n, 2k + 1) vectors; beyond n/2 it
        # would be the whole space, where eigsh is no longer Lanczos
        if 2 * self.top_k + 1 > n_dnn:
            raise UsageError(f"--top-k {self.top_k}: the DNN has {n_dnn} parameters; give at "
                             f"most {(n_dnn - 1) // 2} (Lanczos needs a subspace of 2k + 1)")
        # a Lanczos run has at most n steps; more would quietly be fewer than the flag says
        if self.slq_steps > n_dnn:
            raise UsageError(f"--slq-steps {self.slq_steps}: the DNN has {n_dnn} parameters; "
                             f"give at most {n_dnn}")


def run(config: Config, out_dir=Path("results") / EXPERIMENT, options=LOCAL):
    """Compute both parts (skipping a saved one; in parallel) and the summary; returns out_dir."""
    name = _dnn_dataset(config)
    data = check_data(name, config.data_root, config.n_train)  # before any write
    check_batch(config, "batch_size", len(data.x_train), name)  # on the data's real size
    store = Store(out_dir, EXPERIMENT, config, required=lambda part, info: () if info.get(
        "diverged") else RUN_KEYS[part])
    if compute(store, functools.partial(part_unit, config), (0, 1), options,
                   desc="spectrum parts") is None:
        return None
    (sinc, sinc_info), (dnn, dnn_info) = store.load_run(0), store.load_run(1)
    arrays = {f"sinc_{k}": v for k, v in sinc.items()} | {f"dnn_{k}": v for k, v in dnn.items()}
    if dnn_info.get("diverged"):
        d = dnn_info["diverged"]
        print(f"experiments.spectrum: the DNN diverged ({d['reason']} at step {d['step']}); it "
              "has no spectrum and its figure says so: lower --lr", file=sys.stderr)
    return store.save_summary(arrays, {"sinc": sinc_info, "dnn": dnn_info})


def part_unit(config: Config, part: int) -> tuple[dict, dict]:
    """Part 0 (the sinc net, dense) or 1 (the DNN, HVPs): (arrays, info) to save."""
    start = time.perf_counter()
    rng = np.random.default_rng(run_seeds(config.seed, 2)[part])
    arrays, info = (_sinc_part, _dnn_part)[part](config, rng)
    info["wall_time"] = time.perf_counter() - start
    return arrays, info


def _dnn_dataset(config):
    return image_dataset_name(config.dataset, config.data_root)


def _sinc_part(config, rng):
    data = function_dataset("sinc", n_samples=config.sinc_samples)
    net = MLP((1, *config.sinc_hidden, 1), config.sinc_activation, "mse")
    x, y = data.x_train, data.y_train
    result = fit_lbfgs(lambda t: mlp_value_and_gradient(net, t, x, y), net.init(rng),
                       config.sinc_iterations)
    theta = result.x
    G, R = hessian_parts(net, theta, x, y)
    H = G + R
    eig_h, eig_g = (symmetric_eigh(M, eigenvectors=False)[0] for M in (H, G))
    counts = {}
    for name, eig in (("H", eig_h), ("G", eig_g)):
        s = spectrum_from_eigenvalues(eig, config.rtol)
        counts[name] = {"n_pos": s.n_pos, "n_neg": s.n_neg, "n_zero": s.n_zero, "tau": s.tau,
                        "minimal_ratio": s.minimal_ratio, "resolved_ratio": s.resolved_ratio,
                        "lambda_max": float(eig[-1]), "lambda_min": float(eig[0]),
                        "raw_positive_share": float(np.mean(eig > 0))}
    g = mlp_value_and_gradient(net, theta, x, y)[1]
    info = {"sizes": net.sizes, "n_params": net.n_params, "loss": float(result.fun),
            "grad_norm": float(np.linalg.norm(g)),
            "lbfgs_iterations": int(result.nit), "lbfgs_message": str(result.message),
            "residual_share": float(np.linalg.norm(R) / np.linalg.norm(H)), "counts": counts}
    return {"theta": theta, "eigenvalues_H": eig_h, "eigenvalues_G": eig_g}, info


def _dnn_part(config, rng):
    name = _dnn_dataset(config)
    data = load_data(name, config.data_root, config.n_train)
    net = MLP((data.x_train.shape[1], *config.hidden, data.n_classes), config.activation,
              "cross_entropy")
    optimizer = adam(config.lr)
    with quiet_overflow():  # a diverging run overflows: detected and recorded, not warned
        try:
            theta = optimizer.params(train(
                net, net.init(rng, "he"), data, optimizer, epochs=config.epochs,
                batch_size=config.batch_size, rng=rng, on_step=stop_on_nonfinite()))
            if not np.all(np.isfinite(theta)):
                raise Diverged(config.epochs * -(-len(data.x_train) // config.batch_size),
                               config.epochs, "non-finite weights")
        except Diverged as err:  # no spectrum of an overflowing net
            return {}, {"dataset": name, "sizes": net.sizes, "n_params": net.n_params,
                        "n_train": len(data.x_train), "diverged": err.info()}
    op = hvp_operator(net, theta, data.x_train, data.y_train)
    # The top of a trained net's spectrum is a few well separated outliers: Lanczos converges in
    # a few dozen HVPs. The bottom is a dense cluster around 0 where ARPACK's 'SA' crawls, so λ_min
    # is read off the SLQ Ritz values instead (the smallest node bounds λ_min from above).
    top = extreme_eigenvalues(op, k=config.top_k, which="LA", rng=rng, tol=1e-8)
    trace, trace_se = hutchinson_trace(op, n_probes=config.probes, rng=rng)
    grid, density, nodes, weights = slq_density(op, n_steps=config.slq_steps,
                                                n_probes=config.slq_probes, rng=rng)
    info = {"dataset": name, "sizes": net.sizes, "n_params": net.n_params,
            "n_train": len(data.x_train),
            "trace": trace, "trace_se": trace_se, "lambda_max": float(np.max(top)),
            "lambda_min_ritz": float(np.min(nodes)), "diverged": None,
            # eigsh's answer checked (residuals, no missed eigenvalue above the k-th)
            "top_verified": bool(top.verified), "top_message": top.message,
            **evaluate(net, theta, data)}
    return {"theta": theta, "top_eigenvalues": np.asarray(top),
            "density_grid": grid, "density": density, "slq_nodes": nodes,
            "slq_weights": weights}, info


if __name__ == "__main__":
    main(Config, run, "plots.spectrum", prog="experiments.spectrum", description=__doc__)
