"""Finders at scale: one search for ∇L = 0 per net, from a trained start, on one core
(`python -m experiments.bench.scale`; one BLAS thread).

Above engine.critical.finders.DENSE_MAX the default chain (lm+newton) skips LM and runs
Newton-MR on Hessian-vector products (inexact solves on the Lanczos subspace 𝒦(H, Hg) of
engine.critical.krylov, one HVP per iteration, to Eisenstat & Walker's forcing term with an
iteration cap, geodesic acceleration in the same subspace); beside it the former route (LSMR,
two HVPs per iteration, warm starts) and the default without geodesic acceleration. Nets:
  sinc 1-44-44-1 tanh, MSE on 1000 points (2,113 parameters; the aim: ends in ≤ 30 s)
  digits 64-128-64-10 tanh, MSE on the 1437 training images of digits 8×8 (17,226; ≤ 5 min)
Each start: seeded init, then 300 L-BFGS steps on the loss (not timed); or, in the rows marked
"embedded", the loss L + (λ/2)‖θ‖² with λ = 0.01 and a start next to a known critical point: the
net with EMBED_WIDTH units per hidden layer trained 3000 L-BFGS steps and refined by dense
Newton-MR, embedded with zero units (engine.critical.embed, 'zero': for tanh a critical point of
the wide net, non-degenerate under the decay), plus Gaussian noise of σ = 1e-2 (or 1e-3) per
parameter (experiments.census's embedded starts) — what a search does when a critical point is
near. The search's CPU and wall seconds, its HVPs (njev) and the peak resident memory of its
process (each net in a fresh process, so the peak is this net's: data, training and search) are the
columns; the end status is the finder's verdict with ‖∇L‖² (critical needs ‖∇L‖² ≤ 1e-10 and, at n
≤ 2,500, the classification of engine.critical.classification on the exact Hessian; beyond it,
for a search that converged, the index n₋ by LDLᵀ inertia of H formed from n products:
_dense_index, since verified Lanczos reaches only the 256 lowest eigenvalues). κ̂ at the end point:
the share of ∇L that Newton-MR's least-norm step on 𝒦(H, Hg) cannot remove, from one solve to ‖H(Hp
+ g)‖ ≤ 1e-10‖Hg‖ or 500 products (not counted in the HVPs column): Frye et al.'s κ = ‖P₀∇L‖/‖∇L‖
when the subspace resolves every |λ| > τ, else larger (unresolved directions count as kernel); κ ≥
0.9 is their gradient-flat test. At n ≤ 2,500 the exact κ of the classification is printed beside
it.
Cost: about 10 minutes of CPU.
"""
from __future__ import annotations

import multiprocessing
import os
import resource
import time
from pathlib import Path

import numpy as np
import scipy.optimize

from engine.io.cli import OneLineParser, guarded
from engine.io.folders import check_output_folder
from engine.io.results import UsageError

NETS = {"sinc": ((1, 44, 44, 1), "tanh"), "digits": ((64, 128, 64, 10), "tanh")}
TRAIN_STEPS = 300
# the stated stop: an HVP budget sized to the aims on this machine (one HVP ≈ 2 ms CPU at
# n = 2,113 on 1000 points, ≈ 8 ms at 17,226 on 1437 images): ≤ 30 s and ≤ 5 min
BUDGET = {"sinc": 10_000, "digits": 20_000}
# (net, finder options): the default chain; the former LSMR route and the default without
# geodesic acceleration beside it on the small net
CASES = (("sinc", {}), ("sinc", {"krylov": "lsmr"}), ("sinc", {"geodesic": False}),
         ("digits", {}), ("sinc", {"start": "embedded"}), ("digits", {"start": "embedded"}),
         ("digits", {"start": "embedded", "noise": 1e-3}))
EMBED_WIDTH, EMBED_DECAY, EMBED_NOISE = 4, 1e-2, 1e-2
KAPPA_PRODUCTS = 500


def search(name: str, seed: int = 0, start: str = "trained", noise: float | None = None,
           **opts) -> dict:
    """One row: {net, n, status, label, grad_sq, n_hvp, n_eval, n_iter, cpu_s, wall_s,
    peak_mib}. Run it in a fresh process for a meaningful peak_mib."""
    from threadpoolctl import threadpool_limits

    from engine import MLP
    from engine.critical.classification import classify
    from engine.critical.finders import STATUS_NAMES, find_critical
    from engine.critical.krylov import subspace_model
    from engine.data.datasets import function_dataset, load_digits
    from engine.derivatives.curvature import exact_hessian
    from experiments.minratio.objective import objective_fns, objective_hvp

    sizes, activation = NETS[name]
    data = (function_dataset("sinc", n_samples=1000) if name == "sinc"
            else load_digits(rng=np.random.default_rng(seed)))
    x, y = data.x_train, data.y_train
    net = MLP(sizes, activation, "mse")
    decay = EMBED_DECAY if start == "embedded" else 0.0
    _, gradient, _ = objective_fns(net, x, y, decay)
    hvp = objective_hvp(net, x, y, decay)  # the R-operator's passes built once per θ

    with threadpool_limits(limits=1):
        theta0 = (_embedded_start(net, data, seed, noise) if start == "embedded" else
                  scipy.optimize.minimize(
                      lambda t: (net.loss(t, x, y), gradient(t)),
                      net.init(np.random.default_rng(seed)), jac=True, method="L-BFGS-B",
                      options={"maxiter": TRAIN_STEPS}).x)
        cpu, wall = time.process_time(), time.perf_counter()
        found = find_critical(theta0, gradient, None, hvp_fn=hvp,
                              **({"max_hvp": BUDGET[name]} | opts))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        g_end = gradient(found.theta)
        grad_sq = float(np.sum(g_end ** 2))
        kappa_hat = subspace_model(lambda v: hvp(found.theta, v), g_end, tol=1e-10,
                                   maxiter=KAPPA_PRODUCTS).kernel_share
        label, kappa, index = None, None, None
        if net.n_params <= 2500:
            H = exact_hessian(net, found.theta, x, y)
            H[np.diag_indices_from(H)] += decay
            point = classify(found.theta, g_end, H, non_finite="not-converged",
                             **({"tau_max": decay / 10} if decay else {}))
            label, kappa = point.label, point.kappa
        elif grad_sq <= 1e-10 and found.success:
            index = _dense_index(lambda V: hvp(found.theta, V), net.n_params,
                                 decay / 10 if decay else np.inf)
    return {"net": f"{name} {'-'.join(map(str, sizes))} {activation}" + (
        "" if opts.get("geodesic", True) else ", no geodesic acceleration") + (
        ", LSMR (former route)" if opts.get("krylov") == "lsmr" else "") + (
        f", embedded start, λ = {decay:g}, σ = {noise or EMBED_NOISE:g}" if start == "embedded"
        else ""), "n": net.n_params,
            "kappa_hat": kappa_hat, "kappa": kappa,
            "status": STATUS_NAMES[found.status], "label": label, "grad_sq": grad_sq,
            "n_hvp": found.n_jev, "n_eval": found.n_eval, "n_iter": found.n_iter,
            "cpu_s": cpu, "wall_s": wall, "message": found.message, "index": index,
            "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _dense_index(hvp, n, tau_max):
    """Item 4's index where verified Lanczos cannot reach it (it finds at most k_max = 256 of the
    lowest eigenvalues, and the 17,226-parameter critical point has 368 below −τ): H formed
    from n products of hvp (V (B, n) ↦ V H, the objective's Hessian, decay included), two
    columns a pass, symmetrized (its asymmetry, a rounding measure, reported), then
    engine.spectra.inertia.count_spectrum's LDLᵀ inertia at ±τ (exact for a matrix within
    the factorization's backward error of H). n² floats: 2.4 GB at 17,226 (peak 11.8 GB with
    the factorizations), ≈ 6 min on one core. Returns {n_neg, n_zero, n_pos, tau, norm,
    exact, asymmetry, cpu_s}."""
    from engine.adapters.base import blocks, identity_rows
    from engine.spectra.inertia import count_spectrum

    cpu = time.process_time()
    H = np.empty((n, n))
    for start, stop in blocks(n, 2):
        H[start:stop] = hvp(identity_rows(start, stop, n))  # rows of the symmetric H: (H e_j)ᵀ
    asymmetry = float(np.abs(H - H.T).max() / np.abs(H).max())
    H += H.T
    H *= 0.5
    counted = count_spectrum(H, 1e-6, tau_max, rng=np.random.default_rng(0))
    return {"n_neg": counted.n_neg, "n_zero": counted.n_zero, "n_pos": counted.n_pos,
            "tau": counted.tau, "norm": counted.norm, "exact": counted.exact,
            "asymmetry": asymmetry, "cpu_s": time.process_time() - cpu}


def _embedded_start(net, data, seed, noise=None):
    """experiments.census's embedded point: the net with EMBED_WIDTH units per hidden layer,
    3000 L-BFGS steps and ≤ 100 dense Newton-MR steps on L + (λ/2)‖θ‖², embedded in `net` with
    zero units; plus noise (not timed)."""
    from experiments.census.starts import embedded_point

    rng = np.random.default_rng(seed)
    point, _ = embedded_point(net, data, EMBED_WIDTH, EMBED_DECAY, 3000, rng, newton_steps=100)
    return point + (noise or EMBED_NOISE) * rng.normal(size=point.size)


def bench_scale(names=tuple(NETS), seed: int = 0) -> list[dict]:
    """One row per case of CASES on the named nets, each searched in a fresh spawned process."""
    ctx = multiprocessing.get_context("spawn")
    rows = []
    for name, opts in CASES:
        if name in names:
            with ctx.Pool(1) as pool:
                rows.append(pool.apply(search, (name, seed), opts))
    return rows


def print_table(rows: list[dict]) -> None:
    """The rows as a Markdown table."""
    print("\nNewton-MR on HVPs above the size switch, from 300 L-BFGS steps (or an embedded "
          "start), HVP budgets "
          f"{BUDGET}; one BLAS thread\n")
    print("| net | n | end status | ‖∇L‖² | κ̂ (κ) | HVPs | gradients | steps | CPU s | wall s "
          "| peak MiB |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        status = r["status"] + (f" ({r['label']})" if r["label"] else "")
        kappa = f"{r['kappa_hat']:.2f}" + (f" ({r['kappa']:.2f})" if r["kappa"] is not None
                                           else "")
        print(f"| {r['net']} | {r['n']:,} | {status} | {r['grad_sq']:.1e} | {kappa} | "
              f"{r['n_hvp']:,} | {r['n_eval']:,} | {r['n_iter']} | {r['cpu_s']:.1f} | "
              f"{r['wall_s']:.1f} | {r['peak_mib']:.0f} |")
    for r in rows:
        print(f"- {r['net']}: {r['message']}")
        if r.get("index"):
            i = r["index"]
            print(f"  index by LDLᵀ inertia of H formed from {r['n']:,} products "
                  f"(asymmetry {i['asymmetry']:.1e}): n₋ = {i['n_neg']}, n₀ = {i['n_zero']}, "
                  f"n₊ = {i['n_pos']} at τ = {i['tau']:.1e} (‖H‖₂ = {i['norm']:.3g}), "
                  f"{'exact' if i['exact'] else 'not verified'}, {i['cpu_s']:.0f} s CPU")
    print("\nload average (1, 5, 15 min) after measuring: "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))


def main(argv=None) -> None:
    parser = OneLineParser(prog="experiments.bench.scale", description=__doc__)
    parser.add_argument("--nets", nargs="+", choices=list(NETS), default=list(NETS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.seed < 0:
        parser.error(f"--seed {args.seed}: give an integer ≥ 0")
    if len(set(args.nets)) != len(args.nets):
        parser.error(f"--nets {' '.join(args.nets)}: list each net once")
    guarded(parser.prog, lambda: print_table(bench_scale(tuple(args.nets), args.seed)))


def check_output_file(path, flag: str) -> Path:
    """Path(path) when a command can write the file `path` (its folder checked as
    engine.io.folders.check_output_folder does); UsageError naming flag when it is empty or a
    folder, or its folder cannot be written."""
    if str(path).strip() == "":
        raise UsageError(f"{flag} is empty; give a file name")
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{flag} {path} is a folder; give a file name")
    check_output_folder(path.parent, flag)
    return path


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    main()
