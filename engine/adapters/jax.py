"""A JAX loss as a FlatLoss: loss(params, *data) of any parameter pytree, jit-compiled in float64.

    from engine.adapters import from_jax
    f = from_jax(loss, params, (x, y))        # loss(params, x, y) -> scalar, params a pytree
    H = Hessian(f)                             # at f.theta0, the flattened params

θ is jax.flatten_util.ravel_pytree(params) (leaves in tree order, each row-major). L, ∇L
(jax.grad), Hv (forward-over-reverse jvp of grad, vmapped over a stack of directions) and ∇²L
(jax.hessian) are jax.jit-compiled once, on first use, in float64: from_jax turns on
jax_enable_x64, a process-wide setting (arrays made before it stay float32 and are cast here).
Needs the optional extra `jax` (pip install -e '.[jax]'); engine never imports this module unless
asked.
"""
from __future__ import annotations

import jax
import numpy as np

from engine.adapters.base import FlatLoss, blocks
from engine.io.errors import check_numeric

jax.config.update("jax_enable_x64", True)  # before any array below: float64 throughout
from jax import numpy as jnp  # noqa: E402
from jax.flatten_util import ravel_pytree  # noqa: E402


def from_jax(loss, params, data=(), *, block: int = 256) -> FlatLoss:
    """A FlatLoss for L(θ) = loss(unravel(θ), *data): params any pytree of arrays (θ₀ its
    flattening), data a tuple of arrays passed after it (cast to float64 when floating).

    block: directions per vmapped product (memory: block copies of the activations).
    Raises ValueError when loss is not callable, params or data hold anything but numbers, or
    loss does not return one number at params.
    Cost: each function compiles on its first call (XLA), then runs without Python overhead."""
    if not callable(loss):
        raise ValueError(f"loss is a {type(loss).__name__}; give loss(params, *data) -> scalar "
                         "written with jax.numpy")
    if not isinstance(data, (tuple, list)):
        raise ValueError("data must be a tuple of arrays, e.g. (x, y) (or () for none)")
    for i, d in enumerate(data):
        check_numeric(f"data[{i}]", d, "give arrays of numbers")
    for leaf in jax.tree_util.tree_leaves(params):
        check_numeric("params", leaf, "give a pytree of arrays of numbers (θ₀)")
    data = tuple(_f64(jnp.asarray(d)) for d in data)
    flat0, unravel = ravel_pytree(jax.tree_util.tree_map(lambda p: _f64(jnp.asarray(p)), params))
    flat0 = flat0.astype(jnp.float64)

    def flat_loss(theta):
        return loss(unravel(theta), *data)

    value = flat_loss(flat0)
    if jnp.ndim(value) != 0:
        raise ValueError(f"loss returned shape {jnp.shape(value)}; it must return one number")
    grad_fn = jax.grad(flat_loss)
    product = jax.jit(lambda theta, v: jax.jvp(grad_fn, (theta,), (v,))[1])
    stacked = jax.jit(jax.vmap(lambda theta, v: jax.jvp(grad_fn, (theta,), (v,))[1],
                               in_axes=(None, 0)))
    loss_batched_fn = jax.jit(jax.vmap(flat_loss))

    def hvp_at(theta):
        theta = jnp.asarray(theta)

        def apply(v):
            if np.ndim(v) == 1:
                return np.asarray(product(theta, jnp.asarray(v)))
            return np.concatenate([_padded(lambda V: stacked(theta, V), v[a:b])
                                   for a, b in blocks(len(v), block)])

        return apply

    def loss_batched(thetas):
        return np.concatenate([_padded(loss_batched_fn, thetas[a:b])
                               for a, b in blocks(len(thetas), block)])

    numpy_of = lambda fn: lambda theta: np.asarray(fn(jnp.asarray(theta)))  # noqa: E731
    n = int(flat0.size)
    return FlatLoss("jax", n, getattr(loss, "__name__", "loss"), numpy_of(jax.jit(flat_loss)),
                    numpy_of(jax.jit(grad_fn)), hvp_at, numpy_of(jax.jit(jax.hessian(flat_loss))),
                    loss_batched, theta0=np.asarray(flat0),
                    _to_parameters=lambda theta: unravel(jnp.asarray(theta)),
                    _from_parameters=lambda p: np.asarray(ravel_pytree(p)[0], dtype=np.float64))


def _padded(fn, rows):
    """fn on a stack padded with zero rows to a power of two, the padding dropped: jit compiles
    once per stack shape, so log₂(block) shapes instead of one per stack size."""
    size = 1 << (len(rows) - 1).bit_length()
    padded = np.zeros((size,) + rows.shape[1:])
    padded[: len(rows)] = rows
    return np.asarray(fn(jnp.asarray(padded)))[: len(rows)]


def _f64(a):
    return a.astype(jnp.float64) if jnp.issubdtype(a.dtype, jnp.floating) else a
