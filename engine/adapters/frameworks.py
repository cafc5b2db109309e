"""The PyTorch and JAX routes, imported only when called: neither framework is needed to import
engine (both are optional extras), and without one the call says in one line how to install it."""
from __future__ import annotations

from engine.adapters.base import FlatLoss


def from_torch(model, loss_fn, data, **options) -> FlatLoss:
    """engine.adapters.torch.from_torch (needs the optional extra `torch`)."""
    try:
        from engine.adapters.torch import from_torch as build
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError(f"from_torch needs PyTorch ({err}); install the optional "
                                  "extra: pip install -e '.[torch]'") from err
    return build(model, loss_fn, data, **options)


def from_jax(loss, params, data=(), **options) -> FlatLoss:
    """engine.adapters.jax.from_jax (needs the optional extra `jax`)."""
    try:
        from engine.adapters.jax import from_jax as build
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError(f"from_jax needs JAX ({err}); install the optional extra: "
                                  "pip install -e '.[jax]'") from err
    return build(loss, params, data, **options)
