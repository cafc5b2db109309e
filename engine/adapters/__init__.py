"""Your model, in the framework you already use: autograd.numpy, PyTorch or JAX losses as one
FlatLoss of a flat float64 θ, the input of every tool (engine.adapters.base says which).
from_torch and from_jax import their framework only when called (the optional extras)."""
from .autograd import from_autograd, takes_stacks
from .base import ROUTES, FlatLoss
from .frameworks import from_jax, from_torch
from .twin import jax_twin

__all__ = ["FlatLoss", "ROUTES", "from_autograd", "from_jax", "from_torch", "jax_twin",
           "takes_stacks"]
