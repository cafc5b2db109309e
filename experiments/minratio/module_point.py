"""A PyTorch state dict with the module that made it, as `experiments.minratio.classify` takes it.

    python -m experiments.minratio.classify model.pt --module mypkg.nets:make_net --loss mse \
        --data data.npz

--module is an import path `package.module:factory` (or `…:Class`): a callable that takes no
arguments and returns the torch.nn.Module; the state dict is loaded into it (strict: the same
keys and shapes), the module is put in float64 (every floating parameter and buffer; the file's
float16/32 values cast exactly) and in eval mode (dropout off, batch norm on its running
statistics: L is then one function of θ), and engine.adapters.from_torch gives the FlatLoss
L(θ) of its trainable parameters θ. The losses are engine.nets.losses' own, so a module that
computes an MLP gets the numbers of the Linear-layers route:
  mse            L = 1/(2N) Σᵢ ‖fᵢ − yᵢ‖²
  cross_entropy  L = 1/N Σᵢ [logsumexp(fᵢ) − yᵢ·fᵢ], y rows of class probabilities (one-hot).
The course rule's weights-only Gauss–Newton block uses the parameters of two or more dimensions
(Linear and convolution weights; biases and norm scales are not weights).

Everything this cannot take is one UsageError, before any Hessian: torch missing (how to install
the extra), an import path that does not import, names nothing callable, or whose call fails or
returns no nn.Module; a file that is not a state dict; keys or shapes that do not match the
module; non-finite or complex values; data the module refuses or whose outputs do not match y.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.adapters import FlatLoss, from_torch
from engine.io.results import UsageError
from experiments.harness.checks import check_memory

LOSS_NAMES = ("mse", "cross_entropy")


@dataclass(frozen=True)
class ModulePoint:
    """The loaded module (float64, eval mode), its FlatLoss at the file's θ, and the course
    rule's output Jacobian in the weights: jacobian(θ) → (N·d_out, n_weights)."""
    model: Any
    flat: FlatLoss
    theta: np.ndarray
    describe: str
    n_weights: int
    jacobian: Any


def import_torch(where: str):
    """torch, or a UsageError saying how to install the optional extra."""
    try:
        import torch
    except ImportError:
        raise UsageError(f"{where} needs PyTorch, the optional extra: pip install -e '.[torch]' "
                         "(or pip install torch)") from None
    return torch


def make_module(spec: str):
    """The nn.Module that spec = 'package.module:factory' returns; UsageError otherwise."""
    torch = import_torch(f"--module {spec}")
    where = f"--module {spec}"
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise UsageError(f"{where}: give an import path package.module:factory, e.g. "
                         "mynets:make_model (a callable returning the nn.Module)")
    try:
        target = importlib.import_module(module_name)
    except ImportError as err:
        raise UsageError(f"{where}: cannot import {module_name!r} ({_reason(err)}); run from the "
                         "folder that holds it or add that folder to PYTHONPATH") from None
    except Exception as err:  # noqa: BLE001  (the user's module failed while importing)
        raise UsageError(f"{where}: importing {module_name!r} raised {_reason(err)}; fix that "
                         "module") from None
    for part in attr.split("."):
        if not hasattr(target, part):
            raise UsageError(f"{where}: {module_name!r} has no {attr!r}; give the name of a "
                             "callable that returns the nn.Module")
        target = getattr(target, part)
    if not callable(target):
        raise UsageError(f"{where}: {attr!r} is a {type(target).__name__}, not callable; give "
                         "a function or class that returns the nn.Module")
    try:
        model = target()
    except Exception as err:  # noqa: BLE001  (the user's factory failed)
        raise UsageError(f"{where}: calling {attr}() raised {_reason(err)}; give a callable "
                         "that takes no arguments and returns the nn.Module") from None
    if not isinstance(model, torch.nn.Module):
        raise UsageError(f"{where}: {attr}() returned a {type(model).__name__}, not a "
                         "torch.nn.Module; give a callable that returns the module")
    return model


def read_state_dict(path, torch) -> dict:
    """{name: tensor} of a .pt/.pth saved by torch.save(model.state_dict(), path)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001  (torch raises many types for a file it won't load)
        raise UsageError(f"POINT {path}: not a state dict of tensors ({_reason(err)}); save "
                         "model.state_dict(), not the model") from None
    if not isinstance(state, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise UsageError(f"POINT {path}: not a state dict (name → tensor); save "
                         "model.state_dict()")
    return state


def load_module_point(path, spec: str, loss: str, x: np.ndarray, y: np.ndarray) -> ModulePoint:
    """The module of spec with the state dict at path, on data (x (N, d_in), y (N, d_out)) and
    loss (one of LOSS_NAMES); every check of the module docstring, before any derivative."""
    model = make_module(spec)
    import torch

    state = read_state_dict(path, torch)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    shapes = [f"{k} {tuple(state[k].shape)} in the file, {tuple(expected[k].shape)} in the module"
              for k in sorted(set(state) & set(expected)) if state[k].shape != expected[k].shape]
    if missing or unexpected or shapes:
        what = "; ".join(filter(None, [missing and f"missing {missing[:4]}",
                                       unexpected and f"unexpected {unexpected[:4]}",
                                       shapes and "shapes: " + ", ".join(shapes[:3])]))
        raise UsageError(f"POINT {path} does not fit the module of --module {spec} ({what}); "
                         "give the state dict of the module this factory makes")
    for k, v in state.items():
        if v.is_complex():
            raise UsageError(f"POINT {path}: {k} holds complex values; give real numbers")
        if v.is_floating_point() and not bool(torch.isfinite(v).all()):
            bad = int((~torch.isfinite(v)).sum())
            raise UsageError(f"POINT {path}: {k} holds {bad} non-finite "
                             f"entr{'y' if bad == 1 else 'ies'} (nan/inf); give finite numbers")
    model = model.to(torch.float64)  # before loading: the file's floats cast up exactly
    model.load_state_dict(state, strict=True)
    model.eval()
    n = sum(p.numel() for p in model.parameters() if p.requires_grad)
    check_memory(8.0 * (4 * n * n + 2 * y.size * n), f"the module of --module {spec} ({n} "
                 f"parameters) on {len(x)} samples")
    X, Y = torch.from_numpy(np.array(x, np.float64)), torch.from_numpy(np.array(y, np.float64))
    try:
        with torch.no_grad():
            out = model(X)
    except Exception as err:  # noqa: BLE001  (the user's forward refuses the data)
        raise UsageError(f"the module of --module {spec} refuses the data x {tuple(x.shape)} "
                         f"({_reason(err)}); give --data whose x fits its input") from None
    if not torch.is_tensor(out) or tuple(out.shape) != tuple(y.shape):
        raise UsageError(f"the module of --module {spec} gives outputs "
                         f"{tuple(getattr(out, 'shape', ()))} for x {tuple(x.shape)}, but y has "
                         f"shape {tuple(y.shape)}; give --data whose y has one row per sample "
                         "and one column per output")
    if loss == "cross_entropy" and (np.any(y < 0) or not np.allclose(y.sum(1), 1.0)):
        raise UsageError("--loss cross_entropy: y must hold rows of class probabilities "
                         "(one-hot: np.eye(k)[labels]), entries ≥ 0 summing to 1")
    flat = from_torch(model, _LOSSES[loss](torch), (X, Y))
    weights = [name for name, p in model.named_parameters() if p.requires_grad and p.ndim >= 2]
    return ModulePoint(model, flat, flat.theta0, f"{spec}() ({type(model).__name__})",
                       sum(dict(model.named_parameters())[w].numel() for w in weights),
                       _weight_jacobian(torch, model, flat, X, weights))


def _mse(torch):
    return lambda out, y: 0.5 * ((out - y) ** 2).sum() / out.shape[0]


def _cross_entropy(torch):
    return lambda out, y: (torch.logsumexp(out, dim=1) - (y * out).sum(1)).mean()


_LOSSES = {"mse": _mse, "cross_entropy": _cross_entropy}


def _weight_jacobian(torch, model, flat, X, weights):
    """θ ↦ ∂f(xᵢ)/∂w, shape (N·d_out, n_weights): the outputs' Jacobian in the weights only."""
    from torch.func import functional_call, jacrev

    def jacobian(theta):
        params = flat.to_parameters(theta)
        frozen = {k: v for k, v in params.items() if k not in weights}
        buffers = dict(model.named_buffers())

        def outputs(ws):
            return functional_call(model, ({**frozen, **ws}, buffers), (X,))

        J = jacrev(outputs)({w: params[w] for w in weights})
        n_rows = int(np.prod(outputs({w: params[w] for w in weights}).shape))
        return torch.cat([J[w].reshape(n_rows, -1) for w in weights], dim=1).detach().numpy()

    return jacobian


def _reason(err) -> str:
    return " ".join(f"{type(err).__name__}: {err}".split())[:160]
