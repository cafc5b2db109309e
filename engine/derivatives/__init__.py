"""∇L, HVPs and Hessians: autograd transforms of any loss of θ, the MLP's R-operator, its plain
NumPy backward pass and its exact Hessian from the Gauss–Newton + residual structure."""
from .autodiff import (
    check_p,
    grad,
    grad_norm,
    gradient,
    hessian,
    hessian_fn,
    hessian_of,
    hessian_vector_product,
    hvp,
    hvp_at,
    hvp_fn,
    mlp_hvp_fn,
    value_and_grad,
)
from .backprop import mlp_mse_gradient
from .curvature import exact_hessian, gauss_newton, hessian_parts, output_jacobian

__all__ = [
    "check_p", "grad", "grad_norm", "gradient", "hessian", "hessian_fn", "hessian_of",
    "hessian_vector_product", "hvp", "hvp_at", "hvp_fn", "mlp_hvp_fn", "value_and_grad",
    "mlp_mse_gradient", "exact_hessian", "gauss_newton", "hessian_parts", "output_jacobian",
]
