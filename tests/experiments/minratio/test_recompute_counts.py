"""experiments.minratio.recompute.stored_checks compares the stored minimal ratio n₊/n as a count:
s·n in floating point is 24.999999999999996 for s = 25/97, and `make check-minratio` called a
correct run 21 of the default results inconsistent ("disagrees by 0 eigenvalues")."""
from types import SimpleNamespace

import numpy as np
import pytest

from experiments.minratio.recompute import stored_checks

N = 97


def _check(ratio, n_pos=25):
    point = SimpleNamespace(tau=1e-8, n_pos=lambda tau=None: n_pos, grad_sq=0.0)
    band = SimpleNamespace(delta=1e-9)
    arrays = {"theta": np.zeros((1, N)), "minimal_ratio": np.array([ratio])}
    (name, _, misses, _, _, shown), = stored_checks([point], [band], arrays, {})
    assert name == "n₊/n vs minimal_ratio"
    return misses[0], shown[0]


@pytest.mark.parametrize("k", [7, 14, 25, 28, 31, 50, 53, 56])  # k/97·97 ≠ k in floating point
def test_a_stored_count_over_n_agrees_with_its_count(k):
    assert k / N * N != k
    miss, shown = _check(k / N, n_pos=k)
    assert not miss and shown < 1e-9


def test_another_count_or_a_non_count_is_a_miss():
    assert _check(24 / N)[0]                # one eigenvalue off
    assert _check(25.5 / N)[0]              # no count of eigenvalues at all


def test_nan_agrees_only_with_no_spectrum():
    point = SimpleNamespace(tau=np.nan, n_pos=lambda tau=None: 0, grad_sq=0.0)
    arrays = {"theta": np.zeros((1, N)), "minimal_ratio": np.array([np.nan])}
    (_, _, misses, _, _, _), = stored_checks([point], [SimpleNamespace(delta=0.0)], arrays, {})
    assert misses == [False]
