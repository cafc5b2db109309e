"""Views of the loss surface L(θ): lines, planes, per-parameter cuts and samples around a point.

Every loss goes through `loss_batched(Θ)`, mapping a stack Θ (B, n_params) to losses (B,), e.g.
`lambda T: net.loss(T, x, y)` with the engine's batched MLP. Stacks are built lazily, `chunk`
vectors at a time: a 51 × 51 plane is ⌈2601/chunk⌉ calls in bounded memory (`chunk_for`).

  line                          L along the segment θ₀ → θ₁ (Goodfellow et al. 2015)
  plane                         L on θ + a d₁ + b d₂ over a grid, for directions given by
    filter_normalized_direction   random, with θ's scale per filter or layer (Li et al. 2018)
    path_pca                      a path's two leading PCA directions (Li et al. 2018, §7; also
                                  the trajectory figures' projection)
    hessian_directions            the eigenvectors of λ_max and λ_min
  perturbation_curves           each parameter moved alone; rise_radius picks a cut's half-width
  neighbour_samples, losses     points drawn around θ, and L at any stack of points
  chunk_for                     parameter vectors per batched call in a memory budget
Errors: ValueError naming the argument and what it should be; no function mutates its inputs.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator

from engine.io.errors import check_finite, check_float_array, check_rng
from engine.nets.layout import Layout
from engine.spectra.dense import symmetric_eigh
from engine.spectra.eigenpairs import extreme_eigenvalues

NORMALIZATIONS = ("filter", "layer")


def line(loss_batched, theta0, theta1, alphas, chunk: int = 256) -> np.ndarray:
    """L(θ(α)), θ(α) = (1 − α)θ₀ + αθ₁ (θ₀, θ₁ exactly at α = 0, 1), shape (len(alphas),).
    θ₀, θ₁ (n_params,). Raises ValueError for non-finite or mismatched vectors, or a
    loss_batched that does not map (B, n_params) to (B,). Cost: len(alphas) forward passes."""
    theta0 = _vector(theta0, "theta0")
    theta1, alphas = _vector(theta1, "theta1", theta0), _vector(alphas, "alphas")[:, None]

    def rows(start, stop):
        a = alphas[start:stop]
        return (1.0 - a) * theta0 + a * theta1

    return _evaluate(loss_batched, rows, len(alphas), chunk)


def filter_normalized_direction(
    layout: Layout, theta, rng: np.random.Generator, normalization: str = "filter",
    zero_bias: bool = True,
) -> np.ndarray:
    """A random direction d (n_params,) with θ's scale block by block (Li et al. 2018).

    d ~ N(0, I), then 'filter': each unit j's filter d_{W_l}[:, j] (its incoming weights) is
    rescaled to ‖θ_{W_l}[:, j]‖; 'layer': each block d_{W_l} to ‖θ_{W_l}‖. Biases are zeroed
    (Li et al.'s default) or, zero_bias=False, count as weights from a constant input 1: the filter
    is (W_l[:, j], b_l[j]), the block [vec W_l, b_l] (a bias-free layer: W_l alone either way).
    A zero block of θ gives zero. Raises
    ValueError for a normalization not in NORMALIZATIONS, θ not of layout's length or an rng that
    is not a numpy Generator. Cost: O(n).
    """
    if normalization not in NORMALIZATIONS:
        raise ValueError(f"normalization={normalization!r} is unknown; choose one of "
                         f"{list(NORMALIZATIONS)}")
    theta, rng = _vector(theta, "theta"), check_rng(rng)
    layout.check(theta)
    d = rng.standard_normal(layout.n_params)
    out = np.zeros_like(d)
    axis = 0 if normalization == "filter" else None
    params_d, params_t = layout.unpack(d), layout.unpack(theta)
    for layer in range(layout.n_layers):
        (Wd, bd), (Wt, bt) = params_d[layer], params_t[layer]
        # A unit's filter is its column; with biases kept, the bias is one more row of weights.
        keep = not zero_bias and bd is not None  # a bias-free layer has no b_l to keep
        blocks_d = np.vstack([Wd, bd[None, :]]) if keep else Wd
        blocks_t = np.vstack([Wt, bt[None, :]]) if keep else Wt
        norm_t, norm_d = np.linalg.norm(blocks_t, axis=axis), np.linalg.norm(blocks_d, axis=axis)
        scaled = blocks_d * _safe_ratio(norm_t, norm_d)
        out[layout.weight_slice(layer)] = scaled[: Wd.shape[0]].ravel()
        if keep:
            out[layout.bias_slice(layer)] = scaled[-1]
    return out


def plane(loss_batched, theta, d1, d2, a_grid, b_grid, chunk: int = 256) -> np.ndarray:
    """Z[i, j] = L(θ + a_j d₁ + b_i d₂), shape (len(b_grid), len(a_grid)): rows follow b, as
    `contour(a_grid, b_grid, Z)` expects. θ, d₁, d₂ (n_params,); raises ValueError as `line`.
    Cost: len(a)·len(b) forward passes."""
    theta = _vector(theta, "theta")
    d1, d2 = _vector(d1, "d1", theta), _vector(d2, "d2", theta)
    a_grid, b_grid = _vector(a_grid, "a_grid"), _vector(b_grid, "b_grid")
    n_a = len(a_grid)

    def rows(start, stop):
        flat = np.arange(start, stop)
        a, b = a_grid[flat % n_a, None], b_grid[flat // n_a, None]
        return theta + a * d1 + b * d2

    return _evaluate(loss_batched, rows, n_a * len(b_grid), chunk).reshape(len(b_grid), n_a)


class PathPCA(NamedTuple):
    """directions (2, n) orthonormal rows; explained_variance_ratio (2,); coords (m, 2) of the
    points relative to the centre; off_plane (m,) ‖(I − P)dᵢ‖²/‖dᵢ‖² of dᵢ = pointᵢ − centre."""

    directions: np.ndarray
    explained_variance_ratio: np.ndarray
    coords: np.ndarray
    off_plane: np.ndarray


def path_pca(points, center=None) -> PathPCA:
    """The plane of the two leading principal directions of points (m, n), e.g. a training path
    or the paths of several runs stacked (Li et al. 2018, §7), through `center` (n,) (default:
    the points' mean).

    PCA by scikit-learn (exact SVD, deterministic signs). coords = (points − centre) @ directionsᵀ:
    centre + coords @ directions projects each point onto the plane; off_plane is the share of
    each point's displacement the plane hides (0 where the point is the centre). Summed over
    points about the mean, Σ‖(I − P)dᵢ‖²/Σ‖dᵢ‖² = 1 − EVR₁ − EVR₂. Cost O(m²·n).
    All points equal: zero directions, ratios, coordinates and shares (no warning).
    Raises ValueError unless m ≥ 3, n ≥ 2 and everything is finite.
    """
    points = check_float_array("points", points, "give the points as an array (m, n)")
    if points.ndim != 2 or points.shape[0] < 3 or points.shape[1] < 2:
        raise ValueError(f"points has shape {points.shape}; expected (m ≥ 3, n ≥ 2): record at "
                         "least three points of the path, of at least two parameters")
    check_finite("points", points, "leave diverged runs out")
    center = points.mean(axis=0) if center is None else _vector(center, "center")
    if center.size != points.shape[1]:
        raise ValueError(f"center has {center.size} entries; the points have {points.shape[1]}")
    d = points - center
    if not np.any(points != points[0]):  # one point repeated: no direction, nothing off-plane
        zeros = np.zeros(len(points))
        return PathPCA(np.zeros((2, points.shape[1])), np.zeros(2), np.zeros((len(points), 2)),
                       zeros)
    from sklearn.decomposition import PCA  # here: half a second that `import engine` skips

    pca = PCA(n_components=2, svd_solver="full").fit(points)
    coords = d @ pca.components_.T
    total = np.einsum("ij,ij->i", d, d)
    # ‖(I − P)d‖² = ‖d‖² − ‖Pd‖² (orthonormal directions); clip the rounding below 0
    hidden = np.clip(total - np.einsum("ij,ij->i", coords, coords), 0.0, None)
    off = np.divide(hidden, total, out=np.zeros_like(total), where=total > 0)
    return PathPCA(pca.components_.copy(), pca.explained_variance_ratio_.copy(), coords,
                   np.minimum(off, 1.0))


def hessian_directions(H, rng: np.random.Generator | None = None, tol: float = 1e-6):
    """(v_max, v_min, λ_max, λ_min): unit eigenvectors of the largest and the smallest (most
    negative) eigenvalue of symmetric H, signed so their largest-magnitude entry is positive.

    H dense (n, n): one engine.spectra.dense.symmetric_eigh, O(n³). H a scipy LinearOperator of
    Hessian-vector products: engine.spectra.lanczos.extreme_eigenvalues (k = 1, 'LA' and 'SA', start
    vector from rng, relative accuracy tol, answers verified). A trained net's smallest
    eigenvalues are a dense bulk near 0: 'SA' takes hundreds of HVPs.
    Raises ValueError for a bad H, rng or tol, or when Lanczos does not converge.
    """
    if isinstance(H, LinearOperator):
        return _lanczos_directions(H, rng, tol)
    lam, V = symmetric_eigh(H)
    v_max, v_min = (_signed(V[:, k]) for k in (-1, 0))
    return v_max, v_min, float(lam[-1]), float(lam[0])


def rise_radius(loss_batched, theta, v, rise: float = 1.0, chunk: int = 256) -> float:
    """Smallest r of the grid ‖θ‖·10^(−6 … 0) (61 points) with max L(θ ± r v) ≥ (1 + rise)·L(θ),
    else ‖θ‖: the half-width over which a cut along v shows the loss rise, whatever its order
    (quadratic along a large eigenvalue, often quartic along a small one). θ, v (n_params,).
    Raises ValueError for rise ≤ 0 or as `line`. Cost: 123 forward passes."""
    theta = _vector(theta, "theta")
    v = _vector(v, "v", theta)
    if not (np.isfinite(rise) and rise > 0):
        raise ValueError(f"rise={rise!r} must be a positive number (a relative loss increase)")
    radii = float(np.linalg.norm(theta)) * np.logspace(-6, 0, 61)
    values = line(loss_batched, theta, theta + v, np.concatenate([[0.0], radii, -radii]), chunk)
    above = np.maximum(values[1:62], values[62:]) >= (1.0 + rise) * values[0]
    return float(radii[np.argmax(above)] if above.any() else radii[-1])


def perturbation_curves(loss_batched, theta, deltas, chunk: int = 256) -> np.ndarray:
    """C[i, k] = L(θ + δ_{ik} eᵢ), each parameter moved alone, shape (n_params, K) — near θ,
    L(θ) + gᵢδ + ½Hᵢᵢδ² + O(δ³). deltas: (K,) for all parameters, or (n_params, K), a range per
    parameter for parameters on very different scales. Raises ValueError for other shapes or
    non-finite offsets. Cost: n_params·K forward passes."""
    theta = _vector(theta, "theta")
    n = theta.size
    deltas = check_float_array("deltas", deltas, "give offsets (K,) or (n_params, K)")
    if deltas.ndim == 1:
        deltas = np.broadcast_to(deltas, (n, deltas.size))
    if deltas.ndim != 2 or deltas.shape[0] != n or deltas.shape[1] < 1:
        raise ValueError(f"deltas has shape {deltas.shape}; expected (K,) or ({n}, K) with K ≥ 1")
    check_finite("deltas", deltas, "give finite offsets")
    K = deltas.shape[1]

    def rows(start, stop):
        flat = np.arange(start, stop)
        out = np.tile(theta, (stop - start, 1))
        out[np.arange(stop - start), flat // K] += deltas[flat // K, flat % K]
        return out

    return _evaluate(loss_batched, rows, n * K, chunk).reshape(n, K)


def neighbour_samples(theta, scale, n: int, rng: np.random.Generator) -> np.ndarray:
    """Θ = θ + s ⊙ u, u ~ U[−1, 1]^{n×n_params}: n nearby points, shape (n, n_params). scale s is
    a number or a half-width per parameter (n_params,), e.g. its rate of descent. Raises
    ValueError for a scale that is negative, non-finite or of another shape, n < 1 or a bad rng."""
    theta, rng = _vector(theta, "theta"), check_rng(rng)
    scale = check_float_array("scale", scale, "give a number or a half-width per parameter")
    if scale.ndim > 1 or (scale.ndim == 1 and scale.size != theta.size):
        raise ValueError(f"scale has shape {scale.shape}; expected a number or ({theta.size},)")
    if not np.all(np.isfinite(scale)) or np.any(scale < 0):
        raise ValueError("scale must be finite and ≥ 0 (a half-width per parameter)")
    if int(n) != n or n < 1:
        raise ValueError(f"n={n!r} must be a positive integer number of samples")
    return theta + scale * rng.uniform(-1.0, 1.0, size=(int(n), theta.size))


def losses_at(loss_batched, thetas, chunk: int = 256) -> np.ndarray:
    """L(Θ_k) for each row of a stack Θ (n, n_params), e.g. neighbour samples, shape (n,).
    Raises ValueError for a stack that is not finite (n, n_params). Cost: n forward passes in
    ⌈n/chunk⌉ calls."""
    thetas = check_float_array("thetas", thetas, "give a stack (n, n_params)")
    if thetas.ndim != 2 or not np.all(np.isfinite(thetas)):
        raise ValueError(f"thetas has shape {thetas.shape}; expected finite (n, n_params)")
    return _evaluate(loss_batched, lambda start, stop: thetas[start:stop], len(thetas), chunk)


def chunk_for(sizes, n_samples: int, budget_bytes: float = 2e8) -> int:
    """Parameter vectors per batched MLP loss call within budget_bytes: a forward pass keeps,
    per vector, pre-activations and activations of every layer (2·N·Σ_{l≥1} d_l floats) and θ.
    At least 1. Raises ValueError for sizes that are not a network, n_samples < 1 or
    budget_bytes ≤ 0."""
    layout = Layout(tuple(sizes))
    if not (isinstance(budget_bytes, (int, float, np.number)) and budget_bytes > 0):
        raise ValueError(f"budget_bytes={budget_bytes!r} must be a number of bytes > 0, e.g. 2e8")
    if int(n_samples) != n_samples or n_samples < 1:
        raise ValueError(f"n_samples={n_samples!r} must be a positive integer")
    per_vector = 8 * (2 * n_samples * sum(layout.sizes[1:]) + layout.n_params)
    return max(1, int(budget_bytes // per_vector))


def _lanczos_directions(op, rng, tol):
    n = op.shape[0]
    if op.shape != (n, n) or n < 3:
        raise ValueError(f"H has shape {op.shape}; a Lanczos run needs a square operator, n ≥ 3")
    if not isinstance(rng, np.random.Generator):
        raise ValueError("hessian_directions of a LinearOperator needs rng, a numpy Generator "
                         "for eigsh's start vector")
    if not (np.isfinite(tol) and tol >= 0):
        raise ValueError(f"tol={tol!r} must be a finite number ≥ 0 (0 = machine precision)")
    pairs = []
    for which in ("LA", "SA"):
        try:
            found = extreme_eigenvalues(op, k=1, which=which, tol=tol, rng=rng,
                                        return_vectors=True)
        except ArpackNoConvergence:
            raise ValueError(f"eigsh found no {which} eigenvector of H to tol={tol!r} within its "
                             "iteration limit; pass a looser tol (e.g. 1e-4)") from None
        pairs.append((float(found.values[0]), _signed(found.vectors[:, 0])))
    (lam_max, v_max), (lam_min, v_min) = pairs
    return v_max, v_min, lam_max, lam_min


def _evaluate(loss_batched, rows, n_rows: int, chunk: int) -> np.ndarray:
    if int(chunk) != chunk or chunk < 1:
        raise ValueError(f"chunk={chunk!r} must be a positive integer (vectors per batched call)")
    chunk = int(chunk)
    out = np.empty(n_rows)
    for start in range(0, n_rows, chunk):
        stop = min(start + chunk, n_rows)
        values = np.asarray(loss_batched(rows(start, stop)), dtype=np.float64)
        if values.shape != (stop - start,):
            raise ValueError(f"loss_batched returned shape {values.shape} for {stop - start} "
                             "parameter vectors; it must map (B, n_params) to (B,), e.g. "
                             "lambda T: net.loss(T, x, y)")
        out[start:stop] = values
    return out


def _vector(v, name: str, like=None) -> np.ndarray:
    """v as a finite 1-D float array (a parameter vector or a grid), as long as `like` if given."""
    v = check_float_array(name, v, "expected a 1-D array (n_params,) or grid")
    if v.ndim != 1 or v.size < 1:
        raise ValueError(f"{name} has shape {v.shape}; expected a 1-D array (n_params,) or grid")
    check_finite(name, v, "give finite numbers")
    if like is not None and v.size != like.size:
        raise ValueError(f"{name} has {v.size} entries but theta has {like.size}; pass vectors "
                         "of the same network")
    return v


def _safe_ratio(target, current):
    # A zero block of the random draw cannot be rescaled; it stays zero instead of becoming NaN.
    return np.divide(target, current, out=np.zeros_like(np.asarray(target, dtype=np.float64)),
                     where=current > 0)


def _signed(v):
    return v if v[np.argmax(np.abs(v))] >= 0 else -v
