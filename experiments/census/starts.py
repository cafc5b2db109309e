"""Where a census search starts: part-way along a training path, or at a narrower net's
critical point embedded in the census net and perturbed.

'trained'   the census net from its own initialization, trained for a log-uniform number of
            L-BFGS steps in [switch_min, switch_max] on L_λ (experiments.minratio's starts:
            early stops lead the search towards saddles, late ones towards minima).
'embedded'  a net with k hidden units per layer (k uniform in 1 … embed_max) trained on the
            same L_λ for a log-uniform number of L-BFGS steps in [embed_switch_min,
            embed_switch_max] (a late stop lands near its minimum, an earlier one near a saddle
            or minimum along its path: more distinct points) and refined by dense Newton-MR
            (engine.critical.find_critical, ≤ NARROW_STEPS eigh steps: ≤ ~900 parameters), then
            embedded in the census net with its other units at zero (engine.critical.embed,
            method 'zero'; Fukumizu & Amari 2000). For an odd σ (tanh) a zero unit adds nothing
            to f and its every partial derivative of L_λ vanishes, so the embedded point is a
            critical point of the census net whenever the narrow one is; each zero unit adds
            the 2×2-block eigenvalues λ ± s_i(C) of engine.critical.embedding (C the unit's
            cross-curvature), so the embedded point is non-degenerate unless some s_i(C) = λ.
            (For sigmoid or softplus σ(0) ≠ 0: a zero unit's outgoing gradient is then
            σ(0)·∂L/∂b_out = −σ(0)·λ·b_out ≠ 0, and the start is only near a critical point;
            embed_grad_sq says how near.) The start is that point plus Gaussian noise of
            σ = embed_noise per parameter: the search must find its way back (or to another
            critical point).
Why both: from training paths the searches on a tanh net crawl. Measured on the 64-32-10 tanh
net with λ = 0.01 (100 path starts, 4,000 HVPs each): 0 ended critical; near the training
minimum 21 of 32 hidden units sit at norm ≈ 0.07 in tanh's linear regime, where the decay on
the product of their weights makes rotations among them nearly free (eigenvalues of H_λ down
to 1e-6, 41 of them below 1e-4), and even exact eigh Newton steps with a line search lowered
‖∇L_λ‖² by only 0.15 % a step (2.10e-12 → 2.06e-12 in 11 steps) from a point whose Newton
step is 0.12 long. Narrow nets (k ≤ 12) have no such units: their minima are non-degenerate
(measured: n₀ = 0 at k = 1, 2, 3, 4, 6, 8, 12), and the census covers the high-error
critical points Dauphin et al. (2014) describe.
"""
from __future__ import annotations

import numpy as np

from engine import MLP
from engine.critical.embedding import embed
from engine.critical.finders import find_critical
from experiments.minratio.objective import objective_fns, train_until

STARTS = ("trained", "embedded")
# the narrow search's Newton-MR steps (an eigh each, ~0.3 s at 910 parameters): measured on the
# census, those that had not converged by 50 seldom did by 100, and the 100-step tail (4 of 80
# runs: 30–44 s each) put the census over its 10 minutes
NARROW_STEPS = 50


def start_kinds(runs: int, embedded: float) -> list[str]:
    """Per run, 'trained' or 'embedded': the share `embedded` of the runs, spread evenly
    (run r is embedded when ⌊(r + 1)·share⌋ > ⌊r·share⌋), so any prefix of the runs holds
    the share up to one run."""
    return ["embedded" if np.floor((r + 1) * embedded) > np.floor(r * embedded) else "trained"
            for r in range(runs)]


def trained_start(config, net, data, rng) -> tuple[np.ndarray, dict]:
    """(θ start, info): the census net trained for its own log-uniform number of steps."""
    switch = int(round(np.exp(rng.uniform(np.log(config.switch_min),
                                           np.log(config.switch_max)))))
    theta, steps = train_until(net, net.init(rng), data, "lbfgs", switch, rng,
                               weight_decay=config.weight_decay)
    return theta, {"start": "trained", "switch_step": switch, "train_steps": steps,
                   "embed_width": 0, "embed_grad_sq": float("nan")}


def embedded_start(config, net, data, rng) -> tuple[np.ndarray, dict]:
    """(θ start, info): a narrower net's refined critical point embedded with zero units and
    perturbed (module docstring); info records k, the narrow training's steps and ‖∇L_λ‖² of
    the embedded point before the noise."""
    width = int(rng.integers(1, config.embed_max + 1))
    switch = int(round(np.exp(rng.uniform(np.log(config.embed_switch_min),
                                           np.log(config.embed_switch_max)))))
    point, steps = embedded_point(net, data, width, config.weight_decay, switch, rng)
    x, y = data.x_train, data.y_train
    _, big_gradient, _ = objective_fns(net, x, y, config.weight_decay)
    g = big_gradient(point)
    start = point + config.embed_noise * rng.normal(size=point.size)
    return start, {"start": "embedded", "switch_step": switch, "train_steps": steps,
                   "embed_width": width, "embed_grad_sq": float(g @ g)}


def embedded_point(net, data, width, decay, steps, rng, newton_steps=NARROW_STEPS):
    """(θ (net.n_params,), L-BFGS steps taken): the net with `width` units per hidden layer
    (at most the wide net's) from its init by rng, trained `steps` L-BFGS steps on
    L_λ = MSE + (λ/2)‖θ‖², λ = decay, refined by ≤ newton_steps dense Newton-MR (eigh) steps,
    and embedded in `net` with zero units (engine.critical.embed, 'zero'): a critical point of
    `net` for tanh whenever the narrow search converged. Cost: the narrow training and search
    (≤ ~900 parameters: an eigh of ≤ 0.3 s per Newton step)."""
    x, y = data.x_train, data.y_train
    narrow = MLP((net.sizes[0], *(min(width, h) for h in net.sizes[1:-1]), net.sizes[-1]),
                 net.activation, "mse")
    theta, taken = train_until(narrow, narrow.init(rng), data, "lbfgs", steps, rng,
                               weight_decay=decay)
    _, gradient, hessian = objective_fns(narrow, x, y, decay)
    # dense Newton-MR: its eigh steps converge quadratically at these sizes
    found = find_critical(theta, gradient, hessian, method="newton", rtol=0.0,
                          dense_max=narrow.n_params, max_iter=newton_steps)
    return embed(narrow.sizes, found.theta, net.sizes, method="zero")[0], taken
