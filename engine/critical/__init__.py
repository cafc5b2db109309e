"""Critical points: the Newton-MR step, the searches for ∇L = 0, the classification (critical,
gradient-flat, not converged) and continuation, the index–loss fit, and known answers by
embedding."""
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
from .embedding import EMBEDDINGS, add_units, effective_widths, embed, split_curvature, split_unit
from .finders import METHODS, STATUS_NAMES, FinderResult, find_critical
from .index_loss import index_loss_fit, power_curve
from .newton_mr import accelerated, newton_model, next_radius

__all__ = [
    "LABELS", "VERDICTS", "Continuation", "PointClass", "SampledRatio", "classify", "continuation",
    "sampled_minimal_ratio", "saturation", "EMBEDDINGS", "add_units", "effective_widths", "embed",
    "split_curvature", "split_unit", "METHODS", "STATUS_NAMES", "FinderResult", "find_critical",
    "index_loss_fit", "power_curve", "accelerated", "newton_model", "next_radius",
]
