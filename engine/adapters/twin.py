"""An autograd.numpy loss run by jax.jit: the same Python function with its autograd names bound
to their jax counterparts (`from_autograd(loss, θ₀, via="jax")`).

autograd differentiates by tracing every call in Python, so its cost on a small loss is Python
overhead: one Hessian of the README's 10-parameter example takes 1.6 ms by stacked passes and
4.6 ms column by column, where jax.jit(jax.hessian) takes 0.1 ms (`python -m experiments.bench
--only routes`, one CPU; the README's "Measured on this machine"). Yet a loss written with
autograd.numpy is mostly also a jax.numpy program: both modules carry numpy's names and
meanings. jax_twin rebuilds the function — and, through its globals, closure, defaults and the
Python functions and modules it calls, everything of the caller's it reaches — with each
autograd.numpy or autograd.scipy module (autograd.X) bound to jax.X, and each function taken
from one to the jax function of the same place and name; nothing else changes (the data the loss
closes over stay NumPy arrays, constants to jit). The twin is
traced once by jax.jit, and from_autograd keeps it only when it agrees with autograd
(engine.adapters.autograd.from_autograd).

What cannot be twinned fails when the twin runs, in one line: an autograd function jax has not
(autograd.grad inside the loss, an own @primitive — unless it names its jax function 'module.name'
in an attribute jax_counterpart, as engine.nets.losses.logsumexp does), Python control flow on
θ's values, NumPy functions applied to θ, in-place writes, and Python lists where jax.numpy wants
arrays (anp.sum([a, b]) — jax.numpy refuses lists; anp.sum(anp.array([a, b])) runs under both).
"""
from __future__ import annotations

import dis
import importlib
import sys
import types

# code from these packages is theirs, never rebuilt (only the caller's own functions are)
_LIBRARIES = ("autograd", "jax", "jaxlib", "numpy", "scipy")
# the autograd modules with jax counterparts: autograd.X ↦ jax.X
_TRANSLATED = ("autograd.numpy", "autograd.scipy")


def jax_twin(fn):
    """fn (a Python function written with autograd.numpy) with every autograd module and function
    it reaches — through its globals, closure, defaults, the Python functions and modules it
    calls, and the dicts, lists and tuples among them — replaced by the jax counterpart (module
    docstring). fn itself is not changed; a function of autograd with no counterpart becomes one
    that raises ValueError naming it when called.

    Cost: one pass over what fn reaches; nothing runs. fn may also be an autograd function itself
    (anp.sum gives jax.numpy.sum). Raises ValueError when fn is not a Python function (a class
    instance, a partial) or is an autograd function with no counterpart; ModuleNotFoundError
    without jax. Importing the jax route sets jax to float64, as from_jax does."""
    try:  # jax set to float64 (the jax route's import does it) before any jax function runs
        import engine.adapters.jax  # noqa: F401
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError(f"jax_twin needs JAX ({err}); install the optional extra: "
                                  "pip install -e '.[jax]'") from err
    twinner = _Twinner()
    if isinstance(fn, types.FunctionType) and _library(fn) == "autograd":
        twin = twinner.value(fn)  # its counterpart, or a stand-in when it has none
        if getattr(twin, "_untranslated", False):
            raise ValueError(f"loss is {_describe(fn)}, an autograd function with no jax "
                             "counterpart")
        return twin
    if not isinstance(fn, types.FunctionType) or _library(fn) in _LIBRARIES:
        raise ValueError(f"loss is a {type(fn).__name__}; via='jax' takes a Python function "
                         "(def or lambda) written with autograd.numpy")
    return twinner.function(fn)


class _Twinner:
    def __init__(self):
        self.done: dict[int, object] = {}
        self.functions: dict[int, object] = {}  # id(autograd function) ↦ its jax counterpart
        for name, module in list(sys.modules.items()):
            counterpart = _counterpart_module(name) if module is not None else None
            if counterpart is None:
                continue
            for attr in dir(module):
                value = getattr(module, attr, None)
                if (not attr.startswith("_") and callable(value)
                        and not isinstance(value, type) and hasattr(counterpart, attr)):
                    self.functions.setdefault(id(value), getattr(counterpart, attr))

    def value(self, value):
        """The twin of one value: modules, functions, and the containers holding them."""
        if id(value) in self.done:
            return self.done[id(value)]
        if isinstance(value, types.ModuleType):
            return self.module(value)
        if callable(value) and id(value) in self.functions:
            return self.functions[id(value)]
        counterpart = getattr(value, "jax_counterpart", None) if callable(value) else None
        if isinstance(counterpart, str):  # an own primitive that names its jax function
            module, _, name = counterpart.rpartition(".")
            return getattr(importlib.import_module(module), name)
        if isinstance(value, types.FunctionType):
            library = _library(value)
            if library == "autograd":
                return _untranslated(value)
            return value if library in _LIBRARIES else self.function(value)
        if type(value) in (tuple, list):
            items = [self.value(item) for item in value]
            changed = any(a is not b for a, b in zip(items, value, strict=True))
            return type(value)(items) if changed else value
        if type(value) is dict:
            items = {key: self.value(item) for key, item in value.items()}
            return items if any(items[k] is not value[k] for k in value) else value
        return value

    def module(self, module):
        name = module.__name__
        counterpart = _counterpart_module(name)
        if counterpart is not None:
            return counterpart
        if name.split(".")[0] in _LIBRARIES and name.split(".")[0] != "autograd":
            return module
        # the caller's own module, or autograd's (autograd.numpy.sum through `import autograd`):
        # its attributes are translated as they are read
        proxy = _ModuleTwin(name, module, self)
        self.done[id(module)] = proxy
        return proxy

    def function(self, fn):
        scope = dict(fn.__globals__)  # filled below: a function that calls itself finds its twin
        closure = (None if fn.__closure__ is None
                   else tuple(types.CellType() for _ in fn.__closure__))
        twin = types.FunctionType(fn.__code__, scope, fn.__name__, None, closure)
        self.done[id(fn)] = twin
        twin.__qualname__ = fn.__qualname__
        twin.__dict__.update(fn.__dict__)
        twin.__defaults__ = self.value(fn.__defaults__)
        twin.__kwdefaults__ = (None if fn.__kwdefaults__ is None
                               else {k: self.value(v) for k, v in fn.__kwdefaults__.items()})
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


class _ModuleTwin(types.ModuleType):
    """A module whose attributes are their twins, made on first read (`mylib.forward`,
    `autograd.numpy.sum`)."""

    def __init__(self, name, module, twinner):
        super().__init__(name)
        self._module, self._twinner = module, twinner

    def __getattr__(self, attr):
        return self._twinner.value(getattr(self._module, attr))


def _untranslated(fn):
    """A stand-in for an autograd function jax has no counterpart of: raises, naming it, when the
    twin calls it (a name the loss only mentions costs nothing)."""
    def missing(*args, **kwargs):
        raise ValueError(f"it calls {_describe(fn)}, an autograd function with no jax "
                         "counterpart")
    missing._untranslated = True
    return missing


def _describe(fn):
    """module.name of fn, or of the function an autograd primitive wraps (its .fun: an own
    @primitive is named by the caller's function, not autograd.tracer's wrapper)."""
    inner = getattr(fn, "fun", fn) if getattr(fn, "_is_autograd_primitive", False) else fn
    return f"{getattr(inner, '__module__', '?')}.{getattr(inner, '__qualname__', repr(inner))}"


def _counterpart_module(name):
    """jax.X for autograd.X under autograd.numpy / autograd.scipy when it imports, else None."""
    if not any(name == root or name.startswith(root + ".") for root in _TRANSLATED):
        return None
    try:
        return importlib.import_module("jax" + name[len("autograd"):])
    except ImportError:
        return None


def _library(fn):
    return (getattr(fn, "__module__", None) or "").split(".")[0]


def _global_names(code):
    """The names code loads as globals, with those of the code nested in it (lambdas,
    comprehensions, inner functions): the names its twin may need translated (attribute names,
    `x.flatten()`, are not globals)."""
    names = {ins.argval for ins in dis.get_instructions(code)
             if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME", "LOAD_FROM_DICT_OR_GLOBALS")}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names
