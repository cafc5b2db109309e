"""engine.nets.passes: each hand-written pass against autograd — the plain forward graph, the
augmented forward sweep with σ' and σ'' (the structured Hessian's), the MSE gradient by
backpropagation and the R-operator's H v — for every activation, with batches of θ where the
pass takes them."""
from concurrent.futures import ThreadPoolExecutor

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from engine import ACTIVATIONS, MLP
from engine.nets.activations import get_activation
from engine.nets.fused import mlp_forward
from engine.nets.passes import forward_augmented, forward_unfused, mlp_hvp_at, mlp_mse_gradient

SIZES = (3, 5, 4, 2)


def _case(rng, activation, loss="mse"):
    net = MLP(SIZES, activation, loss)
    theta = rng.normal(scale=0.7, size=net.n_params)
    x = rng.normal(size=(9, SIZES[0]))
    y = np.eye(SIZES[-1])[rng.integers(0, SIZES[-1], 9)] if loss != "mse" else \
        rng.normal(size=(9, SIZES[-1]))
    return net, theta, x, y


def _reference_forward(net, theta, x):
    """[h_l], [z_l] of the module's notation, written with autograd.numpy from layout.unpack."""
    sigma = get_activation(net.activation).fn
    hs, zs, h = [x], [], x
    for layer, (W, b) in enumerate(net.layout.unpack(theta)):
        zs.append(anp.dot(h, W) + b)
        if layer < net.layout.n_layers - 1:
            h = sigma(zs[-1])
            hs.append(h)
    return hs, zs


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_forward_unfused_is_the_fused_forward_and_differentiates_as_it(rng, activation):
    net, _, x, y = _case(rng, activation)
    thetas = rng.normal(scale=0.7, size=(4, net.n_params))  # a batch of θ
    plain = forward_unfused(net.layout, activation, thetas, x)
    fused = mlp_forward(net.layout, activation, thetas, x)
    assert plain.shape == (4, 9, SIZES[-1])
    assert_allclose(plain, fused, rtol=1e-14, atol=1e-15)
    # autograd through the plain graph gives the gradient autograd gives through the fused one
    def loss(forward):
        return lambda t: anp.sum(anp.mean((forward(net.layout, activation, t, x) - y) ** 2, 1))
    assert_allclose(autograd.grad(loss(forward_unfused))(thetas),
                    autograd.grad(loss(mlp_forward))(thetas), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_forward_augmented_gives_the_layers_and_autograds_slopes(rng, activation):
    net, theta, x, _ = _case(rng, activation)
    W_tildes = [theta[net.layout.slice_of(layer)].reshape(SIZES[layer] + 1, SIZES[layer + 1])
                for layer in range(net.layout.n_layers)]
    h_tilde, d1s, d2s, f = forward_augmented(activation, W_tildes, x, second=True)
    hs, zs = _reference_forward(net, theta, x)
    assert_allclose(f, net.forward(theta, x), rtol=1e-13, atol=1e-14)
    assert len(h_tilde) == net.layout.n_layers and len(d1s) == len(d2s) == len(hs) - 1
    for h, ht in zip(hs, h_tilde, strict=True):
        assert_allclose(ht[:, :-1], h, rtol=1e-13, atol=1e-14)
        assert_array_equal(ht[:, -1], 1.0)
    sigma = get_activation(activation).fn
    slope = autograd.elementwise_grad(sigma)
    for z, d1, d2 in zip(zs[:-1], d1s, d2s, strict=True):  # σ'(z_l), σ''(z_l) vs autograd's
        assert_allclose(d1, slope(z), rtol=1e-12, atol=1e-15)
        if activation in ("relu", "linear"):  # σ' is constant: autograd's σ'' has no graph
            assert_array_equal(d2, 0.0)
        else:
            assert_allclose(d2, autograd.elementwise_grad(slope)(z), rtol=1e-9, atol=1e-12)
    assert forward_augmented(activation, W_tildes, x, second=False)[2] == []


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
def test_mlp_mse_gradient_is_autograds(rng, activation):
    net, theta, x, y = _case(rng, activation)
    want = autograd.grad(lambda t: net.loss(t, x, y))(theta)
    assert_allclose(mlp_mse_gradient(net, x, y)(theta), want, rtol=1e-12, atol=1e-15)


def test_mlp_mse_gradient_refuses_another_loss(rng):
    net, _, x, y = _case(rng, "tanh", "cross_entropy")
    with pytest.raises(ValueError, match="loss 'mse'"):
        mlp_mse_gradient(net, x, y)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_mlp_hvp_at_is_autograds_hessian_times_v(rng, activation, loss):
    net, theta, x, y = _case(rng, activation, loss)
    thetas = theta + 0.1 * rng.normal(size=(2, net.n_params))  # a batch of θ, one v each
    V = rng.normal(size=(2, net.n_params))
    products = mlp_hvp_at(net, thetas, x, y)(V)
    for b in range(2):
        H = autograd.hessian(lambda t: net.loss(t, x, y))(thetas[b])
        # two exact routes that differ only in the order of the floating-point sums
        atol = 1e-12 * np.abs(H).max() * np.abs(V[b]).sum()
        assert_allclose(products[b], H @ V[b], rtol=0, atol=atol)


@pytest.mark.parametrize("sizes, bias", [((1, 6, 5, 1), True), ((2, 4, 1, 3), True),
                                         ((1, 6, 5, 1), (False, True, False))])
def test_mlp_hvp_at_reuses_its_work_arrays_safely(rng, sizes, bias):
    """The products share work arrays per batch shape (engine.nets.passes.mlp_hvp_at): shapes
    that come and go and results kept by the caller must all be H v. The sizes cover the fused
    product of a width-1 layer (input, hidden and output)."""
    net = MLP(sizes, "tanh", "mse", bias=bias)
    theta = rng.normal(scale=0.7, size=net.n_params)
    x, y = rng.normal(size=(11, sizes[0])), rng.normal(size=(11, sizes[-1]))
    H = autograd.hessian(lambda t: net.loss(t, x, y))(theta)
    apply = mlp_hvp_at(net, theta, x, y)
    atol = 1e-12 * np.abs(H).max() * net.n_params
    kept = []
    for shape in [(), (3,), (2,), (), (2,), (3,), (1,)]:  # more shapes than the cache holds
        V = rng.normal(size=shape + (net.n_params,))
        kept.append((V, apply(V)))
    for V, product in kept:
        assert_allclose(product, V @ H, rtol=0, atol=atol)


def test_mlp_hvp_at_products_in_two_threads_at_once_are_the_serial_ones(rng):
    """Each thread has its own work arrays: products long enough for NumPy to release the GIL
    in them, run in two threads at once, equal the same products run one after another."""
    net = MLP((1, 30, 30, 1), "tanh", "mse")
    theta = rng.normal(scale=0.5, size=net.n_params)
    x = rng.normal(size=(4000, 1))
    apply = mlp_hvp_at(net, theta, x, np.sin(x))
    V = rng.normal(size=(2, 30, net.n_params))
    serial = [[apply(v) for v in block] for block in V]
    with ThreadPoolExecutor(2) as pool:
        parallel = list(pool.map(lambda block: [apply(v) for v in block], V))
    assert_array_equal(np.array(parallel), np.array(serial))


def test_mlp_hvp_at_of_two_thetas_of_one_net_alternate_safely(rng):
    """Products at two θ of one net share the net's work arrays (kept across θ); alternating
    them must give each θ's own H v — the fused width-1 layer's δ half is refilled per θ."""
    net = MLP((1, 6, 5, 1), "tanh", "mse")
    x, y = rng.normal(size=(13, 1)), rng.normal(size=(13, 1))
    thetas = rng.normal(scale=0.7, size=(2, net.n_params))
    applies = [mlp_hvp_at(net, theta, x, y) for theta in thetas]
    hessians = [autograd.hessian(lambda t: net.loss(t, x, y))(theta) for theta in thetas]
    for _ in range(3):
        for apply, H in zip(applies, hessians, strict=True):
            v = rng.normal(size=net.n_params)
            assert_allclose(apply(v), H @ v, rtol=0, atol=1e-12 * np.abs(H).max() * net.n_params)
