"""engine.nets.losses.logsumexp is autograd.scipy.special.logsumexp rebuilt (so that a command's
start need not import autograd.scipy, which imports scipy.stats, scipy.integrate and
scipy.signal): its value, gradient, JVP and Hessian-vector products are autograd's to the last
bit, on every axis form autograd's accepts. And a refused command imports none of the heavy
modules it does not need."""
import subprocess
import sys
from pathlib import Path

import autograd
import autograd.numpy as anp
import autograd.scipy.special as special
import numpy as np
import pytest

from engine.nets.losses import cross_entropy, logsumexp

ROOT = Path(__file__).resolve().parents[3]
X = np.random.default_rng(0).normal(scale=30.0, size=(2, 5, 4))  # large logits: max shift
V = np.random.default_rng(1).normal(size=X.shape)


@pytest.mark.parametrize("axis", [-1, 0, 1, None, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp_is_autograds_to_the_last_bit(axis, keepdims):
    def ours(x):
        return anp.sum(anp.sin(logsumexp(x, axis=axis, keepdims=keepdims)))

    def theirs(x):
        return anp.sum(anp.sin(special.logsumexp(x, axis=axis, keepdims=keepdims)))

    assert ours(X) == theirs(X)
    np.testing.assert_array_equal(autograd.grad(ours)(X), autograd.grad(theirs)(X))
    # forward-over-reverse and reverse-over-reverse: both derivative rules, twice
    for hvp in (lambda f: autograd.make_jvp(autograd.grad(f))(X)(V)[1],
                lambda f: autograd.grad(lambda x: anp.sum(autograd.grad(f)(x) * V))(X)):
        np.testing.assert_array_equal(hvp(ours), hvp(theirs))


def test_cross_entropy_is_finite_for_huge_logits():
    out = np.array([[1e3, -1e3, 0.0], [-1e3, 1e3, 0.0]])
    y = np.eye(3)[[0, 0]]
    assert cross_entropy(out, y) == pytest.approx(1e3)  # −log softmax: 0 and 2e3, mean 1e3


HEAVY = ("autograd.scipy", "scipy.stats", "scipy.integrate", "sklearn", "matplotlib.pyplot")


@pytest.mark.parametrize("command", ["experiments.minratio", "experiments.trajectory",
                                     "experiments.surface", "experiments.census",
                                     "experiments.bench.scale"])
def test_a_refused_command_imports_no_heavy_module_it_does_not_need(command):
    """--help or a refused flag answers without scikit-learn, scipy.stats or pyplot: each costs
    0.6–1.3 s of the start (python -X importtime) and is needed only by the work or figures."""
    code = ("import runpy, sys\n"
            f"sys.argv = ['{command}', '--no-such-flag']\n"
            "try:\n"
            f"    runpy.run_module('{command}', run_name='__main__', alter_sys=True)\n"
            "except SystemExit as done:\n"
            "    assert done.code == 2, done.code\n"
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "", f"{command} imported {proc.stdout.strip()}"
