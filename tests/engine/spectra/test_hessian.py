"""The Hessian object against the functions it wraps, and Hutch++ against known traces."""
import numpy as np
import pytest

from engine import MLP
from engine.derivatives.curvature import exact_hessian
from engine.spectra.facade import Hessian
from engine.spectra.lanczos import hutchinson_trace, hutchpp_trace


@pytest.fixture(scope="module")
def net_problem():
    x = np.linspace(-1.0, 1.0, 60)[:, None]
    y = np.sinc(5.0 * x)
    net = MLP((1, 6, 6, 1), activation="tanh", loss_name="mse")
    theta = net.init(np.random.default_rng(0))
    return net, theta, x, y, exact_hessian(net, theta, x, y)


def test_hessian_of_an_mlp_matches_the_functions(net_problem):
    net, theta, x, y, H = net_problem
    h = Hessian(net, theta, data=(x, y))
    assert repr(h) == f"Hessian(MLP 1-6-6-1 tanh, n={net.n_params}, at ‖θ‖ = " \
                      f"{np.linalg.norm(theta):.4g})"
    np.testing.assert_allclose(h.matrix(), H, rtol=0, atol=1e-12)
    V = np.random.default_rng(1).standard_normal((net.n_params, 3))
    np.testing.assert_allclose(h @ V, H @ V, rtol=0, atol=1e-12)
    np.testing.assert_allclose(h.hvp(V[:, 0]), H @ V[:, 0], rtol=0, atol=1e-12)
    lam = np.linalg.eigvalsh(H)
    np.testing.assert_allclose(np.asarray(h.eigenvalues(3)), lam[::-1][:3], rtol=1e-9)
    np.testing.assert_allclose(np.asarray(h.eigenvalues(2, "SA")), lam[:2], atol=1e-9)
    estimate, error = h.trace()
    assert abs(estimate - np.trace(H)) <= 5 * error  # 5 standard errors: fails once in ~10⁶
    assert h.trace(rng=3) == h.trace(rng=np.random.default_rng(3))  # the seed decides


def test_hessian_of_a_loss_function(net_problem):
    net, theta, x, y, H = net_problem
    h = Hessian(lambda t: net.loss(t, x, y), theta)
    np.testing.assert_allclose(h.matrix(), H, rtol=0, atol=1e-12)
    assert h.route.startswith("autograd")


def test_hessian_refuses_what_it_cannot_use(net_problem):
    net, theta, x, y, _ = net_problem
    with pytest.raises(ValueError, match="data"):
        Hessian(net, theta)
    with pytest.raises(ValueError, match="theta"):
        Hessian(lambda t: net.loss(t, x, y))
    with pytest.raises(ValueError, match="only for an MLP"):
        Hessian(lambda t: net.loss(t, x, y), theta, data=(x, y))
    h = Hessian(net, theta, data=(x, y), max_dense=10)
    with pytest.raises(ValueError, match="max_dense"):
        h.matrix()
    with pytest.raises(ValueError, match="hutch\\+\\+"):
        h.trace("exact")


def test_hutchpp_is_exact_when_its_sketch_spans_the_space():
    A = np.random.default_rng(0).standard_normal((12, 12))
    H = A + A.T
    estimate, error = hutchpp_trace(H, 36, rng=np.random.default_rng(1))
    assert estimate == pytest.approx(np.trace(H), rel=1e-12) and error == 0.0


def test_hutchpp_beats_hutchinson_on_a_decaying_spectrum():
    """λ_i = 1/i² (a net's Hessian decays like this): with 60 products the sketch of 20 takes
    the top 20 exactly, the rest has trace Σ_{i>20} 1/i² ≈ 0.049 and a tiny variance. Over 50
    seeds the RMS errors differ by far more than their sampling error."""
    n = 200
    Q, _ = np.linalg.qr(np.random.default_rng(0).standard_normal((n, n)))
    H = (Q / np.arange(1, n + 1) ** 2) @ Q.T
    exact = np.trace(H)
    pp = [hutchpp_trace(H, 60, rng=np.random.default_rng(s))[0] for s in range(50)]
    hut = [hutchinson_trace(H, 60, rng=np.random.default_rng(s))[0] for s in range(50)]
    rms = lambda e: np.sqrt(np.mean((np.array(e) - exact) ** 2))  # noqa: E731
    assert rms(pp) <= rms(hut) / 10


def test_hutchpp_refuses_too_few_products():
    with pytest.raises(ValueError, match="n_products"):
        hutchpp_trace(np.eye(4), 5, rng=np.random.default_rng(0))


@pytest.mark.parametrize("diagonal, kind", [
    ((1.0, 2.0), "minimum"), ((-1.0, -2.0), "maximum"), ((1.0, -2.0, -3.0), "saddle of index 2"),
    ((1.0, -2.0, -3.0, 0.0), "saddle of index 2 (1 flat)"), ((1.0, 0.0), "minimum (1 flat)")])
def test_classify_names_the_point_with_its_index(diagonal, kind):
    from engine import classify
    n = len(diagonal)
    assert classify(np.zeros(n), np.zeros(n), np.diag(diagonal)).kind == kind
    # not critical: the label, no index
    assert classify(np.zeros(n), np.ones(n), np.diag(diagonal)).kind != kind
