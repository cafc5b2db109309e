"""Each claim rule on data built to hit each of its branches."""
import numpy as np
import pytest

from experiments.report.claims import (
    MIN_POINTS,
    NOT_SHOWN,
    better,
    no_relation,
    spearman_interval,
    steeper,
    trend,
)

X = np.arange(12.0)
NOISE = np.random.default_rng(0).standard_normal(12)


def test_spearman_interval_of_a_perfect_order_is_one_point():
    assert spearman_interval(X, 2 * X + 1) == (1.0, 1.0, 1.0)


def test_spearman_interval_contains_rho_and_is_reproducible():
    y = X + 3 * NOISE
    rho, low, high = spearman_interval(X, y)
    assert low <= rho <= high
    assert spearman_interval(X, y) == (rho, low, high)


@pytest.mark.parametrize("y, direction", [(X ** 2, "rises"), (-np.exp(X), "falls")])
def test_trend_holds_when_the_interval_excludes_zero(y, direction):
    claim = trend(X, y, "the loss", "the batch size")
    assert claim.holds and claim.stats["direction"] == direction
    assert claim.text.startswith(f"the loss {direction} with the batch size")


def test_trend_does_not_claim_noise():
    claim = trend(X, NOISE, "the loss", "the batch size")
    assert not claim.holds and claim.stats["low"] < 0 < claim.stats["high"]
    assert claim.text.startswith(NOT_SHOWN) and "includes 0" in claim.text


def test_trend_needs_enough_points_even_for_a_perfect_order():
    claim = trend(X[:MIN_POINTS - 1], X[:MIN_POINTS - 1], "a", "b")
    assert not claim.holds and "too few" in claim.text
    assert trend(X[:MIN_POINTS], X[:MIN_POINTS], "a", "b").holds


def test_trend_drops_non_finite_pairs_and_refuses_unpaired_data():
    y = X.copy()
    y[3] = np.nan
    assert trend(X, y, "a", "b").stats["n"] == len(X) - 1
    with pytest.raises(ValueError, match="pair up"):
        trend(X, X[:-1], "a", "b")


def test_no_relation_holds_only_inside_the_margin():
    x = np.tile(np.arange(10.0), 20)                   # 200 points, y independent of x
    y = np.random.default_rng(1).standard_normal(200)
    claim = no_relation(x, y, "the ratio", "the loss")
    assert claim.holds and "no relation" in claim.text
    few = no_relation(X, NOISE, "the ratio", "the loss")  # contains 0 but too wide to rule out
    assert not few.holds and few.text.startswith(NOT_SHOWN)
    strong = no_relation(X, X, "the ratio", "the loss")
    assert not strong.holds


ALPHA = np.round(np.linspace(-1, 2, 13), 9)  # steps of 0.25: d = 0.25, 0.5, 0.75, 1


def test_steeper_when_one_end_rises_more_at_every_distance():
    loss = np.where(ALPHA < 0, 4 * ALPHA ** 2, np.where(ALPHA > 1, (ALPHA - 1) ** 2, 0.0))
    claim = steeper(ALPHA, loss, "batch 64", "batch 1024")
    assert claim.holds and claim.stats["steeper"] == "batch 64"
    assert claim.text.startswith("the batch 64 end is steeper")
    mirrored = steeper(ALPHA, loss[::-1].copy(), "batch 64", "batch 1024")
    assert mirrored.holds and mirrored.stats["steeper"] == "batch 1024"


def test_steeper_refuses_a_comparison_that_flips_along_the_range():
    # the a side rises more at d = 0.25 only; beyond, the b side: the finding of issue 22
    d = np.abs(np.minimum(ALPHA, 0)) + np.maximum(ALPHA - 1, 0)
    loss = np.where(ALPHA < 0, 2 * d, np.where(ALPHA > 1, 4 * d ** 2, 0.0))
    claim = steeper(ALPHA, loss, "batch 64", "batch 1024")
    assert not claim.holds and claim.stats["steeper"] is None
    assert claim.text.startswith(NOT_SHOWN) and "batch 64 end rises more at 0.25" in claim.text


def test_steeper_needs_points_beyond_both_ends():
    alpha = np.linspace(0, 1, 5)
    assert not steeper(alpha, alpha, "a", "b").holds


@pytest.mark.parametrize("higher, winner", [(True, "A"), (False, "B")])
def test_better_when_the_difference_exceeds_the_seed_spread(higher, winner):
    claim = better([0.9, 0.91, 0.92], [0.5, 0.52, 0.51], "A", "B", "accuracy", higher)
    assert claim.holds and claim.stats["better"] == winner
    assert claim.text.startswith(f"{winner} has the better accuracy")


def test_better_refuses_a_difference_within_the_spread():
    claim = better([0.90, 0.97, 0.93], [0.91, 0.95, 0.94], "A", "B", "accuracy", True)
    assert not claim.holds and claim.text.startswith(NOT_SHOWN)


def test_better_needs_two_seeds_each():
    claim = better([0.9], [0.1, 0.11], "A", "B", "accuracy", True)
    assert not claim.holds and "one seed" in claim.text


@pytest.mark.parametrize("n", [0, 1])
def test_trend_on_fewer_than_two_points_says_too_few(n):
    x = np.arange(n, dtype=float)
    claim = trend(x, x, "y", "x")
    assert not claim.holds and "too few" in claim.text and claim.stats["n"] == n


def test_steeper_names_many_distances_by_count_and_range():
    alpha = np.round(np.linspace(-1, 2, 61), 9)
    loss = np.where(alpha < 0, -alpha, np.where(alpha > 1, alpha - 1, 0.0))
    loss = loss + np.where(alpha < -0.5, 1.0, 0.0) * (-alpha)  # a steeper beyond −0.5 only
    claim = steeper(alpha, loss, "a", "b")
    assert not claim.holds and "distances in" in claim.text
    assert len(claim.stats["distances"]) == 20


def test_steeper_quotes_the_farthest_distance_as_the_farthest():
    # a rises 0.1·d beyond α = 0, b 0.2·d beyond α = 1 at d = 0.25 … 1: at the farthest, d = 1
    d = np.abs(np.minimum(ALPHA, 0)) + np.maximum(ALPHA - 1, 0)
    loss = np.where(ALPHA < 0, 0.1 * d, np.where(ALPHA > 1, 0.2 * d, 0.0))
    claim = steeper(ALPHA, loss, "a", "b")
    assert claim.holds and claim.stats["steeper"] == "b"
    assert "at the farthest the loss rises 0.2 against 0.1" in claim.text  # d = 1, not 0.25
    assert claim.stats["distances"] == sorted(claim.stats["distances"])


def test_steeper_compares_only_where_the_loss_rises_beyond_both_ends():
    # the line's minima lie 0.25 beyond each end: at d = 0.25 both ends fall (a "rises" less
    # there, by a more negative amount), at 0.5 neither rises; beyond, b rises more everywhere
    d = np.abs(np.minimum(ALPHA, 0)) + np.maximum(ALPHA - 1, 0)
    loss = np.where(ALPHA < 0, (d - 0.25) ** 2 - 0.0625,
                    np.where(ALPHA > 1, 3 * ((d - 0.25) ** 2 - 0.0625), 0.0))
    loss = np.where(d == 0.25, np.where(ALPHA < 0, -0.01, -0.02), loss)
    claim = steeper(ALPHA, loss, "batch 64", "batch 1024")
    assert claim.holds and claim.stats["steeper"] == "batch 1024"
    assert claim.stats["compared"] == [0.75, 1.0]
    assert "at 0.25, 0.5 the loss does not rise beyond an end" in claim.text


def test_steeper_names_the_end_that_wins_from_some_distance_on():
    d = np.abs(np.minimum(ALPHA, 0)) + np.maximum(ALPHA - 1, 0)
    # a rises more at 0.25, the two tie at 0.5 (1 each), b rises more from 0.75 on
    loss = np.where(ALPHA < 0, 2 * d, np.where(ALPHA > 1, 4 * d ** 2, 0.0))
    claim = steeper(ALPHA, loss, "batch 64", "batch 1024")
    assert not claim.holds and claim.stats["tail"] == {"end": "batch 1024", "from": 0.75}
    assert "the batch 1024 end at 0.75, 1 " in claim.text  # the tie is neither's


def test_better_quotes_the_medians_in_the_order_it_names_the_two():
    claim = better([5.0, 5.1, 5.2], [1.0, 1.1, 1.2], "deep", "shallow", "loss", False)
    assert claim.stats["better"] == "shallow"
    assert "shallow has the better loss than deep (medians 1.1 and 5.1" in claim.text


def test_trend_of_a_constant_says_it_is_constant():
    claim = trend(X, np.ones_like(X), "the resolved ratio", "the loss")
    assert not claim.holds and claim.text == (
        f"{NOT_SHOWN}: the resolved ratio is 1 at all 12 points")


def test_resolve_reads_a_curve_after_k_steps(tmp_path):
    from experiments.report.facts import resolve
    folder = tmp_path / "exp"
    folder.mkdir()
    curves = np.arange(24.0).reshape(2, 3, 4)  # (depths, seeds, checks)
    np.savez(folder / "summary.npz", curves=curves)
    assert np.array_equal(resolve(tmp_path, "exp", ("arrays", "curves", 1, "at:2")),
                          curves[1, :, 2])
    assert np.array_equal(resolve(tmp_path, "exp", ("arrays", "curves", 0, "end")),
                          curves[0, :, -1])
