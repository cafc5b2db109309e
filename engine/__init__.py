"""losslab's engine: pure float64 functions of a flat parameter vector θ and data.

    from engine import MLP, grad, hessian
    net = MLP((1, 10, 10, 1), activation="tanh", loss_name="mse")
    theta = net.init(np.random.default_rng(0))
"""
from .activations import ACTIVATIONS, get_activation
from .derivatives import check_p, grad, grad_norm, hessian, hvp, value_and_grad
from .layout import Layout
from .losses import LOSSES, accuracy, cross_entropy, get_loss, mse
from .model import INITS, MLP

__all__ = [
    "ACTIVATIONS", "INITS", "LOSSES", "MLP", "Layout", "accuracy", "check_p", "cross_entropy",
    "get_activation", "get_loss", "grad", "grad_norm", "hessian", "hvp", "mse", "value_and_grad",
]
