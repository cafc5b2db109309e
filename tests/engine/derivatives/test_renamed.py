"""The previous release's names (engine.derivatives.renamed): each still works for one release,
through every path it was reachable by, and warns with a DeprecationWarning naming its
replacement at the caller's line; none is on the public face any more, and nothing in the
repository uses one."""
import ast
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import engine
import engine.derivatives
import engine.derivatives.autodiff as autodiff
from engine.derivatives.renamed import RENAMED, REPLACED

ROOT = Path(__file__).resolve().parents[3]
OLD = sorted({*RENAMED, *REPLACED})
MODULES = {"engine": engine, "engine.derivatives": engine.derivatives,
           "engine.derivatives.autodiff": autodiff}


def _rosenbrock(theta):
    return sum(100.0 * (theta[1:] - theta[:-1] ** 2) ** 2 + (1 - theta[:-1]) ** 2)


@pytest.mark.parametrize("path", MODULES)
@pytest.mark.parametrize("old, new", [(old, new) for old, (new, _) in RENAMED.items()])
def test_a_renamed_name_is_the_new_function_and_warns_naming_it(path, old, new):
    with pytest.warns(DeprecationWarning, match=rf"{old} is renamed {new} .*use {new}") as caught:
        value = getattr(MODULES[path], old)
    assert value is getattr(engine, new)
    assert caught[0].filename == __file__  # the warning points at the line that used the name


@pytest.mark.parametrize("old, new", list(REPLACED.items()))
def test_a_replaced_name_computes_its_composition_and_warns_naming_it(old, new, rng):
    theta, v = rng.normal(size=4), rng.normal(size=4)
    with pytest.warns(DeprecationWarning, match=rf"{old} duplicated .*use {new.split('(')[0]}"):
        function = getattr(engine, old)
    if old == "hessian_of":
        assert_array_equal(function(_rosenbrock, theta), engine.hessian_fn(_rosenbrock)(theta))
    else:
        assert_array_equal(function(_rosenbrock, theta, v),
                           engine.hvp_fn(_rosenbrock)(theta, v))


def test_from_engine_import_an_old_name_warns_at_the_import():
    with pytest.warns(DeprecationWarning, match="grad is renamed mlp_gradient"):
        from engine import grad  # noqa: F401


def test_the_old_names_are_off_the_public_face_and_the_new_ones_on_it():
    assert set(OLD) & set(engine.__all__) == set()
    assert {new for new, _ in RENAMED.values()} <= set(engine.__all__)
    # a transform of a loss keeps its name: gradient, hvp_fn, hvp_at, hessian_fn
    assert {"gradient", "hvp_fn", "hvp_at", "hessian_fn"} <= set(engine.__all__)


def test_any_other_missing_name_is_an_attribute_error_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for module in MODULES.values():
            assert not hasattr(module, "no_such_name")
            with pytest.raises(AttributeError, match="no attribute 'gradients'"):
                module.gradients  # noqa: B018


def _old_uses(path: Path) -> list[str]:
    """`from engine… import OLD` and `engine.OLD` / `autodiff.OLD` in one Python file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("engine"):
            found += [f"{path}:{node.lineno} imports {a.name}" for a in node.names
                      if a.name in OLD]
        elif (isinstance(node, ast.Attribute) and node.attr in OLD
              and isinstance(node.value, ast.Name)
              and node.value.id in ("engine", "derivatives", "autodiff")):
            found.append(f"{path}:{node.lineno} reads {node.value.id}.{node.attr}")
    return found


def test_nothing_in_the_repository_uses_an_old_name():
    folders = ("engine", "experiments", "plots", "tests", "docs")
    files = [p for folder in folders for p in (ROOT / folder).rglob("*.py")
             if p.resolve() != Path(__file__).resolve()]
    assert [use for p in files for use in _old_uses(p)] == []


def test_importing_every_module_warns_of_no_old_name():
    code = ("import warnings\n"
            "warnings.filterwarnings('error', '.*goes in the next release', DeprecationWarning)\n"
            "import importlib, pkgutil, engine, experiments, plots\n"
            "for pkg in (engine, experiments, plots):\n"
            "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
            "        if not m.name.endswith('__main__') and m.name.split('.')[-1] not in "
            "('torch', 'jax'):\n"
            "            importlib.import_module(m.name)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_new_mlp_names_compute_what_the_old_ones_did(rng):
    net = engine.MLP((1, 4, 1), "tanh")
    theta = net.init(rng)
    x = np.linspace(-1, 1, 5)[:, None]
    y = np.sin(3 * x)
    with pytest.warns(DeprecationWarning):
        old = (engine.grad(net, theta, x, y), engine.hessian(net, theta, x, y))
    assert_array_equal(old[0], engine.mlp_gradient(net, theta, x, y))
    assert_array_equal(old[1], engine.mlp_hessian_autograd(net, theta, x, y))
