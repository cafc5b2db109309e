"""Exact-Hessian speed (`make bench`, or `python -m experiments.bench.curvature`).

The sinc nets of HW1-2 part 3 (tanh, MSE, N = 1000 points x ∈ [−1, 1], y = sinc(5x)) at their
LeCun initialization (the speed does not depend on θ), per network:
  autograd    engine.derivatives.autodiff.mlp_hessian_autograd: n reverse passes (the reference)
  structured  engine.derivatives.curvature.exact_hessian: Jacobian sweep + Gauss–Newton Gram +
  residual
  HVP         one engine.derivatives.autodiff.mlp_hvp (the exact R-operator, never forms H);
              the unit of work for large nets (experiments.bench.hvp compares it with autograd's
              and JAX's)
  eigsh       the top 10 eigenvalues by Lanczos on the HVP operator, verified
  (engine.spectra.lanczos)
  eigvalsh    the whole spectrum of the structured H, dense: on nets this small forming H and
              calling eigvalsh beats Lanczos; eigsh is for nets whose H does not fit in memory
Each time is the median of `repeats` runs after one warm-up run, autograd and structured
interleaved so drifts of the machine's speed hit both; once with the BLAS's default threads and
once with 1 thread, the setting of every parallel worker (experiments run one process per core;
an oversubscribed multi-threaded OpenBLAS spins and slows down many-fold). The relative
Frobenius difference of the two Hessians is printed as a check that the fast one computes the
same matrix.
"""
from __future__ import annotations

import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from engine import MLP, mlp_hessian_autograd, mlp_hvp
from engine.derivatives.curvature import exact_hessian
from engine.spectra.eigenpairs import extreme_eigenvalues
from engine.spectra.lanczos import hvp_operator

NETWORKS = ((1, 10, 10, 1), (1, 20, 20, 1))
N_SAMPLES = 1000
TOP_K = 10


def bench_curvature(repeats: int = 5, seed: int = 0) -> list[dict]:
    """One row per BLAS setting and network: {threads, network, params, autograd_s, structured_s,
    speedup, hvp_s, eigsh_s, eigvalsh_s, rel_error}; times in seconds, medians over `repeats`
    after a warm-up."""
    if not (isinstance(repeats, int) and repeats >= 1):
        raise ValueError(f"repeats={repeats!r}: give an integer ≥ 1")
    rows = []
    for threads in (None, 1):
        with threadpool_limits(limits=threads):
            for sizes in NETWORKS:
                row = _bench_network(sizes, repeats, seed)
                rows.append({"threads": "default" if threads is None else str(threads), **row})
    return rows


def _bench_network(sizes, repeats, seed) -> dict:
    rng = np.random.default_rng(seed)
    x = np.linspace(-1.0, 1.0, N_SAMPLES)[:, None]
    y = np.sinc(5.0 * x)
    net = MLP(sizes, activation="tanh", loss_name="mse")
    theta = net.init(rng)
    v = rng.standard_normal(net.n_params)
    op = hvp_operator(net, theta, x, y)
    times = {"autograd": [], "structured": [], "hvp": [], "eigsh": [], "eigvalsh": []}
    for run in range(repeats + 1):  # run 0 is the warm-up
        H_ref, t_ref = _timed(mlp_hessian_autograd, net, theta, x, y)
        H, t_fast = _timed(exact_hessian, net, theta, x, y)
        _, t_hvp = _timed(mlp_hvp, net, theta, x, y, v)
        _, t_eigsh = _timed(extreme_eigenvalues, op, TOP_K, "LA", rng=np.random.default_rng(seed))
        _, t_eigvalsh = _timed(np.linalg.eigvalsh, H)
        if run:
            for key, t in zip(times, (t_ref, t_fast, t_hvp, t_eigsh, t_eigvalsh), strict=True):
                times[key].append(t)
    med = {key: float(np.median(t)) for key, t in times.items()}
    return {
        "network": "-".join(map(str, sizes)), "params": net.n_params,
        "autograd_s": med["autograd"], "structured_s": med["structured"],
        "speedup": med["autograd"] / med["structured"], "hvp_s": med["hvp"],
        "eigsh_s": med["eigsh"], "eigvalsh_s": med["eigvalsh"],
        "rel_error": float(np.linalg.norm(H - H_ref) / np.linalg.norm(H_ref)),
    }


def print_table(rows: list[dict]) -> None:
    """The rows as a Markdown table, with the setting and the BLAS in use."""
    blas = ", ".join(f"{i['internal_api']} {i['version']} ({i['num_threads']} threads by default)"
                     for i in threadpool_info() if i["user_api"] == "blas")
    print(f"\nExact Hessian of the MSE, tanh, N = {N_SAMPLES} sinc points, float64; {blas}; "
          "medians\n")
    print(f"| BLAS threads | network | params | autograd s | structured s | speed-up | HVP s | "
          f"eigsh s (top {TOP_K}) | eigvalsh s (all) | ‖H − H_autograd‖/‖H_autograd‖ |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['threads']} | {r['network']} | {r['params']} | {r['autograd_s']:.3f} | "
              f"{r['structured_s']:.4f} | {r['speedup']:.1f}× | {r['hvp_s']:.4f} | "
              f"{r['eigsh_s']:.3f} | {r['eigvalsh_s']:.4f} | {r['rel_error']:.1e} |")


def _timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


if __name__ == "__main__":  # the bench's flags and contract (bad input: one line, exit 2)
    from experiments.bench.cli import bench_cli

    bench_cli(lambda opts: print_table(bench_curvature(repeats=opts.repeats)), only="curvature",
              description=__doc__)
