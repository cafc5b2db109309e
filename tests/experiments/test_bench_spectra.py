"""experiments.bench.spectra and .peers: the side-by-side routes compute the same numbers (the
speed itself is only measured by `make bench`, never asserted)."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

from engine import MLP
from engine.derivatives.curvature import exact_hessian
from engine.spectra.lanczos import hvp_operator, symmetric_operator


@pytest.fixture
def sinc_net():
    net = MLP((1, 4, 4, 1), activation="tanh", loss_name="mse")
    x = np.linspace(-1.0, 1.0, 50)[:, None]
    return net, net.init(np.random.default_rng(0)), x, np.sinc(5.0 * x)


def test_top_k_and_slq_agree_with_jax(sinc_net):
    pytest.importorskip("jax")
    from experiments.bench.hvp import _import_jax, _jax_hvp
    from experiments.bench.spectra import _slq, _top_k
    net, theta, x, y = sinc_net
    jax = _import_jax()
    op, jax_hvp = hvp_operator(net, theta, x, y), _jax_hvp(jax, net, x, y)
    top = _top_k(op, jax_hvp, theta, repeats=1, seed=0, k=3)
    # both converge to machine precision on the same H: rounding of n-term sums, ~1e-15
    assert top["verified"] and top["diff"] <= 1e-10
    assert top["ours_products"] > 0 and top["jax_products"] > 0
    slq = _slq(op, jax, jax_hvp, theta, repeats=1, seed=0)
    # the same recursion on the same probes: the first moments agree to rounding
    assert slq["diff"] <= 1e-10


def test_products_alone_apply_the_count_in_the_run_blocks():
    from experiments.bench.spectra import _products
    widths = []
    op = symmetric_operator(lambda v: 2.0 * v, 5, lambda V: widths.append(V.shape[1]) or 2.0 * V)
    _products(op, 7, 2)()
    assert widths == [2, 2, 2, 1]  # 7 products, 2 columns per matmat as the block run's
    widths.clear()
    _products(op, 20, 10)()
    assert widths == [10, 10]  # SLQ: one column per probe


def test_peer_module_is_the_engine_net(sinc_net):
    torch = pytest.importorskip("torch")
    from experiments.bench.peers import _module, _split
    net, theta, x, y = sinc_net
    model = _module(torch, net, theta)
    out = model(torch.from_numpy(x)).detach().numpy()
    assert_allclose(out, net.forward(theta, x), rtol=0, atol=1e-14)
    # _split puts v in the engine's layout onto the parameters: Hv through torch is H @ v
    v = np.random.default_rng(1).standard_normal(net.n_params)
    params = list(model.parameters())
    loss = 0.5 * ((model(torch.from_numpy(x)) - torch.from_numpy(y)) ** 2).sum(-1).mean()
    grads = torch.autograd.grad(loss, params, create_graph=True)
    hv = torch.autograd.grad(grads, params, grad_outputs=_split(torch, model, v))
    flat = np.concatenate([(h.T if h.ndim == 2 else h).reshape(-1).numpy() for h in hv])
    H = exact_hessian(net, theta, x, y)
    assert_allclose(flat, H @ v, rtol=0, atol=1e-12 * np.abs(H).max() * np.abs(v).max())
