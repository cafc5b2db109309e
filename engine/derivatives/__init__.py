"""∇L, HVPs and Hessians: autograd transforms of any loss of θ, the MLP's R-operator and its
exact Hessian from the Gauss–Newton + residual structure (the plain NumPy backward pass,
mlp_mse_gradient, is in engine.nets.passes with the other hand-written passes). The
previous release's names (grad, hessian, hvp, …) still work for one release, with a
DeprecationWarning naming the new one (renamed)."""
from .autodiff import (
    __getattr__,  # noqa: F401  (the previous release's names, for one release: renamed)
    check_p,
    grad_norm,
    gradient,
    hessian_fn,
    hvp_at,
    hvp_fn,
    mlp_gradient,
    mlp_hessian_autograd,
    mlp_hvp,
    mlp_hvp_at,
    mlp_value_and_gradient,
)
from .curvature import exact_hessian, gauss_newton, hessian_parts, output_jacobian

__all__ = [
    "check_p", "grad_norm", "gradient", "hessian_fn", "hvp_at", "hvp_fn", "mlp_gradient",
    "mlp_hessian_autograd", "mlp_hvp", "mlp_hvp_at", "mlp_value_and_gradient",
    "exact_hessian", "gauss_newton", "hessian_parts", "output_jacobian",
]
