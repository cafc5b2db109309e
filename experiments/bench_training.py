"""Training speed of the MNIST DNN (`make bench`, or `python -m experiments.bench --only training`).

One epoch of engine.train.train — 784-128-64-10 ReLU, softmax cross-entropy, batch 128, Adam,
float64 — on random MNIST-shaped data (uniform pixels, random labels: the speed does not depend
on the values), timed per case as the median of `repeats` epochs after a warm-up:
  plain graph      MLP.forward_unfused: slices of θ, matmul, add and σ as separate autograd nodes
  fused layer      MLP.forward: one engine.fused node per layer (the default)
  fused, 1 thread  the same with BLAS limited to one thread, as in each parallel worker of run_all
The goal (issue 4) is ≥ 45k samples/s on 2 cores; references on this kind of machine
(../shared/notes/performance.md): PyTorch CPU 30k, plain autograd 22k, hand-written NumPy 41k.
Cost: (2 + 2·repeats) epochs per case, ~1–3 s each.
"""
from __future__ import annotations

import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from engine import MLP
from engine.data import Dataset
from engine.optim import adam
from engine.train import train

SIZES = (784, 128, 64, 10)
BATCH_SIZE = 128


class _PlainMLP(MLP):
    """The MLP with the plain autograd graph as its forward pass (the reference case)."""

    def forward(self, theta, x):
        return self.forward_unfused(theta, x)


def bench_training(repeats: int = 5, n_samples: int = 60_000, seed: int = 0) -> list[dict]:
    """Samples/s of one training epoch per case: [{case, samples_per_s, min, max, ms_per_step,
    speedup}] with median, slowest and fastest of `repeats` epochs; speedup over the plain graph."""
    if repeats < 1 or n_samples < BATCH_SIZE:
        raise ValueError(f"repeats={repeats}, n_samples={n_samples}: give repeats ≥ 1 and "
                         f"n_samples ≥ {BATCH_SIZE}")
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n_samples)
    data = Dataset("random MNIST-shaped", "classification", rng.random((n_samples, SIZES[0])),
                   np.eye(10)[labels], rng.random((BATCH_SIZE, SIZES[0])),
                   np.eye(10)[labels[:BATCH_SIZE]], 10)
    theta0 = MLP(SIZES, "relu", "cross_entropy").init(rng, "he")
    cases = [("plain graph", _PlainMLP, None), ("fused layer", MLP, None),
             ("fused layer, 1 BLAS thread", MLP, 1)]
    n_steps = -(-n_samples // BATCH_SIZE)
    rows = []
    for case, cls, threads in cases:
        net = cls(SIZES, "relu", "cross_entropy")
        with threadpool_limits(limits=threads):
            times = [_epoch_time(net, theta0, data, seed) for _ in range(repeats + 2)][2:]
        speeds = n_samples / np.array(times)
        rows.append({"case": case, "samples_per_s": float(np.median(speeds)),
                     "min": float(speeds.min()), "max": float(speeds.max()),
                     "ms_per_step": 1e3 * float(np.median(times)) / n_steps})
    for row in rows:
        row["speedup"] = row["samples_per_s"] / rows[0]["samples_per_s"]
    return rows


def print_table(rows: list[dict]) -> None:
    """The rows as a Markdown table, with the setting and the BLAS in use."""
    blas = ", ".join(f"{i['internal_api']} {i['version']} ({i['num_threads']} threads)"
                     for i in threadpool_info() if i["user_api"] == "blas")
    print(f"\nTraining epoch, {'-'.join(map(str, SIZES))} ReLU, softmax CE, batch {BATCH_SIZE}, "
          f"Adam, float64, random MNIST-shaped data; {blas}; median [min, max] over repeats\n")
    print("| case | samples/s | ms per step | vs plain graph |")
    print("|---|---|---|---|")
    for r in rows:
        print(f"| {r['case']} | {r['samples_per_s']:,.0f} [{r['min']:,.0f}, {r['max']:,.0f}] | "
              f"{r['ms_per_step']:.2f} | {r['speedup']:.2f}× |")


def _epoch_time(net, theta0, data, seed) -> float:
    start = time.perf_counter()
    train(net, theta0, data, adam(1e-3), epochs=1, batch_size=BATCH_SIZE,
          rng=np.random.default_rng(seed))
    return time.perf_counter() - start


if __name__ == "__main__":
    print_table(bench_training())
