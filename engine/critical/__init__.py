"""Critical points: the Newton-MR step, the searches for ∇L = 0, the classification (critical,
gradient-flat, not converged) and continuation, the index–loss fit, and known answers by
embedding."""
from .checks import shape_checked
from .classification import (
    LABELS,
    VERDICTS,
    Continuation,
    PointClass,
    SampledRatio,
    classify,
    continuation,
    sampled_minimal_ratio,
    saturation,
)
from .cut import CUTS, certified_tau, sign_cut
from .embedding import EMBEDDINGS, add_units, effective_widths, embed, split_curvature, split_unit
from .finders import DENSE_MAX, METHODS, STATUS_NAMES, FinderResult, find_critical
from .index_loss import index_loss_fit, power_curve
from .krylov import SubspaceModel, subspace_model
from .linear_autoencoder import (
    CriticalClass,
    LinearAutoencoder,
    analytic_point,
    critical_classes,
    nearest_subset,
    spectrum_data,
)
from .newton_mr import KRYLOV_SOLVERS, accelerated, newton_model, next_radius
from .search_result import counted

__all__ = [
    "LABELS", "VERDICTS", "Continuation", "PointClass", "SampledRatio", "classify", "continuation",
    "sampled_minimal_ratio", "saturation", "EMBEDDINGS", "add_units", "effective_widths", "embed",
    "split_curvature", "split_unit", "DENSE_MAX", "KRYLOV_SOLVERS", "SubspaceModel",
    "subspace_model", "METHODS", "STATUS_NAMES", "FinderResult", "find_critical",
    "index_loss_fit", "power_curve", "accelerated", "newton_model", "next_radius", "shape_checked",
    "CUTS", "certified_tau", "sign_cut", "CriticalClass", "LinearAutoencoder", "analytic_point",
    "critical_classes", "nearest_subset", "spectrum_data", "counted",
]
