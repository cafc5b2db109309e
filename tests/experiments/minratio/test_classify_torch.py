"""`python -m experiments.minratio.classify POINT --module package.module:factory`: any PyTorch
state dict with the module that made it, through engine.adapters.from_torch (the optional extra
`torch`; these tests skip without it and `make test-extras` runs them against the real library).

Checked: a module that computes an MLP prints what the Linear-layers route prints, and its
FlatLoss numbers agree with the engine's MLP (mse and cross_entropy) to rounding; a LayerNorm
with a bias-free Linear layer, which no MLP computes, agrees with the same function written in
autograd.numpy; float16/bfloat16/float64 state dicts are cast to float64 exactly; and every
input it cannot take is one line, exit 2."""
import sys
import textwrap

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
from numpy.testing import assert_allclose

from engine import MLP, spectrum
from experiments.minratio import classify
from experiments.minratio.module_point import load_module_point

torch = pytest.importorskip("torch", reason="the optional extra `torch` is not installed")
nn = torch.nn
PROG = "experiments.minratio.classify"
EPS = 1e-5  # nn.LayerNorm's default ε, written out in the autograd twin below

NETS = textwrap.dedent(f"""
    import torch
    from torch import nn

    def mlp(d_out=1):
        return nn.Sequential(nn.Linear(1, 3), nn.Tanh(), nn.Linear(3, d_out))

    def mlp2():
        return mlp(2)

    def layer_norm():
        return nn.Sequential(nn.Linear(1, 4, bias=False), nn.LayerNorm(4, eps={EPS}), nn.Tanh(),
                             nn.Linear(4, 1))

    def fails():
        raise RuntimeError("no weights here")

    def not_a_module():
        return 3

    CONSTANT = 3
    """)


@pytest.fixture
def nets(tmp_path_factory, monkeypatch):
    """The folder of a module `classify_nets` of factories, put on sys.path."""
    folder = tmp_path_factory.getbasetemp() / "classify_nets"
    folder.mkdir(exist_ok=True)
    (folder / "classify_nets.py").write_text(NETS)
    monkeypatch.syspath_prepend(str(folder))
    sys.modules.pop("classify_nets", None)
    import classify_nets
    return classify_nets


def _save(tmp_path, model, name="model.pt", dtype=None):
    torch.manual_seed(0)
    state = model.state_dict()
    if dtype is not None:
        state = {k: v.to(dtype) for k, v in state.items()}
    path = tmp_path / name
    torch.save(state, path)
    return path


def _data(tmp_path, d_out=1, one_hot=False):
    x = np.linspace(-1.0, 1.0, 7)[:, None]
    y = np.eye(d_out)[[0, 1, 1, 0, 1, 0, 0]] if one_hot else np.sin(3 * x)
    path = tmp_path / "data.npz"
    np.savez(path, x=x, y=y)
    return path, x, y


def _seeded(factory):
    torch.manual_seed(20180316)
    return factory()


def test_a_module_that_computes_an_mlp_prints_what_the_linear_route_prints(tmp_path, nets,
                                                                            capsys):
    point = _save(tmp_path, _seeded(nets.mlp))  # float32, as torch saves by default
    data, _, _ = _data(tmp_path)
    classify.main([str(point), "--activation", "tanh", "--data", str(data)])
    linear = capsys.readouterr().out.splitlines()
    classify.main([str(point), "--module", "classify_nets:mlp", "--data", str(data)])
    module = capsys.readouterr().out.splitlines()
    assert linear[0] == "network 1-3-1 tanh, 10 parameters"
    assert module[0] == "module classify_nets:mlp() (Sequential), 10 parameters, loss mse"
    # every number is printed to 3 digits; the routes differ by rounding (~1e-16 relative)
    assert module[1:] == linear[1:]


@pytest.mark.parametrize("loss, d_out", [("mse", 1), ("cross_entropy", 2)])
def test_the_module_route_agrees_with_the_engines_mlp(tmp_path, nets, loss, d_out):
    model = _seeded(nets.mlp2 if d_out == 2 else nets.mlp)
    path = _save(tmp_path, model)
    _, x, y = _data(tmp_path, d_out, one_hot=loss == "cross_entropy")
    point = load_module_point(path, f"classify_nets:{'mlp2' if d_out == 2 else 'mlp'}", loss,
                              x, y)
    net = MLP((1, 3, d_out), "tanh", loss)
    W0, b0, W1, b1 = (v.double().numpy() for v in model.state_dict().values())
    theta = net.layout.pack([(W0.T, b0), (W1.T, b1)])
    ours, theirs = (classify.assess(net, theta, x, y),
                    classify.assess_module(point, len(x)))
    # float64 routes through different operation orders: agreement to ~100 ε of the scale
    assert_allclose(theirs["point"].grad_sq, ours["point"].grad_sq, rtol=1e-12)
    a, b = ours["point"].spectrum, theirs["point"].spectrum
    assert_allclose(b.eigenvalues, a.eigenvalues, rtol=0, atol=1e-12 * np.abs(a.eigenvalues).max())
    assert (b.n_pos, b.n_neg, b.n_zero) == (a.n_pos, a.n_neg, a.n_zero)
    assert theirs["label"] == ours["label"]
    assert theirs["course"]["n_weights"] == ours["course"]["n_weights"] == 3 + 3 * d_out
    assert theirs["course"]["share"] == ours["course"]["share"]


def _layer_norm_loss(state, x, y):
    """The layer_norm factory's MSE in autograd.numpy, of θ in torch's named_parameters order."""
    shapes = [tuple(state[k].shape) for k in ("0.weight", "1.weight", "1.bias", "3.weight",
                                             "3.bias")]
    sizes = [int(np.prod(s)) for s in shapes]

    def loss(theta):
        parts, start = [], 0
        for shape, size in zip(shapes, sizes, strict=True):
            parts.append(anp.reshape(theta[start:start + size], shape))
            start += size
        W0, gamma, beta, W3, b3 = parts
        h = anp.dot(x, W0.T)
        mean = anp.mean(h, axis=1, keepdims=True)
        var = anp.mean((h - mean) ** 2, axis=1, keepdims=True)  # biased, as nn.LayerNorm
        out = anp.dot(anp.tanh((h - mean) / anp.sqrt(var + EPS) * gamma + beta), W3.T) + b3
        return 0.5 * anp.sum((out - y) ** 2) / len(x)

    theta = np.concatenate([state[k].double().numpy().ravel() for k in
                            ("0.weight", "1.weight", "1.bias", "3.weight", "3.bias")])
    return loss, theta


def test_a_layer_norm_and_a_bias_free_layer_agree_with_the_autograd_route(tmp_path, nets,
                                                                           capsys):
    model = _seeded(nets.layer_norm)
    with torch.no_grad():  # γ, β off their 1, 0: every parameter matters
        model[1].weight.mul_(1.5)
        model[1].bias.add_(0.25)
    path = _save(tmp_path, model)
    data, x, y = _data(tmp_path)
    classify.main([str(path), "--module", "classify_nets:layer_norm", "--data", str(data)])
    lines = capsys.readouterr().out.splitlines()
    loss, theta = _layer_norm_loss(model.state_dict(), x, y)
    g, H = autograd.grad(loss)(theta), autograd.hessian(loss)(theta)
    spec = spectrum(0.5 * (H + H.T), rtol=1e-6)
    assert lines[0] == ("module classify_nets:layer_norm() (Sequential), 17 parameters, "
                        "loss mse")
    assert lines[1].startswith(f"‖∇L‖² = {float(g @ g):.3g}, ")
    assert lines[2] == (f"spectrum: τ = {spec.tau:.3g}; n₊ = {spec.n_pos}, n₋ = {spec.n_neg}, "
                        f"n₀ = {spec.n_zero}; minimal ratio n₊/n = {spec.n_pos / 17:.3f}")
    # the weights are the two matrices (4 + 4 entries), not LayerNorm's scale or the bias
    assert "signs of the 8 eigenvalues" in lines[-1]
    point = load_module_point(path, "classify_nets:layer_norm", "mse", x, y)
    assert_allclose(point.flat.gradient(theta), g, rtol=0, atol=1e-14 * np.abs(g).max())
    assert_allclose(point.flat.hessian(theta), H, rtol=0, atol=1e-13 * np.abs(H).max())


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_float_state_dicts_are_cast_to_float64_exactly(tmp_path, nets, dtype):
    model = _seeded(nets.mlp)
    path = _save(tmp_path, model, dtype=dtype)
    _, x, y = _data(tmp_path)
    point = load_module_point(path, "classify_nets:mlp", "mse", x, y)
    saved = torch.load(path)
    expected = np.concatenate([saved[k].double().numpy().ravel() for k in saved])
    assert point.theta.dtype == np.float64
    np.testing.assert_array_equal(point.theta, expected)


def _bad_state(tmp_path, nets, what):
    model = _seeded(nets.mlp)
    state = model.state_dict()
    if what == "missing":
        del state["2.bias"]
    elif what == "unexpected":
        state["extra.weight"] = torch.zeros(2)
    elif what == "shape":
        state["0.weight"] = torch.zeros(4, 1)
    elif what == "nan":
        state["0.bias"] = torch.tensor([0.0, float("nan"), 1.0])
    elif what == "complex":
        state["0.bias"] = torch.zeros(3, dtype=torch.complex64)
    path = tmp_path / f"{what}.pt"
    torch.save(state, path)
    return path


@pytest.mark.parametrize("flags, state, message", [
    (["--module", "classify_nets"], None, "give an import path package.module:factory"),
    (["--module", "no_such_package_xyz:make"], None,
     "cannot import 'no_such_package_xyz' (ModuleNotFoundError"),
    (["--module", "classify_nets:absent"], None, "'classify_nets' has no 'absent'"),
    (["--module", "classify_nets:CONSTANT"], None, "'CONSTANT' is a int, not callable"),
    (["--module", "classify_nets:fails"], None,
     "calling fails() raised RuntimeError: no weights here"),
    (["--module", "classify_nets:not_a_module"], None, "returned a int, not a torch.nn.Module"),
    (["--module", "classify_nets:mlp"], "missing", "missing ['2.bias']"),
    (["--module", "classify_nets:mlp"], "unexpected", "unexpected ['extra.weight']"),
    (["--module", "classify_nets:mlp"], "shape",
     "shapes: 0.weight (4, 1) in the file, (3, 1) in the module"),
    (["--module", "classify_nets:mlp"], "nan", "0.bias holds 1 non-finite entry"),
    (["--module", "classify_nets:mlp"], "complex", "0.bias holds complex values"),
    (["--module", "classify_nets:layer_norm"], None, "does not fit the module"),
    (["--module", "classify_nets:mlp2"], "mlp2", "gives outputs (7, 2) for x (7, 1), but y has "
                                               "shape (7, 1)"),
    (["--module", "classify_nets:mlp", "--loss", "cross_entropy"], None,
     "y must hold rows of class probabilities"),
    (["--module", "classify_nets:mlp", "--activation", "tanh"], None, "drop --activation"),
    (["--loss", "cross_entropy"], None, "give --module package.module:factory"),
])
def test_what_it_cannot_take_is_one_line_exit_2(tmp_path, nets, one_line_error, flags, state,
                                                message):
    point = (_save(tmp_path, _seeded(nets.mlp2)) if state == "mlp2" else
             _bad_state(tmp_path, nets, state) if state else _save(tmp_path, _seeded(nets.mlp)))
    data, _, _ = _data(tmp_path)
    one_line_error(lambda: classify.main([str(point), "--data", str(data), *flags]), PROG,
                   message)


def test_data_the_module_refuses_is_one_line(tmp_path, nets, one_line_error):
    point = _save(tmp_path, _seeded(nets.mlp))
    data = tmp_path / "wide.npz"
    np.savez(data, x=np.zeros((5, 2)), y=np.zeros((5, 1)))
    one_line_error(lambda: classify.main([str(point), "--module", "classify_nets:mlp", "--data",
                                          str(data)]), PROG, "refuses the data x (5, 2)")


def test_without_torch_it_says_how_to_install_the_extra(tmp_path, nets, one_line_error,
                                                        monkeypatch):
    point = _save(tmp_path, _seeded(nets.mlp))
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch raises ImportError
    one_line_error(lambda: classify.main([str(point), "--module", "classify_nets:mlp"]), PROG,
                   "needs PyTorch, the optional extra: pip install -e '.[torch]'")
