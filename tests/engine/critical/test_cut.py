"""engine.critical.cut and the known-answer benchmark: the certified cut counts the theory's
n₋/n₀/n₊ at a badly scaled point of a deep linear autoencoder's orbit, where the relative cut
does not; the benchmark command scores finders against the closed form."""
import numpy as np
import pytest

from engine.critical.classification import classify
from engine.critical.cut import certified_tau, sign_cut
from engine.critical.linear_autoencoder import analytic_point
from experiments.bench import dlae


@pytest.fixture(scope="module")
def problem():
    return dlae.problem()


def _badly_scaled(problem, subset, scale):
    model, basis, _, classes = problem
    r = len(subset)
    gamma = np.diag(scale ** np.linspace(-1, 1, r))  # cond Γ = scale²
    return model, analytic_point(basis, subset, model.width, gamma), classes[subset]


@pytest.mark.parametrize("scale", [1.0, 30.0, 300.0])
def test_certified_cut_counts_the_theory_anywhere_on_the_orbit(problem, scale):
    model, theta, c = _badly_scaled(problem, (0, 5, 9, 14), scale)
    g, H = model.gradient(theta), model.hessian(theta)
    point = classify(theta, g, H, **sign_cut("certified", theta, g, H, model.hessian))
    spec = point.spectrum
    assert point.label == "critical"
    assert (spec.n_neg, spec.n_zero, spec.n_pos) == (c.n_neg, c.n_zero, c.n_pos)


def test_relative_cut_miscounts_a_badly_scaled_orbit_point(problem):
    # the fault the certified cut fixes: τ = 1e-6·‖H‖₂ swallows real eigenvalues
    model, theta, c = _badly_scaled(problem, (0, 5, 9, 14), 300.0)
    g, H = model.gradient(theta), model.hessian(theta)
    spec = classify(theta, g, H, rtol=1e-6).spectrum
    assert (spec.n_neg, spec.n_zero, spec.n_pos) != (c.n_neg, c.n_zero, c.n_pos)


def test_certified_tau_never_exceeds_the_relative_cut(problem, rng):
    model = problem[0]
    theta = model.init(rng)
    H = model.hessian(theta)
    norm = np.max(np.abs(np.linalg.eigvalsh(H)))
    assert 0 < certified_tau(theta, model.gradient(theta), H, model.hessian) <= 1e-6 * norm


def test_unknown_cut_is_refused(problem, rng):
    model = problem[0]
    theta = model.init(rng)
    with pytest.raises(ValueError, match="cut='loose' is unknown"):
        sign_cut("loose", theta, model.gradient(theta), model.hessian(theta), model.hessian)


def test_benchmark_scores_newton_mr_against_the_closed_form():
    table = dlae.bench(per_kind=2, finders=("newton",))
    row = table["newton"]
    assert row["n"] == 6 and sum(row[k] for k in ("correct", "wrong counts", "false", "flat",
                                                  "not conv.")) == 6
    assert row["false"] == 0 and row["wrong counts"] == 0 and row["correct"] >= 5
    assert "| newton |" in dlae.render(table)
