"""engine.nets.losses.logsumexp is autograd.scipy.special.logsumexp rebuilt (so that a command's
start need not import autograd.scipy, which imports scipy.stats, scipy.integrate and
scipy.signal): its value, gradient and Hessian-vector products both ways are autograd's to the
last bit for int, tuple (non-negative) and None axes, keepdims, weights b, 0-d and Python-float
input; where autograd's JVP is wrong (a tuple axis with negative entries) it agrees with the
reverse mode (what the commands' start gains: tests/contract/test_bad_input_faults.py)."""
import autograd
import autograd.numpy as anp
import autograd.scipy.special as special
import numpy as np
import pytest

from engine.nets.losses import logsumexp

RNG = np.random.default_rng(0)
X = RNG.normal(scale=30.0, size=(2, 5, 4))  # large logits: the max shift matters
B = RNG.uniform(0.5, 2.0, size=X.shape)


def _both(x, **kwargs):
    """The loss sin(logsumexp(x)) summed, with ours and with autograd's primitive."""
    return tuple(lambda t, f=f: anp.sum(anp.sin(f(t, **kwargs)))
                 for f in (logsumexp, special.logsumexp))


def _derivatives(f, x, v):
    """f(x), ∇f(x), the HVP forward-over-reverse and reverse-over-reverse: each rule twice."""
    return (f(x), autograd.grad(f)(x), autograd.make_jvp(autograd.grad(f))(x)(v)[1],
            autograd.grad(lambda t: anp.sum(autograd.grad(f)(t) * v))(x))


@pytest.mark.parametrize("x, kwargs", [
    *[(X, {"axis": axis, "keepdims": keepdims}) for axis in (-1, 0, 1, None, (0, 2))
      for keepdims in (False, True)],
    (X, {"axis": -1, "b": B}), (X, {"axis": (0, 1), "b": 2.0}),
    (np.array(1.3), {}), (1.3, {}), (np.array([[0.5, -2.0, 3.0]]), {"axis": 1, "b": 0.25})],
    ids=lambda value: str(value) if isinstance(value, dict) else "x")
def test_logsumexp_is_autograds_to_the_last_bit(x, kwargs):
    v = np.cos(np.arange(np.size(x)) + 1.0).reshape(np.shape(x))
    ours, theirs = _both(x, **kwargs)
    for mine, reference in zip(_derivatives(ours, x, v), _derivatives(theirs, x, v), strict=True):
        np.testing.assert_array_equal(mine, reference)


def test_the_jvp_of_a_negative_tuple_axis_is_the_reverse_modes():
    """autograd's JVP puts the reduced axes of axis=(-3, -1) back at the wrong places (off by
    ~0.1 here); ours counts them from the front and agrees with the VJP rule."""
    x = RNG.normal(size=(3, 3, 3, 3))
    v = RNG.normal(size=x.shape)
    f = _both(x, axis=(-3, -1))[0]
    forward = autograd.make_jvp(f)(x)(v)[1]
    reverse = np.sum(autograd.grad(f)(x) * v)
    assert forward == pytest.approx(reverse, rel=1e-12, abs=1e-12)
