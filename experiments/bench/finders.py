"""Search speed at the saddles of the weight-decay objective (`make bench`, or
`python -m experiments.bench --only finders`).

Four starts of `python -m experiments.minratio --weight-decay 1e-5` (runs 2, 14, 35 and 94 of
seed 0: trained as the experiment trains them, and all four end at saddles of L_λ), searched by
three chains on the same exact gradient and Hessian:
  lm, to its end      scipy's LM with a 20 000-evaluation stall window: the anchor, what the long
                      searches of earlier versions did
  lm+newton, plain    the default chain without geodesic acceleration
  lm+newton           the default chain: LM, then Newton-MR with geodesic acceleration
each with minratio's search options (the whole spectrum under a decay) and classified with its
tolerances. The evaluation counts are exact and repeat from run to run; CPU seconds are of one
pass with one BLAS thread (a search is deterministic, and the anchor alone takes ~40 s).
Cost: about a minute.
"""
from __future__ import annotations

import os
import time

import numpy as np
from threadpoolctl import threadpool_limits

from engine import MLP
from engine.critical.classification import classify
from engine.critical.finders import find_critical
from engine.data.datasets import function_dataset
from experiments.harness.parallel import run_seeds
from experiments.minratio.experiment import Config, search_start
from experiments.minratio.objective import classify_options, finder_options, objective_fns

RUNS = (2, 14, 35, 94)
CASES = (("lm, to its end", {"method": "lm", "window": 20_000}),
         ("lm+newton, plain", {"geodesic": False}),
         ("lm+newton", {}))


def bench_finders(runs=RUNS) -> list[dict]:
    """One row per start and case: {run, case, label, n_neg, grad_sq, n_eval, cpu_s}."""
    config = Config(weight_decay=1e-5)
    data = function_dataset("sinc", n_samples=config.n_samples)
    net = MLP(config.sizes, config.activation, "mse")
    _, gradient, hessian = objective_fns(net, data.x_train, data.y_train, config.weight_decay)
    tols = classify_options(config)
    rows = []
    with threadpool_limits(limits=1):
        for run in runs:
            rng = np.random.default_rng(run_seeds(config.seed, config.runs)[run])
            theta0 = search_start(config, net, data, rng)[0]
            for case, extra in CASES:
                opts = finder_options(config) | extra
                if opts.get("method") == "lm":
                    opts.pop("rtol", None)  # a Newton-MR option; LM has no eigenvalue cut
                start = time.process_time()
                found = find_critical(theta0, gradient, hessian, **opts)
                cpu = time.process_time() - start
                point = classify(found.theta, gradient(found.theta), hessian(found.theta),
                                 non_finite="not-converged", **tols)
                rows.append({"run": run, "case": case, "label": point.label,
                             "n_neg": point.spectrum.n_neg if point.spectrum else None,
                             "grad_sq": point.grad_sq, "n_eval": found.n_eval, "cpu_s": cpu})
    return rows


def print_table(rows: list[dict]) -> None:
    """The rows as a Markdown table, with the CPU time relative to the anchor of the same run."""
    print("\nSearches at saddles of MSE + (λ/2)‖θ‖², λ = 1e-5, 1-8-8-1 tanh on sinc (minratio's "
          "starts); one BLAS thread\n")
    print("| run | case | end point | ‖∇L‖² | evaluations | CPU s | vs anchor |")
    print("|---|---|---|---|---|---|---|")
    anchor = {}
    for r in rows:
        anchor.setdefault(r["run"], r["cpu_s"])
        label = r["label"] + (f", n₋ = {r['n_neg']}" if r["label"] == "critical" else "")
        print(f"| {r['run']} | {r['case']} | {label} | {r['grad_sq']:.1e} | {r['n_eval']:,} | "
              f"{r['cpu_s']:.2f} | {r['cpu_s'] / anchor[r['run']]:.3f}× |")
    print("\nload average (1, 5, 15 min) after measuring: "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":  # the bench's flags and contract (bad input: one line, exit 2)
    from experiments.bench.cli import bench_cli

    bench_cli(lambda opts: print_table(bench_finders()), only="finders",
              description=__doc__)
