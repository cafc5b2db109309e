"""The views of experiments.surface, one function each, all with the signature
`view(config, model, net, data, trained, loss, rng, chunk) -> (arrays, info)`:

  train    Adam from a LeCun (sinc) or He (DNN) initialization, snapshots every --every epochs
  line     L along θ(α) = (1 − α)θ₀ + αθ*, α ∈ [−0.5, 1.5], train and test (Goodfellow et al.)
  plane    around θ*: filter-normalized random directions (Li et al. 2018), the path's PCA
           plane, and the plane of the extreme Hessian eigenvectors (eigh, or Lanczos on HVPs)
  perturb  every parameter moved alone, with the exact Hessian diagonal for ½H_ii δ²
  tsne     the slides' example: gradient descent, trust-region Newton steps with the exact
           Hessian, neighbours sampled with half-widths ∝ each parameter's rate of descent,
           embedded by scikit-learn's t-SNE (neighbourhoods, not distances)
`trained` holds the train view's arrays of the same model (views of a trained model only);
`loss` maps a stack of θ (B, n) to the training losses (B,), evaluated `chunk` at a time.
"""
from __future__ import annotations

import functools

import numpy as np
from scipy.optimize import minimize

from engine import mlp_gradient
from engine.derivatives.curvature import exact_hessian
from engine.landscape import surface as es
from engine.spectra.lanczos import hvp_operator
from engine.training.divergence import Diverged, quiet_overflow, stop_on_nonfinite
from engine.training.loop import evaluate, train
from engine.training.optim import adam, sgd

DENSE_MAX = 1000    # Hessians up to this size are formed (eigh), larger: Lanczos on HVPs

# scikit-learn's early-exaggeration iterations (TSNE._EXPLORATION_MAX_ITER)
TSNE_EXAGGERATION = 250
# t-SNE computes distances in float32: a path whose squared distances exceed this (float32's
# largest is 3.4e38) has left the numbers t-SNE can embed (scikit-learn crashes on them)
TSNE_MAX_SQUARED_DISTANCE = 1e36


def train_view(config, model, net, data, trained, loss, rng, chunk):
    """Adam from θ₀ (LeCun for sinc, He for the DNN) for `<model>_epochs` epochs: arrays theta0,
    theta_end (n_params,), snapshots (n_snapshots, n_params) every `every` epochs with their
    epochs and training losses; info: the evaluation at θ_end. A divergence keeps theta0 only
    and records where it happened."""
    snaps, epochs = [], []
    theta0 = net.init(rng, "lecun" if model == "sinc" else "he")  # He: for ReLU
    optimizer = adam(getattr(config, model + "_lr"))
    n_epochs = getattr(config, model + "_epochs")
    with quiet_overflow():  # divergence is detected and recorded, not warned
        try:
            theta_end = optimizer.params(train(
                net, theta0, data, optimizer, epochs=n_epochs, batch_size=config.batch_size,
                rng=rng, every=config.every, on_step=stop_on_nonfinite(),
                on_snapshot=lambda e, t: (snaps.append(np.copy(t)), epochs.append(e))))
            if not np.all(np.isfinite(theta_end)):
                raise Diverged(n_epochs * -(-len(data.x_train) // config.batch_size), n_epochs,
                               "non-finite weights")
        except Diverged as err:  # its views are skipped: they would show overflow
            return {"theta0": theta0}, {"diverged": {"phase": "Adam", **err.info()}}
    return ({"theta0": theta0, "theta_end": theta_end, "snapshots": np.array(snaps),
             "epochs": np.array(epochs), "snapshot_loss": loss(np.array(snaps))},
            {"end": evaluate(net, theta_end, data), "diverged": None})


def line(config, model, net, data, trained, loss, rng, chunk):
    """Train and test loss at θ(α) = (1 − α)θ₀ + αθ*, `line_points` values α ∈ [−0.5, 1.5], each
    (line_points,); info: whether the training loss never rises for α ∈ [0, 1]."""
    alphas = np.linspace(-0.5, 1.5, config.line_points)
    arrays = {"alphas": alphas}
    for split in ("train", "test"):
        split_loss = functools.partial(net.loss, x=getattr(data, "x_" + split),
                                       y=getattr(data, "y_" + split))
        arrays[split + "_loss"] = es.line(split_loss, trained["theta0"], trained["theta_end"],
                                          alphas, chunk)
    inside = np.diff(arrays["train_loss"][(alphas >= 0) & (alphas <= 1)])
    return arrays, {"monotone_train": bool(np.all(inside <= 0))}


def plane(config, model, net, data, trained, loss, rng, chunk):
    """Training loss on three planes around θ*, each Z (grid, grid) with its axes a, b and
    directions d1, d2 as '<plane>_…': 'random' (two filter-normalized directions, a, b ∈
    ±plane_radius), 'pca' (the path's two leading directions, over the path's extent and a fifth
    more) and 'hessian' (the eigenvectors of λ_max and λ_min, out to a rise of hessian_rise·L(θ*)).
    Also the path's PCA coordinates, λ_max, λ_min and the slopes ∇L·v there. H is formed (eigh)
    up to DENSE_MAX parameters, else Lanczos on HVPs. Cost: 3·grid² losses."""
    theta, x, y = trained["theta_end"], data.x_train, data.y_train
    loss0 = float(loss(theta))
    arrays = {}

    def add(name, d1, d2, a, b):
        arrays.update({f"{name}_a": a, f"{name}_b": b, f"{name}_d1": d1, f"{name}_d2": d2,
                       f"{name}_Z": es.plane(loss, theta, d1, d2, a, b, chunk)})

    r = np.linspace(-config.plane_radius, config.plane_radius, config.grid)
    add("random", *(es.filter_normalized_direction(net.layout, theta, rng) for _ in "12"), r, r)
    (p1, p2), ratio, coords, _ = es.path_pca(trained["snapshots"], theta)
    # the path's extent and a fifth more on each side, so the path lies inside the contour
    add("pca", p1, p2, *(np.linspace(c.min() - np.ptp(c) / 5, c.max() + np.ptp(c) / 5,
                                     config.grid) for c in coords.T))
    dense = net.n_params <= DENSE_MAX
    H = exact_hessian(net, theta, x, y) if dense else hvp_operator(net, theta, x, y)
    v_max, v_min, lam_max, lam_min = es.hessian_directions(H, rng=rng)
    add("hessian", v_max, v_min, *(np.linspace(-h, h, config.grid) for h in (
        es.rise_radius(loss, theta, v, config.hessian_rise, chunk) for v in (v_max, v_min))))
    g = mlp_gradient(net, theta, x, y)
    arrays |= {"pca_coords": coords, "pca_ratio": ratio, "lam": np.array([lam_max, lam_min]),
               "loss0": np.array(loss0), "slopes": np.array([g @ v_max, g @ v_min])}
    return arrays, {"loss0": loss0, "lam_max": lam_max, "lam_min": lam_min,
                    "pca_explained_variance": ratio, "hessian": "eigh" if dense else "lanczos"}


def perturb(config, model, net, data, trained, loss, rng, chunk):
    """L(θ* + δeᵢ) for every parameter i alone: curves (n_params, perturb_points) over
    `perturb_points` δ ∈ [−perturb_range, perturb_range], with ∇L, the exact Hessian diagonal
    H_diag (n_params,) and L(θ*). Cost: n_params·perturb_points losses and one exact Hessian."""
    theta, x, y = trained["theta_end"], data.x_train, data.y_train
    deltas = np.linspace(-config.perturb_range, config.perturb_range, config.perturb_points)
    H_diag = np.diag(exact_hessian(net, theta, x, y))
    return ({"deltas": deltas, "curves": es.perturbation_curves(loss, theta, deltas, chunk),
             "H_diag": H_diag, "grad": mlp_gradient(net, theta, x, y),
             "loss0": np.array(loss(theta))},
            {"H_diag_min": H_diag.min(), "H_diag_max": H_diag.max()})


def tsne(config, model, net, data, trained, loss, rng, chunk):
    """The slides' t-SNE example: full-batch gradient descent (~100 snapshots), trust-region
    Newton steps with the exact Hessian, `neighbours` samples around each of the `extra_steps`
    steps after the first `newton_steps` (half-widths ∝ each parameter's mean GD rate, the
    fastest at `sample_radius`); arrays: the 2-D embedding (n_points, 2), the kind of each point
    (0 GD, 1 Newton, 2 sample), its loss, and the half-widths. A divergence returns no arrays."""
    x, y = data.x_train, data.y_train
    snaps, speed = [], []  # speed: |∂L/∂θ| of each GD epoch
    gd = sgd(config.gd_lr)
    with quiet_overflow():  # a step size beyond 2/λ_max diverges: recorded, not warned
        try:
            state = train(net, net.init(rng), data, gd, epochs=config.gd_epochs,
                          batch_size=len(x), rng=rng, every=max(1, config.gd_epochs // 100),
                          on_step=stop_on_nonfinite(lambda step: speed.append(np.abs(step.grad))),
                          on_snapshot=lambda e, t: snaps.append(np.copy(t)))
            if not np.all(np.isfinite(gd.params(state))):
                raise Diverged(config.gd_epochs, config.gd_epochs, "non-finite weights")
        except Diverged as err:
            return {}, {"diverged": {"phase": "gradient descent", **err.info()}}
    rate = config.gd_lr * np.mean(speed, axis=0)  # mean |Δθᵢ| per GD epoch
    steps = []
    with quiet_overflow():
        res = minimize(lambda t: float(loss(t)), gd.params(state), method="trust-exact",
                       jac=lambda t: mlp_gradient(net, t, x, y),
                       hess=lambda t: exact_hessian(net, t, x, y),
                       callback=lambda t: steps.append(np.copy(t)),
                       options={"maxiter": config.newton_steps + config.extra_steps,
                                "gtol": 1e-10})
    steps = [t for t in steps if np.all(np.isfinite(t))] or [res.x]
    # a run that converged early stays put: its remaining epochs sample around its last point
    centres = (steps[config.newton_steps:] + [steps[-1]] * config.extra_steps)
    scale = config.sample_radius * rate / rate.max() if rate.max() > 0 else \
        np.full(rate.shape, config.sample_radius)
    samples = [es.neighbour_samples(c, scale, config.neighbours, rng)
               for c in centres[:config.extra_steps]]
    points = np.concatenate([snaps, steps, *samples])
    spread = 4.0 * np.max(np.sum((points - points.mean(axis=0)) ** 2, axis=1))
    if not (np.all(np.isfinite(points)) and spread < TSNE_MAX_SQUARED_DISTANCE):
        # finite but astronomically far apart: beyond the float32 distances of t-SNE
        return {}, {"diverged": {"phase": "gradient descent", "step": config.gd_epochs,
                                 "epoch": config.gd_epochs, "reason": "weights beyond the "
                                 "float32 distances of t-SNE"}}
    # imported here, not at the top: scikit-learn is ≈ 1.3 s of every surface command's start
    from sklearn.manifold import TSNE

    tsne = TSNE(perplexity=config.perplexity, init="pca", max_iter=config.tsne_iter,
                random_state=int(rng.integers(2**31 - 1)))
    kind = np.repeat([0, 1, 2], [len(snaps), len(steps), len(points) - len(snaps) - len(steps)])
    return ({"embedding": tsne.fit_transform(points), "kind": kind,
             "loss": es.losses_at(loss, points, chunk), "scale": scale},
            {"gd_loss": float(loss(snaps[-1])), "newton_loss": float(res.fun),
             "newton_status": int(res.status), "newton_message": str(res.message),
             "newton_iterations": len(steps), "kl_divergence": float(tsne.kl_divergence_),
             "tsne_iterations": int(tsne.n_iter_), "perplexity": config.perplexity})
