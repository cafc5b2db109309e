"""`engine/__init__.py` is the whole tour: every package and module on it, every public name
exported by its package and documented, nothing imported from the floors above (experiments/,
plots/), no import circle and no late import that dodges one, and a light import."""
import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

import engine

ENGINE = Path(engine.__file__).resolve().parent
PACKAGES = sorted(p.parent.name for p in ENGINE.glob("*/__init__.py"))
# "package.module" for every module of the engine's packages
MODULES = sorted(f"{p.parent.name}.{p.stem}" for p in ENGINE.glob("*/*.py") if p.stem != "__init__")

# Public names (no leading underscore) that the tour leaves in their modules on purpose.
NOT_EXPORTED = {
    "nets.activations": {
        "linear",  # the identity; get_activation("linear")
        # the pieces of the σ' VJPs, shared with the fused layer
        "tanh_prime", "sigmoid_prime", "from_output", "tanh_derivative", "sigmoid_derivative",
    },
    "nets.fused": {"dense", "scatter_layer"},  # the autograd primitives behind mlp_forward
    # autograd's primitive rebuilt so that nothing imports autograd.scipy (scipy.stats & co.)
    "nets.losses": {"logsumexp"},
    # the passes behind MLP.forward_unfused and the structured Hessian's forward sweep
    "nets.passes": {"forward_unfused", "forward_augmented"},
    # argument checks of the HVP builders
    "derivatives.autodiff": {"check_vector", "check_direction"},
    # the previous release's names, resolved by the modules' __getattr__ for one release
    "derivatives.renamed": {"RENAMED", "REPLACED", "old_name"},
    "data.files": {"MNIST_FILES", "CIFAR10_FILES", "existing", "locate", "check_labels"},
    "training.optim": {"OPTIMIZERS"},  # make_optimizer's table
    "spectra.dense": {"EPS"},  # numpy's float64 epsilon
    # the finders' shared stop rules and their scipy wrapper: the machinery behind find_critical
    "critical.monitor": {"Halt", "Monitor", "run_scipy", "result_of"},
    "critical.finders": {"forcing_term"},  # Eisenstat–Walker's η_k, a step of Newton-MR's loop
    # scipy's least_squares with method 'lm' padded (a stray read of scipy ≥ 1.15's MINPACK):
    # what the finders' lm stage and minratio's --trainer lm call instead of scipy's
    "critical.minpack": {"least_squares"},
    # the fit's thresholds, each explained in the module docstring beside its use
    "critical.index_loss": {"BOUND_RTOL", "BOUND_SHARE", "N_PARAMETERS", "TRIVIAL_SHARE"},
    # the adapters' stacking of basis vectors into HVP blocks
    "adapters.autograd": {"BLOCK"},
    "adapters.base": {"blocks", "identity_rows"},
    # the one wording of the doors' refusals (nan/inf, an rng, non-numbers, a point's shapes);
    # an exception quoted in one line
    "io.errors": {"check_finite", "error_reason", "check_rng", "check_float_array", "is_real",
                  "check_point", "check_numeric"},
    "training.loop": {"training_arrays"},  # the door of train and record_training: (x, y)
    "io.folders": {"busy_shards", "shard_lock_name"},  # the Store's locks for --shard
    "io.cli": {"starting_workers"},  # the harness's guard while its worker processes start
}


def _tree(module: str) -> ast.Module:
    return ast.parse((ENGINE / f"{module.replace('.', '/')}.py").read_text(encoding="utf-8"))


def _definitions(module: str) -> dict[str, ast.AST]:
    """Top-level functions, classes and UPPERCASE constants defined in engine/<module>.py."""
    found = {}
    for node in _tree(module).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            found[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id.isupper():
                    found[target.id] = node
    return found


def test_every_package_and_module_is_on_the_tour():
    listed = set(re.findall(r"^  ([a-z_]+) ", engine.__doc__, re.M))
    assert set(PACKAGES) - listed == set(), "add one line per package to engine/__init__.py"
    assert listed - set(PACKAGES) == set(), "the tour lists packages that do not exist"
    for package in PACKAGES:  # the package's entry: its line and the indented lines under it
        entry = re.search(rf"^  {package} (.*?)(?=^  [a-z]|^$)", engine.__doc__, re.M | re.S)
        modules = [m.split(".")[1] for m in MODULES if m.startswith(package + ".")]
        absent = [m for m in modules if not re.search(rf"\b{m}\b", entry.group(1))]
        assert absent == [], f"name {absent} on the tour's line of {package}"


def test_every_exported_name_exists_once():
    assert len(engine.__all__) == len(set(engine.__all__))
    missing = [name for name in engine.__all__ if not hasattr(engine, name)]
    assert missing == []


@pytest.mark.parametrize("name", engine.__all__)
def test_every_exported_name_is_documented(name):
    obj = getattr(engine, name)
    if not (callable(obj) or isinstance(obj, type)):  # a constant: the tour says what it holds
        assert re.search(rf"\b{name}\b", engine.__doc__), f"list {name} in the tour's constants"
        return
    # the source's own docstring: dataclasses and NamedTuples make one up when there is none
    obj = getattr(obj, "fun", obj)  # an autograd primitive wraps the function it was made from
    assert obj.__module__.startswith("engine."), f"{name} comes from {obj.__module__}"
    module = obj.__module__.removeprefix("engine.")
    node = _definitions(module).get(obj.__name__)
    assert node is not None, f"{name} is not defined at the top of engine/{module}.py"
    assert ast.get_docstring(node), f"engine/{module}.py: {obj.__name__} has no docstring"


@pytest.mark.parametrize("module", MODULES)
def test_every_public_name_is_exported(module):
    public = {name for name in _definitions(module) if not name.startswith("_")}
    left_out = public - set(engine.__all__) - NOT_EXPORTED.get(module, set())
    assert left_out == set(), (f"export {sorted(left_out)} from engine/__init__.py, or list them "
                               "in NOT_EXPORTED with the reason")


def test_no_name_shadows_a_module_or_package():
    modules = {m.split(".")[1] for m in MODULES} | set(PACKAGES)
    assert set(engine.__all__) & modules == set()


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_re_exports_its_modules_public_names(package):
    """A package's __init__ only re-exports (a docstring, imports from its own modules and
    __all__), and engine.__all__ is the union of the packages' faces."""
    tree = ast.parse((ENGINE / package / "__init__.py").read_text(encoding="utf-8"))
    body = tree.body[1:] if ast.get_docstring(tree) else tree.body
    for node in body:
        ok = (isinstance(node, ast.ImportFrom) and node.level == 1) or (
            isinstance(node, ast.Assign) and [t.id for t in node.targets] == ["__all__"])
        assert ok, f"engine/{package}/__init__.py line {node.lineno} does more than re-export"
    face = importlib.import_module(f"engine.{package}").__all__
    assert set(face) <= set(engine.__all__)


def _imported_modules(tree: ast.Module):
    """Absolute module names imported anywhere in the tree, including inside functions and by
    importlib.import_module / __import__ with a literal name."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            callee = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if callee in ("import_module", "__import__"):
                yield str(node.args[0].value)


@pytest.mark.parametrize("module", ["__init__", *MODULES])
def test_engine_imports_nothing_from_experiments_or_plots(module):
    upward = [name for name in _imported_modules(_tree(module))
              if name.split(".")[0] in ("experiments", "plots")]
    assert upward == [], f"engine/{module}.py imports {upward}: the engine is the lowest floor"


def test_import_engine_is_light():
    heavy = ("torchvision", "torch", "dask", "jax", "sklearn", "matplotlib")
    code = f"import sys, engine; print([m for m in {heavy!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=ENGINE.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
