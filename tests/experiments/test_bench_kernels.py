"""experiments.bench.kernels: both routes compute the same sum of products, and the table's
shapes are the R-operator's wide layers (the speed itself is only measured by `make bench`)."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from experiments.bench.kernels import _LOOP, _loops, _per_product, bench_kernels


def _expected(shape, seed):
    m, k, n = shape
    rng = np.random.default_rng(seed)
    A, B = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    return A, B, np.sum(1.0 + 1e-9 * np.arange(1, _LOOP + 1)) * (A @ B)


def test_numpy_loops_sum_the_scaled_products_and_start_afresh():
    A, B, expected = _expected((7, 5, 3), 0)
    calls = _loops(None, (7, 5, 3), 0)
    assert set(calls) == {"numpy", "numpy_gemm"}  # without jax: no XLA column
    first = calls["numpy"]().copy()
    assert_allclose(first, expected, rtol=1e-13)
    assert_allclose(calls["numpy"](), first, rtol=0, atol=0)  # a second call is not added on
    assert_allclose(calls["numpy_gemm"](), (1.0 + 1e-9 * _LOOP) * (A @ B), rtol=1e-13)


def test_xla_loop_computes_the_same_sum():
    pytest.importorskip("jax")
    from experiments.bench.hvp import _import_jax
    calls = _loops(_import_jax(), (9, 4, 6), 1)
    assert_allclose(np.asarray(calls["jax"]()), calls["numpy"](), rtol=1e-13)


def test_per_product_counts_the_loop_and_the_flops():
    row = _per_product({"numpy_ms": 2.0, "numpy_gemm_ms": 1.0}, (1000, 41, 40))
    assert row["numpy_us"] == pytest.approx(2000.0 / _LOOP)
    assert row["numpy_gemm_gflops"] == pytest.approx(2 * 1000 * 41 * 40 / (1000.0 / _LOOP) / 1e3)
    assert row["jax_us"] is None and row["jax_gflops"] is None


def test_rows_are_the_wide_layers_of_each_bench_net(monkeypatch):
    import experiments.bench.kernels as kernels
    monkeypatch.setattr(kernels, "_median_ms", lambda calls, repeats: {
        f"{name}_ms": 1.0 for name in calls})
    rows = bench_kernels(repeats=1)["rows"]
    shapes = [(r["network"], r["m"], r["k"], r["n"]) for r in rows]
    # the sinc nets' hidden → hidden layer (bias row inside); every digits layer is wide
    assert ("1-40-40-1", 1000, 41, 40) in shapes and ("1-10-10-1", 1000, 11, 10) in shapes
    assert [s for s in shapes if s[0] == "64-128-64-10"] == [
        ("64-128-64-10", 1438, 65, 128), ("64-128-64-10", 1438, 129, 64),
        ("64-128-64-10", 1438, 65, 10)]
    with pytest.raises(ValueError, match="repeats"):
        bench_kernels(repeats=0)
