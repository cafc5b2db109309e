"""Adapters: autograd, PyTorch and JAX models give the same L, ∇L, Hv and ∇²L as the engine's MLP
(≤ 1e-10: float64 rounding of a few hundred operations on O(1) numbers is ~1e-14), and every tool
takes the FlatLoss they build. The torch and jax tests run against the real libraries and skip,
saying why, when the optional extra is absent."""
import numpy as np
import pytest

from engine import MLP, classify, find_critical, spectrum
from engine.adapters import FlatLoss, from_autograd, takes_stacks
from engine.derivatives.autodiff import mlp_gradient
from engine.derivatives.curvature import exact_hessian
from engine.landscape.surface import plane
from engine.spectra.facade import Hessian
from engine.spectra.lanczos import hvp_operator

SIZES = (1, 5, 4, 1)
TOL = 1e-10


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(3)
    x = np.linspace(-1.0, 1.0, 40)[:, None]
    y = np.sinc(5.0 * x)
    net = MLP(SIZES, activation="tanh", loss_name="mse")
    theta = net.init(rng)
    return net, theta, x, y, exact_hessian(net, theta, x, y)


def _check_route(f: FlatLoss, theta, net, x, y, H, perm=None):
    """f agrees with the MLP at θ; perm maps the engine's θ to f's layout (torch: Wᵀ)."""
    p = np.arange(net.n_params) if perm is None else perm
    t = theta[p]
    V = np.random.default_rng(0).standard_normal((3, net.n_params))
    assert f.n_params == net.n_params
    assert abs(f.loss(t) - float(net.loss(theta, x, y))) <= TOL
    np.testing.assert_allclose(f.gradient(t), mlp_gradient(net, theta, x, y)[p], rtol=0, atol=TOL)
    np.testing.assert_allclose(f.hessian(t), H[np.ix_(p, p)], rtol=0, atol=TOL)
    np.testing.assert_allclose(f.hvp_at(t)(V[:, p]), (V @ H)[:, p], rtol=0, atol=TOL)
    np.testing.assert_allclose(f.hvp(t, V[0, p]), (H @ V[0])[p], rtol=0, atol=TOL)
    np.testing.assert_allclose(f.loss_batched(V[:, p]), net.loss(V, x, y), rtol=0, atol=TOL)


def _check_tools(f: FlatLoss, theta):
    """Every tool takes f: the operator, Hessian, eigenpairs, trace, density, the finder,
    classify, the surface plane."""
    H = f.hessian(theta)
    lam = np.linalg.eigvalsh(H)
    op = hvp_operator(f, theta)
    np.testing.assert_allclose(op.matmat(np.eye(f.n_params)), H, rtol=0, atol=TOL)
    h = Hessian(f, theta)
    assert f.route in repr(h) and len(repr(h)) < 100
    np.testing.assert_allclose(np.asarray(h.eigenvalues(2)), lam[::-1][:2], rtol=1e-8)
    # Hutch++ with 3k ≥ 3n products spans ℝⁿ: exact up to rounding
    assert h.trace("hutch++", 3 * f.n_params)[0] == pytest.approx(np.trace(H), rel=1e-10)
    _, density, nodes, weights = h.density(n_steps=f.n_params, n_probes=2)
    assert np.all(density >= 0) and weights.sum() == pytest.approx(1.0)
    found = find_critical(theta, f.gradient, f.hessian, max_iter=10)
    point = classify(found.theta, f.gradient(found.theta), f.hessian(found.theta))
    assert point.grad_sq <= float(f.gradient(theta) @ f.gradient(theta))
    d1, d2 = np.eye(f.n_params)[:2]
    surface = plane(f.loss_batched, theta, d1, d2, np.array([0.0, 0.1]), np.array([0.0]))
    assert surface[0, 0] == pytest.approx(f.loss(theta), abs=TOL)


def test_autograd_route_matches_the_mlp(problem):
    net, theta, x, y, H = problem
    for batched in (True, False):
        f = from_autograd(lambda t: net.loss(t, x, y), theta, batched=batched)
        _check_route(f, theta, net, x, y, H)
    _check_tools(from_autograd(lambda t: net.loss(t, x, y), theta), theta)


def test_takes_stacks_tells_batched_losses_apart(problem):
    net, theta, x, y, _ = problem
    assert takes_stacks(lambda t: net.loss(t, x, y), theta)
    assert not takes_stacks(lambda t: net.loss(t, x, y) + t[0] ** 2, theta)  # t[0]: a row
    assert not takes_stacks(lambda t: float(np.sum(t**2)), theta)


def test_adapters_refuse_bad_input(problem):
    net, theta, x, y, _ = problem
    with pytest.raises(ValueError, match="loss"):
        from_autograd("loss", theta)
    with pytest.raises(ValueError, match="theta0"):
        from_autograd(lambda t: net.loss(t, x, y), theta[None])
    f = from_autograd(lambda t: net.loss(t, x, y), theta)
    with pytest.raises(ValueError, match=f"\\({net.n_params},\\)"):
        f.gradient(theta[:-1])
    with pytest.raises(ValueError, match="no other parameters"):
        f.to_parameters(theta)


def _torch_model(torch, net, theta):
    linears = [torch.nn.Linear(m, n) for m, n in zip(net.sizes[:-1], net.sizes[1:], strict=True)]
    layers = [linears[0]]
    for lin in linears[1:]:
        layers += [torch.nn.Tanh(), lin]
    model = torch.nn.Sequential(*layers)
    with torch.no_grad():
        for (W, b), lin in zip(net.layout.unpack(theta), linears, strict=True):
            lin.weight.copy_(torch.from_numpy(np.array(W).T))
            lin.bias.copy_(torch.from_numpy(np.array(b)))
    return model


def _torch_permutation(torch, f, net):
    """perm with θ_torch = θ_engine[perm]: the engine's indices through torch's layout."""
    index = np.arange(net.n_params, dtype=np.float64)
    params = {}
    for layer, (W, b) in enumerate(net.layout.unpack(index)):
        params[f"{2 * layer}.weight"] = torch.from_numpy(np.array(W).T.copy())
        params[f"{2 * layer}.bias"] = torch.from_numpy(np.array(b))
    return f.from_parameters(params).astype(int)


def test_torch_route_matches_the_mlp(problem):
    torch = pytest.importorskip("torch", reason="the optional extra `torch` is not installed")
    from engine.adapters import from_torch
    net, theta, x, y, H = problem
    model = _torch_model(torch, net, theta).float()  # float32 weights: the adapter casts
    loss_fn = lambda out, target: 0.5 * ((out - target) ** 2).sum(-1).mean()  # noqa: E731
    f = from_torch(model, loss_fn, (x, y))
    perm = _torch_permutation(torch, f, net)
    # the float32 copy of θ rounds: compare at the float64 θ, mapped
    _check_route(f, theta, net, x, y, H, perm)
    _check_tools(f, theta[perm])
    params = f.to_parameters(theta[perm])
    np.testing.assert_array_equal(f.from_parameters(params), theta[perm])
    assert model[0].weight.dtype == torch.float32  # the module is never modified


def test_torch_route_takes_any_module():
    """A module with no Linear layer (Bilinear, a free Parameter) against the same function
    written with autograd.numpy."""
    torch = pytest.importorskip("torch", reason="the optional extra `torch` is not installed")
    import autograd.numpy as anp

    from engine.adapters import from_torch

    class Odd(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bil = torch.nn.Bilinear(2, 2, 1)
            self.scale = torch.nn.Parameter(torch.tensor([0.7]))

        def forward(self, a, b):
            return torch.tanh(self.scale * self.bil(a, b))

    torch.manual_seed(0)
    model = Odd().double()
    rng = np.random.default_rng(1)
    a, b, y = (rng.standard_normal((20, d)) for d in (2, 2, 1))
    f = from_torch(model, torch.nn.MSELoss(), (a, b, y))

    def loss(t):  # scale (1,), bil.weight (1, 2, 2), bil.bias (1,): named_parameters' order
        s, W, c = t[0], t[1:5].reshape(2, 2), t[5]
        out = anp.tanh(s * (anp.einsum("ni,ij,nj->n", a, W, b) + c))
        return anp.mean((out - y[:, 0]) ** 2)

    g = from_autograd(loss, f.theta0)
    t = f.theta0
    assert f.loss(t) == pytest.approx(g.loss(t), abs=TOL)
    np.testing.assert_allclose(f.gradient(t), g.gradient(t), rtol=0, atol=TOL)
    np.testing.assert_allclose(f.hessian(t), g.hessian(t), rtol=0, atol=TOL)
    with pytest.raises(ValueError, match="nn.Module"):
        from_torch(loss, torch.nn.MSELoss(), (a, y))


def test_jax_route_matches_the_mlp(problem):
    pytest.importorskip("jax", reason="the optional extra `jax` is not installed")
    from engine.adapters import from_jax
    from engine.adapters.jax import jnp
    net, theta, x, y, H = problem

    def loss(params, x, y):
        h = x
        for layer, (W, b) in enumerate(params):
            h = h @ W + b
            h = jnp.tanh(h) if layer < len(params) - 1 else h
        return 0.5 * jnp.mean(jnp.sum((h - y) ** 2, axis=-1))

    params = [(np.array(W), np.array(b)) for W, b in net.layout.unpack(theta)]
    f = from_jax(loss, params, (x, y))
    np.testing.assert_array_equal(f.theta0, theta)  # ravel_pytree = the engine's layout here
    _check_route(f, theta, net, x, y, H)
    _check_tools(f, theta)
    back = f.to_parameters(theta)
    np.testing.assert_array_equal(np.asarray(back[1][0]), params[1][0])


def test_missing_extras_say_how_to_install(monkeypatch):
    import sys

    from engine.adapters import from_jax, from_torch
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.setitem(sys.modules, "jax", None)
    monkeypatch.delitem(sys.modules, "engine.adapters.torch", raising=False)
    monkeypatch.delitem(sys.modules, "engine.adapters.jax", raising=False)
    with pytest.raises(ModuleNotFoundError, match=r"\.\[torch\]"):
        from_torch(None, None, None)
    with pytest.raises(ModuleNotFoundError, match=r"\.\[jax\]"):
        from_jax(None, None)


def test_spectrum_of_the_adapter_hessian_counts_like_the_mlp(problem):
    net, theta, x, y, H = problem
    f = from_autograd(lambda t: net.loss(t, x, y), theta)
    assert spectrum(f.hessian(theta)).n_neg == spectrum(H).n_neg
