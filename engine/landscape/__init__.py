"""The loss landscape around θ: lines, planes, perturbations, PCA of paths; sharpness, sensitivity
and interpolation for generalization."""
from .generalization import (
    Sharpness,
    box_sharpness,
    epsilon_sharpness,
    input_jacobian,
    interpolation,
    sensitivity,
    top_eigenvalue,
)
from .surface import (
    NORMALIZATIONS,
    PathPCA,
    chunk_for,
    filter_normalized_direction,
    hessian_directions,
    line,
    losses_at,
    neighbour_samples,
    path_pca,
    perturbation_curves,
    plane,
    rise_radius,
)

__all__ = [
    "Sharpness", "box_sharpness", "epsilon_sharpness", "input_jacobian", "interpolation",
    "sensitivity", "top_eigenvalue", "NORMALIZATIONS", "PathPCA", "chunk_for",
    "filter_normalized_direction", "hessian_directions", "line", "losses_at", "neighbour_samples",
    "path_pca", "perturbation_curves", "plane", "rise_radius",
]
