"""A dense network as a pure function of (θ, x): the MLP spec, its forward pass and its loss.

f(x; θ) = z_{L−1} with h_0 = x, z_l = h_l W_l + b_l and h_{l+1} = σ(z_l) for the hidden layers
l < L−1 (the output layer is linear; the loss supplies the softmax where there is one): the
notation of engine.nets.passes, which holds the hand-written passes side by side. `bias`
(engine.nets.layout) drops b_l from every layer (False) or from some (one bool per layer):
z_l = h_l W_l there, and θ has no entries for it.
θ may carry leading batch axes (..., n_params): B parameter vectors are evaluated in one call,
giving outputs (..., N, d_out) and losses (...). Cost: one forward pass, O(B·N·n_params).

Inputs are checked at the door: `check_theta` and `check_data` raise one ValueError saying what
was found, what was expected and what to do, and cast to float64 (`forward`, `loss`, `accuracy`
and the derivative and curvature routines call them). Inside an autograd trace θ (or x) is a box:
only its shape is checked, never cast. Cost: a few µs per call, O(N·k) for cross-entropy targets.

`forward` runs one fused autograd node per layer (engine.nets.fused: same values, differentiable to
any order; MNIST training 1.4× faster on one BLAS thread, `make bench`); `forward_unfused` is the
plain graph it replaces (engine.nets.passes), kept as the reference the fused layer is tested and
benchmarked against.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from autograd.tracer import Box

from engine.nets.activations import get_activation
from engine.nets.fused import mlp_forward
from engine.nets.layout import Layout
from engine.nets.losses import accuracy, get_loss
from engine.nets.passes import forward_unfused

INITS = ("lecun", "glorot", "he")


# Cross-entropy targets are rows of probabilities (one-hot, or smoothed): entries ≥ 0 and each
# row summing to 1 within this slack, wide enough for rows computed in float32 (k·2^-24 ≈ 1e-6
# for k ≤ 16) and narrow enough to refuse regression targets or label columns.
_ROW_SUM_SLACK = 1e-5


@dataclass(frozen=True, repr=False)
class MLP:
    """The dense network f(x; θ) of `sizes` (d_in, h_1, …, d_out), hidden activation σ (a name of
    engine.ACTIVATIONS), loss ('mse' | 'cross_entropy') and biases (`bias`: True, False or one
    bool per layer, engine.nets.layout); the formulas are the module's.

    Raises ValueError for sizes that are not a network, for unknown names (listing the choices)
    and for a bias that is not a bool or one bool per layer. Frozen: a network is a spec;
    parameters are θ, passed to every method.
    """

    sizes: tuple[int, ...]
    activation: str = "tanh"
    loss_name: str = "mse"
    bias: bool | tuple[bool, ...] = True

    def __post_init__(self):
        layout = Layout(self.sizes, self.bias)
        object.__setattr__(self, "sizes", layout.sizes)
        object.__setattr__(self, "bias", layout.bias)
        get_activation(self.activation)
        get_loss(self.loss_name)

    def __repr__(self) -> str:
        bias = "" if self.bias is True else f", bias={self.bias!r}"
        return (f"MLP(sizes={self.sizes!r}, activation={self.activation!r}, "
                f"loss_name={self.loss_name!r}{bias})")

    @cached_property
    def layout(self) -> Layout:
        """Where each layer's (W_l, b_l) lives in θ (engine.nets.layout), built once per network."""
        return Layout(self.sizes, self.bias)

    @property
    def n_params(self) -> int:
        """Length of θ, n_params = Σ_l (d_l + β_l)·d_{l+1} (β_l = 1 with a bias, 0 without)."""
        return self.layout.n_params

    def check_theta(self, theta):
        """θ as a float64 array of shape (..., n_params); lists and other real dtypes are cast.

        An autograd box (θ inside a derivative's trace) is returned as is after a shape check.
        Raises ValueError, naming the shape found and the one expected, if θ is not numeric or
        its last axis is not n_params long. Cost O(1) for float64 arrays and boxes (no copy).
        """
        if isinstance(theta, Box):
            shape = theta.shape
        else:
            theta = _as_float64("theta", theta)
            shape = theta.shape
        if len(shape) == 0 or shape[-1] != self.n_params:
            raise ValueError(
                f"theta has shape {shape}, but the network {self.sizes} needs (..., "
                f"{self.n_params}): one vector of n_params = {self.n_params} numbers or a batch "
                "of them; net.init(rng) gives one of the right length")
        return theta

    def check_data(self, x, y=None):
        """(x, y) as C-contiguous float64 arrays: x (N, d_in) with N ≥ 1, y (N, d_out) or None.

        mse takes any real targets; cross_entropy takes rows of probabilities, one-hot as a rule
        (entries ≥ 0, each row summing to 1): integer class labels are refused with the
        one-hot recipe `np.eye(k)[labels]`. A 1-D y is always refused: against outputs (N, 1)
        it would broadcast to (N, N) and give a wrong loss without an error. Autograd boxes
        are shape-checked only. Raises ValueError: one line with what was found, what was
        expected, what to do. Cost O(1) for float64 x and mse y, one pass over y for
        cross_entropy.
        """
        d_in, d_out = self.sizes[0], self.sizes[-1]
        x = x if isinstance(x, Box) else _as_float64("x", x, contiguous=True)
        if len(x.shape) != 2 or x.shape[1] != d_in:
            hint = (" (a 1-D x is ambiguous: x[:, None] for samples of one input, x[None, :] "
                    "for one sample)" if len(x.shape) == 1 else "")
            raise ValueError(
                f"x has shape {x.shape}, but the network {self.sizes} takes d_in = {d_in} inputs "
                f"per sample: expected (n_samples, {d_in}), one row per sample{hint}")
        n_samples = x.shape[0]
        if n_samples == 0:
            raise ValueError(f"x has shape {x.shape}: no samples; give at least one row")
        if y is None:
            return x, None
        y = y if isinstance(y, Box) else _as_float64("y", y, contiguous=True)
        if self.loss_name == "cross_entropy":
            _check_not_labels(y.shape, n_samples, d_out)
        if y.shape != (n_samples, d_out):
            if len(y.shape) == 1 and y.shape[0] == n_samples * d_out:
                hint = (f"reshape it with y.reshape({n_samples}, {d_out}) (a 1-D y would "
                        "broadcast against the outputs to (N, N) and give a wrong loss)")
            elif len(y.shape) != 2 or y.shape[0] != n_samples:
                hint = "give one target row per sample of x"
            elif self.loss_name == "cross_entropy":
                hint = (f"one column per class: np.eye({d_out})[labels], or a network with "
                        f"d_out = {y.shape[1]}")
            else:
                hint = f"give targets of width {d_out}, or a network with d_out = {y.shape[1]}"
            raise ValueError(
                f"y has shape {y.shape}, but x has {n_samples} samples and the network "
                f"{self.sizes} has d_out = {d_out} outputs: expected ({n_samples}, {d_out}); "
                f"{hint}")
        if self.loss_name == "cross_entropy" and not isinstance(y, Box):
            _check_probability_rows(y)
        return x, y

    def forward(self, theta, x):
        """Outputs f(x; θ), shape (..., N, d_out) for θ (..., n_params) and x (N, d_in).

        Raises ValueError for wrong shapes (check_theta, check_data). Cost: one forward pass,
        O(B·N·n_params) for B parameter vectors.
        """
        theta = self.check_theta(theta)
        x, _ = self.check_data(x)
        return mlp_forward(self.layout, self.activation, theta, x)

    def forward_unfused(self, theta, x):
        """`forward` as the plain autograd graph of slices, matmul, add and σ (the reference,
        engine.nets.passes.forward_unfused). No input checks: it is called with what `forward`
        would receive after them."""
        return forward_unfused(self.layout, self.activation, theta, x)

    def loss(self, theta, x, y):
        """L(θ) on the data (x, y), shape (...) for θ (..., n_params): mse
        1/(2N) Σᵢ ‖f(xᵢ) − yᵢ‖², cross_entropy 1/N Σᵢ [logsumexp f(xᵢ) − yᵢ·f(xᵢ)].

        Raises ValueError for wrong shapes or targets (check_theta, check_data). Cost: one
        forward pass.
        """
        theta = self.check_theta(theta)
        x, y = self.check_data(x, y)
        return get_loss(self.loss_name)(self.forward(theta, x), y)

    def accuracy(self, theta, x, y):
        """Share of samples with argmax f(xᵢ) = argmax yᵢ, shape (...) for θ (..., n_params).

        Raises ValueError as `loss`. Cost: one forward pass.
        """
        theta = self.check_theta(theta)
        x, y = self.check_data(x, y)
        return accuracy(self.forward(theta, x), y)

    def init(self, rng: np.random.Generator, scheme: str = "lecun") -> np.ndarray:
        """θ of shape (n_params,) with W_l ~ N(0, s²) and b_l = 0 (where the layer has a bias),
        s² = 1/d_l (LeCun et al. 1998), 2/(d_l + d_{l+1}) (Glorot & Bengio 2010), 2/d_l (He et
        al. 2015). The W_l draws do not depend on the biases: the same rng gives the same W_l.

        Raises ValueError if rng is not a numpy.random.Generator (randomness is an argument:
        np.random.default_rng(seed)), the scheme is unknown, or θ cannot fit in the machine's
        memory. Cost O(n_params).
        """
        if not isinstance(rng, np.random.Generator):
            raise ValueError(
                f"rng={rng!r} is not a numpy.random.Generator; pass np.random.default_rng(seed)")
        if scheme not in INITS:
            raise ValueError(f"init={scheme!r} is unknown; choose one of {list(INITS)}")
        # the layers and their packed copy: 2 · 8 bytes per parameter, against the machine's RAM
        need, total = 16.0 * self.n_params, _physical_memory()
        if total and need > total:
            raise ValueError(f"sizes={self.sizes}: θ has {self.n_params} parameters, "
                             f"{need / 2**30:.1f} GiB to initialize, more than the "
                             f"{total / 2**30:.1f} GiB of memory; choose smaller sizes")
        params = []
        for layer in range(self.layout.n_layers):
            m, n = self.layout.shape_of(layer)
            var = {"lecun": 1.0 / m, "glorot": 2.0 / (m + n), "he": 2.0 / m}[scheme]
            params.append((rng.normal(0.0, np.sqrt(var), size=(m, n)),
                           np.zeros(n) if self.layout.has_bias[layer] else None))
        return self.layout.pack(params)


def _physical_memory() -> float | None:
    """Bytes of RAM of this machine (None where the OS does not say)."""
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def _as_float64(name: str, value, contiguous: bool = False) -> np.ndarray:
    """value as a float64 array (no copy if it is one); ValueError if it holds no real numbers."""
    if isinstance(value, np.ndarray) and value.dtype == np.float64 and (
            not contiguous or value.flags.c_contiguous):
        return value
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:  # ragged nested lists
        raise ValueError(f"{name} is not an array of numbers ({error}); give a float array") \
            from None
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{name} has dtype {array.dtype}; give real numbers (a float array)")
    return np.ascontiguousarray(array, dtype=np.float64) if contiguous else \
        array.astype(np.float64, copy=False)


def _check_not_labels(shape: tuple, n_samples: int, k: int) -> None:
    """Refuse a vector of class labels where cross-entropy needs one-hot rows, saying how."""
    if (len(shape) == 1 or (len(shape) == 2 and shape[1] == 1 and k > 1)) and \
            shape[0] == n_samples:
        raise ValueError(
            f"y has shape {shape}: class labels?, but cross_entropy needs one-hot rows "
            f"({n_samples}, {k}); one-hot integer labels with np.eye({k})[labels]")


def _check_probability_rows(y: np.ndarray) -> None:
    if y.size and not (y.min() >= 0.0 and np.abs(y.sum(axis=-1) - 1.0).max() <= _ROW_SUM_SLACK):
        raise ValueError(
            f"y has rows that are not one-hot (min {y.min():.3g}, row sums in "
            f"[{y.sum(axis=-1).min():.3g}, {y.sum(axis=-1).max():.3g}]), but cross_entropy "
            f"needs rows of class probabilities ≥ 0 summing to 1; one-hot integer labels with "
            f"np.eye({y.shape[-1]})[labels]")
