"""The trace bench's oracle column: Hutchinson's exact RMS over the best exact-eigenvector
Hutch++'s, computed by cumulative sums, equals the same ratio from each deflated matrix formed
outright; a matrix the oracle spans exactly gives ∞."""
import numpy as np
import pytest

from experiments.bench.trace import oracle_ratio


def _rademacher_variance(A):
    return 2.0 * (np.sum(A**2) - np.sum(np.diag(A) ** 2))


def test_oracle_ratio_equals_the_deflated_matrices_formed_outright():
    rng = np.random.default_rng(0)
    n, m = 12, 9
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = np.concatenate([[9.0, -4.0], rng.normal(0.0, 0.3, n - 2)])
    H = (Q * lam) @ Q.T
    order = np.argsort(-np.abs(lam))
    deflated = [H - (Q[:, order[:k]] * lam[order[:k]]) @ Q[:, order[:k]].T for k in range(m - 1)]
    best = min(np.sqrt(_rademacher_variance(A) / (m - k)) for k, A in enumerate(deflated))
    assert oracle_ratio(H)(m) == pytest.approx(np.sqrt(_rademacher_variance(H) / m) / best,
                                               rel=1e-10)
    assert oracle_ratio(H)(m) > 1.0


def test_oracle_ratio_is_infinite_where_k_eigenvectors_span_everything():
    assert oracle_ratio(np.diag([3.0, -1.0, 2.0]) + 0.1)(6) == np.inf


def test_oracle_ratio_refuses_one_product_and_is_nan_where_hutchinson_is_exact():
    with pytest.raises(ValueError, match="m=1"):
        oracle_ratio(np.eye(3))(1)
    assert np.isnan(oracle_ratio(np.diag([3.0, -1.0, 2.0]))(3))  # diagonal: Hutchinson exact


def test_oracle_ratio_keeps_two_probes_so_rank_m_minus_1_is_not_exact():
    # k runs to m − 2: H of rank m − 1 keeps one eigenvalue in the Hutchinson part (a modest
    # ratio); rank m − 2 is spanned by the k = m − 2 eigenvectors (only rounding is left)
    rng = np.random.default_rng(1)
    Q, _ = np.linalg.qr(rng.standard_normal((10, 10)))
    m = 5
    ratios = [oracle_ratio((Q[:, :r] * np.arange(1.0, r + 1)) @ Q[:, :r].T)(m)
              for r in (m - 1, m - 2)]
    assert ratios[0] < 1e3 and ratios[1] > 1e10
