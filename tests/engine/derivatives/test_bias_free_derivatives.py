"""Derivatives of MLPs with bias-free layers (engine.nets.layout's `bias`): gradient, the
R-operator's H v and the structured exact Hessian against autograd, central finite differences
and the same net with zero biases (the default layout); the linear bias-free MLP k-p-k is the
deep linear autoencoder; the critical-point tools that read θ's layout."""
import autograd
import numpy as np
import pytest
from numpy.testing import assert_allclose

from engine import MLP
from engine.critical.classification import saturation
from engine.critical.embedding import effective_widths, split_curvature, split_unit
from engine.critical.linear_autoencoder import LinearAutoencoder, spectrum_data
from engine.derivatives.autodiff import (
    hvp_fn,
    mlp_gradient,
    mlp_hessian_autograd,
    mlp_hvp,
    mlp_value_and_gradient,
)
from engine.derivatives.curvature import (
    exact_hessian,
    gauss_newton,
    hessian_parts,
    output_jacobian,
)
from engine.nets.layout import Layout

SIZES = (3, 4, 3, 2)
BIASES = [False, (False, True, False), (True, False, True)]
CASES = [(bias, act, loss) for bias in BIASES for act in ("tanh", "linear", "softplus")
         for loss in ("mse", "cross_entropy")]


def _case(rng, bias, activation, loss):
    net = MLP(SIZES, activation, loss, bias)
    theta = rng.normal(scale=0.8, size=net.n_params)
    x = rng.normal(size=(7, SIZES[0]))
    y = np.eye(SIZES[-1])[rng.integers(0, SIZES[-1], 7)] if loss != "mse" else \
        rng.normal(size=(7, SIZES[-1]))
    return net, theta, x, y


def _mask(layout):
    """Entries of the layout with biases everywhere that are this layout's (zero biases)."""
    ones = [(np.ones(W.shape), None if b is None else np.ones(b.shape))
            for W, b in layout.unpack(np.zeros(layout.n_params))]
    return Layout(layout.sizes).pack([(W, np.zeros(W.shape[1]) if b is None else b)
                                      for W, b in ones]).astype(bool)


@pytest.mark.parametrize("bias, activation, loss", CASES)
def test_gradient_and_hvp_are_central_differences_and_autograds(rng, bias, activation, loss):
    net, theta, x, y = _case(rng, bias, activation, loss)
    n = net.n_params
    g = mlp_gradient(net, theta, x, y)
    value, g2 = mlp_value_and_gradient(net, theta, x, y)
    assert_allclose(g2, g, rtol=1e-14, atol=1e-16)
    step, eye = 1e-6, np.eye(n)
    central = (net.loss(theta + step * eye, x, y) - net.loss(theta - step * eye, x, y)) / (
        2 * step)
    assert_allclose(g, central, rtol=1e-6, atol=1e-8)
    V = rng.normal(size=(3, n))
    Hv = mlp_hvp(net, theta, x, y, V)  # the R-operator, a batch of directions
    reference = np.array([hvp_fn(lambda t: net.loss(t, x, y))(theta, v) for v in V])
    assert_allclose(Hv, reference, rtol=1e-11, atol=1e-13)
    h = 1e-5
    central_hv = np.array([(mlp_gradient(net, theta + h * v, x, y)
                            - mlp_gradient(net, theta - h * v, x, y)) / (2 * h) for v in V])
    assert_allclose(Hv, central_hv, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("bias, activation, loss", CASES)
def test_structured_hessian_is_autograds_and_the_zero_bias_nets_block(rng, bias, activation,
                                                                       loss):
    net, theta, x, y = _case(rng, bias, activation, loss)
    H = exact_hessian(net, theta, x, y)
    reference = mlp_hessian_autograd(net, theta, x, y)
    scale = np.abs(reference).max()
    assert_allclose(H, reference, rtol=0, atol=1e-12 * scale)
    assert np.array_equal(H, H.T)
    # column i of H: central differences of the gradient along e_i
    step, eye = 1e-5, np.eye(net.n_params)
    central = np.array([(mlp_gradient(net, theta + step * e, x, y)
                         - mlp_gradient(net, theta - step * e, x, y)) / (2 * step) for e in eye])
    assert_allclose(H, central, rtol=0, atol=1e-7 * max(scale, 1.0))
    G, R = hessian_parts(net, theta, x, y)
    assert_allclose(G + R, H, rtol=0, atol=1e-13 * scale)
    assert_allclose(gauss_newton(net, theta, x, y), G, rtol=0, atol=1e-13 * scale)
    # the net with biases, at the same weights and zero biases: H is its Hessian's block
    mask = _mask(net.layout)
    full = MLP(SIZES, activation, loss)
    theta_full = np.zeros(full.n_params)
    theta_full[mask] = theta
    assert_allclose(H, exact_hessian(full, theta_full, x, y)[np.ix_(mask, mask)], rtol=0,
                    atol=1e-12 * scale)
    # HVP and H agree; the output Jacobian is autograd's
    V = rng.normal(size=(2, net.n_params))
    assert_allclose(mlp_hvp(net, theta, x, y, V), V @ H, rtol=0, atol=1e-11 * scale)
    J = output_jacobian(net, theta, x)
    assert J.shape == (7, SIZES[-1], net.n_params)
    assert_allclose(J, autograd.jacobian(lambda t: net.forward(t, x))(theta), rtol=1e-12,
                    atol=1e-13)


@pytest.mark.parametrize("width", [1, 3])
def test_the_linear_bias_free_mlp_is_the_deep_linear_autoencoder(rng, width):
    k = 5
    x, _ = spectrum_data(np.arange(1.0, k + 1), 40, np.random.default_rng(0))
    ae = LinearAutoencoder(x.T @ x / len(x), width)
    net = MLP((k, width, k), "linear", "mse", bias=False)
    assert net.n_params == ae.n_params
    theta = rng.normal(size=(4, net.n_params))  # θ = [vec V₀, vec V₁] in both
    assert_allclose(net.loss(theta, x, x), ae.loss(theta), rtol=1e-12)
    assert_allclose(mlp_gradient(net, theta[0], x, x), ae.gradient(theta[0]), rtol=1e-11,
                    atol=1e-13)
    H = exact_hessian(net, theta[0], x, x)
    assert_allclose(H, ae.hessian(theta[0]), rtol=0, atol=1e-12 * np.abs(H).max())


def test_critical_tools_read_the_bias_free_layout(rng):
    net = MLP((2, 3, 1), "tanh", "mse", bias=False)
    x = rng.normal(size=(20, 2))
    W0 = np.array([[1.0, 1.0, 0.0], [2.0, 2.0, 0.0]])  # units 0, 1 copies, unit 2 constant
    theta = net.layout.pack([(W0, None), (np.array([[1.0], [0.5], [3.0]]), None)])
    # tanh(0) = 0: the constant unit is dead, the copies count once
    assert effective_widths(net.sizes, theta, "tanh", bias=False) == (1,)
    # softplus(0) = log 2 ≠ 0 and no later bias to absorb it: the constant unit stays
    assert effective_widths(net.sizes, theta, "softplus", bias=False) == (2,)
    with pytest.raises(ValueError, match="needs"):
        effective_widths(net.sizes, theta, "tanh")  # the biased layout is longer
    share, max_z = saturation(net, theta, x)
    assert share == 0.0 and max_z == pytest.approx(np.abs(x @ W0).max())
    # the embedding constructions take nets with biases: a bias-free θ is refused, not misread
    with pytest.raises(ValueError, match="needs"):
        split_unit(net.sizes, theta, 1, 0)
    with pytest.raises(ValueError, match="needs"):
        split_curvature(net, theta, x, x[:, :1], 1, 0)
