"""The objective of experiments.minratio and how its searches start and are tuned: the task's
data and model (`load_task`), L_λ = L + (λ/2)‖θ‖² (L the MSE or cross-entropy of an MLP, or the
deep linear autoencoder's loss) with its exact gradient and Hessian, training to the switch step
on the same L_λ, the eigenvalue cut's cap with a decay, and the finder's options.
"""
from __future__ import annotations

import math

import numpy as np

from engine import MLP, mlp_value_and_gradient
from engine.critical.cut import sign_cut
from engine.critical.linear_autoencoder import LinearAutoencoder, spectrum_data
from engine.critical.minpack import least_squares
from engine.data.datasets import FUNCTIONS, Dataset, function_dataset
from engine.derivatives.curvature import exact_hessian, output_jacobian
from engine.io.results import UsageError
from engine.nets.passes import mlp_hvp_at, mlp_mse_gradient
from engine.training.loop import fit_lbfgs, train
from engine.training.optim import adam
from experiments.harness.checks import FULL_TRAIN, check_distinct, check_image_data, check_memory
from experiments.harness.datasets import check_data, load_data

_EPS = np.finfo(np.float64).eps
IMAGES = {"digits": 64, "mnist": 784, "cifar10": 3072}  # inputs per sample; 10 classes each
TASKS = (*FUNCTIONS, *IMAGES, "dlae")


def task_sizes(config) -> tuple[int, ...]:
    """The network's sizes (d_in, *hidden, d_out) for config.task: 1 → 1 for a function of
    engine.data.datasets.FUNCTIONS, d → 10 for an image set, k → k for 'dlae'."""
    d_in, d_out = ((1, 1) if config.task in FUNCTIONS else (config.dlae_dim,) * 2
                   if config.task == "dlae" else (IMAGES[config.task], 10))
    return (d_in, *config.hidden, d_out)


def check_task(config) -> None:
    """UsageError naming the flag for a task setting that cannot run (before any work): an
    unknown --task; cross-entropy on a regression task; least-squares training (trf, lm) of a
    loss that is not a sum of squares of an MLP; --dlae-dim, --n-train or --data-root where they
    are not read; the deep linear autoencoder with anything but its own definition (one hidden
    layer, linear, MSE, trained by lbfgs or adam, trained starts); missing image files."""
    task = config.task
    if task not in TASKS:
        raise UsageError(f"--task {task!r} is unknown; choose one of {list(TASKS)}")
    if config.loss == "cross_entropy" and task not in IMAGES:
        raise UsageError(f"--loss cross_entropy needs class labels: choose --task among "
                         f"{list(IMAGES)}, or --loss mse for --task {task}")
    if config.trainer in ("trf", "lm") and (config.loss != "mse" or task == "dlae"):
        raise UsageError(f"--trainer {config.trainer} fits an MLP's MSE residuals; with --task "
                         f"{task} --loss {config.loss} use --trainer lbfgs or adam")
    if task == "dlae":
        if len(config.hidden) != 1 or config.hidden[0] > config.dlae_dim:
            raise UsageError(f"--task dlae has one hidden layer of width p ≤ --dlae-dim "
                             f"{config.dlae_dim}: give --hidden p, e.g. --hidden 4")
        if config.activation != "linear" or config.starts != "trained":
            raise UsageError("--task dlae is the linear, bias-free autoencoder: give "
                             "--activation linear (and --starts trained)")
        if config.n_samples < config.dlae_dim:
            raise UsageError(f"--task dlae needs --n-samples ≥ --dlae-dim = {config.dlae_dim}")
    elif config.dlae_dim != 16:
        raise UsageError(f"--dlae-dim is read for --task dlae only, not --task {task}")
    if task in IMAGES:
        check_image_data(task, config.data_root, flag_name="--task")
        check_data(task, config.data_root, config.n_train, flag_name="--task")
    elif config.n_train or config.data_root:
        raise UsageError(f"--n-train and --data-root are read for {list(IMAGES)} only, not "
                         f"--task {task}")


def check_sizes(config, net) -> None:
    """UsageError for a repeated --band or --radii value, or data too large for memory: the
    samples, their activations and gradients, and trf/lm's Jacobian of the residuals (a lower
    bound: a refused setting surely does not fit)."""
    check_distinct(config, "band", "radii")
    image = config.task in IMAGES
    rows = (config.n_train or FULL_TRAIN[config.task]) if image else config.n_samples
    jacobian = net.sizes[-1] * net.n_params if config.trainer in ("trf", "lm") else 0
    check_memory(8.0 * rows * (2 * sum(net.sizes) + jacobian),
                 f"--n-train {config.n_train}" if image else f"--n-samples {config.n_samples}")


def load_task(config):
    """(data, model) of config.task, the same for every run (data.x_train (N, d_in), data.y_train
    (N, d_out); the test split is not used): a function on
    an even grid of n_samples points; an image set's fixed training subset (n_train, 0 = all;
    one-hot y); or 'dlae', n_samples rows whose second moment is Q diag(1, …, k) Qᵀ exactly
    (engine.critical.linear_autoencoder.spectrum_data, rng 0), y = x. model: the MLP of
    task_sizes (activation, loss, biases unless --no-bias), or the bias-free LinearAutoencoder
    for 'dlae'."""
    if config.task == "dlae":
        x, _ = spectrum_data(np.arange(1.0, config.dlae_dim + 1), config.n_samples,
                             np.random.default_rng(0))
        data = Dataset("dlae", "regression", x, x, x[:1], x[:1])
        return data, LinearAutoencoder(x.T @ x / len(x), config.hidden[0])
    if config.task in FUNCTIONS:
        data = function_dataset(config.task, n_samples=config.n_samples)
    else:
        data = load_data(config.task, config.data_root, config.n_train)
    return data, MLP(task_sizes(config), config.activation, config.loss, config.bias)


def train_until(net, theta0, data, trainer, steps, rng, lr=0.01, weight_decay=0.0):
    """(θ, steps taken) after `steps` steps on L_λ = MSE + (λ/2)‖θ‖²: least_squares (trf, lm)
    on the residuals [(fᵢ − yᵢ)/√N, √λ·θ] (a step: one evaluation), L-BFGS-B or full-batch Adam.
    lm goes through engine.critical.minpack: scipy's own read a stray heap value, and θ varied
    between processes, amplified to O(1) in 50 steps (cond J ~1e20); trf stays the default (the
    saved results are trf's). The search works on L_λ, so its starts come from L_λ's curve."""
    x, y = data.x_train, data.y_train
    scale = 1.0 / np.sqrt(len(x))  # ½‖r‖², r = (f − y)/√N, is the MSE
    root = np.sqrt(weight_decay)   # ½‖√λ·θ‖² is the decay term
    n = net.n_params
    with np.errstate(all="ignore"):
        if trainer in ("trf", "lm"):
            res = least_squares(
                lambda t: np.concatenate([scale * (net.forward(t, x) - y).ravel(), root * t]),
                theta0, lambda t: np.vstack([
                    scale * output_jacobian(net, t, x).reshape(-1, n), root * np.eye(n)]),
                method=trainer, ftol=_EPS, xtol=_EPS, gtol=_EPS, max_nfev=steps)
            return res.x, int(res.nfev)

        # the autoencoder has its own closed forms; an MLP's loss is engine.train's default
        closed = ((lambda t, *_: (net.loss(t), net.gradient(t)))
                  if isinstance(net, LinearAutoencoder) else None)
        if trainer == "lbfgs":
            def objective(t):
                value, g = closed(t) if closed else mlp_value_and_gradient(net, t, x, y)
                return value + 0.5 * weight_decay * (t @ t), g + weight_decay * t

            res = fit_lbfgs(objective, theta0, steps)
            return res.x, int(res.nit)
        optimizer = adam(lr)  # full batch: `steps` epochs of one step each
        state = train(net, theta0, data, optimizer, epochs=steps, batch_size=len(x), rng=rng,
                      weight_decay=weight_decay, objective=closed)
        return optimizer.params(state), steps


def objective_fns(net, x, y, weight_decay):
    """(loss, gradient, Hessian) of L_λ(θ) = L + (λ/2)‖θ‖²: ∇L + λθ and ∇²L + λI, for an MLP
    (L its MSE or cross-entropy on x, y) or a LinearAutoencoder (its own closed forms; x, y
    unused). loss takes a batch of θ (..., n); the Hessian of a non-finite θ is nan (so classify
    says not converged). The MSE gradient is `mse_gradient`'s plain NumPy backward pass
    (engine.mlp_gradient to rounding), the cross-entropy's autograd's.
    Where a search's time goes (1-8-8-1 on 100 points, λ = 1e-5, LM, one BLAS thread, measured
    per evaluation over 3000): Hessian 0.78 ms (exact_hessian, at the ~90 % of evaluations scipy
    accepts), MINPACK's own QR and damping 0.58 ms, gradient 0.13 ms (autograd's: 0.60 ms),
    Python 0.08 ms; in all 1.49 ms, 1.99 ms with autograd's gradient."""
    n = net.n_params
    linear = isinstance(net, LinearAutoencoder)
    data_loss = net.loss if linear else lambda theta: net.loss(theta, x, y)
    data_grad = (net.gradient if linear else mlp_mse_gradient(net, x, y)
                 if net.loss_name == "mse"
                 else lambda theta: mlp_value_and_gradient(net, theta, x, y)[1])

    def loss(theta):
        theta = np.asarray(theta, dtype=np.float64)
        return data_loss(theta) + 0.5 * weight_decay * np.sum(theta * theta, axis=-1)

    def gradient(theta):
        theta = np.asarray(theta, dtype=np.float64)
        with np.errstate(all="ignore"):
            return data_grad(theta) + weight_decay * theta

    def hessian(theta):
        with np.errstate(all="ignore"):
            if np.all(np.isfinite(theta)):
                H = net.hessian(theta) if linear else exact_hessian(net, theta, x, y)
                H[np.diag_indices(n)] += weight_decay
                return H
            return np.full((n, n), np.nan)

    return loss, gradient, hessian


def objective_hvp(net, x, y, weight_decay):
    """(θ, v) ↦ (∇²L(θ) + λI)v of an MLP by the R-operator (engine.nets.passes.mlp_hvp_at), v
    (n,) or a stack (B, n); its passes at the last θ kept for the next product (a Krylov search
    applies it many times at one iterate). The HVP twin of objective_fns' Hessian."""
    cache = {}

    def hvp(theta, v):
        key = np.asarray(theta).tobytes()
        if key not in cache:
            cache.clear()
            cache[key] = mlp_hvp_at(net, np.array(theta, dtype=np.float64), x, y)
        return cache[key](v) + weight_decay * np.asarray(v)

    return hvp


def tau_max(config) -> float:
    """The cap of the eigenvalue cut τ (engine.spectra.dense): λ/10 with a weight decay λ, so every
    direction curved by the decay alone counts as curved (τ = 1e-6·‖H‖₂ sits on λ = 1e-5 for
    ‖H‖₂ ≈ 10, and n₊ then flipped between 36 and 84 of 97 from run to run); none without."""
    return config.weight_decay / 10 if config.weight_decay > 0 else math.inf


def classify_options(config) -> dict:
    """engine.classify's tolerances of config, the cut capped at tau_max(config)."""
    return {k: getattr(config, k) for k in ("grad_sq_tol", "newton_tol", "kappa_tol", "cos_tol",
                                            "rtol")} | {"tau_max": tau_max(config)}


def point_tolerances(config, theta, g, H, hess_fn) -> dict:
    """classify's tolerances at θ: classify_options, with --cut certified the cut of
    engine.critical.cut (orbit-invariant; still capped at tau_max with a decay). On the
    homework's 100 searches it counts the same n₋/n₊ as the relative cut at all 43 critical
    points (measured); on the deep linear autoencoder the relative cut miscounted 7 % of
    Newton-MR's end points (experiments.bench.dlae)."""
    tols = classify_options(config)
    if config.cut == "relative":
        return tols
    cut = sign_cut("certified", theta, g, H, hess_fn, rtol=config.rtol)
    return tols | cut | {"tau_max": min(cut.get("tau_max", math.inf), tols["tau_max"])}


def finder_options(config) -> dict:
    """engine.critical.finders options of config, and --stall-window when given. Newton-MR's cut:
    - no decay: the classification's τ, so the search removes the step the classification
      measures. The plain loss has directions flat to rounding (saturated units, asymptotes), and
      a search resolving them walks off along them: with the whole spectrum (rtol 0), 8 of 100
      searches ended escaping, 31 drifting, and the run took 165 s instead of 61 s.
    - a decay λ: the whole spectrum, τ = n·ε·‖H‖₂ (rtol 0). Where duplicated units merge, ∇²L_λ
      has eigenvalues of 1e-7 … 1e-6, below the classification's τ = λ/10, and ∇L_λ lies along
      them: a search that cuts them stops short of the critical point, where the test passes
      but continuation moves on (100 searches: resolving them, 60 critical points, all 60
      staying put; cutting them, 61, of which 6 stay put, 40 drift and 15 slide)."""
    opts = {}
    if "newton" in config.finder:
        opts["rtol"] = 0.0 if config.weight_decay > 0 else config.rtol
    return opts | ({"window": config.stall_window} if config.stall_window else {})
