"""Hessian-vector product speed against JAX (`make bench`, or `python -m experiments.bench.hvp`).

One product H(θ)v, H = ∇²L, on the sinc nets of HW1-2 part 3 (tanh, MSE, N = 1000 points
x ∈ [−1, 1], y = sinc(5x)) and on the digits DNN (64-128-64-10 ReLU, softmax cross-entropy,
scikit-learn's digits, the 1438 training samples of engine.load_digits), each at its
LeCun / He initialization:
  autograd re-traced  hvp_fn(loss)(θ, v): autograd builds the gradient's graph
                      and reverses it for every product (the engine's route before the R-operator)
  make_hvp operator   hvp_operator(loss, θ): the graph built once per θ, one reverse pass each
  R-op hvp            mlp_hvp(net, θ, x, y, v): the exact R-operator, forward and backward included
  R-op operator       hvp_operator(net, θ, x, y): the R-operator with the forward and backward
                      passes kept per θ — the unit of work of Lanczos, Hutchinson and SLQ
  jax                 jax.jit of forward-over-reverse jvp(grad(L)) at (θ, v), x64, compiled once
Every product is timed in blocks of ≥ 20 ms of one route (never alternating call by call: JAX's
worker threads keep spinning after a call and slow whatever runs next), the routes taking turns
block by block so that a drift of the machine's speed hits all of them; one BLAS thread, and the
whole measurement on one CPU (one_core: jax sizes its thread pool by the process's CPU affinity,
and XLA_FLAGS' thread options do not bound it — with them, jax 0.10 spent 1.8× its wall time in
CPU on this 2-core machine, so its column ran on two cores); medians of `repeats` blocks after a
warm-up. jax is optional (the `bench` extra): without it the table says so and its jax columns
show –. The last column is max |Hv − Hv_jax| / max |Hv_jax|, a check that both compute the same
vector.
"""
from __future__ import annotations

import contextlib
import os
import time

import numpy as np
from threadpoolctl import threadpool_limits

from engine import MLP, load_digits
from engine.derivatives.autodiff import hvp_fn, mlp_hvp
from engine.spectra.lanczos import hvp_operator

SINC_NETWORKS = ((1, 10, 10, 1), (1, 20, 20, 1), (1, 40, 40, 1))
DIGITS_NETWORK = (64, 128, 64, 10)
N_SAMPLES = 1000
ROUTES = ("retraced", "make_hvp", "rop_hvp", "rop_operator", "jax")
_SAMPLE_SECONDS = 0.02


def bench_hvp(repeats: int = 5, seed: int = 0) -> dict:
    """{'jax': version or None, 'rows': one dict per network with {network, activation, loss,
    params, n_samples, <route>_ms and <route>_cpu_ms for each of ROUTES (None: not measured),
    rel_diff}}; wall and CPU milliseconds per product, medians over `repeats` samples after a
    warm-up."""
    rows = []
    with beside_jax(repeats) as jax:
        for net, theta, x, y in _problems(seed):
            rows.append(_bench_network(net, theta, x, y, repeats, seed, jax))
    return {"jax": None if jax is None else jax.__version__, "rows": rows}


def print_table(result: dict) -> None:
    """The rows as a Markdown table, ms per Hessian-vector product."""
    jax_note = (f"jax {result['jax']}" if result["jax"] else
                "jax is not installed (pip install jax, or the `bench` extra): no jax column")
    print("\nHessian-vector product, ms per product, float64, 1 BLAS thread, one CPU, medians; "
          f"{jax_note}\n")
    print("| network | σ, loss | params | N | autograd re-traced | make_hvp operator | R-op hvp | "
          "R-op operator | jax.jit(jvp∘grad) | operator / jax | CPU: operator / jax | "
          "max diff vs jax |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in result["rows"]:
        ratio = (f"{r['rop_operator_ms'] / r['jax_ms']:.2f}×" if r["jax_ms"] else "–")
        cpu = (f"{r['rop_operator_cpu_ms']:.3f} / {r['jax_cpu_ms']:.3f} = "
               f"{r['rop_operator_cpu_ms'] / r['jax_cpu_ms']:.2f}×" if r["jax_ms"] else "–")
        times = " | ".join("–" if r[f"{k}_ms"] is None else f"{r[f'{k}_ms']:.3f}" for k in ROUTES)
        diff = "–" if r["rel_diff"] is None else f"{r['rel_diff']:.1e}"
        print(f"| {r['network']} | {r['activation']}, {r['loss']} | {r['params']} | "
              f"{r['n_samples']} | {times} | {ratio} | {cpu} | {diff} |")


def _problems(seed):
    rng = np.random.default_rng(seed)
    x = np.linspace(-1.0, 1.0, N_SAMPLES)[:, None]
    y = np.sinc(5.0 * x)
    for sizes in SINC_NETWORKS:
        net = MLP(sizes, activation="tanh", loss_name="mse")
        yield net, net.init(rng), x, y
    data = load_digits()
    net = MLP(DIGITS_NETWORK, activation="relu", loss_name="cross_entropy")
    yield net, net.init(rng, "he"), data.x_train, data.y_train


def _bench_network(net, theta, x, y, repeats, seed, jax) -> dict:
    v = np.random.default_rng(seed + 1).standard_normal(net.n_params)
    loss = lambda t: net.loss(t, x, y)  # noqa: E731
    op_loss = hvp_operator(loss, theta)
    op_net = hvp_operator(net, theta, x, y)
    calls = {
        "retraced": lambda: hvp_fn(loss)(theta, v),
        "make_hvp": lambda: op_loss.matvec(v),
        "rop_hvp": lambda: mlp_hvp(net, theta, x, y, v),
        "rop_operator": lambda: op_net.matvec(v),
    }
    reference = None
    if jax is not None:
        jax_hvp = _jax_hvp(jax, net, x, y)
        reference = np.asarray(jax_hvp(theta, v))
        calls["jax"] = lambda: jax_hvp(theta, v).block_until_ready()
    times = {f"{route}{unit}": None for route in ROUTES for unit in ("_ms", "_cpu_ms")}
    times |= _median_ms(calls, repeats)
    rel_diff = None
    if reference is not None:
        rel_diff = float(np.abs(op_net.matvec(v) - reference).max() / np.abs(reference).max())
    return {"network": "-".join(map(str, net.sizes)), "activation": net.activation,
            "loss": net.loss_name, "params": net.n_params, "n_samples": len(x), **times,
            "rel_diff": rel_diff}


def _median_ms(calls: dict, repeats: int) -> dict:
    """{'<route>_ms', '<route>_cpu_ms': median wall and process-CPU ms per call}: `repeats`
    rounds (the CPU time is this process's own: a machine loaded by others inflates it less
    than the wall clock); in each round every route runs one
    block of `inner` calls (≥ 20 ms), so a drift of the machine's speed hits all routes alike
    while no two routes alternate call by call."""
    inner = {}
    for route, call in calls.items():
        call()  # warm-up: compilation, caches
        start = time.perf_counter()
        call()
        inner[route] = max(1, int(np.ceil(_SAMPLE_SECONDS / max(time.perf_counter() - start,
                                                                1e-9))))
    samples = {route: [] for route in calls}
    cpu = {route: [] for route in calls}
    for _ in range(repeats):
        for route, call in calls.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            for _ in range(inner[route]):
                call()
            samples[route].append((time.perf_counter() - start) / inner[route])
            cpu[route].append((time.process_time() - start_cpu) / inner[route])
    return ({f"{route}_ms": 1e3 * float(np.median(t)) for route, t in samples.items()}
            | {f"{route}_cpu_ms": 1e3 * float(np.median(t)) for route, t in cpu.items()})


@contextlib.contextmanager
def beside_jax(repeats):
    """The block of a side-by-side table against jax: `repeats` checked (ValueError unless an
    integer ≥ 1), one CPU (one_core) and one BLAS thread; yields jax (x64) or None without it."""
    if not (isinstance(repeats, int) and repeats >= 1):
        raise ValueError(f"repeats={repeats!r}: give an integer ≥ 1")
    with one_core(), threadpool_limits(limits=1):
        yield _import_jax()


@contextlib.contextmanager
def one_core():
    """Run the block on one CPU (the highest the process may use; restored after): every route
    of a side-by-side table then computes on one core, whatever threads its library starts.
    jax sizes its thread pool by this affinity when it first starts, so call it before jax's
    first use (jax's own advice, jax-ml/jax#1539). A no-op where the OS has no affinity call."""
    if not hasattr(os, "sched_setaffinity"):
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {max(before)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def _import_jax():
    # XLA's thread options, kept for older jax; one_core is what bounds jax's threads
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false "
                                       "intra_op_parallelism_threads=1")
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    return jax


def _jax_hvp(jax, net, x, y):
    """jax.jit of (θ, v) ↦ jvp(∇L, (θ,), (v,)) for the MLP's loss written in jax.numpy, in the
    same θ layout."""
    jnp = jax.numpy
    layout, hidden = net.layout, {"tanh": jnp.tanh, "relu": lambda z: z * (z > 0)}[net.activation]
    x, y = jnp.asarray(x), jnp.asarray(y)

    def loss(theta):
        h = x
        for layer in range(layout.n_layers):
            m, n = layout.shape_of(layer)
            W = theta[layout.weight_slice(layer)].reshape(m, n)
            h = h @ W + theta[layout.bias_slice(layer)]
            if layer < layout.n_layers - 1:
                h = hidden(h)
        if net.loss_name == "mse":
            return 0.5 * jnp.mean(jnp.sum((h - y) ** 2, axis=-1))
        return jnp.mean(jax.nn.logsumexp(h, axis=-1) - jnp.sum(y * h, axis=-1))

    return jax.jit(lambda theta, v: jax.jvp(jax.grad(loss), (theta,), (v,))[1])


if __name__ == "__main__":  # the bench's flags and contract (bad input: one line, exit 2)
    from experiments.bench.cli import bench_cli

    bench_cli(lambda opts: print_table(bench_hvp(repeats=opts.repeats)), only="hvp",
              description=__doc__)
