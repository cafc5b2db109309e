"""experiments.bench.scale._dense_index: the index beyond Lanczos's reach, from H formed by
products and the LDLᵀ inertia — checked against eigvalsh on a matrix with a known spectrum."""
import numpy as np

from experiments.bench.scale import _dense_index


def test_dense_index_counts_the_spectrum_it_was_built_from(rng):
    n = 41
    Q, _ = np.linalg.qr(rng.normal(size=(n, n)))
    values = np.concatenate([-np.geomspace(1e-2, 3.0, 9), np.zeros(2), np.geomspace(1e-2, 5.0, 30)])
    H = (Q * values) @ Q.T
    calls = []

    def hvp(V):  # rows V H, as the bench's HVP of a stack of directions gives them
        calls.append(len(V))
        return V @ H

    index = _dense_index(hvp, n, np.inf)
    assert (index["n_neg"], index["n_zero"], index["n_pos"]) == (9, 2, 30)
    assert index["exact"] and index["asymmetry"] < 1e-14
    assert sum(calls) == n and max(calls) == 2  # n products, two columns a pass
    assert np.isclose(index["norm"], 5.0)
