"""Eigenvalue spectrum of a symmetric matrix H (a Hessian) with a sign tolerance τ.

Why a tolerance: `eigvalsh` returns each eigenvalue with an absolute error of about n·ε·‖H‖₂
(ε = float64 machine epsilon), so the sign of any |λ| below that floor is rounding noise. Small
over-parameterized MLPs have dozens of such eigenvalues (1-10-10-1 after training: 34–43 of 141
below 5e-13, with random signs), and the raw share "λ > 0" then comes out ≈ 0.5 at *every*
point, trained or not (Sagun et al. 2016/17 on the spectrum's bulk near 0). So eigenvalues are
counted with

    τ = max(n·ε·‖H‖₂, min(rtol·‖H‖₂, tau_max)),   ‖H‖₂ = max |λ|,
    n₊ = #{λ > τ},  n₋ = #{λ < −τ},  n₀ = n − n₊ − n₋,

tau_max (∞ unless given) caps the cut where a curvature scale is known: on L + (λ/2)‖θ‖² every
direction the data leave flat is curved by exactly λ, and a τ near λ (rtol 1e-6 and ‖H‖₂ ≈ 10
put it there for λ = 1e-5) would count those dozens of directions positive or zero as ‖H‖₂
happens to fall; tau_max = λ/10 counts them positive, as they are. Never below the rounding floor.

and `Spectrum.at(rtol)` recounts at a looser or tighter rtol (a sensitivity band) without a new
eigendecomposition. Ratios: minimal ratio n₊/n (the slides' "proportion of eigenvalues greater
than zero", made meaningful by τ), resolved ratio n₊/(n₊ + n₋) (1 at any minimum, degenerate or
not), and the index n₋/n.

Cost: `spectrum` is one `eigvalsh` (O(n³), 0.9 ms at n = 141) or `eigh` with eigenvectors;
everything else is O(n) (O(n·n₀) for the kernel share).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import scipy.linalg

from engine.io.errors import check_finite, check_float_array

EPS = np.finfo(np.float64).eps


def eigen_tolerance(eigenvalues, rtol=1e-6, tau_max=math.inf) -> float:
    """τ = max(n·ε·‖H‖₂, min(rtol·‖H‖₂, tau_max)) with ‖H‖₂ = max|λ|, n = len(eigenvalues).

    n·ε·‖H‖₂ is the backward-error floor of a symmetric eigensolver: below it an eigenvalue's
    sign is not determined by H. τ = 0 for H = 0 (every eigenvalue then counts as zero).
    tau_max: an absolute cap (module docstring). Raises ValueError for an empty or non-finite
    eigenvalue array, rtol not a finite ≥ 0 or tau_max not > 0.
    """
    lam = _check_eigenvalues(eigenvalues)
    rtol = _check_rtol(rtol)
    if not float(tau_max) > 0.0:
        raise ValueError(f"tau_max={tau_max!r} must be > 0 (math.inf: no cap)")
    norm = float(np.max(np.abs(lam)))
    return max(lam.size * EPS * norm, min(rtol * norm, float(tau_max)))


@dataclass(frozen=True, eq=False)
class Spectrum:
    """Eigenvalues (ascending, shape (n,)), the tolerance τ they were counted with and the counts.

    eigenvectors: (n, n), column i belongs to eigenvalues[i]; None unless asked for.
    eq=False: fields hold arrays, whose `==` is elementwise; compare fields explicitly.
    """

    eigenvalues: np.ndarray
    tau: float
    rtol: float
    n_pos: int
    n_neg: int
    n_zero: int
    eigenvectors: np.ndarray | None = None
    tau_max: float = math.inf

    @property
    def n(self) -> int:
        """Number of eigenvalues, n = n₊ + n₋ + n₀ (H is n × n)."""
        return int(self.eigenvalues.size)

    @property
    def minimal_ratio(self) -> float:
        """n₊/n: the slides' minimal ratio, with "greater than zero" read as λ > τ."""
        return self.n_pos / self.n

    @property
    def resolved_ratio(self) -> float:
        """n₊/(n₊ + n₋) over the eigenvalues whose sign is resolved; nan if there are none."""
        resolved = self.n_pos + self.n_neg
        return self.n_pos / resolved if resolved else float("nan")

    @property
    def index(self) -> float:
        """n₋/n, the share of resolved negative directions (Dauphin et al. 2014; Pennington &
        Bahri 2017)."""
        return self.n_neg / self.n

    def at(self, rtol) -> Spectrum:
        """The same eigenvalues (and eigenvectors) recounted with another rtol (and the same
        tau_max); no new eigendecomposition, O(n). Raises ValueError for rtol not a finite ≥ 0."""
        counted = spectrum_from_eigenvalues(self.eigenvalues, rtol, self.tau_max)
        return replace(counted, eigenvectors=self.eigenvectors)


def symmetric_eigh(H, eigenvectors=True):
    """Eigenvalues (ascending, (n,)) and, eigenvectors=True, orthonormal eigenvectors (columns,
    (n, n)) of (H + Hᵀ)/2 for a finite square H — the one symmetric eigendecomposition of the
    engine (spectrum, classification, Newton-MR steps and the Hessian plane all use it, so "the
    polish removes exactly what the classification measures" holds to the last bit).

    Symmetrized first because LAPACK's symmetric drivers read only one triangle: an H that is
    symmetric only up to rounding (any Hessian from autograd) would otherwise lose the other half.
    scipy.linalg.eigh (LAPACK syevr). Cost O(n³); eigenvectors ≈ 3× the eigenvalues alone.
    Raises ValueError for a non-square, empty or non-finite H.
    """
    H = check_float_array("H", H, "give a non-empty square matrix (n, n)")
    if H.ndim != 2 or H.shape[0] != H.shape[1] or H.shape[0] == 0:
        raise ValueError(f"H has shape {H.shape}; give a non-empty square matrix (n, n)")
    check_finite("H", H, "compute it at a finite θ")
    sym = 0.5 * (H + H.T)
    if eigenvectors:
        return scipy.linalg.eigh(sym)
    return scipy.linalg.eigvalsh(sym), None


def spectrum(H, rtol=1e-6, eigenvectors=False, tau_max=math.inf) -> Spectrum:
    """Spectrum of (H + Hᵀ)/2 for a square float matrix H, shape (n, n), counted with the sign
    tolerance τ of `rtol` and `tau_max` (module docstring); eigenvectors=True keeps the (n, n)
    basis. Raises ValueError as symmetric_eigh, or as eigen_tolerance. Cost: one
    symmetric_eigh."""
    lam, vecs = symmetric_eigh(H, eigenvectors)
    return replace(spectrum_from_eigenvalues(lam, rtol, tau_max), eigenvectors=vecs)


def spectrum_from_eigenvalues(eigenvalues, rtol=1e-6, tau_max=math.inf) -> Spectrum:
    """The Spectrum of eigenvalues (n,) already computed (e.g. loaded from a results file),
    sorted ascending and counted with τ of `rtol` and `tau_max`; no eigenvectors. Raises
    ValueError as eigen_tolerance. Cost O(n log n)."""
    lam = np.sort(_check_eigenvalues(eigenvalues))
    tau = eigen_tolerance(lam, rtol, tau_max)
    n_pos = int(np.count_nonzero(lam > tau))
    n_neg = int(np.count_nonzero(lam < -tau))
    return Spectrum(
        eigenvalues=lam, tau=tau, rtol=float(rtol), n_pos=n_pos, n_neg=n_neg,
        n_zero=lam.size - n_pos - n_neg, tau_max=float(tau_max),
    )


def kernel_share(g, eigenvalues, eigenvectors, tau) -> float:
    """κ = ‖P₀ g‖/‖g‖, P₀ = V₀V₀ᵀ the projector onto the eigenvectors with |λ| ≤ τ.

    κ ≈ 1 means g lies in H's near-kernel: Newton-type steps cannot reduce it there, the mark of
    a gradient-flat point rather than a critical one (Frye et al. 2021;
    engine.critical.classification).
    ‖P₀g‖ = ‖V₀ᵀg‖ because V₀ has orthonormal columns. g = 0 gives 0.0. Shapes: g (n,),
    eigenvalues (n,), eigenvectors (n, n) with one column per eigenvalue. Raises ValueError for
    other shapes or τ < 0. Cost O(n·n₀).
    """
    g = np.asarray(g, dtype=np.float64)
    lam = _check_eigenvalues(eigenvalues)
    vecs = np.asarray(eigenvectors, dtype=np.float64)
    if g.shape != lam.shape:
        raise ValueError(f"g has shape {g.shape}; expected ({lam.size},) like eigenvalues")
    if vecs.shape != (lam.size, lam.size):
        raise ValueError(
            f"eigenvectors has shape {vecs.shape}; expected ({lam.size}, {lam.size}) with one "
            "column per eigenvalue (spectrum(H, eigenvectors=True).eigenvectors)"
        )
    tau = float(tau)
    if not tau >= 0.0:
        raise ValueError(f"tau={tau!r} must be ≥ 0; use eigen_tolerance(eigenvalues, rtol)")
    g_norm = float(np.linalg.norm(g))
    if g_norm == 0.0:
        return 0.0
    kernel = vecs[:, np.abs(lam) <= tau]
    return float(np.linalg.norm(kernel.T @ g)) / g_norm


def _check_eigenvalues(eigenvalues) -> np.ndarray:
    lam = check_float_array("eigenvalues", eigenvalues, "give a non-empty 1-D array")
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"eigenvalues has shape {lam.shape}; give a non-empty 1-D array")
    check_finite("eigenvalues", lam, "check H")
    return lam


def _check_rtol(rtol) -> float:
    try:
        rtol = float(rtol)
    except (TypeError, ValueError):
        raise ValueError(f"rtol={rtol!r} is not a number; give a relative tolerance ≥ 0") from None
    if not (rtol >= 0.0 and np.isfinite(rtol)):
        raise ValueError(f"rtol={rtol!r} must be a finite number ≥ 0, e.g. 1e-6")
    return rtol
