"""from_autograd(…, via="jax"): an autograd.numpy loss run by jax.jit gives autograd's L, ∇L, Hv
and ∇²L (≤ 1e-10, the adapters' tolerance: the same float64 arithmetic in another order differs
by ~1e-15), reaches the autograd names behind helpers, closures and recursion, leaves the
original function as it was, and refuses in one line what jax cannot run or computes otherwise.
Needs the optional extra `jax` (skips, saying why, without it) but for the missing-extra test."""
import sys
import types

import autograd
import autograd.numpy as anp
import autograd.scipy.special as special
import numpy as np
import pytest
from autograd.extend import defvjp, primitive
from autograd.numpy import tanh  # a function taken from autograd.numpy, not the module

from engine.adapters import from_autograd
from engine.adapters.twin import jax_twin
from engine.nets.losses import cross_entropy

TOL = 1e-10
X = np.linspace(-1.0, 1.0, 30)[:, None]
Y = np.sin(3.0 * X[:, 0])
THETA0 = np.random.default_rng(11).normal(size=10)


def readme_loss(theta):  # the README's 1-3-1 example, its data as module globals
    W, b, w, c = theta[:3].reshape(1, 3), theta[3:6], theta[6:9], theta[9]
    return 0.5 * anp.mean((anp.tanh(X @ W + b) @ w + c - Y) ** 2)


def _hidden(theta, depth):  # a global helper that calls itself: the twin must call its twin
    if depth == 0:
        return X
    return tanh(_hidden(theta, depth - 1) @ theta[:3].reshape(1, 3) + theta[3:6])


def _structured_loss():
    """Cross-entropy of 3 classes through a helper, a closure, a nested function and
    autograd.scipy: every way a loss reaches autograd's names."""
    labels = (np.arange(30) % 3)
    onehot = np.eye(3)[labels]
    logsumexp = special.logsumexp

    def logits(theta):
        return _hidden(theta, 1) * anp.reshape(theta[6:9], (1, 3)) + theta[9]

    def loss(theta):
        z = logits(theta)
        norm = anp.linalg.norm(theta)
        return anp.mean(logsumexp(z, axis=1) - anp.sum(onehot * z, axis=1)) + 1e-3 * norm**2
    return loss


# the same names reached four more ways: positional and keyword-only defaults, a dict, a module
# of the caller's read by attribute, and autograd's own package path (autograd.scipy.special:
# a scipy function, which fails on a jax array untranslated, where numpy's mean would not)
ACTIVATIONS = {"tanh": anp.tanh}
mylib = types.ModuleType("mylib")
mylib.hidden = _hidden


def _reached_loss(theta, act=anp.tanh, *, squash=anp.tanh):
    z = mylib.hidden(theta, 1) * theta[6:9] + ACTIVATIONS["tanh"](theta[9])
    return autograd.scipy.special.logsumexp(squash(act(z)).ravel())


@primitive
def _cube(t):  # an own autograd primitive: jax has no counterpart of it
    return t**3


defvjp(_cube, lambda ans, t: lambda g: 3.0 * g * t**2)


ONEHOT = np.eye(2)[[0, 1, 1, 0, 1]]


def _engine_cross_entropy(theta):  # engine.nets.losses.logsumexp, an own primitive naming jax's
    return cross_entropy(anp.reshape(theta, (5, 2)), ONEHOT)


def _zero_at_start(theta):  # L(θ₀) = 0 exactly under autograd, ~1e-31 under jax
    return 0.5 * anp.sum((X @ theta[:1] - X @ THETA0[:1]) ** 2) + anp.sum((theta - THETA0) ** 4)


@pytest.fixture(scope="module")
def jax():
    return pytest.importorskip("jax", reason="the optional extra `jax` is not installed")


@pytest.mark.parametrize("loss", [readme_loss, _structured_loss(), _reached_loss, _zero_at_start,
                                  _engine_cross_entropy],
                         ids=["readme", "structured", "reached", "zero-at-start", "engine"])
def test_the_jax_twin_gives_autograds_derivatives(jax, loss):
    f = from_autograd(loss, THETA0, via="jax")
    g = from_autograd(loss, THETA0, batched=False)
    assert f.route == "jax" and "run by jax.jit" in repr(f)
    t = THETA0 + 0.3
    V = np.random.default_rng(0).standard_normal((3, 10))
    assert abs(f.loss(t) - g.loss(t)) <= TOL
    np.testing.assert_allclose(f.gradient(t), g.gradient(t), rtol=0, atol=TOL)
    np.testing.assert_allclose(f.hessian(t), g.hessian(t), rtol=0, atol=TOL)
    np.testing.assert_allclose(f.hvp_at(t)(V), g.hvp_at(t)(V), rtol=0, atol=TOL)
    np.testing.assert_allclose(f.loss_batched(V), g.loss_batched(V), rtol=0, atol=TOL)


def test_the_original_function_is_left_as_it_was(jax):
    twin = jax_twin(readme_loss)
    assert twin is not readme_loss and twin.__name__ == "readme_loss"
    assert readme_loss.__globals__["anp"] is anp  # the module's own globals untouched
    assert twin.__globals__["anp"] is sys.modules["jax.numpy"]
    assert jax_twin(readme_loss)(THETA0).dtype == np.float64  # jax_twin alone: float64 too
    jax_twin(_reached_loss)
    assert _reached_loss.__defaults__ == (anp.tanh,) and _reached_loss.__kwdefaults__ == {
        "squash": anp.tanh}
    assert ACTIVATIONS["tanh"] is anp.tanh and mylib.hidden is _hidden
    grad = autograd.grad(readme_loss)(THETA0)  # autograd still differentiates the original
    assert np.all(np.isfinite(grad))


def test_what_jax_cannot_run_is_refused_in_one_line(jax):
    def branches(theta):  # Python control flow on θ's values: jit cannot trace it
        return anp.sum(theta**2) if theta[0] > 0 else anp.sum(theta**4)

    def differentiates(theta):  # autograd.grad inside the loss: no jax counterpart
        return autograd.grad(lambda t: anp.sum(t**3))(theta) @ theta

    rng = np.random.default_rng(0)

    def noisy(theta):  # a fresh draw per call under autograd, one constant under jit
        return anp.sum(theta**2) + rng.normal()

    class Loss:
        def __call__(self, theta):
            return anp.sum(theta**2)

    def cumulative(theta):  # autograd has no VJP of cumprod: nothing to check the twin against
        return anp.sum(anp.cumprod(theta))

    def with_primitive(theta):
        return anp.sum(_cube(theta))

    cases = ((branches, "does not run under jax"), (differentiates, "no jax counterpart"),
             (noisy, "computes another L"), (Loss(), "takes a Python function"),
             (cumulative, "autograd cannot differentiate loss cumulative"),
             (with_primitive, r"calls \S*_cube, an autograd function with no jax counterpart"))
    for loss, message in cases:
        with pytest.raises(ValueError, match=message) as err:
            from_autograd(loss, THETA0, via="jax")
        assert "\n" not in str(err.value)
    with pytest.raises(ValueError, match="via='numpy'"):
        from_autograd(readme_loss, THETA0, via="numpy")
    with pytest.raises(ValueError, match="batched is for via='autograd'"):
        from_autograd(readme_loss, THETA0, via="jax", batched=True)
    with pytest.raises(ValueError, match="no other parameters"):  # as the autograd route's
        from_autograd(readme_loss, THETA0, via="jax").to_parameters(THETA0)


def test_via_jax_without_jax_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "jax", None)
    monkeypatch.delitem(sys.modules, "engine.adapters.jax", raising=False)
    with pytest.raises(ModuleNotFoundError, match=r"\.\[jax\]"):
        from_autograd(readme_loss, THETA0, via="jax")
