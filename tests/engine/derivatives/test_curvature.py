"""engine.derivatives.curvature: the structured exact Hessian against autograd and closed forms."""
import autograd
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import engine.derivatives.curvature as curvature
from engine import ACTIVATIONS, MLP, mlp_hessian_autograd, mlp_hvp
from engine.derivatives.curvature import exact_hessian, gauss_newton, hessian_parts, output_jacobian

# 1–3 hidden layers, several input/output widths; k ≥ 2 so that softmax cross-entropy is not
# identically zero (one logit: L ≡ 0)
SIZES = [(1, 6, 2), (3, 4, 5, 2), (2, 3, 4, 2, 3)]


def _problem(rng, sizes, activation, loss, n_samples=40):
    net = MLP(sizes, activation=activation, loss_name=loss)
    # non-zero biases and weights larger than at init: pre-activations spread over the
    # nonlinear range of σ and relu units are active on some samples only
    theta = 1.5 * net.init(rng) + 0.3 * rng.normal(size=net.n_params)
    x = rng.normal(size=(n_samples, sizes[0]))
    if loss == "mse":
        y = rng.normal(size=(n_samples, sizes[-1]))
    else:
        y = np.eye(sizes[-1])[rng.integers(sizes[-1], size=n_samples)]
    return net, theta, x, y


def _rel_frobenius(A, B):
    return np.linalg.norm(A - B) / np.linalg.norm(B)


@pytest.mark.parametrize("sizes", SIZES)
@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_exact_hessian_matches_autograd(rng, activation, loss, sizes):
    net, theta, x, y = _problem(rng, sizes, activation, loss)
    H = exact_hessian(net, theta, x, y)
    # Both routes sum O(N·n) float64 products in different orders: rounding ~ n·ε ≈ 1e-14
    # relative; 1e-12 leaves a margin of 100.
    assert _rel_frobenius(H, mlp_hessian_autograd(net, theta, x, y)) <= 1e-12


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_sinc_shaped_net_matches_autograd(rng, activation):
    net = MLP((1, 5, 5, 1), activation=activation)
    theta = net.init(rng) + 0.1 * rng.normal(size=net.n_params)
    x = np.linspace(-1.0, 1.0, 60)[:, None]
    y = np.sinc(5.0 * x)
    H = exact_hessian(net, theta, x, y)
    assert _rel_frobenius(H, mlp_hessian_autograd(net, theta, x, y)) <= 1e-12  # as above


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_parts_are_symmetric_and_sum_to_hessian(rng, loss):
    net, theta, x, y = _problem(rng, (2, 4, 3, 3), "tanh", loss)
    G, R = hessian_parts(net, theta, x, y)
    H = exact_hessian(net, theta, x, y)
    # exact symmetry is part of the contract (eigvalsh, MINRES, least_squares rely on it)
    assert_array_equal(H, H.T)
    assert_array_equal(G, G.T)
    assert_array_equal(R, R.T)
    # G + R and H add the same terms in another order: a few ulps of ‖H‖
    assert_allclose(G + R, H, rtol=0, atol=1e-14 * np.abs(H).max())
    assert_allclose(gauss_newton(net, theta, x, y), G, rtol=0, atol=1e-14 * np.abs(G).max())


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_gauss_newton_is_jt_lambda_j_from_autograd(rng, loss):
    net, theta, x, y = _problem(rng, (2, 3, 3, 3), "sigmoid", loss, n_samples=30)
    J = autograd.jacobian(lambda t: net.forward(t, x))(theta)  # (N, k, n)
    n_samples, k, _ = J.shape
    if loss == "mse":
        Lam = np.broadcast_to(np.eye(k), (n_samples, k, k)) / n_samples
    else:
        f = net.forward(theta, x)
        p = np.exp(f - f.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        Lam = (np.einsum("nk,kl->nkl", p, np.eye(k)) - p[:, :, None] * p[:, None, :]) / n_samples
    G_ref = np.einsum("nkp,nkl,nlq->pq", J, Lam, J)
    # independent routes through the same O(N·k·n²) sums: rounding ~ 1e-15 relative
    assert _rel_frobenius(gauss_newton(net, theta, x, y), G_ref) <= 1e-13
    assert_allclose(output_jacobian(net, theta, x), J, rtol=1e-13, atol=1e-13 * np.abs(J).max())


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_gauss_newton_is_positive_semidefinite(rng, loss):
    net, theta, x, y = _problem(rng, (2, 5, 4, 3), "softplus", loss)
    G = gauss_newton(net, theta, x, y)
    lam = np.linalg.eigvalsh(G)
    # eigenvalues of a PSD matrix come out ≥ −n·ε·‖G‖ in floating point
    assert lam.min() >= -len(lam) * np.finfo(float).eps * lam.max()


def test_linear_model_closed_form(rng):
    # no hidden layer, one output: ∇²L = (1/N) X̃ᵀX̃ with X̃ = [X 1], R = 0
    net = MLP((3, 1), activation="tanh")
    theta = rng.normal(size=net.n_params)
    x = rng.normal(size=(25, 3))
    y = rng.normal(size=(25, 1))
    X = np.hstack([x, np.ones((25, 1))])
    G, R = hessian_parts(net, theta, x, y)
    assert_allclose(G, X.T @ X / 25, rtol=1e-14)  # the same products, other summation order
    assert not R.any()


@pytest.mark.parametrize("activation", ["tanh", "softplus"])
def test_hvp_agrees_with_exact_hessian(rng, activation):
    # engine.derivatives.autodiff.mlp_hvp never forms H (the R-operator): the route for big nets
    net, theta, x, y = _problem(rng, (2, 6, 5, 3), activation, "cross_entropy")
    V = rng.normal(size=(3, net.n_params))
    H = exact_hessian(net, theta, x, y)
    for v in V:
        # H v sums n terms of size ‖H‖·|v|: rounding ~ n·ε relative to ‖H‖‖v‖
        assert_allclose(mlp_hvp(net, theta, x, y, v), H @ v, rtol=0,
                        atol=1e-12 * np.linalg.norm(H, 2) * np.linalg.norm(v))


def test_chunked_equals_unchunked(rng, monkeypatch):
    net, theta, x, y = _problem(rng, (2, 4, 3, 2), "tanh", "cross_entropy", n_samples=53)
    whole = exact_hessian(net, theta, x, y)
    # force chunks of a few samples (53 is prime: the last chunk is shorter)
    monkeypatch.setattr(curvature, "_CHUNK_ENTRIES", 4 * net.sizes[-1] * net.n_params)
    chunked = exact_hessian(net, theta, x, y)
    G_chunked = gauss_newton(net, theta, x, y)
    # only the order of the sums over samples changes: rounding ~ N·ε relative
    assert _rel_frobenius(chunked, whole) <= 1e-13
    assert_array_equal(chunked, chunked.T)
    assert_array_equal(G_chunked, G_chunked.T)


def test_saturated_units_stay_finite(rng):
    # pre-activations of ±1e3: σ' and σ'' underflow to 0, nothing may become inf or nan
    net = MLP((1, 3, 1), activation="tanh")
    theta = net.init(rng) * 1e3
    x = np.linspace(-1.0, 1.0, 20)[:, None]
    y = np.sin(x)
    H = exact_hessian(net, theta, x, y)
    assert np.all(np.isfinite(H))
    assert _rel_frobenius(H, mlp_hessian_autograd(net, theta, x, y)) <= 1e-12  # as in the main test


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda net, t, x, y: exact_hessian(net, np.stack([t, t]), x, y), "one parameter vector"),
        (lambda net, t, x, y: gauss_newton(net, t[:-1], x, y), "theta"),
        (lambda net, t, x, y: hessian_parts(net, t, x[:, :1], y), "x has shape"),
        (lambda net, t, x, y: exact_hessian(net, t, x, y[:-1]), "y has shape"),
        (lambda net, t, x, y: output_jacobian(net, t, x[0]), "x has shape"),
    ],
)
def test_bad_input_names_the_argument(rng, call, match):
    net, theta, x, y = _problem(rng, (2, 3, 2), "tanh", "mse", n_samples=5)
    with pytest.raises(ValueError, match=match):
        call(net, theta, x, y)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_network_without_hidden_layers(rng, activation):
    # sizes (d, k): f = x W + b for any activation (it acts on hidden layers only)
    net = MLP((3, 4), activation=activation)
    theta = rng.normal(size=net.n_params)
    x, y = rng.normal(size=(25, 3)), rng.normal(size=(25, 4))
    X = np.hstack([x, np.ones((25, 1))])
    # θ = [vec(W), b] row-major: entry (a, j) of W̃ = [W; b] sits at a·k + j, H = (X̃ᵀX̃/N) ⊗ I_k
    assert_allclose(exact_hessian(net, theta, x, y), np.kron(X.T @ X / 25, np.eye(4)),
                    rtol=1e-14, atol=1e-16)  # the same products in another order; zeros exact
    ce = MLP((3, 4), activation=activation, loss_name="cross_entropy")
    labels = np.eye(4)[rng.integers(0, 4, 25)]
    # as the main test: two summation orders, rounding ~ n·ε
    assert _rel_frobenius(exact_hessian(ce, theta, x, labels),
                          mlp_hessian_autograd(ce, theta, x, labels)) <= 1e-12


@pytest.mark.parametrize("n", [1, 5, 97, 128, 129, 300])
def test_mirror_upper_copies_the_upper_triangle_in_every_block(n, rng):
    from engine.derivatives.curvature import _mirror_upper

    A = rng.random((n, n))
    G = A.copy()
    _mirror_upper(G)
    assert_array_equal(G, np.triu(A) + np.triu(A, 1).T)
