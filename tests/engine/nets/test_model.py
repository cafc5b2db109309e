"""The θ layout, the MLP's forward pass, initialization and option checking."""
import autograd
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from engine import MLP, Layout
from engine.nets.activations import get_activation
from engine.nets.losses import get_loss


def test_layout_counts_and_slices():
    layout = Layout((3, 4, 2))
    assert layout.n_params == 3 * 4 + 4 + 4 * 2 + 2
    assert layout.slice_of(0) == slice(0, 16) and layout.slice_of(1) == slice(16, 26)
    assert layout.weight_slice(1) == slice(16, 24) and layout.bias_slice(1) == slice(24, 26)


def test_unpack_pack_round_trip_and_row_major_order(rng):
    layout = Layout((3, 4, 2))
    theta = rng.normal(size=(5, layout.n_params))
    params = layout.unpack(theta)
    assert [W.shape for W, _ in params] == [(5, 3, 4), (5, 4, 2)]
    # W_0[i, j] sits at offset i·4 + j: the README's layout statement
    assert params[0][0][2, 1, 3] == theta[2, 1 * 4 + 3]
    assert_array_equal(layout.pack(params), theta)


def test_forward_is_the_documented_composition(rng):
    net = MLP((2, 3, 1), activation="tanh")
    theta, x = rng.normal(size=net.n_params), rng.normal(size=(7, 2))
    (W0, b0), (W1, b1) = net.layout.unpack(theta)
    # the same arithmetic, written out: exact equality
    assert_array_equal(net.forward(theta, x), np.tanh(x @ W0 + b0) @ W1 + b1)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_network_without_hidden_layers_is_affine(rng, activation, loss):
    # sizes (d, k): one layer, linear output; the activation is never applied
    net = MLP((3, 4), activation=activation, loss_name=loss)
    theta, x = rng.normal(size=net.n_params), rng.normal(size=(6, 3))
    y = np.eye(4)[rng.integers(0, 4, 6)]
    W, b = theta[:12].reshape(3, 4), theta[12:]
    # same arithmetic, the fused node and the plain graph: exact equality
    assert_array_equal(net.forward(theta, x), x @ W + b)
    assert_array_equal(net.forward_unfused(theta, x), x @ W + b)
    assert_array_equal(net.loss(theta, x, y), get_loss(loss)(x @ W + b, y))
    g = autograd.grad(lambda t: net.loss(t, x, y))(theta)
    g_plain = autograd.grad(lambda t: get_loss(loss)(net.forward_unfused(t, x), y))(theta)
    assert_array_equal(g, g_plain)
    # ∂L/∂W = xᵀ D / N, ∂L/∂b = Σ D / N with D = ∂ℓ/∂f: f − y (mse), softmax(f) − y (ce)
    f = x @ W + b
    p = np.exp(f - f.max(axis=1, keepdims=True))
    D = (f if loss == "mse" else p / p.sum(axis=1, keepdims=True)) - y
    assert_allclose(g, np.concatenate([(x.T @ D).ravel(), D.sum(axis=0)]) / 6, rtol=1e-13,
                    atol=1e-16)  # summation order only
    assert net.accuracy(theta, x, y) == np.mean(f.argmax(axis=1) == y.argmax(axis=1))


@pytest.mark.parametrize("sizes", [(0, 3), (3,), (2, 2.5, 1)])
def test_bad_sizes_are_rejected(sizes):
    with pytest.raises(ValueError, match="not a network"):
        Layout(sizes)


@pytest.mark.parametrize("make, match", [
    (lambda: MLP((1, 2, 1), activation="rleu"),
     r"activation='rleu' is unknown; choose one of \['linear'"),
    (lambda: MLP((1, 2, 1), loss_name="l2"), "loss='l2' is unknown"),
    (lambda: MLP((1, 2, 1)).init(np.random.default_rng(0), "xavier"), "init='xavier' is unknown"),
    (lambda: get_activation("swish"), "choose one of"),
    (lambda: get_loss("hinge"), "choose one of"),
])
def test_unknown_names_list_the_valid_ones(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("scheme, variance", [("lecun", lambda m, n: 1 / m),
                                              ("glorot", lambda m, n: 2 / (m + n)),
                                              ("he", lambda m, n: 2 / m)])
def test_init_variances(scheme, variance):
    net = MLP((300, 200, 100))
    theta = net.init(np.random.default_rng(1), scheme)
    for W, b in net.layout.unpack(theta):
        m, n = W.shape
        # sample variance of m·n normals: relative standard error √(2/(m n)) ≤ 0.01, so 5 %
        # is a 5σ bound
        assert_allclose(W.var(), variance(m, n), rtol=0.05)
        assert_array_equal(b, 0.0)


def test_init_is_reproducible_from_the_generator():
    net = MLP((4, 8, 2))
    a = net.init(np.random.default_rng(7))
    assert_array_equal(a, net.init(np.random.default_rng(7)))
    assert not np.array_equal(a, net.init(np.random.default_rng(8)))
    assert a.dtype == np.float64

