"""engine.landscape.generalization: sensitivity against finite differences and a closed form,
ε-sharpness
against closed-form maxima, λ_max against eigh, the interpolation against one-θ evaluations."""
import itertools

import numpy as np
import pytest
from numpy.testing import assert_allclose

import engine.landscape.generalization as gen
from engine import MLP, Dataset, evaluate
from engine.derivatives.curvature import exact_hessian
from engine.landscape.generalization import (
    box_sharpness,
    epsilon_sharpness,
    input_jacobian,
    interpolation,
    sensitivity,
    top_eigenvalue,
)


def _softmax(f):
    e = np.exp(f - f.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@pytest.fixture
def classifier(rng):
    net = MLP((3, 5, 4), activation="tanh", loss_name="cross_entropy")
    theta = 1.5 * net.init(rng) + 0.1 * rng.normal(size=net.n_params)
    x = rng.normal(size=(30, 3))
    y = np.eye(4)[rng.integers(4, size=30)]
    return net, theta, x, y


def test_jacobian_matches_central_differences(classifier):
    net, theta, x, _ = classifier
    h = 1e-5
    p = lambda inputs: _softmax(net.forward(theta, inputs))  # noqa: E731
    fd = np.stack([(p(x + h * e) - p(x - h * e)) / (2 * h) for e in np.eye(3)], axis=-1)
    # truncation ~h²·|p'''| ≈ 1e-10, rounding ~ε_mach/h ≈ 1e-11: 1e-8 leaves a wide margin
    assert_allclose(input_jacobian(net, theta, x), fd, rtol=0, atol=1e-8)


def test_linear_softmax_closed_form(rng):
    # p = softmax(xW + b): J = (diag p − ppᵀ) Wᵀ for every sample
    net = MLP((6, 3), loss_name="cross_entropy")
    theta = rng.normal(size=net.n_params)
    W = net.layout.unpack(theta)[0][0]
    x = rng.normal(size=(40, 6))
    p = _softmax(net.forward(theta, x))
    expected = np.einsum("nij,jd->nid", np.einsum("ni,ij->nij", p, np.eye(3))
                         - p[:, :, None] * p[:, None, :], W.T)
    assert_allclose(input_jacobian(net, theta, x), expected, rtol=1e-12, atol=1e-15)
    mean, norms = sensitivity(net, theta, x)
    assert_allclose(norms, np.linalg.norm(expected, axis=(1, 2)), rtol=1e-12)
    assert mean == pytest.approx(norms.mean(), rel=1e-15)


def test_sensitivity_is_not_the_loss_gradient(classifier):
    # it depends on x only: relabelling the data leaves it unchanged, the loss does not
    net, theta, x, y = classifier
    assert sensitivity(net, theta, x)[0] > 0
    with pytest.raises(ValueError, match="cross_entropy"):
        sensitivity(MLP((3, 5, 4), loss_name="mse"), theta, x)
    with pytest.raises(ValueError, match="one vector"):
        sensitivity(net, np.stack([theta, theta]), x)


def test_box_sharpness_of_a_separable_quadratic(rng):
    # L(θ) = ½ Σ aᵢθᵢ²: on convex coordinates (a > 0, |θᵢ| > rᵢ so every start shares θᵢ's sign)
    # the maximum is at θᵢ + sign(θᵢ)rᵢ; on concave ones at 0 if |θᵢ| ≤ rᵢ, else the near end
    a = np.array([2.0, 0.5, -1.0, -3.0, -0.7])
    theta = np.array([0.8, -1.2, 0.004, 0.9, -0.02])
    eps = 0.01
    r = eps * (np.abs(theta) + 1)
    best = np.where(a > 0, theta + np.sign(theta) * r,
                    np.where(np.abs(theta) <= r, 0.0, theta - np.sign(theta) * r))
    loss, max_loss = 0.5 * a @ theta**2, 0.5 * a @ best**2
    result = box_sharpness(lambda t: (0.5 * a @ t**2, a * t), theta, eps, n_starts=3, rng=rng,
                           maxiter=100)
    assert result.loss == pytest.approx(loss, rel=1e-15)
    assert result.max_loss == pytest.approx(max_loss, rel=1e-12)
    assert result.value == pytest.approx(100 * (max_loss - loss) / (1 + loss), rel=1e-9)
    assert np.all(np.abs(result.delta) <= r) and result.n_evaluations > 3


def test_epsilon_sharpness_at_a_least_squares_minimum(rng):
    # at the minimizer θ* of a linear model's MSE, L(θ* + δ) = L* + ½δᵀAδ with
    # A = (1/N)[X 1]ᵀ[X 1]: a convex quadratic, largest at one of the 2³ corners of the box
    net = MLP((2, 1), loss_name="mse")
    x = rng.normal(size=(50, 2))
    y = x @ np.array([[1.5], [-0.5]]) + 0.3 + 0.2 * rng.normal(size=(50, 1))
    X1 = np.column_stack([x, np.ones(50)])
    theta = np.linalg.lstsq(X1, y[:, 0], rcond=None)[0]  # layout: W (2×1) then b
    A = X1.T @ X1 / 50
    eps = 1e-2
    r = eps * (np.abs(theta) + 1)
    corners = np.array(list(itertools.product((-1, 1), repeat=3))) * r
    loss = float(net.loss(theta, x, y))
    max_loss = loss + 0.5 * max(c @ A @ c for c in corners)
    result = epsilon_sharpness(net, theta, x, y, eps, n_starts=8, rng=rng, maxiter=50)
    assert result.max_loss == pytest.approx(max_loss, rel=1e-10)
    assert result.value == pytest.approx(100 * (max_loss - loss) / (1 + loss), rel=1e-7)


def test_sharpness_refuses_bad_input():
    fun = lambda t: (t @ t, 2 * t)  # noqa: E731
    with pytest.raises(ValueError, match="epsilon"):
        box_sharpness(fun, np.ones(3), 0.0)
    with pytest.raises(ValueError, match="rng"):
        box_sharpness(fun, np.ones(3), 0.1, n_starts=2)


def test_top_eigenvalue_matches_eigh(classifier):
    net, theta, x, y = classifier
    lam = np.linalg.eigvalsh(exact_hessian(net, theta, x, y))
    assert top_eigenvalue(net, theta, x, y, tol=0) == pytest.approx(lam[-1], rel=1e-10)


@pytest.mark.parametrize("block_entries", [2**22, 100])
def test_interpolation_matches_one_theta_evaluations(classifier, rng, monkeypatch, block_entries):
    net, theta, x, y = classifier
    monkeypatch.setattr(gen, "_BATCH_ENTRIES", block_entries)  # 100: one θ per call
    data = Dataset("toy", "classification", x, y, x[:10] + 0.1, y[:10], 4)
    other = net.init(rng)
    alphas = np.linspace(-1, 2, 7)
    line = interpolation(net, theta, other, alphas, data)
    for i, alpha in enumerate(alphas):
        expected = evaluate(net, (1 - alpha) * theta + alpha * other, data)
        for key, value in expected.items():
            assert line[key][i] == pytest.approx(value, rel=1e-12, abs=1e-15)
    assert_allclose(line["alpha"], alphas)
    with pytest.raises(ValueError, match="1-D"):
        interpolation(net, theta, other, np.zeros((2, 2)), data)
