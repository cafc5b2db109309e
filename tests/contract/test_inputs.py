"""Inputs checked at the door: MLP.check_theta / check_data, and the entry points that call them.

Each wrong input is refused with one ValueError line naming what was found, what was expected
and what to do; each right input gives the value computed independently.
"""
import autograd
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from engine import MLP
from engine.derivatives.curvature import exact_hessian, output_jacobian

N = 50


@pytest.fixture
def sinc(rng):
    """A 1-10-10-1 tanh MSE net on sin(5πx)/(5πx): θ, x (N, 1), y (N, 1)."""
    net = MLP((1, 10, 10, 1), "tanh", "mse")
    x = np.linspace(-1.0, 1.0, N)[:, None]
    return net, net.init(rng), x, np.sinc(5.0 * x)


@pytest.fixture
def classifier(rng):
    """A 3-4-5 relu cross-entropy net: θ, x (6, 3), integer labels (6,) in 0…4."""
    net = MLP((3, 4, 5), "relu", "cross_entropy")
    return net, net.init(rng), rng.normal(size=(6, 3)), rng.integers(0, 5, 6)


def _by_hand(theta, x):
    """f(x; θ) of the 1-10-10-1 tanh net, written out from the README's θ layout."""
    W0, b0 = theta[:10].reshape(1, 10), theta[10:20]
    W1, b1 = theta[20:120].reshape(10, 10), theta[120:130]
    W2, b2 = theta[130:140].reshape(10, 1), theta[140:141]
    return np.tanh(np.tanh(x @ W0 + b0) @ W1 + b1) @ W2 + b2


def _one_line(error) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_mse_loss_with_column_targets_is_the_mean_squared_error(sinc):
    net, theta, x, y = sinc
    f = _by_hand(theta, x)
    # L = 1/(2N) Σ (fᵢ − yᵢ)²: the same arithmetic up to summation order
    assert_allclose(net.loss(theta, x, y), np.mean((f - y) ** 2) / 2, rtol=1e-14)


def test_mse_targets_of_shape_n_are_refused_not_broadcast(sinc):
    net, theta, x, y = sinc
    # the silent alternative: (N, 1) − (N,) broadcasts to (N, N), another number
    assert not np.isclose(np.mean(np.sum((_by_hand(theta, x) - y.ravel()) ** 2, -1)) / 2,
                          net.loss(theta, x, y))
    with pytest.raises(ValueError) as error:
        net.loss(theta, x, y.ravel())
    assert _one_line(error) == (
        "y has shape (50,), but x has 50 samples and the network (1, 10, 10, 1) has d_out = 1 "
        "outputs: expected (50, 1); reshape it with y.reshape(50, 1) (a 1-D y would broadcast "
        "against the outputs to (N, N) and give a wrong loss)")
    with pytest.raises(ValueError, match=r"y has shape \(50,\)"):
        autograd.grad(lambda t: net.loss(t, x, y.ravel()))(theta)


@pytest.mark.parametrize("bad_x, match", [
    (lambda x: x.ravel(), r"x has shape \(50,\), .* expected \(n_samples, 1\).*x\[:, None\]"),
    (lambda x: np.hstack([x, x]), r"x has shape \(50, 2\), .* takes d_in = 1 inputs per sample"),
    (lambda x: x[:0], r"x has shape \(0, 1\): no samples; give at least one row"),
    (lambda x: x[None], r"x has shape \(1, 50, 1\), .* expected \(n_samples, 1\)"),
])
def test_bad_x_is_refused_by_forward_loss_and_accuracy(sinc, bad_x, match):
    net, theta, x, y = sinc
    for call in (lambda: net.forward(theta, bad_x(x)), lambda: net.loss(theta, bad_x(x), y),
                 lambda: net.accuracy(theta, bad_x(x), y)):
        with pytest.raises(ValueError, match=match) as error:
            call()
        _one_line(error)


def test_targets_for_another_number_of_samples_are_refused(sinc):
    net, theta, x, y = sinc
    with pytest.raises(ValueError) as error:
        net.loss(theta, x[:-1], y)
    assert _one_line(error).startswith(
        "y has shape (50, 1), but x has 49 samples and the network (1, 10, 10, 1) has d_out = 1 "
        "outputs: expected (49, 1); give one target row per sample of x")


def test_mse_targets_of_another_width_are_refused(rng):
    net = MLP((2, 3, 2), "tanh")
    with pytest.raises(ValueError, match=r"expected \(4, 2\); give targets of width 2"):
        net.loss(net.init(rng), np.zeros((4, 2)), np.zeros((4, 3)))


@pytest.mark.parametrize("shape", [lambda labels: labels, lambda labels: labels[:, None],
                                   lambda labels: labels.astype(float)])
def test_class_labels_are_refused_with_the_one_hot_recipe(classifier, shape):
    net, theta, x, labels = classifier
    with pytest.raises(ValueError) as error:
        net.loss(theta, x, shape(labels))
    message = _one_line(error)
    assert "class labels?" in message and message.endswith(
        "cross_entropy needs one-hot rows (6, 5); one-hot integer labels with np.eye(5)[labels]")


def test_one_hot_targets_give_the_softmax_cross_entropy(classifier):
    net, theta, x, labels = classifier
    (W0, b0), (W1, b1) = net.layout.unpack(theta)
    f = np.maximum(x @ W0 + b0, 0.0) @ W1 + b1
    p = np.exp(f - f.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    want = -np.mean(np.log(p[np.arange(6), labels]))  # −(1/N) Σ log p_{i, label i}
    assert_allclose(net.loss(theta, x, np.eye(5)[labels]), want, rtol=1e-14)
    # integer one-hot rows are cast: the same float64 value
    assert net.loss(theta, x, np.eye(5, dtype=int)[labels]) == net.loss(theta, x,
                                                                         np.eye(5)[labels])
    assert_array_equal(net.accuracy(theta, x, np.eye(5)[labels]),
                       np.mean(f.argmax(axis=1) == labels))


@pytest.mark.parametrize("targets, match", [
    (lambda labels: np.eye(4)[labels % 4],
     r"y has shape \(6, 4\), .* expected \(6, 5\); one column per class: np.eye\(5\)\[labels\]"),
    (lambda labels: 2.0 * np.eye(5)[labels],
     r"rows that are not one-hot .* row sums in \[2, 2\].*np.eye\(5\)\[labels\]"),
    (lambda labels: np.eye(5)[labels] - 0.5,
     r"rows that are not one-hot \(min -0.5"),
])
def test_cross_entropy_targets_must_be_class_probability_rows(classifier, targets, match):
    net, theta, x, labels = classifier
    with pytest.raises(ValueError, match=match) as error:
        net.loss(theta, x, targets(labels))
    _one_line(error)


def test_theta_as_a_list_is_cast(sinc):
    net, theta, x, y = sinc
    assert net.loss(list(theta), x, y) == net.loss(theta, x, y)
    assert net.check_theta(list(theta)).dtype == np.float64


@pytest.mark.parametrize("theta, match", [
    (np.zeros(140), r"theta has shape \(140,\), but the network \(1, 10, 10, 1\) needs "
                    r"\(\.\.\., 141\): .*net.init\(rng\)"),
    (np.float64(1.0), r"theta has shape \(\), .* needs \(\.\.\., 141\)"),
    (np.zeros((3, 141)).T, r"theta has shape \(141, 3\)"),
    (["a"] * 141, "theta has dtype <U1; give real numbers"),
    ([[0.0], [0.0, 1.0]], "theta is not an array of numbers"),
    (np.zeros(141, dtype=complex), "theta has dtype complex128"),
])
def test_bad_theta_is_refused(sinc, theta, match):
    net, _, x, y = sinc
    with pytest.raises(ValueError, match=match) as error:
        net.loss(theta, x, y)
    _one_line(error)


@pytest.mark.parametrize("rng_arg", [0, None, np.random.RandomState(0)])
def test_init_needs_a_generator(rng_arg):
    with pytest.raises(ValueError, match=r"is not a numpy.random.Generator; pass "
                                         r"np.random.default_rng\(seed\)"):
        MLP((1, 3, 1)).init(rng_arg)


def test_check_data_casts_to_contiguous_float64_and_keeps_float64(sinc):
    net, theta, x, y = sinc
    x_out, y_out = net.check_data(x, y)
    assert x_out is x and y_out is y  # already float64 and contiguous: no copy
    x32, y_int = np.asfortranarray(np.hstack([x, x]).astype(np.float32))[:, :1], \
        np.round(10 * y).astype(int)
    x_out, y_out = net.check_data(x32, y_int)
    assert x_out.dtype == y_out.dtype == np.float64
    assert x_out.flags.c_contiguous and y_out.flags.c_contiguous
    assert_array_equal(x_out, x32) and assert_array_equal(y_out, y_int)
    assert net.check_data(x, None) == (x, None)
    # float32 inputs give the float64 loss of the rounded values
    assert net.loss(theta, x32, y_int) == net.loss(theta, x_out, y_out)


def test_checks_accept_autograd_boxes(sinc):
    net, theta, x, y = sinc
    # θ and x as boxes inside traces: checked by shape, never cast (the gradients exist)
    g = autograd.grad(lambda t: net.loss(t, x, y))(theta)
    gx = autograd.grad(lambda x_: net.loss(theta, x_, y))(x)
    assert g.shape == theta.shape and gx.shape == x.shape and np.all(np.isfinite(gx))
    with pytest.raises(ValueError, match=r"needs \(\.\.\., 141\)"):
        autograd.grad(lambda t: net.loss(t[:-1], x, y))(theta)


@pytest.mark.parametrize("bad", [
    lambda t, x, y: (t, x.ravel(), y),
    lambda t, x, y: (t, x, y.ravel()),
    lambda t, x, y: (t, x[:-1], y),
    lambda t, x, y: (t[:-1], x, y),
    lambda t, x, y: (t, np.hstack([x, x]), y),
])
def test_curvature_refuses_with_the_messages_of_loss(sinc, bad):
    net, theta, x, y = sinc
    args = bad(theta, x, y)
    with pytest.raises(ValueError) as loss_error:
        net.loss(*args)
    with pytest.raises(ValueError) as curvature_error:
        exact_hessian(net, *args)
    assert str(curvature_error.value) == str(loss_error.value)
    if not str(loss_error.value).startswith("y "):  # output_jacobian takes no y
        with pytest.raises(ValueError) as jacobian_error:
            output_jacobian(net, *args[:2])
        assert str(jacobian_error.value) == str(loss_error.value)
