"""Verified top-k eigenpairs and SLQ against the same algorithms on JAX's Hessian-vector product
(`make bench`, or `python -m experiments.bench --only spectra`).

The nets of experiments.bench.hvp (sinc 1-10-10-1 and 1-40-40-1 tanh MSE on N = 1000 points,
the digits 64-128-64-10 ReLU cross-entropy net), at their initialization, per network:
  top-k   engine.spectra.eigenpairs.extreme_eigenvalues(hvp_operator(net, θ, x, y), k, 'LA')
          for k in TOP_K,
          verified (residuals and the check for missed eigenvalues), against scipy's eigsh
          (ARPACK, tol 0, the same start vector) on a LinearOperator of jax.jit(jvp∘grad) —
          what a JAX user would write; eigsh alone verifies nothing
  SLQ     engine.spectra.lanczos.slq_density (N_STEPS Lanczos steps, N_PROBES probes, full
          re-orthogonalization) against one jax.jit of the same Lanczos recursion per probe
          (lax.fori_loop; the three-term recurrence, then full re-orthogonalization, a second
          pass when the first removed more than half, as in the engine and in Ghorbani et al.'s
          JAX code), the same Rademacher probes, the nodes by scipy's eigh_tridiagonal in both
Both columns of a row are timed side by side, taking turns run by run (one BLAS thread, the
whole table on one CPU: experiments.bench.hvp.one_core); medians of wall-clock and of process
CPU seconds (the CPU time is what this process spent, so a machine loaded by others inflates it
less than the wall clock). The HVP column counts products; the diff columns compare the
eigenvalues and the SLQ moments Σ w·node of the two routes. A third call takes the same turns:
the engine's products alone, as many as its run used and in the same blocks (2 columns for
top-k, one per probe for SLQ) — the engine's time without its algorithm, so "HVPs alone ÷ jax"
is the ratio a faster recursion could reach at best; beyond it only a faster product or fewer of
them help.
"""
from __future__ import annotations

import time

import numpy as np
import scipy.linalg
import scipy.sparse.linalg

from engine.spectra.eigenpairs import extreme_eigenvalues
from engine.spectra.lanczos import hvp_operator, slq_density
from experiments.bench.hvp import _jax_hvp, _problems, beside_jax

TOP_K = (5, 20)  # 20: the spectrum experiment's top_k
N_STEPS, N_PROBES = 80, 10
NETWORKS = ("1-10-10-1", "1-40-40-1", "64-128-64-10")


def bench_spectra(repeats: int = 5, seed: int = 0) -> dict:
    """{'jax': version or None, 'rows': one dict per network and tool with {network, params,
    tool, ours_s, ours_cpu_s, jax_s, jax_cpu_s, ours_products, jax_products, verified, diff}}
    (jax entries None without jax), products_cpu_s (the engine's products alone, module
    docstring); seconds, medians over `repeats` after a warm-up."""
    rows = []
    with beside_jax(repeats) as jax:
        for net, theta, x, y in _problems(seed):
            name = "-".join(map(str, net.sizes))
            if name not in NETWORKS:
                continue
            op = hvp_operator(net, theta, x, y)
            jax_hvp = None if jax is None else _jax_hvp(jax, net, x, y)
            base = {"network": name, "params": net.n_params}
            rows += [base | _top_k(op, jax_hvp, theta, repeats, seed, k) for k in TOP_K]
            rows.append(base | _slq(op, jax, jax_hvp, theta, repeats, seed))
    return {"jax": None if jax is None else jax.__version__, "rows": rows}


def print_table(result: dict) -> None:
    """The rows as a Markdown table: seconds (wall, CPU), products, ratios ours / jax."""
    print(f"\nVerified top-k and SLQ ({N_STEPS} steps × {N_PROBES} probes): engine vs the "
          f"same algorithm on jax.jit(jvp∘grad), one CPU, medians; jax {result['jax'] or '–'}\n")
    print("| network | params | tool | engine s (CPU s) | jax s (CPU s) | wall ratio | CPU ratio "
          "| HVPs engine / jax | HVPs alone CPU s (÷ jax) | verified | diff |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in result["rows"]:
        jax_cell = "–" if r["jax_s"] is None else f"{r['jax_s']:.4f} ({r['jax_cpu_s']:.4f})"
        wall = "–" if r["jax_s"] is None else f"{r['ours_s'] / r['jax_s']:.2f}×"
        cpu = "–" if r["jax_s"] is None else f"{r['ours_cpu_s'] / r['jax_cpu_s']:.2f}×"
        diff = "–" if r["diff"] is None else f"{r['diff']:.1e}"
        alone = f"{r['products_cpu_s']:.4f}" + (
            "" if r["jax_s"] is None else f" ({r['products_cpu_s'] / r['jax_cpu_s']:.2f}×)")
        print(f"| {r['network']} | {r['params']} | {r['tool']} | {r['ours_s']:.4f} "
              f"({r['ours_cpu_s']:.4f}) | {jax_cell} | {wall} | {cpu} | {r['ours_products']} / "
              f"{r['jax_products'] or '–'} | {alone} | {r['verified']} | {diff} |")


def _top_k(op, jax_hvp, theta, repeats, seed, k):
    n = op.shape[0]

    def ours():
        return extreme_eigenvalues(op, k, "LA", rng=np.random.default_rng(seed))

    calls, count = {"ours": ours, "products": _products(op, ours().n_products, 2)}, [0]
    if jax_hvp is not None:
        def jax_matvec(v):
            count[0] += 1
            return np.asarray(jax_hvp(theta, np.ravel(v)))

        jop = scipy.sparse.linalg.LinearOperator((n, n), matvec=jax_matvec, dtype=np.float64)

        def jax_eigsh():
            count[0] = 0
            v0 = np.random.default_rng(seed).standard_normal(n)
            return np.sort(scipy.sparse.linalg.eigsh(jop, k, which="LA", tol=0, v0=v0,
                                                     return_eigenvectors=False))[::-1]

        calls["jax"] = jax_eigsh
    times, out = _timed(calls, repeats)
    result = out["ours"]
    diff = None if jax_hvp is None else float(
        np.abs(result.values - out["jax"]).max() / np.abs(out["jax"]).max())
    return {"tool": f"top-{k}", **times, "ours_products": result.n_products,
            "jax_products": count[0] if jax_hvp is not None else None,
            "verified": result.verified, "diff": diff}


def _slq(op, jax, jax_hvp, theta, repeats, seed):
    n = op.shape[0]

    def ours():
        return slq_density(op, N_STEPS, N_PROBES, rng=np.random.default_rng(seed))[2:]

    calls = {"ours": ours, "products": _products(op, N_STEPS * N_PROBES, N_PROBES)}
    if jax_hvp is not None:
        lanczos = _jax_lanczos(jax, jax_hvp, n, min(N_STEPS, n))

        def jax_slq():
            rng = np.random.default_rng(seed)
            nodes, weights = [], []
            for _ in range(N_PROBES):
                z = rng.integers(0, 2, size=n).astype(np.float64) * 2.0 - 1.0
                alpha, beta = (np.asarray(a) for a in lanczos(theta, z / np.sqrt(n)))
                node, Q = scipy.linalg.eigh_tridiagonal(alpha, beta[:-1])
                nodes.append(node)
                weights.append(Q[0] ** 2 / N_PROBES)
            return np.concatenate(nodes), np.concatenate(weights)

        calls["jax"] = jax_slq
    times, out = _timed(calls, repeats)
    diff = None
    if jax_hvp is not None:  # the first moments (1/n)·tr H of the two quadratures
        (a, wa), (b, wb) = out["ours"], out["jax"]
        diff = float(abs(a @ wa - b @ wb) / max(abs(b @ wb), np.abs(b).max() * 1e-16))
    return {"tool": "SLQ", **times, "ours_products": N_STEPS * N_PROBES,
            "jax_products": N_STEPS * N_PROBES if jax_hvp is not None else None,
            "verified": "–", "diff": diff}


def _products(op, count, width):
    """A call applying op to `count` vectors, `width` columns per matmat (the rest in one more)."""
    V = np.random.default_rng(0).standard_normal((op.shape[0], width))

    def products():
        for _ in range(count // width):
            op.matmat(V)
        if count % width:
            op.matmat(V[:, : count % width])

    return products


def _jax_lanczos(jax, jax_hvp, n, m):
    """jax.jit of (θ, v) ↦ (α (m,), β (m,)): m Lanczos steps from the unit v, full
    re-orthogonalization against all earlier vectors masked to static shapes."""
    jnp, lax = jax.numpy, jax.lax

    def run(theta, v):
        def step(j, state):
            V, alpha, beta = state
            w = jax_hvp(theta, V[j])
            a = w @ V[j]
            w = w - a * V[j] - jnp.where(j > 0, beta[j - 1], 0.0) * V[j - 1]
            mask = (jnp.arange(m) <= j).astype(w.dtype)

            def full(w):
                return w - V.T @ ((V @ w) * mask)

            before, w = jnp.linalg.norm(w), full(w)
            w = lax.cond(jnp.linalg.norm(w) > 0.5 * before, lambda w: w, full, w)
            alpha = alpha.at[j].set(a)
            b = jnp.linalg.norm(w)
            V = V.at[jnp.minimum(j + 1, m - 1)].set(jnp.where(j + 1 < m, w / b, V[m - 1]))
            return V, alpha, beta.at[j].set(b)

        V0 = jnp.zeros((m, n)).at[0].set(v)
        return lax.fori_loop(0, m, step, (V0, jnp.zeros(m), jnp.zeros(m)))[1:]

    return jax.jit(run)


def _timed(calls, repeats):
    """({'<name>_s', '<name>_cpu_s'}: medians of wall and CPU seconds, {name: last output}):
    a warm-up, then `repeats` rounds in which every call runs once, in turn."""
    out = {name: call() for name, call in calls.items()}
    wall = {name: [] for name in calls}
    cpu = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            w, c = time.perf_counter(), time.process_time()
            out[name] = call()
            wall[name].append(time.perf_counter() - w)
            cpu[name].append(time.process_time() - c)
    times = {"jax_s": None, "jax_cpu_s": None}
    for name in calls:
        times[f"{name}_s"] = float(np.median(wall[name]))
        times[f"{name}_cpu_s"] = float(np.median(cpu[name]))
    return times, out


if __name__ == "__main__":  # the bench's flags and contract (bad input: one line, exit 2)
    from experiments.bench.cli import bench_cli

    bench_cli(lambda opts: print_table(bench_spectra(repeats=opts.repeats)), only="spectra",
              description=__doc__)
