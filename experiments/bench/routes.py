"""Own losses by five routes (`python -m experiments.bench --only routes`): the README's 1-3-1
example and a 1-40-40-1 tanh net on N = 1000 sinc points, written once per framework, the
time of one Hessian and of one critical-point search (lm+newton from one θ₀) by
  autograd   from_autograd with batched=False (autograd.hessian, column by column)
  stacked    from_autograd of the loss written for stacks of θ (⌈n/32⌉ stacked passes)
  via_jax    from_autograd(…, via="jax"): the autograd loss itself, run by jax.jit
             (engine.adapters.twin)
  torch      from_torch (torch.func), one intra-op thread
  jax        from_jax (jax.jit)
All on one CPU (experiments.bench.hvp.one_core: jax's threads included).
Columns show – when the framework is not installed, and for the column-by-column autograd route
on 1-40-40-1 (1761 reverse passes per Hessian, minutes each: the stacked route replaced it).
Medians over `repeats` after a warm-up; the search once (it is deterministic). The 1-40-40-1
search is capped at 5 iterations per stage: each iteration forms one Hessian, seconds on any
route, so the capped search times that cost (the README case runs to its end).
"""
from __future__ import annotations

import importlib.util
import time

import autograd.numpy as anp
import numpy as np
from threadpoolctl import threadpool_limits
from tqdm import tqdm

from engine import find_critical
from engine.adapters import from_autograd, from_jax, from_torch
from experiments.bench.hvp import one_core

ROUTES = ("autograd", "stacked", "via_jax", "torch", "jax")
CASES = (("README 1-3-1, N=30", (1, 3, 1), 30, None, ROUTES),
         ("1-40-40-1, N=1000", (1, 40, 40, 1), 1000, 5, ROUTES[1:]))


def _mlp(xp, theta, x, sizes):
    """The tanh MLP of any array module xp, θ (..., n) in engine.nets.layout's order."""
    h, start = x, 0
    for layer, (m, k) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        W = theta[..., start:start + m * k].reshape(theta.shape[:-1] + (1, m, k))[..., 0, :, :]
        b = theta[..., None, start + m * k:start + m * k + k]
        start += m * k + k
        h = h @ W + b
        h = xp.tanh(h) if layer < len(sizes) - 2 else h
    return h


def _functions(route, sizes, x, y, theta0):
    if route in ("autograd", "stacked", "via_jax"):
        def loss(t):
            return 0.5 * anp.mean(anp.sum((_mlp(anp, t, x, sizes) - y) ** 2, -1), -1)
        if route == "via_jax":
            return from_autograd(loss, theta0, via="jax")
        return from_autograd(loss, theta0, batched=route == "stacked")
    if route == "jax":
        import jax.numpy as jnp
        return from_jax(lambda t, x, y: 0.5 * jnp.mean(jnp.sum((_mlp(jnp, t, x, sizes) - y) ** 2,
                                                               -1)), theta0, (x, y))
    import torch
    torch.set_num_threads(1)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.theta = torch.nn.Parameter(torch.from_numpy(theta0.copy()))

        def forward(self, x):
            return _mlp(torch, self.theta, x, sizes)

    mse = lambda out, t: 0.5 * torch.mean(torch.sum((out - t) ** 2, -1))  # noqa: E731
    return from_torch(Net(), mse, (x, y))


def bench_routes(repeats: int = 3, seed: int = 11) -> list[dict]:
    """One row per case: {case, params, <route>_hessian_s, <route>_search_s and their process-CPU
    twins <route>_hessian_cpu_s, <route>_search_cpu_s} (None: absent)."""
    rows = []
    # minutes in all (the 1-40-40-1 searches): a bar per (case, route), on stderr
    bar = tqdm(total=len(CASES) * len(ROUTES), desc="bench routes", leave=False)
    with one_core(), threadpool_limits(limits=1), bar:
        for name, sizes, n_samples, cap, routes in CASES:
            x = np.linspace(-1.0, 1.0, n_samples)[:, None]
            y = np.sin(3.0 * x) if n_samples == 30 else np.sinc(5.0 * x)
            n = sum(m * k + k for m, k in zip(sizes[:-1], sizes[1:], strict=True))
            theta0 = np.random.default_rng(seed).normal(size=n) / np.sqrt(2.0)
            row = {"case": name, "params": n}
            for route in ROUTES:
                bar.set_postfix_str(f"{name}: {route}")
                bar.update()
                for key in ("hessian_s", "search_s", "hessian_cpu_s", "search_cpu_s"):
                    row[f"{route}_{key}"] = None
                framework = "jax" if route == "via_jax" else route
                if route not in routes or (framework in ("torch", "jax")
                                           and importlib.util.find_spec(framework) is None):
                    continue
                f = _functions(route, sizes, x, y, theta0)
                f.hessian(theta0)  # warm-up (jax compiles)
                times, cpu = [], []
                for _ in range(repeats):
                    start, start_cpu = time.perf_counter(), time.process_time()
                    f.hessian(theta0)
                    times.append(time.perf_counter() - start)
                    cpu.append(time.process_time() - start_cpu)
                f.gradient(theta0)
                start, start_cpu = time.perf_counter(), time.process_time()
                find_critical(theta0, f.gradient, f.hessian, max_iter=cap)
                row[f"{route}_hessian_s"] = float(np.median(times))
                row[f"{route}_search_s"] = time.perf_counter() - start
                row[f"{route}_hessian_cpu_s"] = float(np.median(cpu))
                row[f"{route}_search_cpu_s"] = time.process_time() - start_cpu
            rows.append(row)
    return rows


def print_table(rows: list[dict]) -> None:
    """The rows as Markdown tables, wall and process-CPU seconds, with each route's ratio to
    jax (the CPU time is this process's own: a machine loaded by others inflates it less)."""
    for clock in ("", "_cpu"):
        _print_clock(rows, clock)


def _print_clock(rows, clock):
    print(f"\nOwn loss by route: one Hessian / one search (lm+newton), "
          f"{'process-CPU' if clock else 'wall'} seconds, 1 thread\n")
    print("| case | params | " + " | ".join(f"{r} Hessian | {r} search" for r in ROUTES) + " |")
    print("|---|---|" + "---|---|" * len(ROUTES))
    for row in rows:
        cells = []
        for route in ROUTES:
            for what in ("hessian", "search"):
                t, ref = row[f"{route}_{what}{clock}_s"], row[f"jax_{what}{clock}_s"]
                ratio = f" ({t / ref:.1f}×)" if t is not None and ref else ""
                cells.append("–" if t is None else f"{t:.4g}{ratio}")
        print(f"| {row['case']} | {row['params']} | " + " | ".join(cells) + " |")


if __name__ == "__main__":  # the bench's flags and contract (bad input: one line, exit 2)
    from experiments.bench.cli import bench_cli

    bench_cli(lambda opts: print_table(bench_routes()), only="routes",
              description=__doc__)
