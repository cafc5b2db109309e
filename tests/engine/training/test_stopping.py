"""engine.training.stopping: the one stop rule (a loss target or a plateau of the windowed
median) on loss curves built to hit each branch, its refusals, and train()'s stop and
weight_decay hooks."""
import numpy as np
import pytest
from numpy.testing import assert_array_equal

from engine import MLP
from engine.data.datasets import function_dataset
from engine.training.loop import fit_lbfgs, train
from engine.training.optim import adam
from engine.training.stopping import STOPPED_BY, StopRule, count_stops, stop_reason


def test_target_is_met_at_or_below_it():
    rule = StopRule(window=3, rel_tol=0.01, target=1e-3)
    assert stop_reason([1.0, 0.1, 1e-3], rule) == "target"       # equal counts
    assert stop_reason([1.0, 0.1, 2e-3], rule) is None           # above it, too few for plateau
    assert stop_reason([1.0, 5e-4], StopRule(3, 0.01)) is None   # no target: never 'target'


def test_falling_loss_keeps_training():
    # geometric fall by 10 % per check: each window's median is 27 % below the one before
    losses = 0.9 ** np.arange(30)
    assert stop_reason(losses, StopRule(window=3, rel_tol=0.01)) is None


def test_flat_loss_is_a_plateau_after_two_windows():
    rule = StopRule(window=4, rel_tol=0.01)
    falling = [0.4, 0.3, 0.2, 0.1]                          # median 0.25
    assert stop_reason(falling + [0.1] * 4, rule) is None   # median 0.1 now: 60 % lower
    assert stop_reason(falling + [0.1] * 8, rule) == "plateau"  # both windows' medians 0.1
    assert stop_reason([1.0] * 7, rule) is None             # < 2 windows: not yet decided


def test_slow_fall_below_the_tolerance_is_a_plateau():
    # 0.5 % per window of 5 checks: below rel_tol 1 %, above rel_tol 0.1 %
    losses = 1.0 - 0.001 * np.arange(10)
    assert stop_reason(losses, StopRule(window=5, rel_tol=0.01)) == "plateau"
    assert stop_reason(losses, StopRule(window=5, rel_tol=0.001)) is None


def test_a_rising_median_is_a_plateau():
    losses = [1.0, 0.9, 0.8, 0.85, 0.95, 1.1]
    assert stop_reason(losses, StopRule(window=3, rel_tol=0.01)) == "plateau"


def test_one_spike_does_not_stop_a_falling_loss():
    # Adam's minibatch spike: one check 100× higher; the medians ignore it, the mean would not
    losses = list(0.8 ** np.arange(10))
    losses[-2] = 100.0
    rule = StopRule(window=5, rel_tol=0.01)
    assert stop_reason(losses, rule) is None
    mean_before, mean_now = np.mean(losses[-10:-5]), np.mean(losses[-5:])
    assert mean_before - mean_now < 0.01 * mean_before       # a mean rule would have stopped


def test_non_finite_last_loss_is_not_a_stop():
    assert stop_reason([1.0] * 10 + [np.nan], StopRule(window=3, rel_tol=0.01)) is None
    assert stop_reason([], StopRule(window=3, rel_tol=0.01)) is None


@pytest.mark.parametrize("kwargs, name", [({"window": 0}, "window"), ({"window": 2.5}, "window"),
                                          ({"rel_tol": 0.0}, "rel_tol"),
                                          ({"rel_tol": 1.0}, "rel_tol"),
                                          ({"target": -1.0}, "target"),
                                          ({"target": float("inf")}, "target")])
def test_rule_refuses_bad_settings(kwargs, name):
    with pytest.raises(ValueError, match=name):
        StopRule(**kwargs)


def test_losses_must_be_one_dimensional():
    with pytest.raises(ValueError, match="1-D"):
        stop_reason(np.ones((3, 3)), StopRule())


def test_count_stops_counts_every_reason_and_refuses_others():
    assert count_stops(["plateau", "target", "plateau"]) == {
        "target": 1, "plateau": 2, "cap": 0, "stalled": 0}
    assert set(count_stops([])) == set(STOPPED_BY)
    with pytest.raises(ValueError, match="rule"):
        count_stops(["rule"])


def test_rule_records_its_settings():
    assert StopRule(7, 0.02, 1e-3).as_dict() == {"window": 7, "rel_tol": 0.02, "target": 1e-3}


# ------------------------------------------------------------ the loop's stop and weight decay


def _net_and_data():
    data = function_dataset("sinc", n_samples=40)
    net = MLP((1, 6, 1), "tanh", "mse")
    return net, data, net.init(np.random.default_rng(0), "lecun")


def test_train_stops_after_the_snapshot_where_stop_says_so():
    net, data, theta0 = _net_and_data()
    seen = []
    opt = adam(1e-2)
    state = train(net, theta0, data, opt, epochs=50, batch_size=10, rng=np.random.default_rng(1),
                  every=1, on_snapshot=lambda e, t: seen.append((e, t)),
                  stop=lambda: len(seen) == 4)
    assert [e for e, _ in seen] == [0, 1, 2, 3]            # no final snapshot after a stop
    assert_array_equal(opt.params(state), seen[-1][1])     # θ is that of the last snapshot


def test_stop_needs_snapshots_and_decay_must_be_non_negative():
    net, data, theta0 = _net_and_data()
    rng = np.random.default_rng(1)
    with pytest.raises(ValueError, match="every"):
        train(net, theta0, data, adam(), epochs=2, batch_size=10, rng=rng, stop=lambda: False)
    with pytest.raises(ValueError, match="weight_decay"):
        train(net, theta0, data, adam(), epochs=2, batch_size=10, rng=rng, weight_decay=-1.0)


def test_weight_decay_adds_lambda_theta_to_the_gradient():
    net, data, theta0 = _net_and_data()
    lam, lr = 0.1, 0.05
    runs = {}
    for decay in (0.0, lam):
        steps = []
        opt = adam(lr)
        train(net, theta0, data, opt, epochs=1, batch_size=len(data.x_train),
              rng=np.random.default_rng(1), weight_decay=decay, on_step=steps.append)
        runs[decay] = steps[0]
    plain, decayed = runs[0.0], runs[lam]
    np.testing.assert_allclose(decayed.grad, plain.grad + lam * theta0, rtol=1e-12, atol=1e-15)
    assert decayed.loss == pytest.approx(plain.loss + 0.5 * lam * theta0 @ theta0, rel=1e-12)


def test_an_objective_replaces_the_nets_loss_and_takes_the_decay():
    """A model with closed forms (the deep linear autoencoder) trained by engine.train through
    `objective` moves exactly as the full-batch Adam loop written out on L + (λ/2)‖θ‖²."""
    from engine.critical.linear_autoencoder import LinearAutoencoder, spectrum_data

    x, _ = spectrum_data(np.arange(1.0, 5.0), 40, np.random.default_rng(0))
    model = LinearAutoencoder(x.T @ x / len(x), 2)
    data = type("Data", (), {"x_train": x, "y_train": x})()
    theta0 = model.init(np.random.default_rng(3))
    lam, steps, seen = 1e-3, 30, []
    opt = adam(1e-2)
    state = train(None, theta0, data, opt, epochs=steps, batch_size=len(x),
                  rng=np.random.default_rng(1), weight_decay=lam, on_step=seen.append,
                  objective=lambda t, xb, yb: (model.loss(t), model.gradient(t)))
    by_hand = adam(1e-2)
    hand = by_hand.init(theta0)
    for step in range(steps):
        t = by_hand.params(hand)
        hand = by_hand.update(step, model.gradient(t) + lam * t, hand)
    assert_array_equal(opt.params(state), by_hand.params(hand))
    assert seen[0].loss == model.loss(theta0) + 0.5 * lam * (theta0 @ theta0)
    assert len(seen) == steps and all(s.batch is None for s in seen)


def test_fit_lbfgs_ends_where_the_callback_raises_stop_iteration():
    net, data, theta0 = _net_and_data()
    from engine import mlp_value_and_gradient

    calls = []

    def callback(intermediate_result):
        calls.append(intermediate_result.fun)
        if len(calls) == 5:
            raise StopIteration

    result = fit_lbfgs(lambda t: mlp_value_and_gradient(net, t, data.x_train, data.y_train), theta0,
                       100, callback=callback)
    assert result.nit == 5 and result.fun == pytest.approx(calls[-1])
