"""Hutch++ against Hutchinson at the same number of Hessian-vector products (`make bench`, or
`python -m experiments.bench --only trace`).

The sinc nets of experiments.bench.hvp (tanh, MSE, N = 1000, LeCun initialization); the exact
tr H from the structured Hessian; each estimator run with `repeats` seeds at m products, and the
RMS error over the seeds reported with the ratio Hutchinson / Hutch++ (the aim: ≥ 10).
"""
from __future__ import annotations

import numpy as np

from engine import MLP
from engine.derivatives.curvature import exact_hessian
from engine.spectra.lanczos import hutchinson_trace, hutchpp_trace, hvp_operator

NETWORKS = ((1, 10, 10, 1), (1, 20, 20, 1), (1, 40, 40, 1))
PRODUCTS = (60, 150, 300)
N_SAMPLES = 1000


def bench_trace(repeats: int = 30, seed: int = 0) -> list[dict]:
    """One row per network and m: {network, params, trace, products, hutchinson_rms,
    hutchpp_rms, ratio}."""
    rng = np.random.default_rng(seed)
    x = np.linspace(-1.0, 1.0, N_SAMPLES)[:, None]
    y = np.sinc(5.0 * x)
    rows = []
    for sizes in NETWORKS:
        net = MLP(sizes, activation="tanh", loss_name="mse")
        theta = net.init(rng)
        op = hvp_operator(net, theta, x, y)
        exact = float(np.trace(exact_hessian(net, theta, x, y)))
        for m in PRODUCTS:
            rms = {}
            for name, estimate in (("hutchinson", hutchinson_trace), ("hutchpp", hutchpp_trace)):
                errors = [estimate(op, m, rng=np.random.default_rng(s))[0] - exact
                          for s in range(repeats)]
                rms[name] = float(np.sqrt(np.mean(np.square(errors))))
            rows.append({"network": "-".join(map(str, sizes)), "params": net.n_params,
                         "trace": exact, "products": m, "hutchinson_rms": rms["hutchinson"],
                         "hutchpp_rms": rms["hutchpp"],
                         "ratio": rms["hutchinson"] / rms["hutchpp"]})
    return rows


def print_table(rows: list[dict]) -> None:
    """The rows as a Markdown table."""
    print("\ntr H by Hutchinson and Hutch++ at the same number of HVPs, RMS error over seeds\n")
    print("| network | params | tr H | products | Hutchinson RMS | Hutch++ RMS | ratio |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['network']} | {r['params']} | {r['trace']:.4f} | {r['products']} | "
              f"{r['hutchinson_rms']:.3g} | {r['hutchpp_rms']:.3g} | {r['ratio']:.1f}× |")


if __name__ == "__main__":
    print_table(bench_trace())
