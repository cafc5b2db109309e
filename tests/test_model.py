"""The θ layout, the MLP's forward pass, initialization and option checking."""
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from engine import MLP, Layout
from engine.activations import get_activation
from engine.losses import get_loss


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

