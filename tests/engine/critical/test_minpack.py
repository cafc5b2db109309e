"""engine.critical.minpack: scipy's Levenberg–Marquardt, padded so that its end point does not
depend on what the heap holds (scipy ≥ 1.15's qrfac reads 8 bytes past the Jacobian's buffer
where a column's norm falls by cancellation), and otherwise the same steps as scipy's."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize
from numpy.testing import assert_array_equal

from engine.critical.minpack import least_squares

ROOT = Path(__file__).resolve().parents[3]
EPS = np.finfo(np.float64).eps

# An LM search for ∇L = 0 of the deep linear autoencoder 12-4-12 (Hessians singular along the
# symmetry orbit, so qrfac's recomputation runs) through the public finder, printing the end
# point's bytes. glibc's MALLOC_PERTURB_=p fills freed memory with the byte p, so the stray read
# finds p's pattern: 0x55… and 0xC8… are doubles of 1e103 and −3e40, which reorder the pivots.
_SEARCH = """
import numpy as np
from engine.critical.finders import find_critical
from engine.critical.linear_autoencoder import LinearAutoencoder, spectrum_data
x, _ = spectrum_data(np.arange(1.0, 13.0), 48, np.random.default_rng(0))
model = LinearAutoencoder(x.T @ x / len(x), 4)
res = find_critical(model.init(np.random.default_rng(1)), model.gradient, model.hessian,
                    method="lm", max_iter=300)
print(res.theta.tobytes().hex(), res.n_eval)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="MALLOC_PERTURB_ is glibc's")
def test_lm_end_point_does_not_depend_on_the_heap():
    # before the padding: three processes, two end points (p = 85 and 200 agreed, unset did not)
    ends = set()
    for perturb in ("0", "85", "200"):
        env = {"MALLOC_PERTURB_": perturb, "OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
        out = subprocess.run([sys.executable, "-c", _SEARCH], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
        ends.add(out.stdout)
    assert len(ends) == 1, [e[-12:] for e in ends]


def _rosenbrock():
    """Residuals of the extended Rosenbrock function (m = n = 4): a full-rank Jacobian, where
    the stray read never runs, so padded and unpadded MINPACK must agree bit for bit."""
    def fun(x):
        return np.concatenate([10.0 * (x[1::2] - x[::2] ** 2), 1.0 - x[::2]])

    def jac(x):
        J = np.zeros((4, 4))
        J[[0, 1], [0, 2]], J[[0, 1], [1, 3]] = -20.0 * x[::2], 10.0
        J[[2, 3], [0, 2]] = -1.0
        return J

    return fun, jac, np.array([-1.2, 1.0, -1.2, 1.0])


@pytest.mark.parametrize("method", ["lm", "trf"])
def test_same_steps_as_scipy_where_nothing_stray_is_read(method):
    fun, jac, x0 = _rosenbrock()
    ours = least_squares(fun, x0, jac, method=method, ftol=EPS, xtol=EPS, gtol=EPS,
                         max_nfev=200)
    theirs = scipy.optimize.least_squares(fun, x0, jac=jac, method=method, ftol=EPS, xtol=EPS,
                                          gtol=EPS, max_nfev=200)
    assert_array_equal(ours.x, theirs.x)
    assert (ours.nfev, ours.status) == (theirs.nfev, theirs.status)
    assert_array_equal(ours.fun, theirs.fun)  # cut back to m residuals, n columns
    assert ours.jac.shape == (4, 4) and ours.grad.shape == (4,)
    assert np.allclose(ours.x, 1.0)
