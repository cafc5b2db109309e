"""Eigenvalues of H: the dense spectrum with the sign tolerance τ, H as a matrix-free operator
(trace, SLQ density) and its extreme eigenpairs by verified Lanczos; Hessian, all of them as
methods of one object."""
from .dense import (
    Spectrum,
    eigen_tolerance,
    kernel_share,
    spectrum,
    spectrum_from_eigenvalues,
    symmetric_eigh,
)
from .eigenpairs import Eigenpairs, extreme_eigenvalues
from .facade import TRACE_METHODS, Hessian
from .inertia import (
    COUNT_ROUTES,
    EIGH_MAX,
    CountedSpectrum,
    count_spectrum,
    counted_newton,
    filtered_newton,
    sylvester_inertia,
)
from .lanczos import (
    hutchinson_trace,
    hutchpp_trace,
    hvp_operator,
    slq_density,
    symmetric_operator,
)
from .trace import krylov_aware_trace, xtrace

__all__ = [
    "Spectrum", "eigen_tolerance", "kernel_share", "spectrum", "spectrum_from_eigenvalues",
    "symmetric_eigh", "Eigenpairs", "extreme_eigenvalues", "hutchinson_trace", "hvp_operator",
    "slq_density", "symmetric_operator", "hutchpp_trace", "Hessian", "TRACE_METHODS",
    "COUNT_ROUTES", "EIGH_MAX", "CountedSpectrum", "count_spectrum", "counted_newton",
    "filtered_newton", "sylvester_inertia", "xtrace", "krylov_aware_trace",
]
