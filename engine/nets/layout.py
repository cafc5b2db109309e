"""Where each layer's parameters live inside the flat parameter vector θ.

Contract: a network with sizes (d_0, d_1, …, d_L) has layers l = 0 … L−1, layer l mapping
R^{d_l} → R^{d_{l+1}} as  h ↦ h @ W_l + b_l  with W_l of shape (d_l, d_{l+1}), b_l of shape
(d_{l+1},), or  h ↦ h @ W_l  for a bias-free layer (`bias`: one bool for every layer, or one
per layer). θ is the concatenation, layer by layer, of W_l flattened in C (row-major) order
followed by b_l where the layer has one:

    θ = [vec(W_0), b_0, vec(W_1), b_1, …],   n_params = Σ_l (d_l + β_l)·d_{l+1},

β_l = 1 with a bias, 0 without: a bias-free layer's block is vec(W_l) alone, and the next
layer's block follows it directly. With biases everywhere (the default) nothing changes.

Every view below is a slice plus a reshape, so autograd differentiates through it and a batch of
parameter vectors θ of shape (..., n_params) unpacks to W of shape (..., d_l, d_{l+1}).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass(frozen=True, repr=False)
class Layout:
    """Sizes (d_in, h_1, …, d_out) of a dense network and the position of each (W, b) in θ.

    bias: True (every layer has b_l, the default), False (none has) or one bool per layer;
    normalized to True or False when all layers agree, else to a tuple of L bools, so equal
    layouts compare and hash equal however their bias was spelled.
    Frozen; sizes cast to a tuple of ints. Raises ValueError unless sizes are at least two
    positive integers, or for a bias that is not a bool or a tuple of L bools. Methods cost
    O(L) (views and slices), pack O(n_params) (a copy).
    """

    sizes: tuple[int, ...]
    bias: bool | tuple[bool, ...] = True

    def __post_init__(self):
        sizes = _as_sizes(self.sizes)
        if sizes is None or len(sizes) < 2 or any(int(s) != s or s < 1 for s in sizes):
            raise ValueError(
                f"sizes={self.sizes!r} is not a network; give at least two positive integers "
                "(d_in, …, d_out), e.g. (1, 10, 10, 1)"
            )
        object.__setattr__(self, "sizes", tuple(int(s) for s in sizes))
        object.__setattr__(self, "bias", _normalized_bias(self.bias, len(sizes) - 1))

    def __repr__(self) -> str:
        bias = "" if self.bias is True else f", bias={self.bias!r}"
        return f"Layout(sizes={self.sizes!r}{bias})"

    @cached_property
    def has_bias(self) -> tuple[bool, ...]:
        """Per layer l, whether it has a bias b_l (β_l = 1 of the module docstring)."""
        if isinstance(self.bias, bool):
            return (self.bias,) * self.n_layers
        return self.bias

    @property
    def n_layers(self) -> int:
        """L = len(sizes) − 1, the number of (W, b) blocks."""
        return len(self.sizes) - 1

    @cached_property
    def offsets(self) -> tuple[int, ...]:
        """Start of layer l's block in θ, for l = 0 … L (the last entry is n_params)."""
        blocks = [(m + beta) * n for m, n, beta in zip(self.sizes[:-1], self.sizes[1:],
                                                       self.has_bias, strict=True)]
        ends = np.cumsum([0] + blocks)
        return tuple(int(e) for e in ends)

    @property
    def n_params(self) -> int:
        """Length of θ, Σ_l (d_l + β_l)·d_{l+1} (β_l = 1 with a bias, 0 without)."""
        return self.offsets[-1]

    @cached_property
    def _blocks(self) -> tuple[tuple[int, int, slice, slice], ...]:
        """Per layer (d_l, d_{l+1}, weight slice, bias slice or None), computed once: the fused
        layer asks for them ~10 times per layer and step."""
        blocks = []
        for start, m, n, beta in zip(self.offsets[:-1], self.sizes[:-1], self.sizes[1:],
                                     self.has_bias, strict=True):
            blocks.append((m, n, slice(start, start + m * n), slice(start + m * n,
                                                                    start + m * n + n)
                           if beta else None))
        return tuple(blocks)

    def shape_of(self, layer: int) -> tuple[int, int]:
        """Shape (d_l, d_{l+1}) of W_l; ValueError for a layer outside 0 … L−1."""
        m, n, _, _ = self._block(layer)
        return m, n

    def slice_of(self, layer: int) -> slice:
        """The block [vec(W_l), b_l] of layer l in θ ([vec(W_l)] for a bias-free layer): as a
        matrix, W̃_l = [W_l; b_l] of shape (d_l + β_l, d_{l+1}) in C order."""
        self._check_layer(layer)
        return slice(self.offsets[layer], self.offsets[layer + 1])

    def weight_slice(self, layer: int) -> slice:
        """vec(W_l) in θ: d_l·d_{l+1} entries, W_l in C order."""
        return self._block(layer)[2]

    def bias_slice(self, layer: int) -> slice:
        """b_l in θ: d_{l+1} entries, right after vec(W_l). ValueError naming `layer` for a
        bias-free layer (it has no b_l in θ) or a layer out of range."""
        block = self._block(layer)[3]
        if block is None:
            raise ValueError(f"layer={layer} has no bias in layout {self.sizes} (bias="
                             f"{self.bias!r}); check layout.has_bias[layer] first")
        return block

    def _block(self, layer: int):
        if not (type(layer) is int and 0 <= layer < len(self.sizes) - 1):
            self._check_layer(layer)
        return self._blocks[layer]

    def unpack(self, theta):
        """θ (..., n_params) → [(W_l, b_l)] with W_l (..., d_l, d_{l+1}) and b_l (..., d_{l+1}),
        b_l None for a bias-free layer.

        None, not zeros: a caller that adds b_l without asking has_bias fails at once instead
        of computing with a parameter that is not in θ (its gradient block would have nowhere
        to go), and pack takes None back. Views, no copies; works on autograd boxes. Raises
        ValueError as `check`.
        """
        self.check(theta)
        batch = theta.shape[:-1]
        params = []
        for layer in range(self.n_layers):
            m, n, w_slice, b_slice = self._block(layer)
            W = theta[..., w_slice].reshape(batch + (m, n))
            b = None if b_slice is None else theta[..., b_slice]
            params.append((W, b))
        return params

    def pack(self, params) -> np.ndarray:
        """Inverse of unpack: [(W_l, b_l)] → θ of shape (..., n_params), a new float64 array;
        b_l is None for a bias-free layer. Raises ValueError for a wrong number of layers, a
        block of the wrong shape, a b_l given for a bias-free layer (it would be dropped) or
        None for a layer with a bias."""
        if len(params) != self.n_layers:
            raise ValueError(
                f"pack: got {len(params)} layers, layout {self.sizes} has {self.n_layers}")
        parts = []
        for layer, (W, b) in enumerate(params):
            if (b is None) == self.has_bias[layer]:
                raise ValueError(
                    f"pack: layer {layer} has b {'None' if b is None else np.shape(b)}, but "
                    f"the layout {'has' if self.has_bias[layer] else 'has no'} bias there "
                    f"(bias={self.bias!r}); give " + (
                        f"b (..., {self.sizes[layer + 1]})" if self.has_bias[layer] else "None"))
            if b is None:
                W = np.asarray(W, dtype=np.float64)
                if W.shape[-2:] != self.shape_of(layer):
                    raise ValueError(f"pack: layer {layer} has W {W.shape}; expected W (..., "
                                     f"{self.shape_of(layer)[0]}, {self.shape_of(layer)[1]})")
                parts.append(W.reshape(W.shape[:-2] + (-1,)))
                continue
            W, b = np.asarray(W, dtype=np.float64), np.asarray(b, dtype=np.float64)
            if W.shape[-2:] != self.shape_of(layer) or b.shape[-1] != self.sizes[layer + 1]:
                raise ValueError(
                    f"pack: layer {layer} has W {W.shape}, b {b.shape}; expected W (..., "
                    f"{self.shape_of(layer)[0]}, {self.shape_of(layer)[1]}) and "
                    f"b (..., {self.sizes[layer + 1]})"
                )
            parts += [W.reshape(W.shape[:-2] + (-1,)), b]
        return np.concatenate(parts, axis=-1)

    def check(self, theta) -> None:
        """Raise ValueError unless theta's last axis has length n_params."""
        shape = np.shape(theta)
        if len(shape) == 0 or shape[-1] != self.n_params:
            raise ValueError(
                f"theta has shape {shape}, but layout {self.sizes}"
                f"{'' if self.bias is True else f' (bias={self.bias!r})'} needs (..., "
                f"{self.n_params}): "
                f"one vector of n_params = {self.n_params} numbers or a batch of them")

    def _check_layer(self, layer: int) -> None:
        if not 0 <= layer < self.n_layers:
            raise ValueError(f"layer={layer} is out of range; layout {self.sizes} has layers "
                             f"0…{self.n_layers - 1}")


def _as_sizes(sizes):
    """sizes as a tuple, or None when it is not a sequence of finite numbers (a string, a
    number, None, entries that are not numbers), so that Layout refuses it with its own message."""
    if isinstance(sizes, (str, bytes)) or not np.iterable(sizes):
        return None
    sizes = tuple(sizes)
    numbers = all(isinstance(s, (int, float, np.integer, np.floating)) and np.isfinite(s)
                  for s in sizes)
    return sizes if numbers else None


def _normalized_bias(bias, n_layers: int):
    """bias as True/False when every layer agrees, else a tuple of n_layers bools; ValueError
    naming `bias` for anything else (numpy bools are accepted, ints and strings are not)."""
    if isinstance(bias, (bool, np.bool_)):
        return bool(bias)
    if isinstance(bias, (tuple, list)) and len(bias) == n_layers and all(
            isinstance(b, (bool, np.bool_)) for b in bias):
        flags = tuple(bool(b) for b in bias)
        return flags[0] if len(set(flags)) == 1 else flags
    raise ValueError(f"bias={bias!r}: give True, False or one bool per layer ({n_layers} "
                     "layers), e.g. (True,) * L")
