"""The deep linear autoencoder: a loss surface whose critical points are known in closed form.

Model (Baldi & Hornik 1989; the benchmark of Frye et al. 2019): inputs x ∈ ℝᵏ (rows), hidden
width p ≤ k, no biases, no nonlinearity: x ↦ x V₀ V₁ with V₀ (k, p), V₁ (p, k) — the MLP
(k, p, k) with activation 'linear' and bias-free layers. θ = [vec(V₀), vec(V₁)] (C order, the
layer order of engine.nets.layout without the biases), n = 2kp. With C = XᵀX/N (k, k) the data's
second moment and M = V₀V₁,
    L(θ) = 1/(2N) ‖X(M − I)‖²_F = ½ tr((M − I)ᵀ C (M − I)),
    ∇_{V₀}L = G V₁ᵀ,  ∇_{V₁}L = V₀ᵀ G,  G = C(M − I),
    H[A, B] = (ΔG V₁ᵀ + G Bᵀ,  Aᵀ G + V₀ᵀ ΔG),  ΔG = C(A V₁ + V₀ B)   (HVP along (A, B)).

Critical points (C = U diag(λ) Uᵀ, λ distinct and > 0): M = U_S U_Sᵀ, the projector onto the
eigenvectors of a subset S, |S| = r ≤ p, with loss ½ Σ_{i∉S} λᵢ. Every θ = (U_S Γ, Γ⁻¹ U_Sᵀ)
padded to width p is one, Γ ∈ GL(r) (the orbit; `analytic_point`). The Hessian's inertia there
(`critical_classes`; derived by expanding L to second order at the representative Γ = I, each
pair of coordinates (V₀[j, a], V₁[a, j]) decoupling into a 2 × 2 block):
    n₋ = #{(j ∉ S, s ∈ S) : λⱼ > λₛ} + (p − r)(k − r),
    n₀ = r² + 2r(p − r) = r(2p − r),
    n₊ = n − n₋ − n₀.
The r² zeros are the tangent of the GL(r) orbit; (p − r)(k − r) pairs of ±λⱼ come from unused
hidden units. The symmetry acts linearly, θ ↦ T θ with L(Tθ) = L(θ), so H(Tθ) = T⁻ᵀ H(θ) T⁻¹: by
Sylvester's law of inertia the counts are the same at every point of the orbit, while the
eigenvalues themselves are not (a badly conditioned Γ makes real ones as small as you like) —
the property a sign cut must respect (engine.spectra.dense, `classify`'s cut).
Cost: loss and gradient O(k²p), one HVP O(k²p), the Hessian n HVPs at once O(n·k²p).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from engine.io.errors import check_finite, check_float_array, check_rng, is_real


@dataclass(frozen=True, eq=False)
class LinearAutoencoder:
    """L(θ) of the module docstring for the second moment C (k, k) and width p. Raises
    ValueError unless C is a finite symmetric (k, k) matrix and 1 ≤ p ≤ k."""

    second_moment: np.ndarray
    width: int

    def __post_init__(self):
        C = np.array(self.second_moment, dtype=np.float64)
        if C.ndim != 2 or C.shape[0] != C.shape[1] or not np.all(np.isfinite(C)):
            raise ValueError(f"second_moment has shape {C.shape}; give a finite (k, k) matrix")
        if not np.allclose(C, C.T, rtol=1e-12, atol=0.0):
            raise ValueError("second_moment is not symmetric; give XᵀX/N")
        if int(self.width) != self.width or not 1 <= self.width <= C.shape[0]:
            raise ValueError(f"width={self.width!r}: give an integer p with 1 ≤ p ≤ k = "
                             f"{C.shape[0]}")
        C.flags.writeable = False
        object.__setattr__(self, "second_moment", C)
        object.__setattr__(self, "width", int(self.width))

    @property
    def k(self) -> int:
        """Input (and output) dimension."""
        return self.second_moment.shape[0]

    @property
    def n_params(self) -> int:
        """n = 2kp."""
        return 2 * self.k * self.width

    def unpack(self, theta):
        """(V₀ (..., k, p), V₁ (..., p, k)) views of θ (..., n)."""
        theta = np.asarray(theta, dtype=np.float64)
        if theta.shape[-1:] != (self.n_params,):
            raise ValueError(f"theta has shape {theta.shape}; the autoencoder needs (..., "
                             f"{self.n_params})")
        k, p, half = self.k, self.width, self.k * self.width
        return (theta[..., :half].reshape(*theta.shape[:-1], k, p),
                theta[..., half:].reshape(*theta.shape[:-1], p, k))

    def loss(self, theta):
        """L(θ), shape (...) for θ (..., n)."""
        V0, V1 = self.unpack(theta)
        D = V0 @ V1 - np.eye(self.k)
        return 0.5 * np.sum((self.second_moment @ D) * D, axis=(-2, -1))

    def gradient(self, theta):
        """∇L(θ) (n,)."""
        V0, V1 = self.unpack(theta)
        G = self.second_moment @ (V0 @ V1 - np.eye(self.k))
        return np.concatenate([(G @ V1.T).ravel(), (V0.T @ G).ravel()])

    def hvp(self, theta, v):
        """H(θ)v for v (n,) or a batch (m, n) → same shape (module docstring's formula)."""
        V0, V1 = self.unpack(theta)
        A, B = self.unpack(v)
        C = self.second_moment
        G = C @ (V0 @ V1 - np.eye(self.k))
        dG = C @ (A @ V1 + V0 @ B)
        d0 = dG @ V1.T + G @ np.swapaxes(B, -1, -2)
        d1 = np.swapaxes(A, -1, -2) @ G + V0.T @ dG
        lead = np.shape(v)[:-1]
        return np.concatenate([d0.reshape(*lead, -1), d1.reshape(*lead, -1)], axis=-1)

    def hessian(self, theta):
        """∇²L(θ) (n, n), symmetric to rounding: n HVPs in one batch."""
        return self.hvp(theta, np.eye(self.n_params))

    def init(self, rng, scale=None):
        """A random θ: entries N(0, scale²), scale = 1/√k by default (LeCun's for V₀). Raises
        ValueError for an rng that is not a numpy Generator or a scale that is not a number ≥ 0."""
        check_rng(rng)
        if scale is not None and not (is_real(scale) and np.isfinite(scale) and scale >= 0):
            raise ValueError(f"scale={scale!r} must be a finite number ≥ 0 (or None: 1/√k)")
        scale = 1.0 / np.sqrt(self.k) if scale is None else scale
        return scale * rng.standard_normal(self.n_params)


@dataclass(frozen=True)
class CriticalClass:
    """One analytic class: the subset S (indices into the ascending eigenvalues), its loss and
    Hessian counts (n_neg, n_zero, n_pos)."""

    subset: tuple[int, ...]
    loss: float
    n_neg: int
    n_zero: int
    n_pos: int


def critical_classes(eigenvalues, width) -> list[CriticalClass]:
    """Every class S ⊆ {0 … k−1}, |S| ≤ p, of the autoencoder whose C has these eigenvalues
    (k,) (distinct, > 0), with loss and counts from the module docstring's formulas.
    Σ_{r ≤ p} C(k, r) classes: 2517 for k = 16, p = 4. Raises ValueError for eigenvalues that
    are not distinct, finite and positive, or a width that is not an integer in [1, k]."""
    lam = check_float_array("eigenvalues", eigenvalues, "give distinct positive numbers (k,)")
    check_finite("eigenvalues", lam, "give distinct positive numbers (k,)")
    if lam.ndim != 1 or np.any(lam <= 0) or np.unique(lam).size != lam.size:
        raise ValueError("eigenvalues must be a 1-D array of distinct positive numbers")
    k, p = lam.size, _check_width(width, lam.size)
    n, total = 2 * k * p, float(np.sum(lam))
    out = []
    for r in range(p + 1):
        for S in itertools.combinations(range(k), r):
            inside = lam[list(S)]
            outside = np.delete(lam, list(S))
            pairs = int(np.sum(outside[:, None] > inside[None, :]))
            n_neg = pairs + (p - r) * (k - r)
            n_zero = r * (2 * p - r)
            out.append(CriticalClass(S, 0.5 * (total - float(np.sum(inside))), n_neg, n_zero,
                                     n - n_neg - n_zero))
    return out


def analytic_point(basis, subset, width, gamma=None):
    """θ (2kp,) of the class `subset` with eigenvector basis U (k, k) (columns), on its orbit at
    Γ (r, r) (identity by default): V₀ = [U_S Γ, 0], V₁ = [Γ⁻¹ U_Sᵀ; 0]. Raises ValueError for
    a basis that is not square, a subset that is not distinct indices in [0, k), a width not in
    [max(1, r), k] or a Γ that is not (r, r)."""
    U = check_float_array("basis", basis, "give the eigenvector basis U (k, k)", 2)
    k = U.shape[0]
    if U.shape != (k, k) or k == 0:
        raise ValueError(f"basis has shape {U.shape}; give the eigenvector basis U (k, k)")
    listed = tuple(subset) if np.iterable(subset) and not isinstance(subset, str) else None
    if listed is None or len(set(listed)) != len(listed) or not all(
            isinstance(i, (int, np.integer)) and 0 <= i < k for i in listed):
        raise ValueError(f"subset={subset!r}: give distinct column indices in [0, {k})")
    subset, r = listed, len(listed)
    width = _check_width(width, k, minimum=max(1, r))
    if gamma is not None and np.shape(gamma) != (r, r):
        raise ValueError(f"gamma has shape {np.shape(gamma)}; give an invertible ({r}, {r})")
    V0, V1 = np.zeros((k, width)), np.zeros((width, k))
    if r:
        gamma = np.eye(r) if gamma is None else np.asarray(gamma, dtype=np.float64)
        V0[:, :r] = U[:, list(subset)] @ gamma
        V1[:r] = np.linalg.solve(gamma, U[:, list(subset)].T)
    return np.concatenate([V0.ravel(), V1.ravel()])


def _check_width(width, k, minimum=1):
    if not (isinstance(width, (int, np.integer)) and minimum <= width <= k):
        raise ValueError(f"width={width!r} must be an integer in [{minimum}, k = {k}]")
    return int(width)


def nearest_subset(model, basis, theta, tol=1e-4):
    """The class S whose projector U_S U_Sᵀ is nearest M = V₀V₁ at θ, when ‖M − U_S U_Sᵀ‖_F ≤ tol
    (else None): read S from the diagonal of UᵀMU (entries near 1)."""
    V0, V1 = model.unpack(theta)
    U = np.asarray(basis, dtype=np.float64)
    with np.errstate(all="ignore"):
        M = U.T @ (V0 @ V1) @ U
    if not np.all(np.isfinite(M)):
        return None
    S = tuple(int(i) for i in np.flatnonzero(np.diag(M) > 0.5))
    P = np.zeros_like(M)
    P[list(S), list(S)] = 1.0
    return S if len(S) <= model.width and np.linalg.norm(M - P) <= tol else None


def spectrum_data(eigenvalues, n_samples, rng):
    """X (n_samples, k) whose second moment XᵀX/N is exactly Q diag(eigenvalues) Qᵀ (to
    rounding), Q a random rotation: Gaussian rows, whitened, then scaled. Returns (X, Q) with
    the eigenvalues in Q's column order. Raises ValueError for eigenvalues that are not finite
    and ≥ 0 (a second moment is positive semidefinite), n_samples < k or a bad rng."""
    lam = check_float_array("eigenvalues", eigenvalues, "give a 1-D array of variances ≥ 0", 1)
    k = lam.size
    check_finite("eigenvalues", lam, "give finite variances ≥ 0")
    if k == 0 or np.any(lam < 0):
        raise ValueError(f"eigenvalues={lam.tolist()} must be ≥ 0 (and at least one): they are "
                         "the variances of a second moment")
    check_rng(rng)
    if not (isinstance(n_samples, (int, np.integer)) and n_samples >= k):
        raise ValueError(f"n_samples={n_samples!r} must be an integer ≥ k = {k}: the second "
                         "moment needs N ≥ k rows")
    Z = rng.standard_normal((n_samples, k))
    # orthonormal columns scaled by √N: ZᵀZ/N = I exactly up to rounding
    Z = np.linalg.qr(Z)[0] * np.sqrt(n_samples)
    Q = np.linalg.qr(rng.standard_normal((k, k)))[0]
    return Z @ (np.sqrt(lam)[:, None] * Q.T), Q
