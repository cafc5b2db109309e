"""An autograd.numpy loss run by jax.jit: the same Python function with its autograd names bound
to their jax counterparts (`from_autograd(loss, θ₀, via="jax")`).

autograd differentiates by tracing every call in Python, so its cost on a small loss is Python
overhead: one Hessian of the README's 10-parameter example takes 1.6 ms by stacked passes and 6 ms
column by column, where jax.jit(jax.hessian) takes 84 µs (`python -m experiments.bench --only
routes`, one CPU). Yet a loss written with autograd.numpy is, nearly always, also a jax.numpy
program: both modules carry numpy's names and meanings. jax_twin rebuilds the function — and,
through its globals and closures, every plain Python function it calls — with each autograd.numpy
or autograd.scipy module, and each function taken from one, replaced by the jax.numpy or
jax.scipy one of the same place and name; nothing else changes (the data the loss closes over
stay NumPy arrays, constants to jit). The twin is then traced once by jax.jit, and from_autograd
keeps it only when it agrees with autograd (engine.adapters.autograd.from_autograd).

What cannot be twinned, said in one line: a callable that is not a Python function, a function of
autograd that jax has not (autograd.grad inside the loss, say), and, at the check, a loss jit
cannot trace (Python control flow on θ's values, NumPy functions applied to θ, in-place writes).
"""
from __future__ import annotations

import importlib
import types

# autograd's modules and their jax counterparts: a module maps to the module, a function found
# in one maps to the attribute of the same name in the other (autograd's own __name__s do not
# say it: anp.where is `custom_where`, anp.concatenate a lambda)
_MODULES = (("autograd.numpy", "jax.numpy"), ("autograd.numpy.linalg", "jax.numpy.linalg"),
            ("autograd.numpy.fft", "jax.numpy.fft"),
            ("autograd.scipy.special", "jax.scipy.special"),
            ("autograd.scipy.linalg", "jax.scipy.linalg"),
            ("autograd.scipy.signal", "jax.scipy.signal"),
            ("autograd.scipy.stats.norm", "jax.scipy.stats.norm"),
            ("autograd.scipy.stats.multivariate_normal", "jax.scipy.stats.multivariate_normal"),
            ("autograd.scipy.stats.t", "jax.scipy.stats.t"),
            ("autograd.scipy.stats.gamma", "jax.scipy.stats.gamma"),
            ("autograd.scipy.stats.beta", "jax.scipy.stats.beta"),
            ("autograd.scipy.stats.poisson", "jax.scipy.stats.poisson"),
            ("autograd.scipy.stats.dirichlet", "jax.scipy.stats.dirichlet"))
# code from these packages is theirs, never rebuilt (only the caller's own functions are)
_LIBRARIES = ("autograd", "jax", "jaxlib", "numpy", "scipy")


def jax_twin(fn):
    """fn (a Python function written with autograd.numpy) with every autograd module and function
    it reaches — through its globals, its closure and the Python functions it calls, to any
    depth — replaced by the jax counterpart (module docstring). fn itself is not changed.

    Cost: one pass over the functions reached; nothing runs. Raises ValueError when fn is not a
    Python function or reaches an autograd function with no jax counterpart."""
    if not isinstance(fn, types.FunctionType):
        raise ValueError(f"loss is a {type(fn).__name__}; via='jax' takes a Python function "
                         "(def or lambda) written with autograd.numpy")
    return _Twinner().function(fn)


class _Twinner:
    def __init__(self):
        self.done: dict[int, types.FunctionType] = {}
        self.pairs = [(importlib.import_module(a), importlib.import_module(j))
                      for a, j in _MODULES if _importable(a) and _importable(j)]
        self.modules = {id(a): j for a, j in self.pairs}
        self.functions = {id(getattr(a, name)): (j, name) for a, j in self.pairs
                          for name in dir(a) if not name.startswith("_")
                          and callable(getattr(a, name)) and hasattr(j, name)}

    def value(self, value):
        if isinstance(value, types.ModuleType):
            if id(value) in self.modules:
                return self.modules[id(value)]
            if value.__name__.split(".")[0] == "autograd":
                raise ValueError(f"the loss uses the module {value.__name__}, which has no jax "
                                 "counterpart here; write the loss with jax.numpy (from_jax)")
            return value
        if callable(value) and id(value) in self.functions:
            module, name = self.functions[id(value)]
            return getattr(module, name)
        if isinstance(value, types.FunctionType):
            library = (value.__module__ or "").split(".")[0]
            if library == "autograd":
                raise ValueError(f"the loss calls autograd's {value.__module__}."
                                 f"{value.__qualname__}, which has no jax counterpart here; "
                                 "write the loss with jax.numpy (from_jax)")
            if library not in _LIBRARIES:
                return self.function(value)
        return value

    def function(self, fn):
        if id(fn) in self.done:
            return self.done[id(fn)]
        scope = dict(fn.__globals__)  # filled below: a function that calls itself finds its twin
        closure = (None if fn.__closure__ is None
                   else tuple(types.CellType() for _ in fn.__closure__))
        twin = types.FunctionType(fn.__code__, scope, fn.__name__, fn.__defaults__, closure)
        twin.__kwdefaults__, twin.__qualname__ = fn.__kwdefaults__, fn.__qualname__
        self.done[id(fn)] = twin
        for name in _global_names(fn.__code__):
            if name in scope:
                scope[name] = self.value(scope[name])
        for cell, new in zip(fn.__closure__ or (), closure or (), strict=True):
            try:
                contents = cell.cell_contents
            except ValueError:  # a cell not yet assigned stays empty
                continue
            new.cell_contents = self.value(contents)
        return twin


def _global_names(code):
    """The names code reads as globals or attributes, with those of the code nested in it
    (lambdas, comprehensions, inner functions): the names its twin may need translated."""
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _importable(name):
    try:
        importlib.import_module(name)
    except ImportError:
        return False
    return True
