"""The network: θ's layout, activations, losses, the MLP and its fused dense layer, the
hand-written passes in one notation, depth at a fixed budget."""
from .activations import (
    ACTIVATIONS,
    SATURATION_CUT,
    Activation,
    get_activation,
    relu,
    sigmoid,
    softplus,
    tanh,
)
from .budget import MAX_DEPTH, equal_budget_sizes, n_params_of, sizes_for_budget, width_for_budget
from .fused import FUSED_ACTIVATIONS, mlp_forward
from .layout import Layout
from .losses import LOSSES, accuracy, cross_entropy, get_loss, mse
from .model import INITS, MLP
from .passes import mlp_mse_gradient

__all__ = [
    "ACTIVATIONS", "SATURATION_CUT", "Activation", "get_activation", "relu", "sigmoid", "softplus",
    "tanh", "MAX_DEPTH", "equal_budget_sizes", "n_params_of", "sizes_for_budget",
    "width_for_budget", "FUSED_ACTIVATIONS", "mlp_forward", "Layout", "LOSSES", "accuracy",
    "cross_entropy", "get_loss", "mse", "INITS", "MLP", "mlp_mse_gradient",
]
