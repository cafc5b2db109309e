"""Training speed of the MNIST DNN (`make bench`, or
`python -m experiments.bench --only training`).

One epoch of engine.training.loop.train — 784-128-64-10 ReLU, softmax cross-entropy, batch 128,
Adam,
float64 — on random MNIST-shaped data (uniform pixels, random labels: the speed does not depend
on the values), timed per case as the median of `repeats` epochs after a warm-up:
  plain graph   MLP.forward_unfused: slices of θ, matmul, add and σ as separate autograd nodes
  fused layer   MLP.forward: one engine.nets.fused node per layer (the default)
each with BLAS's own threads and with one BLAS thread, as in each parallel worker of run_all.
Two BLAS threads are fast only on an otherwise idle machine: one other busy process makes them
slower than one thread, so read the load with the table.
The target is ≥ 45k samples/s on 2 cores; references measured on this kind of machine:
PyTorch CPU 30k, plain autograd 22k, hand-written NumPy 41k.
Cost: 1 + repeats epochs for each of 4 cases, ~1–3 s each on an idle machine.
"""
from __future__ import annotations

import os
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from engine import MLP
from engine.data.datasets import Dataset
from engine.training.loop import train
from engine.training.optim import adam

SIZES = (784, 128, 64, 10)
BATCH_SIZE = 128


class _PlainMLP(MLP):
    """The MLP with the plain autograd graph as its forward pass (the reference case)."""

    def forward(self, theta, x):
        """f(x; θ) by MLP.forward_unfused: x (N, d_in) → (N, d_out)."""
        return self.forward_unfused(theta, x)


def bench_training(repeats: int = 5, n_samples: int = 60_000, seed: int = 0) -> list[dict]:
    """Samples/s of one training epoch per case: [{case, threads, samples_per_s, min, max,
    ms_per_step, speedup}] with median, slowest and fastest of `repeats` epochs; speedup over the
    plain graph with the same BLAS threads."""
    if repeats < 1 or n_samples < BATCH_SIZE:
        raise ValueError(f"repeats={repeats}, n_samples={n_samples}: give repeats ≥ 1 and "
                         f"n_samples ≥ {BATCH_SIZE}")
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n_samples)
    data = Dataset("random MNIST-shaped", "classification", rng.random((n_samples, SIZES[0])),
                   np.eye(10)[labels], rng.random((BATCH_SIZE, SIZES[0])),
                   np.eye(10)[labels[:BATCH_SIZE]], 10)
    theta0 = MLP(SIZES, "relu", "cross_entropy").init(rng, "he")
    n_steps = -(-n_samples // BATCH_SIZE)
    rows = []
    for threads in (None, 1):
        for case, cls in (("plain graph", _PlainMLP), ("fused layer", MLP)):
            net = cls(SIZES, "relu", "cross_entropy")
            with threadpool_limits(limits=threads):
                used = _blas_threads()
                times = [_epoch_time(net, theta0, data, seed) for _ in range(repeats + 1)][1:]
            speeds = n_samples / np.array(times)
            rows.append({"case": case, "threads": used,
                         "samples_per_s": float(np.median(speeds)),
                         "min": float(speeds.min()), "max": float(speeds.max()),
                         "ms_per_step": 1e3 * float(np.median(times)) / n_steps,
                         "speedup": float(np.median(speeds)) / rows[-1]["samples_per_s"]
                         if case == "fused layer" else 1.0})
    return rows


def print_table(rows: list[dict]) -> None:
    """The rows as a Markdown table, with the setting and the BLAS in use."""
    blas = ", ".join(f"{i['internal_api']} {i['version']} ({i['num_threads']} threads)"
                     for i in threadpool_info() if i["user_api"] == "blas")
    print(f"\nTraining epoch, {'-'.join(map(str, SIZES))} ReLU, softmax CE, batch {BATCH_SIZE}, "
          f"Adam, float64, random MNIST-shaped data; {blas}; median [min, max] over repeats\n")
    print("| case | BLAS threads | samples/s | ms per step | vs plain graph |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['case']} | {r['threads']} | {r['samples_per_s']:,.0f} [{r['min']:,.0f}, "
              f"{r['max']:,.0f}] | {r['ms_per_step']:.2f} | {r['speedup']:.2f}× |")
    print("\nload average (1, 5, 15 min) after measuring: "
          + " ".join(f"{x:.2f}" for x in os.getloadavg()))


def _blas_threads() -> int:
    return max((i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"), default=1)


def _epoch_time(net, theta0, data, seed) -> float:
    start = time.perf_counter()
    train(net, theta0, data, adam(1e-3), epochs=1, batch_size=BATCH_SIZE,
          rng=np.random.default_rng(seed))
    return time.perf_counter() - start


if __name__ == "__main__":  # the bench's flags and contract (bad input: one line, exit 2)
    from experiments.bench.cli import bench_cli

    bench_cli(lambda opts: print_table(bench_training(repeats=opts.repeats)), only="training",
              description=__doc__)
