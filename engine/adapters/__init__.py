"""Your model, in the framework you already use: autograd.numpy, PyTorch or JAX losses as one
FlatLoss of a flat float64 θ, the input of every tool (engine.adapters.base says which).
from_torch and from_jax import their framework only when called (the optional extras)."""
from .autograd import from_autograd, takes_stacks
from .base import ROUTES, FlatLoss


def from_torch(model, loss_fn, data, **options) -> FlatLoss:
    """engine.adapters.torch.from_torch (needs the optional extra `torch`)."""
    try:
        from .torch import from_torch as build
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError(f"from_torch needs PyTorch ({err}); install the optional "
                                  "extra: pip install -e '.[torch]'") from err
    return build(model, loss_fn, data, **options)


def from_jax(loss, params, data=(), **options) -> FlatLoss:
    """engine.adapters.jax.from_jax (needs the optional extra `jax`)."""
    try:
        from .jax import from_jax as build
    except ModuleNotFoundError as err:
        raise ModuleNotFoundError(f"from_jax needs JAX ({err}); install the optional extra: "
                                  "pip install -e '.[jax]'") from err
    return build(loss, params, data, **options)


__all__ = ["FlatLoss", "ROUTES", "from_autograd", "from_jax", "from_torch", "takes_stacks"]
