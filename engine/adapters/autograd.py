"""An own loss written with autograd.numpy as a FlatLoss, with a fast Hessian for batched losses.

autograd differentiates one trace at a time in Python, so its Hessian (n reverse passes of the
gradient's graph, autograd.hessian) costs n times the Python overhead of a graph walk: 4.6 ms for
the README's 10-parameter example, where jax.jit(jax.hessian) takes 0.1 ms. When the loss
also takes a stack of parameter vectors — θ (..., n) ↦ L (...), as the engine's MLP does — the
Hessian comes from ⌈n/B⌉ reverse-over-reverse passes instead: with Θ = B copies of θ and E the
rows e_j of a block of the identity, make_hvp(Σ_b L(Θ_b))(Θ)(E) has row b = H(θ)e_b (the sum is
separable, so the HVP of the sum is the stack of the HVPs). Same arithmetic, B columns per graph
walk. from_autograd tests once, at θ₀, whether the loss takes a stack (two rows, each equal to
its own evaluation to 1e-12 relative), and otherwise goes column by column.
"""
from __future__ import annotations

import dataclasses

import autograd
import autograd.numpy as anp
import numpy as np

from engine.adapters.base import FlatLoss, blocks, identity_rows
from engine.derivatives.autodiff import check_vector, gradient, hessian_fn, hvp_at
from engine.io.errors import error_reason

# Columns per batched pass: B copies of every activation live at once (the 1-40-40-1 net on
# N = 1000 points: 32 × 1000 × 40 floats, 10 MB per activation); more buys nothing measurable
# once a pass is dominated by its matrix products
BLOCK = 32


def from_autograd(loss, theta0, *, batched=None, via="autograd") -> FlatLoss:
    """A FlatLoss for loss(θ) → scalar written with autograd.numpy, at parameters like theta0 (n,).

    batched: whether loss also maps a stack θ (B, n) to (B,) losses; None tests it at θ₀ (module
    docstring). Batched, the Hessian costs ⌈n/32⌉ graph walks of 32 columns each (`make bench`,
    one CPU: the README's example 1.6 ms against 4.6 ms column by column), hvp_at takes a stack
    V (B, n) in one walk and loss_batched is one call.
    via: "autograd", or "jax" to run the same function by jax.jit (needs the optional extra
    `jax`): engine.adapters.twin binds its autograd names to jax's, and the twin is kept only
    if L and ∇L agree with autograd's at θ₀ and at a second point to 1e-10 relative (the same
    float64 arithmetic in another order differs by ~1e-15); then every function is jax's
    (route "jax"; `make bench`, one CPU: 0.9–1.2× the Hessian and search times of the same loss
    written with jax.numpy, where autograd's stacked passes take 1.6–15×). batched is for
    via="autograd" only; like the autograd route's, the result has no parameters other than θ.
    Raises ValueError when loss is not callable, θ₀ is not one vector, loss(θ₀) is not a number,
    via is unknown or given with batched, or (via="jax") the loss does not run under jax or
    disagrees with autograd; ModuleNotFoundError (via="jax") without jax."""
    if not callable(loss):
        raise ValueError(f"loss is a {type(loss).__name__}, not a function of θ; give "
                         "loss(theta) -> scalar written with autograd.numpy")
    if via not in ("autograd", "jax"):
        raise ValueError(f"via={via!r}: give 'autograd' or 'jax'")
    if via == "jax" and batched is not None:
        raise ValueError("batched is for via='autograd'; jax stacks θ itself (give one or the "
                         "other)")
    theta0 = check_vector(theta0, "theta0")
    if theta0.ndim != 1:
        raise ValueError(f"theta0 has shape {theta0.shape}; give one parameter vector (n,)")
    value = loss(theta0)
    if np.ndim(value) != 0 or not np.isreal(value):
        raise ValueError(f"loss(theta0) has shape {np.shape(value)}; it must return a number")
    if via == "jax":
        return _via_jax(loss, theta0)
    if batched is None:
        batched = takes_stacks(loss, theta0)
    n = theta0.size
    if batched:
        total = lambda thetas: anp.sum(loss(thetas))  # noqa: E731  (separable: Σ_b L(θ_b))

        def hvp_rows(theta):
            def apply(V):
                V = np.atleast_2d(V)
                rows = autograd.make_hvp(total)(np.tile(theta, (len(V), 1)))[0](V)
                return rows
            return lambda v: apply(v).reshape(np.shape(v))

        def hessian(theta):
            return np.concatenate([hvp_rows(theta)(identity_rows(a, b, n))
                                   for a, b in blocks(n, BLOCK)])

        loss_batched = loss
    else:
        single = hvp_at

        def hvp_rows(theta):
            product = single(loss, theta)
            return lambda v: (product(v) if np.ndim(v) == 1
                              else np.stack([product(row) for row in v]))

        hessian = hessian_fn(loss)
        loss_batched = lambda thetas: np.array([loss(t) for t in thetas])  # noqa: E731
    kind = "batched loss" if batched else "loss"
    return FlatLoss("autograd", n, f"{kind} {getattr(loss, '__name__', 'function')}",
                    loss, gradient(loss), hvp_rows, hessian, loss_batched, theta0=theta0)


def takes_stacks(loss, theta0) -> bool:
    """Whether loss maps a stack (2, n) to its 2 losses: two distinct θ near θ₀, each row equal to
    the loss of that θ alone up to 1e-12 relative (the same arithmetic, in another order)."""
    thetas = np.stack([theta0, theta0 + 1e-3 * np.sin(np.arange(1, theta0.size + 1))])
    try:
        values = np.asarray(loss(thetas), dtype=np.float64)
    except Exception:  # noqa: BLE001  (any failure means: not written for stacks)
        return False
    if values.shape != (2,):
        return False
    single = np.array([float(loss(t)) for t in thetas])
    return bool(np.allclose(values, single, rtol=1e-12, atol=1e-300))


def _via_jax(loss, theta0) -> FlatLoss:
    """from_jax of loss's jax twin, checked against autograd at θ₀ and θ₀ + 1e-3·sin(1…n)
    (where ∇L(θ₀) may vanish, the second point tests the gradient): one line on failure."""
    try:  # before the twin binds jax.numpy: importing the jax route sets jax to float64
        from engine.adapters.jax import from_jax
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError(f"via='jax' needs JAX ({err}); install the optional extra: "
                                  "pip install -e '.[jax]'") from err
    from engine.adapters.twin import jax_twin

    name = getattr(loss, "__name__", "loss")
    points = (theta0, theta0 + 1e-3 * np.sin(np.arange(1, theta0.size + 1)))
    try:  # the reference first: a loss autograd cannot differentiate cannot be checked
        grad = gradient(loss)
        theirs = [(float(loss(t)), grad(t)) for t in points]
    except Exception as err:  # noqa: BLE001  (any failure of autograd on the loss)
        raise ValueError(f"autograd cannot differentiate loss {name} ({error_reason(err)}), so "
                         "its jax twin cannot be checked; write it with jax.numpy (from_jax)"
                         ) from err
    try:
        twin = jax_twin(loss)
        f = from_jax(twin, theta0)
        ours = [(f.loss(t), f.gradient(t)) for t in points]
    except Exception as err:  # noqa: BLE001  (any failure of jax on the twin: the loss's fault)
        raise ValueError(f"loss {name} does not run under jax ({error_reason(err)}); give "
                         "via='autograd' or write it with jax.numpy (from_jax)") from err
    # relative to the larger of the two points' values: L may be exactly 0 at θ₀ (a start at the
    # teacher), where rounding of another order leaves ~1e-31 under jax
    scale_l = max(abs(value) for value, _ in theirs)
    scale_g = max(float(np.linalg.norm(g)) for _, g in theirs)
    for (value, g), (ref, ref_g) in zip(ours, theirs, strict=True):
        if not (abs(value - ref) <= 1e-10 * scale_l
                and np.linalg.norm(g - ref_g) <= 1e-10 * scale_g):
            raise ValueError(f"loss {name} computes another L or ∇L under jax than under autograd "
                             f"(L {value!r} against {ref!r}); give via='autograd'")
    return dataclasses.replace(f, describe=f"autograd loss {name}, run by jax.jit",
                               _to_parameters=None, _from_parameters=None)
