"""The index–loss summary on built data, one test per branch: trivial copies out, ρ and the slope
per decade as the headline, the power law only when identified (else the reason)."""
import numpy as np
import pytest
import scipy.stats
from numpy.testing import assert_allclose

import engine.critical.index_loss as index_loss
from engine.critical.index_loss import index_loss_fit

LOG_LINEAR = np.geomspace(1e-4, 1e-2, 12)  # 12 saddles, α = 0.1 + 0.05·log₁₀(ε/1e-4)


def _log_linear():
    return LOG_LINEAR, 0.1 + 0.05 * np.log10(LOG_LINEAR / 1e-4)


def test_constant_fit_copies_are_removed_before_every_statistic():
    """Four copies of the constant fit (indices 0.03…0.12 at one loss, as in the weight-decay
    run) would break the monotone relation; removed, ρ = 1 and the slope is exact."""
    loss, index = _log_linear()
    fit = index_loss_fit(np.r_[loss, [0.0432] * 4], np.r_[index, [0.03, 0.06, 0.1, 0.12]],
                         rng=np.random.default_rng(0), n_boot=100, trivial_loss=0.0432)
    assert fit["n_trivial"] == 4 and fit["n_points"] == 12 and fit["n_saddles"] == 12
    assert fit["spearman"]["rho"] == 1.0
    kept = index_loss_fit(np.r_[loss, [0.0432] * 4], np.r_[index, [0.03, 0.06, 0.1, 0.12]],
                          rng=np.random.default_rng(0), n_boot=100)
    assert kept["n_trivial"] == 0 and kept["spearman"]["rho"] < 0.9


def test_slope_per_decade_is_the_least_squares_slope_against_log_loss():
    loss = np.geomspace(1e-5, 1e-2, 25)
    index = 0.05 * np.log10(loss / 1e-6) + np.random.default_rng(1).normal(0, 0.005, 25)
    fit = index_loss_fit(loss, index, rng=np.random.default_rng(0), n_boot=300)
    slope = fit["slope"]
    assert_allclose(slope["per_decade"], np.polyfit(np.log10(loss), index, 1)[0], rtol=1e-12)
    assert slope["low"] <= 0.05 <= slope["high"] and slope["high"] - slope["low"] < 0.01
    assert_allclose(fit["spearman"]["rho"], scipy.stats.spearmanr(loss, index)[0], rtol=1e-12)


def test_known_exponent_is_identified_with_intervals_and_the_parameter_ratio():
    """α = 0.2·((ε − 0.01)/0.01)^{3/2}, 30 saddles and 10 minima, noise-free."""
    loss = np.concatenate([np.geomspace(1e-4, 9e-3, 10), np.linspace(0.012, 0.05, 30)])
    index = 0.2 * np.maximum(0.0, (loss - 0.01) / 0.01) ** 1.5
    fit = index_loss_fit(loss, index, rng=np.random.default_rng(0), n_boot=100)
    status, power = fit["power_status"], fit["power"]
    assert status["identified"] and status["reason"] == "" and status["bound_share"] == 0.0
    assert not any(status["at_bound"].values())
    assert status["parameters_per_point"] == 3 / 40 and status["n_distinct"] == 30
    assert_allclose([power["alpha0"], power["loss_c"], power["exponent"]], [0.2, 0.01, 1.5],
                    rtol=1e-5)
    assert power["contains"] and power["loss_c_interval"][0] <= 0.01 <= power[
        "loss_c_interval"][1]


def test_critical_loss_on_its_bound_is_not_reported():
    """ε_c within 0.1 % of the lowest saddle loss (its upper bound): the data cannot tell it
    from the bound, so no power law, and the reason names the parameter."""
    loss = np.linspace(0.012, 0.05, 20)
    index = 0.2 * ((loss - 0.011999) / 0.011999) ** 1.5
    fit = index_loss_fit(loss, index, rng=np.random.default_rng(0), n_boot=50)
    status = fit["power_status"]
    assert fit["power"] is None and not status["identified"]
    assert status["at_bound"]["loss_c"] and "loss_c on its bound" in status["reason"]
    assert fit["spearman"]["rho"] == 1.0 and fit["slope"]["per_decade"] > 0  # headline stays


def test_refits_on_a_bound_make_the_fit_unidentified(monkeypatch):
    """The fit itself interior, but 1 refit in 10 on a bound: more than 5 %, not identified."""
    loss, index = _log_linear()
    calls = iter(range(10**6))

    def fake(loss, index):
        return (0.2, 1e-5, 1.5), (False, next(calls) % 10 == 1, False)

    monkeypatch.setattr(index_loss, "_power_fit", fake)
    fit = index_loss_fit(loss, index, rng=np.random.default_rng(0), n_boot=100)
    status = fit["power_status"]
    assert fit["power"] is None and status["bound_share"] == pytest.approx(0.1, abs=0.011)
    assert "of the bootstrap refits" in status["reason"]


def test_fewer_than_four_distinct_saddle_losses_cannot_be_fitted():
    loss = np.array([1e-5, 2e-5, 3e-5, 1e-3, 1e-3, 2e-3, 4e-3])
    fit = index_loss_fit(loss, np.array([0, 0, 0, 0.05, 0.06, 0.08, 0.1]),
                         rng=np.random.default_rng(0), n_boot=50)
    assert fit["spearman"] is not None and fit["slope"] is not None and fit["power"] is None
    assert fit["power_status"]["n_distinct"] == 3 and "3 distinct" in fit["power_status"][
        "reason"]


def test_too_few_saddles_give_no_headline_and_say_why():
    fit = index_loss_fit([1e-5, 2e-5, 3e-5, 4e-2, 5e-2], [0, 0, 0, 0.1, 0.2],
                         rng=np.random.default_rng(0))
    assert fit["spearman"] is None and fit["slope"] is None and fit["power"] is None
    assert "fewer than three" in fit["power_status"]["reason"]
