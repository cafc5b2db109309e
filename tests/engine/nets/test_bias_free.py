"""Bias-free layers (engine.nets.layout's `bias`): θ's layout, pack/unpack, the refusals, the MLP's
forward routes (fused, plain graph, the hand-written passes), init and the budget formulas.

The reference for every value: a bias-free net at θ is the net with biases at θ_full, the same
weights with every missing b_l = 0 (`embedded`) — the default layout, tested elsewhere."""
import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from engine import ACTIVATIONS, MLP
from engine.nets.budget import n_params_of, sizes_for_budget, width_for_budget
from engine.nets.layout import Layout
from engine.nets.passes import forward_augmented, forward_unfused, mlp_mse_gradient

SIZES = (3, 5, 4, 2)
BIASES = [False, (False, True, False), (True, False, True)]


def embedded(layout, theta):
    """(θ_full, mask): θ in the layout with biases everywhere, missing b_l = 0; mask marks the
    entries of θ_full that are θ's (same order: layer by layer, W before b)."""
    full = Layout(layout.sizes)
    params = layout.unpack(np.asarray(theta, dtype=np.float64))
    theta_full = full.pack([(W, np.zeros(W.shape[:-2] + W.shape[-1:]) if b is None else b)
                            for W, b in params])
    mask = full.pack([(np.ones(W.shape[-2:]), np.zeros(W.shape[-1]) if b is None
                       else np.ones(W.shape[-1])) for W, b in layout.unpack(np.zeros(
                           layout.n_params))]).astype(bool)
    return theta_full, mask


def _case(rng, bias, activation="tanh", loss="mse"):
    net = MLP(SIZES, activation, loss, bias)
    theta = rng.normal(scale=0.7, size=net.n_params)
    x = rng.normal(size=(9, SIZES[0]))
    y = np.eye(SIZES[-1])[rng.integers(0, SIZES[-1], 9)] if loss != "mse" else \
        rng.normal(size=(9, SIZES[-1]))
    return net, theta, x, y


# --- the layout ---------------------------------------------------------------------------------

@pytest.mark.parametrize("bias", BIASES)
def test_n_params_counts_a_bias_only_where_there_is_one(bias):
    layout = Layout(SIZES, bias)
    beta = [bias] * 3 if isinstance(bias, bool) else list(bias)
    expected = sum((m + b) * n for m, n, b in zip(SIZES[:-1], SIZES[1:], beta, strict=True))
    assert layout.n_params == expected == n_params_of(SIZES, bias)
    assert layout.has_bias == tuple(beta)
    # blocks tile θ: each layer's block is vec(W_l) then b_l where it has one, nothing between
    stops = [0]
    for layer in range(layout.n_layers):
        block, w = layout.slice_of(layer), layout.weight_slice(layer)
        assert block.start == stops[-1] == w.start
        assert w.stop - w.start == SIZES[layer] * SIZES[layer + 1]
        if beta[layer]:
            assert layout.bias_slice(layer) == slice(w.stop, block.stop)
        else:
            assert block.stop == w.stop
        stops.append(block.stop)
    assert stops[-1] == layout.n_params


def test_all_true_is_the_default_layout_bit_for_bit():
    assert Layout(SIZES, (True,) * 3) == Layout(SIZES) == Layout(SIZES, True)
    assert hash(Layout(SIZES, [True] * 3)) == hash(Layout(SIZES))
    assert repr(Layout(SIZES)) == "Layout(sizes=(3, 5, 4, 2))"
    assert repr(MLP(SIZES)) == "MLP(sizes=(3, 5, 4, 2), activation='tanh', loss_name='mse')"
    assert Layout(SIZES).offsets == (0, 20, 44, 54)
    assert Layout(SIZES, (False,) * 3) == Layout(SIZES, False) != Layout(SIZES)
    assert repr(Layout(SIZES, (False, True, False))) == \
        "Layout(sizes=(3, 5, 4, 2), bias=(False, True, False))"
    assert MLP(SIZES, bias=(True, True, True)) == MLP(SIZES)


@pytest.mark.parametrize("bias", BIASES)
def test_unpack_gives_none_for_a_missing_bias_and_pack_inverts_it(rng, bias):
    layout = Layout(SIZES, bias)
    thetas = rng.normal(size=(3, layout.n_params))  # a batch
    params = layout.unpack(thetas)
    for layer, (W, b) in enumerate(params):
        assert W.shape == (3, SIZES[layer], SIZES[layer + 1])
        assert (b is None) == (not layout.has_bias[layer])
        if b is not None:
            assert b.shape == (3, SIZES[layer + 1])
    assert_array_equal(layout.pack(params), thetas)
    assert_array_equal(layout.pack(layout.unpack(thetas[0])), thetas[0])


def test_refusals_name_the_argument():
    layout = Layout(SIZES, (False, True, False))
    with pytest.raises(ValueError, match="layer=0 has no bias"):
        layout.bias_slice(0)
    with pytest.raises(ValueError, match="layer=3 is out of range"):
        layout.bias_slice(3)
    params = layout.unpack(np.zeros(layout.n_params))
    with pytest.raises(ValueError, match="pack: layer 0 has b \\(5,\\), but the layout has no"):
        layout.pack([(params[0][0], np.zeros(5))] + params[1:])
    with pytest.raises(ValueError, match="pack: layer 1 has b None, but the layout has bias"):
        layout.pack([params[0], (params[1][0], None), params[2]])
    with pytest.raises(ValueError, match="pack: layer 0 has W"):
        layout.pack([(np.zeros((2, 5)), None)] + params[1:])
    for bad in ((True, False), (1, 0, 1), "no", None, 0):
        with pytest.raises(ValueError, match="^bias="):
            Layout(SIZES, bad)
        with pytest.raises(ValueError, match="^bias="):
            MLP(SIZES, bias=bad)
    with pytest.raises(ValueError, match="\\(bias=False\\) needs \\(..., 43\\)"):
        Layout(SIZES, False).check(np.zeros(Layout(SIZES).n_params))


# --- the forward routes ----------------------------------------------------------------------

@pytest.mark.parametrize("bias", BIASES)
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_every_forward_route_is_the_embedded_nets(rng, bias, activation):
    net, _, x, y = _case(rng, bias, activation)
    thetas = rng.normal(scale=0.7, size=(4, net.n_params))
    full = MLP(SIZES, activation)
    reference = full.forward(embedded(net.layout, thetas)[0], x)
    fused = net.forward(thetas, x)
    assert fused.shape == (4, 9, SIZES[-1])
    assert_allclose(fused, reference, rtol=1e-13, atol=1e-14)
    assert_allclose(net.forward_unfused(thetas, x), reference, rtol=1e-13, atol=1e-14)
    assert_allclose(forward_unfused(net.layout, activation, thetas, x), fused, rtol=1e-14,
                    atol=1e-15)
    # the augmented sweep: h̃_l without the column of ones where the layer is bias-free
    W_tildes = [thetas[0][net.layout.slice_of(layer)].reshape(SIZES[layer] + beta,
                                                             SIZES[layer + 1])
                for layer, beta in enumerate(net.layout.has_bias)]
    h_tilde, d1s, d2s, f = forward_augmented(activation, W_tildes, x, second=True)
    assert_allclose(f, fused[0], rtol=1e-13, atol=1e-14)
    for layer, beta in enumerate(net.layout.has_bias):
        assert h_tilde[layer].shape == (9, SIZES[layer] + beta)
    assert len(d1s) == len(d2s) == 2


@pytest.mark.parametrize("bias", BIASES)
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_fused_gradient_is_the_embedded_nets_restricted_and_the_plain_graphs(rng, bias, loss):
    net, theta, x, y = _case(rng, bias, "softplus", loss)
    theta_full, mask = embedded(net.layout, theta)
    full = MLP(SIZES, "softplus", loss)
    g_full = autograd.grad(lambda t: full.loss(t, x, y))(theta_full)
    g = autograd.grad(lambda t: net.loss(t, x, y))(theta)
    assert g.shape == (net.n_params,)
    assert_allclose(g, g_full[mask], rtol=1e-12, atol=1e-14)

    def plain(t):
        f = net.forward_unfused(t, x)
        return anp.mean(anp.sum((f - y) ** 2, -1)) / 2 if loss == "mse" else \
            anp.mean(anp.log(anp.sum(anp.exp(f), -1)) - anp.sum(y * f, -1))
    assert_allclose(autograd.grad(plain)(theta), g, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("bias", BIASES)
@pytest.mark.parametrize("activation", ["tanh", "linear", "softplus"])
def test_mse_backprop_is_autograds_and_central_differences(rng, bias, activation):
    net, theta, x, y = _case(rng, bias, activation)
    g = mlp_mse_gradient(net, x, y)(theta)
    assert_allclose(g, autograd.grad(lambda t: net.loss(t, x, y))(theta), rtol=1e-12,
                    atol=1e-14)
    step = 1e-6
    eye = np.eye(net.n_params) * step
    central = (net.loss(theta + eye, x, y) - net.loss(theta - eye, x, y)) / (2 * step)
    assert_allclose(g, central, rtol=1e-6, atol=1e-8)


def test_init_draws_the_same_weights_with_or_without_biases():
    mixed = MLP(SIZES, bias=(False, True, False))
    theta, theta_b = mixed.init(np.random.default_rng(3)), MLP(SIZES).init(
        np.random.default_rng(3))
    assert theta.shape == (mixed.n_params,)
    for (W, b), (W_b, _) in zip(mixed.layout.unpack(theta), MLP(SIZES).layout.unpack(theta_b),
                                  strict=True):
        assert_array_equal(W, W_b)
        assert b is None or not b.any()


# --- depth at a fixed budget ------------------------------------------------------------------

@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("bias", [False, True])
def test_budget_without_biases_counts_bias_free_layers(depth, bias):
    h = width_for_budget(500, 1, 1, depth, bias=bias)
    real = (1 + bias) * h + (depth - 1) * (h + bias) * h + (h + bias) * 1
    assert real == pytest.approx(500, rel=1e-12)
    sizes = sizes_for_budget(500, 1, 1, depth, bias=bias)
    assert abs(n_params_of(sizes, bias) - 500) <= 0.02 * 500
    assert MLP(sizes, bias=bias).n_params == n_params_of(sizes, bias)
    with pytest.raises(ValueError, match="^bias="):
        width_for_budget(500, 1, 1, depth, bias=(True,) * (depth + 2))
