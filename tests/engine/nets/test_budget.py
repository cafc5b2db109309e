"""engine.nets.budget: widths for an equal parameter budget, counted by engine.nets.layout."""
import pytest

from engine import MLP
from engine.nets.budget import equal_budget_sizes, n_params_of, sizes_for_budget, width_for_budget


@pytest.mark.parametrize("d_in, d_out, budget", [
    (1, 1, 300), (1, 1, 5_000), (1, 1, 60_000), (64, 10, 5_000), (64, 10, 60_000),
    (784, 10, 60_000), (3072, 10, 400_000)])
@pytest.mark.parametrize("depth", [1, 2, 4, 6])
def test_counts_within_two_percent(budget, d_in, d_out, depth):
    sizes = sizes_for_budget(budget, d_in, d_out, depth)
    assert len(sizes) == depth + 2 and sizes[0] == d_in and sizes[-1] == d_out
    assert abs(MLP(sizes).n_params - budget) <= 0.02 * budget
    assert max(sizes[1:-1]) - min(sizes[1:-1]) <= 2


@pytest.mark.parametrize("budget, d_in, d_out, depth", [(560, 64, 10, 1), (600, 784, 10, 2)])
def test_unreachable_budgets_are_refused(budget, d_in, d_out, depth):
    # a unit of 64 → h → 10 costs 75 parameters: h = 7, 8 give 535, 610, both > 2 % off 560;
    # 784 inputs need 785 parameters per first-layer unit, more than the whole budget
    with pytest.raises(ValueError, match="within 2%; the closest has"):
        sizes_for_budget(budget, d_in, d_out, depth)


def test_real_width_solves_the_count():
    # for equal widths h the count is (d_in + 1)h + (D − 1)(h + 1)h + (h + 1)d_out
    for depth in (1, 2, 5):
        h = width_for_budget(10_000, 64, 10, depth)
        count = 65 * h + (depth - 1) * (h + 1) * h + (h + 1) * 10
        assert count == pytest.approx(10_000, rel=1e-12)
    assert n_params_of((64, 7, 7, 10)) == 65 * 7 + 8 * 7 + 8 * 10


def test_exact_budget_is_met_exactly_when_reachable():
    # 1-h-1 has 3h + 1 parameters: 301 is h = 100 exactly
    assert sizes_for_budget(301, 1, 1, 1, rtol=0.0) == (1, 100, 1)


def test_uniform_widths_preferred():
    # 4 equal layers of 40 on 1 → 1 give 5041, within 2 % of 5000: no uneven vector is taken
    assert sizes_for_budget(5000, 1, 1, 4) == (1, 40, 40, 40, 40, 1)


def test_equal_budget_sizes_for_several_depths():
    sizes = equal_budget_sizes(2000, 1, 1, (1, 2, 4))
    assert sorted(sizes) == [1, 2, 4]
    counts = [n_params_of(s) for s in sizes.values()]
    assert max(counts) - min(counts) <= 0.04 * 2000


@pytest.mark.parametrize("kwargs, message", [
    ({"budget": 5, "d_in": 1, "d_out": 10, "depth": 1}, "output biases"),
    ({"budget": 100, "d_in": 1, "d_out": 1, "depth": 0}, "depth=0"),
    ({"budget": 100, "d_in": 1, "d_out": 1, "depth": 9}, "at most 8"),
    ({"budget": 100, "d_in": 1, "d_out": 1, "depth": 2, "rtol": 1.5}, "rtol"),
])
def test_bad_requests_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        sizes_for_budget(**kwargs)
