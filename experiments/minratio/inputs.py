"""The files `experiments.minratio.classify` reads, checked before any work.

  load_point(path, activation)   (sizes, activation, θ) from an .npz (theta + sizes, or W0, b0, …)
                                 or a PyTorch state dict of Linear layers
  load_data(data, target, n)     (x, y) from an .npz of x and y, or a named target on a grid

Every refusal is a UsageError naming the file (or flag), what is wrong and what to give: a file
that is not an .npz archive (an empty file, an .npy), sizes that are not one row of integers ≥ 1,
θ or weights that are not finite real numbers, weights of the wrong dimensions, data with no
rows or not (N, d) arrays, and state dicts that hold more than bias-carrying Linear layers (those
go through --module: experiments.minratio.module_point).
"""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from engine import MLP, function_dataset
from engine.data.datasets import FUNCTIONS
from engine.io.results import UsageError
from engine.nets.activations import ACTIVATIONS
from experiments.harness.checks import check_memory
from experiments.minratio.module_point import read_state_dict

POINT_FORMS = "an .npz (theta and sizes, or W0, b0, W1, b1, …) or a PyTorch state dict (.pt)"


def load_point(path, activation=None):
    """(sizes, activation, θ) from an .npz (θ + sizes, or W0, b0, …) or a torch state dict."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"POINT {path}: no such file; give {POINT_FORMS}")
    if path.suffix in (".pt", ".pth"):
        layers = _torch_layers(path)
    else:
        arrays = read_npz(path, f"POINT {path}", POINT_FORMS)
        if activation is None and "activation" in arrays:
            if arrays["activation"].ndim != 0 or arrays["activation"].dtype.kind not in "US":
                raise UsageError(f"POINT {path}: activation must be one string, e.g. 'tanh'")
            activation = str(arrays["activation"])
            if activation not in ACTIVATIONS:  # the file's, not a flag's: name the file
                raise UsageError(f"POINT {path}: its activation {activation!r} is unknown; "
                                 f"choose one of {sorted(ACTIVATIONS)} with --activation")
        if "theta" in arrays:
            if "sizes" not in arrays:
                raise UsageError(f"POINT {path}: has theta but no sizes; add sizes = (d_in, …, "
                                 "d_out)")
            sizes = _sizes(arrays["sizes"], path)
            return sizes, _activation(activation, path), _theta(sizes, arrays["theta"], path)
        layers, l = [], 0
        while f"W{l}" in arrays and f"b{l}" in arrays:
            layers.append((arrays[f"W{l}"], arrays[f"b{l}"]))
            l += 1
        if not layers:
            raise UsageError(f"POINT {path}: holds {sorted(arrays)}; expected theta and sizes, "
                             "or W0, b0, W1, b1, …")
    for l, (W, b) in enumerate(layers):
        _real(W, f"POINT {path}: W{l}")
        _real(b, f"POINT {path}: b{l}")
        if W.ndim != 2 or b.ndim != 1 or W.shape[1] != b.shape[0] or min(W.shape) < 1:
            raise UsageError(f"POINT {path}: W{l} {W.shape} and b{l} {b.shape}: give W_l of "
                             "shape (d_l, d_{l+1}) and b_l of shape (d_{l+1},)")
    sizes = (layers[0][0].shape[0], *(W.shape[1] for W, _ in layers))
    net = MLP(sizes)
    try:
        theta = net.layout.pack([(np.asarray(W, float), np.asarray(b, float)) for W, b in layers])
    except ValueError as err:
        raise UsageError(f"POINT {path}: {err}") from None
    return sizes, _activation(activation, path), theta


def load_data(data=None, target="sinc", n_samples=6):
    """(x, y): from an .npz with x and y, or the target on a grid of n_samples points."""
    if data is None:
        if target not in FUNCTIONS:
            raise UsageError(f"--target {target!r} is unknown; choose one of {list(FUNCTIONS)}")
        if n_samples < 2:
            raise UsageError(f"--n-samples {n_samples}: give an integer ≥ 2")
        check_memory(8.0 * 4 * n_samples, f"--n-samples {n_samples}")
        d = function_dataset(target, n_samples=n_samples)
        return d.x_train, d.y_train
    arrays = read_npz(data, f"--data {data}", "an .npz with x (N, d_in) and y (N, d_out)")
    absent = [k for k in ("x", "y") if k not in arrays]
    if absent:
        raise UsageError(f"--data {data}: lacks {absent}; give an .npz with x (N, d_in) and y "
                         "(N, d_out)")
    x, y = (_real(arrays[k], f"--data {data}: {k}") for k in ("x", "y"))
    x, y = (a[:, None] if a.ndim == 1 else a for a in (x, y))
    if x.ndim != 2 or y.ndim != 2 or len(x) < 1 or 0 in x.shape or 0 in y.shape:
        raise UsageError(f"--data {data}: x {x.shape} and y {y.shape}: give arrays of shape "
                         "(N, d_in) and (N, d_out) with N ≥ 1")
    if len(x) != len(y):
        raise UsageError(f"--data {data}: x has {len(x)} rows, y {len(y)}")
    return x, y


def check_sizes(sizes, n_samples: int, d_out: int) -> None:
    """Refuse a network and data whose exact Hessian, output Jacobian (float64 and the course
    rule's float32 copy) and Gauss–Newton block do not fit in memory, before computing them."""
    n = MLP(sizes).n_params
    check_memory(8.0 * (4 * n * n + 2 * n_samples * d_out * n),
                 f"the network {'-'.join(map(str, sizes))} ({n} parameters) on {n_samples} "
                 "samples")


def read_npz(path, where: str, forms: str) -> dict:
    """{name: array} of an .npz archive (no pickles); UsageError for an empty, truncated or
    unreadable file, an .npy or anything but an .npz."""
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError("a single array (.npy), not an .npz archive")
        with data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as err:
        reason = " ".join(f"{type(err).__name__}: {err}".split())[:160]
        raise UsageError(f"{where}: not a readable .npz ({reason}); give {forms}") from None


def _real(array, where: str) -> np.ndarray:
    """array as float64 when it holds finite real numbers; UsageError otherwise."""
    array = np.asarray(array)
    if array.dtype.kind not in "biuf":
        raise UsageError(f"{where} holds {array.dtype} values; give real numbers (float64)")
    array = array.astype(np.float64)
    bad = int(np.sum(~np.isfinite(array)))
    if bad:
        raise UsageError(f"{where} holds {bad} non-finite entr{'y' if bad == 1 else 'ies'} "
                         "(nan/inf); give finite numbers")
    return array


def _sizes(sizes, path) -> tuple[int, ...]:
    sizes = np.asarray(sizes)
    ok = sizes.ndim == 1 and len(sizes) >= 2 and sizes.dtype.kind in "iuf" and np.all(
        np.isfinite(sizes)) and np.all(sizes >= 1) and np.all(sizes == np.round(sizes))
    if not ok:
        raise UsageError(f"POINT {path}: sizes {sizes.tolist()}: give one row of integers ≥ 1, "
                         "(d_in, hidden…, d_out), e.g. [1, 8, 8, 1]")
    return tuple(int(v) for v in sizes)


def _activation(name, path):
    if name is None:
        raise UsageError(f"POINT {path}: the file names no activation; add --activation, e.g. "
                         "--activation relu")
    if name not in ACTIVATIONS:
        raise UsageError(f"--activation {name!r} is unknown; choose one of "
                         f"{sorted(ACTIVATIONS)}")
    return name


def _theta(sizes, theta, path):
    theta = _real(theta, f"POINT {path}: theta")
    if theta.ndim != 1:
        raise UsageError(f"POINT {path}: theta has shape {theta.shape}; give one flat vector")
    check_memory(8.0 * sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:], strict=False)),
                 f"POINT {path}: sizes {list(sizes)}")
    n = MLP(sizes).n_params
    if theta.size != n:
        raise UsageError(f"POINT {path}: theta has {theta.size} entries, sizes {sizes} need {n}")
    return theta


def _torch_layers(path):
    try:
        import torch
    except ImportError:
        raise UsageError(f"POINT {path}: reading a state dict needs torch (pip install torch); "
                         "or save the weights as an .npz of W0, b0, W1, b1, …") from None
    state = read_state_dict(path, torch)
    names = [k[:-len(".weight")] for k in state if k.endswith(".weight")]
    linear = [n for n in names if state[n + ".weight"].ndim == 2]
    other = sorted(set(state) - {f"{n}.{p}" for n in linear for p in ("weight", "bias")})
    no_bias = [n for n in linear if n + ".bias" not in state]
    if other or no_bias or not linear:
        what = (f"layers other than Linear ({other[:4]})" if other else
                f"Linear layers without a bias ({no_bias[:4]})" if no_bias else "no layers")
        raise UsageError(f"POINT {path}: holds {what}, not an MLP of Linear layers with biases "
                         "and one activation; give --module package.module:factory, the "
                         "callable that makes its module")
    return [(state[n + ".weight"].double().numpy().T, state[n + ".bias"].double().numpy())
            for n in linear]
