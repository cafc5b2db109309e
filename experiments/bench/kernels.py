"""The matrix-product kernel beneath the HVP ratios: NumPy's matmul (OpenBLAS) against XLA's dot,
on the shapes the R-operator spends its time in (`python -m experiments.bench --only kernels`).

Why this table: on the digits net ~95 % of an R-operator product is matrix products, and on
1-40-40-1 about 70 % (line profiles of engine.nets.passes.mlp_hvp_at), so a product's speed
against jax's is first the speed of one library's GEMM against the other's. For each network of
experiments.bench.hvp, the shapes (N, d_l + 1) × (d_l + 1, d_{l+1}) of h̃_l Ṽ_l for its layers
with more than one unit in and out (the product's wide GEMMs; the bias row inside,
engine.nets.passes; the sinc nets' first and last layers are thin and cheap), the same work
on both sides: acc ← acc + A·(s_i B) for i = 1 … 20, s_i = 1 + i·10⁻⁹ (so that no product can be
hoisted out of the loop) — NumPy with one BLAS thread and preallocated arrays, jax as one
jax.jit of a lax.fori_loop (its dispatch paid once per 20 products). Both on one CPU
(experiments.bench.hvp.one_core), blocks of ≥ 20 ms taking turns, medians of `repeats` blocks
(experiments.bench.hvp._median_ms). GF/s counts the 2·m·k·n flops of each product.
"""
from __future__ import annotations

import numpy as np

from experiments.bench.hvp import _median_ms, _problems, beside_jax

_LOOP = 20  # products per timed call, both sides


def bench_kernels(repeats: int = 5, seed: int = 0) -> dict:
    """{'jax': version or None, 'rows': one dict per (network, shape) with {network, m, k, n,
    numpy_us, numpy_gemm_us, jax_us (None without jax) and their _gflops}}: µs per product (a
    GEMM and the accumulation; numpy_gemm: the GEMM alone), medians of `repeats` blocks after a
    warm-up."""
    rows = []
    with beside_jax(repeats) as jax:
        for net, _theta, x, _y in _problems(seed):
            for layer in range(net.layout.n_layers):
                d_in, d_out = net.layout.shape_of(layer)
                if min(d_in, d_out) > 1:
                    shape = (len(x), d_in + net.layout.has_bias[layer], d_out)
                    calls = _loops(jax, shape, seed)
                    rows.append({"network": "-".join(map(str, net.sizes)),
                                 **dict(zip("mkn", shape, strict=True)),
                                 **_per_product(_median_ms(calls, repeats), shape)})
    return {"jax": None if jax is None else jax.__version__, "rows": rows}


def _loops(jax, shape, seed):
    """{'numpy': call, 'numpy_gemm': call, 'jax': call (with jax)}: numpy and jax compute
    Σ_i A·(s_i B) over _LOOP products for random A (m, k), B (k, n) and return it (m, n);
    numpy_gemm runs the same products without summing them (returns the last)."""
    m, k, n = shape
    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    acc, scaled, product = np.zeros((m, n)), np.empty((k, n)), np.empty((m, n))
    scales = 1.0 + 1e-9 * np.arange(1, _LOOP + 1)

    def numpy_loop():
        acc.fill(0.0)
        for s in scales:
            np.multiply(B, s, out=scaled)
            np.matmul(A, scaled, out=product)
            acc.__iadd__(product)
        return acc

    def numpy_products():  # the same products without the accumulation: the kernel alone
        for s in scales:
            np.multiply(B, s, out=scaled)
            np.matmul(A, scaled, out=product)
        return product

    calls = {"numpy": numpy_loop, "numpy_gemm": numpy_products}
    if jax is not None:
        jnp, lax = jax.numpy, jax.lax

        def loop(A, B):
            def body(i, total):
                return total + A @ (B * (1.0 + 1e-9 * (i + 1)))
            return lax.fori_loop(0, _LOOP, body, jnp.zeros((A.shape[0], B.shape[1])))

        compiled, A_j, B_j = jax.jit(loop), jnp.asarray(A), jnp.asarray(B)
        calls["jax"] = lambda: compiled(A_j, B_j).block_until_ready()
    return calls


def _per_product(times, shape):
    """µs and GF/s per product of each route from _median_ms's ms per call of _LOOP products."""
    flops = 2.0 * np.prod(shape, dtype=np.float64)
    out = {}
    for route in ("numpy", "numpy_gemm", "jax"):
        us = None if f"{route}_ms" not in times else 1e3 * times[f"{route}_ms"] / _LOOP
        out[f"{route}_us"] = us
        out[f"{route}_gflops"] = None if us is None else flops / us / 1e3
    return out


def print_table(result: dict) -> None:
    """The rows as a Markdown table: µs and GF/s per product, and NumPy ÷ XLA (with the
    accumulation on both sides; XLA fuses it into the product, NumPy takes a pass of its own)."""
    jax_note = f"jax {result['jax']}" if result["jax"] else "jax is not installed: no XLA column"
    print("\nThe R-operator's widest GEMMs, one product plus its accumulation, float64, one CPU, "
          f"medians; {jax_note}\n")
    print("| network | m × k × n | NumPy matmul alone (OpenBLAS) µs, GF/s | NumPy matmul + sum "
          "µs | XLA dot + sum µs, GF/s | NumPy ÷ XLA, alone / + sum |")
    print("|---|---|---|---|---|---|")
    for r in result["rows"]:
        xla = ("–" if r["jax_us"] is None
               else f"{r['jax_us']:.1f}, {r['jax_gflops']:.1f}")
        ratio = ("–" if r["jax_us"] is None else f"{r['numpy_gemm_us'] / r['jax_us']:.2f}× / "
                 f"{r['numpy_us'] / r['jax_us']:.2f}×")
        print(f"| {r['network']} | {r['m']} × {r['k']} × {r['n']} | "
              f"{r['numpy_gemm_us']:.1f}, {r['numpy_gemm_gflops']:.1f} | {r['numpy_us']:.1f} | "
              f"{xla} | {ratio} |")


if __name__ == "__main__":  # the bench's flags and contract (bad input: one line, exit 2)
    from experiments.bench.cli import bench_cli

    bench_cli(lambda opts: print_table(bench_kernels(repeats=opts.repeats)), only="kernels",
              description=__doc__)
