"""The previous release's names of the derivatives, kept for one release: each still works and
warns (DeprecationWarning naming the new name); the next release removes them.

They were renamed because in jax and autograd the same names mean function transforms
(`grad(f)`, `hessian(f)`, `value_and_grad(f)` return functions; `hessian_vector_product(f)` is
autograd's HVP transform), while here they evaluated an MLP's derivatives at (net, θ, x, y);
and because one Hessian-vector product went by six names. Now one name per concept:
  hvp_fn(loss)           (θ, v) ↦ H(θ)v, a transform of a loss (as jax's and autograd's)
  hvp_at(loss, θ)        v ↦ H(θ)v at a fixed θ (autograd's make_hvp)
  hvp_operator(…)        H(θ) as a scipy LinearOperator (engine.spectra.lanczos)
  mlp_hvp / mlp_hvp_at   an MLP's H(θ)v by the R-operator, once / at a fixed θ
and likewise mlp_gradient, mlp_value_and_gradient and mlp_hessian_autograd for the MLP's ∇L,
(L, ∇L) and autograd's ∇²L (engine.derivatives.curvature.exact_hessian is the structured one).
"""
from __future__ import annotations

import warnings

# old name → (the new name, why): a name that only moved
RENAMED = {
    "grad": ("mlp_gradient", "in jax and autograd grad(f) is a function transform"),
    "value_and_grad": ("mlp_value_and_gradient",
                       "in jax and autograd value_and_grad(f) is a function transform"),
    "hessian": ("mlp_hessian_autograd", "in jax and autograd hessian(f) is a function transform"),
    "hvp": ("mlp_hvp", "hvp is the name of an HVP of any function in jax's cookbook"),
    "mlp_hvp_fn": ("mlp_hvp_at", "an _fn builder here takes (θ, v); this one fixes θ, as hvp_at"),
}
# old name → what to write instead, for a name that duplicated a composition of two others
REPLACED = {
    "hessian_vector_product": "hvp_fn(loss)(theta, v)",
    "hessian_of": "hessian_fn(loss)(theta)",
}


def old_name(name: str, namespace: dict):
    """The object an old name stands for, from engine.derivatives.autodiff's namespace, with a
    DeprecationWarning naming its replacement; AttributeError for any other name (a module
    __getattr__'s contract, PEP 562)."""
    if name in RENAMED:
        new, why = RENAMED[name]
        _warn(f"engine's {name} is renamed {new} ({why}); use {new}. The old name goes in the "
              "next release.")
        return namespace[new]
    if name in REPLACED:
        _warn(f"engine's {name} duplicated a composition of two names; use {REPLACED[name]}. "
              "The old name goes in the next release.")
        return _composition(name, namespace)
    raise AttributeError(f"engine has no attribute {name!r}")


def _composition(name, namespace):
    if name == "hessian_vector_product":
        def hessian_vector_product(loss, theta, v):
            """H(θ)v once: hvp_fn(loss)(theta, v)."""
            return namespace["hvp_fn"](loss)(theta, v)
        return hessian_vector_product

    def hessian_of(loss, theta):
        """∇²L(θ) once: hessian_fn(loss)(theta)."""
        return namespace["hessian_fn"](loss)(theta)
    return hessian_of


def _warn(text: str) -> None:
    # past _warn, old_name and the module's __getattr__: the line that imports or reads the name
    warnings.warn(text, DeprecationWarning, stacklevel=4)
