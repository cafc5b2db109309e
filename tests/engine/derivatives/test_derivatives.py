"""Derivatives of the engine's losses against finite differences and closed forms."""
import autograd.numpy as anp
import numpy as np
import pytest
from numpy.testing import assert_allclose

from engine import (
    ACTIVATIONS,
    MLP,
    grad_norm,
    mlp_gradient,
    mlp_hessian_autograd,
    mlp_hvp,
    mlp_value_and_gradient,
)
from engine.derivatives.autodiff import (
    gradient,
    hessian_fn,
    hvp_at,
    hvp_fn,
    mlp_hvp_at,
)
from engine.nets.losses import cross_entropy

ARCHITECTURES = [(2, 5, 3), (3, 4, 4, 2), (1, 3, 3, 3, 1)]


def problem(sizes, activation, loss_name, rng, n_samples=20):
    net = MLP(sizes, activation=activation, loss_name=loss_name)
    x = rng.normal(size=(n_samples, sizes[0]))
    if loss_name == "mse":
        y = rng.normal(size=(n_samples, sizes[-1]))
    else:
        y = np.eye(sizes[-1])[rng.integers(sizes[-1], size=n_samples)]
    return net, net.init(rng, "glorot") + 0.1 * rng.normal(size=net.n_params), x, y


def central_differences(f, theta, h):
    """∂f/∂θᵢ ≈ (f(θ + h eᵢ) − f(θ − h eᵢ)) / 2h, all 2n points in one batched call of f."""
    steps = h * np.eye(theta.size)
    values = f(np.concatenate([theta + steps, theta - steps]))
    return (values[: theta.size] - values[theta.size:]) / (2 * h)


@pytest.mark.parametrize("sizes", ARCHITECTURES)
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("loss_name", ["mse", "cross_entropy"])
def test_gradient_matches_central_differences(sizes, activation, loss_name, rng):
    net, theta, x, y = problem(sizes, activation, loss_name, rng)
    fd = central_differences(lambda t: net.loss(t, x, y), theta, h=1e-5)
    # truncation error ~h²·|L'''| ≈ 1e-10 and rounding ~ε·|L|/h ≈ 1e-11, against gradient entries
    # of order 1e-2…1: rtol 1e-6 leaves a margin of 10⁴, atol for entries exactly zero (relu).
    assert_allclose(mlp_gradient(net, theta, x, y), fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "softplus"])
@pytest.mark.parametrize("loss_name", ["mse", "cross_entropy"])
def test_hessian_symmetric_and_matches_differences_of_the_gradient(activation, loss_name, rng):
    net, theta, x, y = problem((2, 4, 3, 2), activation, loss_name, rng)
    H = mlp_hessian_autograd(net, theta, x, y)
    # autograd builds H row by row from reverse passes: symmetric up to rounding, ~ε·‖H‖
    assert_allclose(H, H.T, rtol=0, atol=1e-12 * np.abs(H).max())
    h = 1e-5
    steps = h * np.eye(theta.size)
    g = mlp_gradient(net, np.concatenate([theta + steps, theta - steps]), x, y)
    fd = (g[: theta.size] - g[theta.size:]) / (2 * h)
    # central differences of ∇L: truncation h²·|L''''| ~ 1e-10, rounding ε·|∇L|/h ~ 1e-11
    assert_allclose(H, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("sizes", [(3, 2)] + ARCHITECTURES)  # no hidden layer, then 1–3
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("loss_name", ["mse", "cross_entropy"])
def test_r_operator_hvp_equals_autograd_hessian_times_vector(sizes, activation, loss_name, rng):
    net, theta, x, y = problem(sizes, activation, loss_name, rng)
    V = rng.normal(size=(3, net.n_params))
    expected = V @ mlp_hessian_autograd(net, theta, x, y)
    # two exact routes (R-operator in closed form, autograd reverse-over-reverse) that differ
    # only in the order of floating-point sums: ~n·ε relative to the largest entry
    scale = np.abs(expected).max()
    assert_allclose(mlp_hvp(net, theta, x, y, V[0]), expected[0], rtol=0, atol=1e-12 * scale)
    assert_allclose(mlp_hvp(net, theta, x, y, V), expected, rtol=0, atol=1e-12 * scale)


def test_r_operator_broadcasts_batched_theta_against_v(rng):
    net, theta, x, y = problem((2, 4, 3, 2), "sigmoid", "cross_entropy", rng)
    thetas = theta + 0.2 * rng.normal(size=(2, net.n_params))
    V = rng.normal(size=(2, net.n_params))
    apply = mlp_hvp_at(net, thetas, x, y)
    for b in range(2):
        H = mlp_hessian_autograd(net, thetas[b], x, y)
        atol = 1e-12 * np.abs(H).max() * np.abs(V).sum(axis=1).max()
        assert_allclose(apply(V)[b], H @ V[b], rtol=0, atol=atol)  # row b: H(θ_b) v_b
        assert_allclose(apply(V[0])[b], H @ V[0], rtol=0, atol=atol)  # one v for every θ_b


def test_hvp_of_a_wrong_length_v_is_a_clear_error(rng):
    net, theta, x, y = problem((2, 3, 1), "tanh", "mse", rng)
    with pytest.raises(ValueError,
                       match=r"v has shape \(12,\); an HVP at this θ needs \(\.\.\., 13\)"):
        mlp_hvp(net, theta, x, y, np.ones(12))


def test_mlp_entry_points_cast_to_float64(rng):
    net, theta, x, y = problem((2, 3, 1), "tanh", "mse", rng)
    v = np.ones(net.n_params, dtype=np.float32)
    out = mlp_hvp(net, list(theta), x.astype(np.float32), y, v)
    assert out.dtype == np.float64
    # the same float64 numbers, whichever type came in
    assert_allclose(out, mlp_hvp(net, theta, x.astype(np.float32).astype(np.float64), y,
                             v.astype(np.float64)), rtol=0, atol=0)


def rosenbrock(theta):
    """A user's own loss: Σ 100(θ_{i+1} − θᵢ²)² + (1 − θᵢ)², batched over leading axes."""
    a, b = theta[..., :-1], theta[..., 1:]
    return anp.sum(100.0 * (b - a * a) ** 2 + (1.0 - a) ** 2, axis=-1)


def rosenbrock_hessian(theta):
    """Its closed form, tridiagonal: ∂²/∂θᵢ² = 2 − 400(θᵢ₊₁ − 3θᵢ²) (i < n) + 200 (i > 1),
    ∂²/∂θᵢ∂θᵢ₊₁ = −400θᵢ."""
    diag = np.zeros(theta.size)
    diag[:-1] += 2.0 - 400.0 * (theta[1:] - 3.0 * theta[:-1] ** 2)
    diag[1:] += 200.0
    off = -400.0 * theta[:-1]
    return np.diag(diag) + np.diag(off, 1) + np.diag(off, -1)


def test_function_first_derivatives_match_closed_forms(rng):
    theta = rng.normal(size=6)
    H = rosenbrock_hessian(theta)
    # autograd is exact: it differs from the closed form only by rounding, ~ε·|entries| ≤ 1e-12
    assert_allclose(hessian_fn(rosenbrock)(theta), H, rtol=1e-13, atol=1e-12)
    assert_allclose(hessian_fn(rosenbrock)(list(theta)), H, rtol=1e-13, atol=1e-12)
    v = rng.normal(size=6)
    assert_allclose(hvp_fn(rosenbrock)(theta, v), H @ v, rtol=1e-13, atol=1e-11)
    assert_allclose(hvp_at(rosenbrock, theta)(v), H @ v, rtol=1e-13, atol=1e-11)
    fd = central_differences(rosenbrock, theta, h=1e-6)
    # truncation h²·|L'''| ~ 1e-9, rounding ε·|L|/h ~ 1e-8, against entries of order 10²
    assert_allclose(gradient(rosenbrock)(theta), fd, rtol=1e-7, atol=1e-6)


def test_function_first_derivatives_take_a_batch_of_theta(rng):
    thetas = rng.normal(size=(3, 5))
    V = rng.normal(size=(3, 5))
    g = gradient(rosenbrock)(thetas)
    Hv = hvp_fn(rosenbrock)(thetas, V)
    for b in range(3):
        # one reverse pass over Σ_b L(θ_b) gives each row (sums possibly in another order)
        assert_allclose(g[b], gradient(rosenbrock)(thetas[b]), rtol=1e-14)
        assert_allclose(Hv[b], rosenbrock_hessian(thetas[b]) @ V[b], rtol=1e-13, atol=1e-11)
    # one v for every θ_b
    assert_allclose(hvp_fn(rosenbrock)(thetas, V[0])[2], rosenbrock_hessian(thetas[2]) @ V[0],
                    rtol=1e-13, atol=1e-11)


def test_function_first_on_the_mlp_loss_agrees_with_the_mlp_layer(rng):
    net, theta, x, y = problem((2, 4, 2), "softplus", "cross_entropy", rng)
    loss = lambda t: net.loss(t, x, y)  # noqa: E731
    v = rng.normal(size=net.n_params)
    # the same pass
    assert_allclose(gradient(loss)(theta), mlp_gradient(net, theta, x, y), rtol=0, atol=0)
    # the R-operator against autograd's reverse-over-reverse: rounding only
    assert_allclose(hvp_fn(loss)(theta, v), mlp_hvp(net, theta, x, y, v), rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: gradient("loss"), "not a function of θ"),
        (lambda: hvp_fn(rosenbrock)(np.ones(4), np.ones(3)), r"v has shape \(3,\)"),
        (lambda: hvp_fn(rosenbrock)(np.ones(4), np.ones((2, 4))), "one v per θ"),
        (lambda: hessian_fn(rosenbrock)(np.ones((2, 4))), "one parameter vector"),
        (lambda: hvp_fn(rosenbrock)(np.ones(0), np.ones(0)), "theta has shape"),
        (lambda: gradient(rosenbrock)("abc"), "theta is not an array of numbers"),
        # a loss of (N, 1) residuals summed as rᵀr returns shape (1, 1): refused, not summed
        (lambda: gradient(lambda t: anp.reshape(t, (-1, 1)).T @ anp.reshape(t, (-1, 1)))(
            np.ones(3)), r"loss returned shape \(1, 1\) for theta of shape \(3,\)"),
        (lambda: hvp_at(rosenbrock, np.ones(4))(np.ones(5)), r"v has shape \(5,\)"),
    ],
)
def test_function_first_bad_input_is_a_clear_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_linear_model_mse_hessian_is_closed_form(rng):
    # L = 1/(2N)‖[X 1]w − y‖²  ⇒  H = (1/N)[X 1]ᵀ[X 1], independent of θ.
    net = MLP((3, 1), activation="linear", loss_name="mse")
    x, y = rng.normal(size=(40, 3)), rng.normal(size=(40, 1))
    A = np.hstack([x, np.ones((40, 1))])
    # H is exact up to rounding in the products: ε·‖A‖²
    assert_allclose(mlp_hessian_autograd(net, rng.normal(size=4), x, y), A.T @ A / 40, rtol=1e-12)


def test_cross_entropy_is_finite_and_exact_for_huge_logits():
    logits = np.array([[1e3, -1e3, 0.0], [-1e3, -1e3, 1e3]])
    y = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    # by hand: row 1 = logsumexp − (−1e3) = 1e3 + log(1 + e^−1000 + e^−2000) + 1e3 = 2000 (+ 0 in
    # float64); row 2 = 1e3 + log(1 + 2e^−2000) − 1e3 = 0. Mean = 1000.
    expected = np.mean([2000.0 + np.log1p(np.exp(-1000.0)), 0.0])
    value = cross_entropy(logits, y)
    assert np.isfinite(value)
    # longdouble cross-check of the same formula
    ld = np.asarray(logits, dtype=np.longdouble)
    m = ld.max(axis=1, keepdims=True)
    ref = np.mean(m[:, 0] + np.log(np.exp(ld - m).sum(axis=1)) - (y * ld).sum(axis=1))
    assert_allclose(value, expected, rtol=1e-15)  # both exact to the last bit
    assert_allclose(value, float(ref), rtol=1e-15)


@pytest.mark.parametrize("p", [1, 1.5, 2, 3, 7, np.inf, "inf"])
def test_grad_norm_matches_numpy(p, rng):
    g = rng.normal(size=(4, 50)) * np.logspace(-8, 3, 50)
    order = np.inf if p == "inf" else p
    expected = [np.linalg.norm(row, order) for row in g]
    assert_allclose(grad_norm(g, p), expected, rtol=1e-13)  # same sum, different order/scaling


def test_grad_norm_large_p_does_not_overflow():
    g = np.array([1e300, 1e300])
    # (2·(1e300)^p)^(1/p) = 1e300·2^(1/p): finite, where the naive sum overflows
    assert_allclose(grad_norm(g, 10), 1e300 * 2 ** 0.1, rtol=1e-14)


@pytest.mark.parametrize("bad", [0.5, 0, -1, "two", None])
def test_grad_norm_rejects_bad_order(bad):
    with pytest.raises(ValueError, match="norm order"):
        grad_norm(np.ones(3), bad)


@pytest.mark.parametrize("loss_name", ["mse", "cross_entropy"])
def test_batched_theta_equals_separate_calls(loss_name, rng):
    net, theta, x, y = problem((3, 5, 4, 2), "tanh", loss_name, rng)
    thetas = theta + 0.3 * rng.normal(size=(2, 3, net.n_params))
    losses, grads = mlp_value_and_gradient(net, thetas, x, y)
    assert losses.shape == (2, 3) and grads.shape == (2, 3, net.n_params)
    for i in range(2):
        for j in range(3):
            # batched matmuls may sum in another order: agreement to a few ulps
            assert_allclose(losses[i, j], net.loss(thetas[i, j], x, y), rtol=1e-13)
            assert_allclose(grads[i, j], mlp_gradient(net, thetas[i, j], x, y), rtol=1e-11,
                            atol=1e-15)
    assert_allclose(mlp_hvp(net, thetas[0, :2], x, y, np.ones(net.n_params))[1],
                    mlp_hvp(net, thetas[0, 1], x, y, np.ones(net.n_params)), rtol=1e-11, atol=1e-15)


def test_wrong_theta_length_is_a_clear_error(rng):
    net = MLP((1, 4, 1))
    with pytest.raises(ValueError, match=r"needs \(\.\.\., 13\)"):
        mlp_gradient(net, np.zeros(12), np.zeros((3, 1)), np.zeros((3, 1)))
