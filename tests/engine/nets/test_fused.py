"""engine.nets.fused: the fused dense layer against the plain autograd graph and finite
differences."""
import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from engine import MLP, get_activation, get_loss, mlp_value_and_gradient
from engine.nets.activations import SATURATION_CUT
from engine.nets.fused import FUSED_ACTIVATIONS, mlp_forward

# relu, tanh, sigmoid and linear layers compute with exactly the plain graph's operations
# (forward and VJPs, σ' the same function of the same (y, z)), so their values and gradients
# agree bit for bit; softplus' σ' is written through y (1 − e^{−y}), the plain graph's as
# sigmoid(z). Hessians agree bit for bit for relu and linear; tanh's and sigmoid's saturated
# units (and all sigmoid units inside a second-order trace) take σ' from a recomputed z whose
# nodes sum into H in another order (module docstring of engine.nets.fused).
EXACT = ("relu", "tanh", "sigmoid", "linear")
EXACT_HESSIAN = ("relu", "linear")
ROUNDED = ("softplus",)
LOSSES = ("mse", "cross_entropy")


def _problem(rng, activation, loss, sizes=(3, 5, 4), n_samples=7):
    d_out = 2 if loss == "mse" else 3
    net = MLP((*sizes, d_out), activation, loss)
    x = rng.normal(size=(n_samples, sizes[0]))
    y = rng.normal(size=(n_samples, d_out)) if loss == "mse" else \
        np.eye(d_out)[rng.integers(0, d_out, n_samples)]
    return net, net.init(rng, "glorot"), x, y


def _plain_loss(net, x, y):
    return lambda theta: get_loss(net.loss_name)(net.forward_unfused(theta, x), y)


def _total(f):
    return lambda theta: anp.sum(f(theta))


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", EXACT)
@pytest.mark.parametrize("batch", [(), (3,)])
def test_exact_activations_match_the_plain_graph_bit_for_bit(rng, activation, loss, batch):
    net, theta, x, y = _problem(rng, activation, loss)
    theta = theta + 0.3 * rng.normal(size=batch + theta.shape)
    fused, plain = (lambda t: net.loss(t, x, y)), _plain_loss(net, x, y)
    assert_array_equal(fused(theta), plain(theta))
    assert_array_equal(autograd.grad(_total(fused))(theta), autograd.grad(_total(plain))(theta))
    if not batch:  # second order through the scatter primitive's own VJP
        H, want = autograd.hessian(fused)(theta), autograd.hessian(plain)(theta)
        if activation in EXACT_HESSIAN:
            assert_array_equal(H, want)
        else:
            # the same terms summed in another order: a few ulps of max |H_ij| (measured ≤ 3)
            assert_allclose(H, want, rtol=0, atol=1e-14 * np.abs(want).max())


@pytest.mark.parametrize("activation", ("tanh", "sigmoid"))
def test_saturated_units_match_the_plain_graph(rng, activation):
    net, theta, x, y = _problem(rng, activation, "mse")
    theta = 20.0 * theta  # pre-activations up to ~±60: σ' from y alone would be 0 on many units
    (W0, b0), _, _ = net.layout.unpack(theta)
    sigma_prime = get_activation(activation).d1(x @ W0 + b0)
    # both routes of σ' (from y, from z) in play
    assert 0.1 < np.mean(sigma_prime < SATURATION_CUT) < 0.9 and np.all(sigma_prime > 0)
    fused, plain = (lambda t: net.loss(t, x, y)), _plain_loss(net, x, y)
    assert_array_equal(autograd.grad(fused)(theta), autograd.grad(plain)(theta))
    want = autograd.hessian(plain)(theta)
    # as above: a few ulps of max |H_ij|
    assert_allclose(autograd.hessian(fused)(theta), want, rtol=0, atol=1e-14 * np.abs(want).max())


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", ROUNDED)
def test_rounded_activations_match_the_plain_graph(rng, activation, loss):
    net, theta, x, y = _problem(rng, activation, loss)
    fused, plain = (lambda t: net.loss(t, x, y)), _plain_loss(net, x, y)
    assert_allclose(fused(theta), plain(theta), rtol=1e-15)  # same forward ops: equal up to 1 ulp
    for order in (autograd.grad, autograd.hessian):
        want = order(plain)(theta)
        # σ'(z) from y instead of from z: a few ulps per entry, so 1e-13 of the norm
        assert_allclose(np.linalg.norm(order(fused)(theta) - want), 0.0,
                        atol=1e-13 * np.linalg.norm(want))


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("activation", FUSED_ACTIVATIONS)
def test_gradient_and_hvp_match_central_differences(rng, activation, loss):
    net, theta, x, y = _problem(rng, activation, loss)
    f = lambda t: net.loss(t, x, y)  # noqa: E731
    v = rng.normal(size=theta.shape)
    eps = 1e-5
    # central differences: truncation ~ε²·|f'''| ≈ 1e-10, rounding ~ε_mach/ε ≈ 1e-11, against
    # values of order 1e-1 … 1; relu's kinks are 1e-5 away from 7 samples' pre-activations with
    # probability ~1e-4 (the seed is fixed)
    fd = (f(theta + eps * v) - f(theta - eps * v)) / (2 * eps)
    assert_allclose(autograd.grad(f)(theta) @ v, fd, rtol=1e-6)
    g = autograd.grad(f)
    fd_hv = (g(theta + eps * v) - g(theta - eps * v)) / (2 * eps)
    hv = autograd.grad(lambda t: anp.sum(g(t) * v))(theta)
    assert_allclose(np.linalg.norm(hv - fd_hv), 0.0, atol=1e-6 * np.linalg.norm(hv))


@pytest.mark.parametrize("activation", ("relu", "tanh"))
def test_input_gradient_and_batched_inputs_match_the_plain_graph(rng, activation):
    net, theta, x, y = _problem(rng, activation, "mse")
    # ∂L/∂x goes through the first layer's VJP for h, which the θ-gradient never calls
    gx = autograd.grad(lambda x_: net.loss(theta, x_, y))(x)
    assert_array_equal(gx, autograd.grad(lambda x_: _plain_loss(net, x_, y)(theta))(x))
    # x with a batch axis that θ lacks: the θ-gradient sums over it (the bias gradient in
    # another order than autograd's unbroadcast: a few ulps, so 1e-14 of the norm)
    # (the fused layer's own contract: MLP.forward refuses x that is not (N, d_in))
    xs = rng.normal(size=(2,) + x.shape)
    total = lambda forward: lambda t: anp.sum((forward(t, xs) - y) ** 2)  # noqa: E731
    want = autograd.grad(total(net.forward_unfused))(theta)
    fused = lambda t, x_: mlp_forward(net.layout, net.activation, t, x_)  # noqa: E731
    assert_allclose(np.linalg.norm(autograd.grad(total(fused))(theta) - want), 0.0,
                    atol=1e-14 * np.linalg.norm(want))


def test_value_and_grad_of_a_batch_is_the_stack_of_single_runs(rng):
    net, theta, x, y = _problem(rng, "relu", "cross_entropy")
    thetas = theta + 0.2 * rng.normal(size=(4,) + theta.shape)
    losses, grads = mlp_value_and_gradient(net, thetas, x, y)
    assert losses.shape == (4,) and grads.shape == thetas.shape
    for b in range(4):
        loss, g = mlp_value_and_gradient(net, thetas[b], x, y)
        # the stacked matmuls sum the same products in the same order
        assert_array_equal(losses[b], loss)
        assert_array_equal(grads[b], g)


def test_unknown_activation_names_the_choices(rng):
    net, theta, x, _ = _problem(rng, "relu", "mse")
    with pytest.raises(ValueError, match="relu"):
        mlp_forward(net.layout, "swish", theta, x)


def test_the_training_bench_reports_every_case():
    from experiments.bench.training import bench_training

    rows = bench_training(repeats=1, n_samples=256)
    assert [r["case"] for r in rows] == ["plain graph", "fused layer"] * 2
    assert rows[2]["threads"] == rows[3]["threads"] == 1  # the run_all workers' setting
    assert all(r["samples_per_s"] > 0 and r["min"] <= r["samples_per_s"] <= r["max"] for r in rows)
