"""engine.nets.activations: σ', σ'' in closed form and through autograd, against extended precision.

The reference is NumPy's long double (x87 80-bit here: ε = 1.1e-19, and exp, cosh, tanh from
the C library's long double routines), evaluated at the same float64 z, in forms independent of
the engine's (1/cosh² rather than e^{−2|z|}, σ'·(1 − 2σ) by expm1): its own error is ~1e-18,
far below what is tested.

Tolerances (relative). Closed forms: 1e-13. They take ≤ 6 rounded operations (exp and tanh
within 1 ulp, + − × / within ½ ulp): a few ε ≈ 1e-15 (measured ≤ 3 ε); 1e-13 leaves a margin
for other C libraries and is 1e9 times below the errors these forms replace (1 − tanh²(z) is 0
from z ≈ 19, 1.7e-4 wrong at z = 15). Autograd's σ', σ'' (the primitives' VJPs): σ' is taken
from the output y where σ' ≥ SATURATION_CUT = 2^-20, with error ≤ ε/σ' ≤ 2^20 ε ≈ 2.3e-10
(measured 1.3e-10), from z below; twice that bound leaves room for the few ulps of the rest.
"""
import autograd
import numpy as np
import pytest
from numpy.testing import assert_allclose

from engine import MLP, get_activation, get_loss
from engine.nets.activations import ACTIVATIONS, SATURATION_CUT

# the reference needs an extended long double (x86: 80-bit); where it is float64 (e.g. aarch64
# macOS, Windows) the tests against it are skipped
needs_long_double = pytest.mark.skipif(np.finfo(np.longdouble).eps > 1e-18,
                                       reason="long double is not extended precision here")

RTOL = 1e-13  # closed forms; see the module docstring
VJP_RTOL = 2 * np.finfo(np.float64).eps / SATURATION_CUT  # ≈ 4.7e-10, the module docstring
SMOOTH = ("tanh", "sigmoid", "softplus")
# dense over [−40, 40], sparse out to ±350, where σ' ≈ e^{−700} is still
# a normal float, and the tiny z where 1 − 2σ(z) cancels
Z = np.concatenate([np.linspace(-40.0, 40.0, 80_001), np.linspace(-350.0, 350.0, 701),
                    [-1e-300, -1e-12, 0.0, 1e-12, 1e-300]])


def _reference(name: str, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(σ'(z), σ''(z)) in long double, from forms other than the engine's."""
    zl = z.astype(np.longdouble)
    if name == "tanh":
        sech2 = 1 / np.cosh(zl) ** 2
        return sech2, -2 * np.tanh(zl) * sech2
    sigmoid_prime = 1 / (4 * np.cosh(zl / 2) ** 2)  # σ(1 − σ) = 1/(e^{z/2} + e^{−z/2})²
    if name == "sigmoid":
        one_minus_2sigma = -np.expm1(zl) / (1 + np.exp(zl))  # (1 − e^z)/(1 + e^z)
        return sigmoid_prime, sigmoid_prime * one_minus_2sigma
    return 1 / (1 + np.exp(-zl)), sigmoid_prime  # softplus' = σ, softplus'' = σ'


def _assert_relative(actual, desired, rtol=RTOL):
    # relative error entry by entry; where the truth is 0 (σ''(0)) the value must be 0 too
    assert_allclose(actual, desired.astype(np.float64), rtol=rtol, atol=0.0)


@needs_long_double
@pytest.mark.parametrize("name", SMOOTH)
def test_closed_forms_match_extended_precision(name):
    act = get_activation(name)
    d1, d2 = _reference(name, Z)
    _assert_relative(act.d1(Z), d1)
    _assert_relative(act.d2(Z), d2)


@needs_long_double
@pytest.mark.parametrize("name", SMOOTH)
def test_autograd_derivatives_match_extended_precision(name):
    # the primitives' VJPs: σ' from y where that is accurate, from z where y is saturated
    fn = get_activation(name).fn
    d1, d2 = _reference(name, Z)
    _assert_relative(autograd.elementwise_grad(fn)(Z), d1, VJP_RTOL)
    _assert_relative(autograd.elementwise_grad(autograd.elementwise_grad(fn))(Z), d2, VJP_RTOL)


def test_saturated_derivatives_are_not_zero():
    tanh, sigmoid = get_activation("tanh"), get_activation("sigmoid")
    # tanh'(20) = 4e^{−40}/(1 + e^{−40})² = 1.6993e-17 (it was 0 from 1 − tanh²)
    assert_allclose(tanh.d1(np.array([20.0, -20.0])), 4 * np.exp(-40.0), rtol=1e-15)
    # σ'(±40) = e^{−40}/(1 + e^{−40})²: symmetric (σ'(40) was 0 from σ(1 − σ))
    assert_allclose(sigmoid.d1(np.array([40.0, -40.0])), np.exp(-40.0), rtol=1e-15)
    assert autograd.grad(tanh.fn)(20.0) == tanh.d1(20.0) > 0
    assert autograd.grad(sigmoid.fn)(40.0) == sigmoid.d1(40.0) > 0


# autograd warns that the linear activation's second derivative does not depend on z: true
@pytest.mark.filterwarnings("ignore:Output seems independent of input")
def test_activations_derivatives_match_autograd(rng):
    z = np.concatenate([rng.normal(scale=3, size=50), [-400.0, 0.0, 400.0]])
    for act in ACTIVATIONS.values():
        d1 = autograd.elementwise_grad(act.fn)(z)
        d2 = autograd.elementwise_grad(autograd.elementwise_grad(act.fn))(z)
        # closed forms vs autograd's graph: each within its tolerance of the truth (tests
        # above), here also at |z| = 400, where both are ~e^{−400}
        assert_allclose(act.d1(z), d1, rtol=VJP_RTOL, atol=1e-300)
        assert_allclose(act.d2(z), d2, rtol=VJP_RTOL, atol=1e-300)
        assert np.all(np.isfinite(d2))  # no cosh(400) is ever formed


@needs_long_double
@pytest.mark.parametrize("name", ("tanh", "sigmoid"))
@pytest.mark.parametrize("forward", ("forward", "forward_unfused"))
def test_gradients_of_saturated_units_are_accurate(name, forward):
    # 1-3-1 net with pre-activations z = w x + b of 15 … 35 on the hidden units: the gradient
    # ∂L/∂w_j = 1/N Σ_n r_n v_j σ'(z_nj) x_n was exactly 0 when σ' was taken from σ(z)
    net = MLP((1, 3, 1), name)
    x = np.linspace(0.9, 1.1, 8)[:, None]
    y = np.cos(3.0 * x)
    w, b, v, c = np.array([20.0, -25.0, 30.0]), np.array([-3.0, 2.0, 1.0]), \
        np.array([0.5, -1.0, 0.25]), np.array([0.1])
    theta = np.concatenate([w, b, v, c])
    forward = getattr(net, forward)
    g = autograd.grad(lambda t: get_loss("mse")(forward(t, x), y))(theta)
    # the same gradient in long double, from the reference σ'
    xl, wl, bl, vl = (a.astype(np.longdouble) for a in (x, w, b, v))
    z = xl * wl + bl
    sigma = np.tanh(z) if name == "tanh" else 1 / (1 + np.exp(-z))
    r = (sigma @ vl + c)[:, None] - y  # (N, 1)
    want = np.mean(r * vl * _reference(name, z.ravel())[0].reshape(z.shape) * xl, axis=0)
    assert np.all(np.abs(want) < 1e-5) and np.all(want != 0)
    # float64 z = w x + b carries a rounding δz ≲ ε|z|, which moves σ' by 2|δz| ≲ 1.6e-14
    # relative, within RTOL
    assert_allclose(g[:3], want.astype(np.float64), rtol=RTOL)

