"""The sign counts of a symmetric H's eigenvalues beyond the dense limit, without eigh.

The index of a critical point needs n₋ = #{λ < −τ}, not every eigenvalue. Two routes count it:

  ldl       H available as an (n, n) array: by Sylvester's law of inertia, H − sI = LDLᵀ (L
            invertible, D block-diagonal with 1×1 and 2×2 blocks; scipy.linalg.ldl, LAPACK's
            Bunch–Kaufman sytrf) has as many eigenvalues below 0 as D. Two factorizations, at
            s = −τ and s = +τ, give n₋, n₀ and n₊ exactly for a matrix within the
            factorization's backward error (a small multiple of n·ε·‖H‖₂, the floor τ never
            goes below) of H. Measured at n = 2,410 (digits 64-32-10, one thread): one LDLᵀ
            0.34–0.54 s, eigvalsh 1.0 s, eigh with eigenvectors 2.5 s — for the counts the
            LDLᵀ is the cheaper (classify beyond the limit also needs ‖H‖₂ and the Newton
            quantities: EIGH_MAX below).
  lanczos   H only as an operator (HVPs, n ≈ 10⁴ and more): the k lowest eigenpairs by verified
            Lanczos (engine.spectra.eigenpairs: residuals recomputed, a deflated run looks for
            a missed eigenvalue), k doubled until the k-th found is ≥ −τ. Then every eigenvalue
            below −τ has been found and n₋ is exact; when k reaches k_max first, n₋ is a lower
            bound ("index ≥ k") and `exact` says so. Lanczos reaches only the ends of the
            spectrum, so n₀ and n₊ are not counted (None).

‖H‖₂ = max(|λ_max|, |λ_min|) comes from the same verified Lanczos (k = 1 at each end), and
τ = max(n·ε·‖H‖₂, min(rtol·‖H‖₂, tau_max)) is engine.spectra.dense's cut.

filtered_newton: the Newton quantities of engine.critical.classification without eigenvectors.
The truncated step H_τ⁺g keeps the components cᵢ = vᵢᵀg with |λᵢ| > τ, scaled by 1/λᵢ, and the
kernel share κ = ‖P₀g‖/‖g‖ the rest. Their Tikhonov-filtered versions come from one LSMR solve,
p = argmin ‖Hp − g‖² + τ²‖p‖² = Σ λᵢcᵢ/(λᵢ² + τ²) vᵢ, r = g − Hp = Σ τ²cᵢ/(λᵢ² + τ²) vᵢ:
the filter λ²/(λ² + τ²) replaces the 0/1 step at |λ| = τ (Hansen 1998, "Rank-deficient and
discrete ill-posed problems", §4.2). For |λᵢ| ≥ τ a component of p is within [½, 1] of the
truncated one, and for |λᵢ| ≤ τ it is at most |cᵢ|/(2τ); with a gap around τ (no eigenvalue
within a factor 3 of it) the two agree to 10 %. The tests measure the agreement with eigh.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse.linalg

from engine.io.errors import check_rng
from engine.spectra.dense import EPS
from engine.spectra.eigenpairs import extreme_eigenvalues

COUNT_ROUTES = ("ldl", "lanczos")
# The dense limit of engine.critical.classification: above it the counts come from here. The
# same n as engine.spectra.facade's max_dense. Measured, one thread, classify's whole route
# here (λ_max by Lanczos, three LDLᵀ, one complex solve) against eigh with eigenvectors:
# 1.5–1.6 s against 2.6–2.8 s on three census Hessians at n = 2,410 (a loaded machine; the same
# labels and counts), ≈ 6 s against 11 s at 4,000; memory 4n² floats (the complex copy) against
# eigh's 2n².
EIGH_MAX = 2000
# ARPACK's relative accuracy of each eigenvalue: a sign against τ needs a few digits, and the
# machine-precision default (tol 0) did not converge in 10·n restarts on a bulk of eigenvalues
# clustered near 0 (a digits 64-16-10 net after 3 L-BFGS steps, measured)
_LANCZOS_TOL = 1e-10


@dataclass(frozen=True, eq=False)
class CountedSpectrum:
    """The sign counts of H's n eigenvalues with the cut τ, without all of them.

    n_neg: #{λ < −τ} (exact, or a lower bound when exact is False); n_zero #{|λ| ≤ τ} and n_pos
    #{λ > τ}, None where not counted (route 'lanczos'); eigenvalues: those found, ascending
    (the lowest ones and the largest); norm ‖H‖₂; route (COUNT_ROUTES); n_products HVPs spent;
    message: why a count is a bound. Reads like engine.spectra.dense.Spectrum where it can:
    index, minimal_ratio, resolved_ratio (nan when a count is missing); eigenvectors None.
    eq=False: holds an array."""

    n: int
    eigenvalues: np.ndarray
    tau: float
    rtol: float
    tau_max: float
    norm: float
    n_neg: int
    n_zero: int | None
    n_pos: int | None
    exact: bool
    route: str
    n_products: int
    message: str
    eigenvectors: None = None

    @property
    def index(self) -> float:
        """n₋/n (a lower bound when not exact)."""
        return self.n_neg / self.n

    @property
    def minimal_ratio(self) -> float:
        """n₊/n; nan when n₊ is not counted."""
        return float("nan") if self.n_pos is None else self.n_pos / self.n

    @property
    def resolved_ratio(self) -> float:
        """n₊/(n₊ + n₋); nan when n₊ is not counted or no sign is resolved."""
        if self.n_pos is None or not self.exact or self.n_pos + self.n_neg == 0:
            return float("nan")
        return self.n_pos / (self.n_pos + self.n_neg)


def _as_operator(H):
    """(H as a LinearOperator, n); ValueError for an H that is not square."""
    shape = getattr(H, "shape", None)
    if shape is None or len(shape) != 2 or shape[0] != shape[1] or shape[0] < 1:
        raise ValueError(f"H has shape {shape}; give a square array or LinearOperator (n, n)")
    return scipy.sparse.linalg.aslinearoperator(H), int(shape[0])


def _check_count(name, value, minimum):
    if not (isinstance(value, (int, np.integer)) and value >= minimum):
        raise ValueError(f"{name}={value!r} must be an integer ≥ {minimum}")
    return int(value)


def sylvester_inertia(H, shift=0.0) -> tuple[int, int, int]:
    """(n_below, n_at, n_above): how many eigenvalues of the symmetric (H + Hᵀ)/2, (n, n), lie
    below, at and above `shift`, by the LDLᵀ of H − shift·I (Sylvester's law of inertia; D's
    1×1 and 2×2 blocks read as one symmetric tridiagonal matrix). Exact for a matrix within the
    factorization's backward error of H. Cost: one Bunch–Kaufman factorization, n³/3 flops.
    Raises ValueError for a non-square, empty or non-finite H or a non-finite shift."""
    H = np.asarray(H, dtype=np.float64)
    if H.ndim != 2 or H.shape[0] != H.shape[1] or H.shape[0] == 0:
        raise ValueError(f"H has shape {H.shape}; give a non-empty square matrix (n, n)")
    if not (np.all(np.isfinite(H)) and math.isfinite(shift)):
        raise ValueError("H and shift must be finite (nan or inf found)")
    A = 0.5 * (H + H.T)
    A[np.diag_indices_from(A)] -= shift
    _, D, _ = scipy.linalg.ldl(A, lower=True, overwrite_a=True, check_finite=False)
    d = scipy.linalg.eigvalsh_tridiagonal(np.diag(D).copy(), np.diag(D, -1).copy())
    return int(np.sum(d < 0)), int(np.sum(d == 0)), int(np.sum(d > 0))


def count_spectrum(H, rtol=1e-6, tau_max=math.inf, *, k=16, k_max=256,
                   rng=None) -> CountedSpectrum:
    """The counts n₋, n₀, n₊ of H (an (n, n) array: route 'ldl') or n₋ alone (a LinearOperator:
    route 'lanczos'), with τ = max(n·ε·‖H‖₂, min(rtol·‖H‖₂, tau_max)) (module docstring).
    k: the first number of lowest eigenpairs asked for (doubled up to k_max, at most n − 1).
    rng: the Lanczos start vectors (engine.spectra.eigenpairs; None: its fixed vector).
    Cost: a verified Lanczos run for λ_max (tens of products) and, H an array, three LDLᵀ
    (n³/3 flops each; the first shows whether ‖H‖₂ = λ_max, else Lanczos finds λ_min), or H an
    operator, Lanczos runs of k … k_max lowest pairs (O(k) products and O(n·k²) work each).
    Raises ValueError for a bad rtol, tau_max, k, k_max (k > k_max too) or rng, a non-square H or
    non-finite products;
    scipy's ArpackNoConvergence when Lanczos does not converge."""
    op, n = _as_operator(H)
    k, k_max = _check_count("k", k, 1), _check_count("k_max", k_max, 1)
    check_rng(rng, allow_none=True)
    if k > k_max:
        raise ValueError(f"k={k} exceeds k_max={k_max}: give k ≤ k_max (k doubles up to k_max)")
    if not (math.isfinite(rtol) and rtol >= 0):
        raise ValueError(f"rtol={rtol!r} must be a finite number ≥ 0, e.g. 1e-6")
    if not float(tau_max) > 0:
        raise ValueError(f"tau_max={tau_max!r} must be > 0 (math.inf: no cap)")
    if n < 3:  # eigsh needs k < n; for so small an H the dense spectrum is the tool
        raise ValueError(f"H has n = {n} rows; count_spectrum needs n ≥ 3 (use "
                         "engine.spectra.dense.spectrum)")
    k_max = min(k_max, n - 1)
    top = extreme_eigenvalues(op, 1, "LA", tol=_LANCZOS_TOL, rng=rng)
    lam_max, dense = float(top.values[0]), isinstance(H, np.ndarray)
    # ‖H‖₂ = λ_max when nothing lies below −λ_max: one LDLᵀ instead of Lanczos at the bottom,
    # where a bulk of eigenvalues near 0 made 'SA' take 655 products (3 s) at n = 2,410
    low = top if dense and lam_max > 0 and sylvester_inertia(H, -lam_max)[0] == 0 else (
        extreme_eigenvalues(op, 1 if dense else min(k, k_max), "SA", tol=_LANCZOS_TOL, rng=rng))
    products = top.n_products + (low.n_products if low is not top else 0)
    norm = max(abs(lam_max), abs(float(low.values[0])))
    tau = max(n * EPS * norm, min(rtol * norm, float(tau_max)))
    problems = [f"‖H‖₂ not verified ({r.message})" for r in (top, low) if not r.verified]
    if dense:
        below = sylvester_inertia(H, -tau)[0]
        above = sylvester_inertia(H, tau)[2]
        found = np.unique(np.concatenate([low.values, top.values]))
        return CountedSpectrum(n, np.sort(found), tau, float(rtol), float(tau_max), norm, below,
                               n - below - above, above, not problems, "ldl", products,
                               "; ".join(problems) or "exact: LDLᵀ inertia at ±τ")
    while low.values[-1] < -tau and low.values.size < k_max:
        try:
            more = extreme_eigenvalues(op, min(2 * low.values.size, k_max), "SA",
                                       tol=_LANCZOS_TOL, rng=rng)
        except scipy.sparse.linalg.ArpackNoConvergence:
            problems.append(f"Lanczos did not converge for {2 * low.values.size} pairs")
            break
        low, products = more, products + more.n_products
    n_neg = int(np.sum(low.values < -tau))
    if not low.verified:
        problems.append(f"lowest eigenpairs not verified ({low.message})")
    if low.values[-1] < -tau:
        problems.append(f"all {low.values.size} lowest eigenvalues found lie below −τ: "
                        f"index ≥ {n_neg} (raise k_max)")
    message = "; ".join(problems) or (f"exact: the {low.values.size}-th lowest eigenvalue "
                                      f"{low.values[-1]:.3g} ≥ −τ")
    return CountedSpectrum(n, np.sort(np.concatenate([low.values, top.values])), tau,
                           float(rtol), float(tau_max), norm, n_neg, None, None, not problems,
                           "lanczos", products, message)


def filtered_newton(H, g, tau, *, maxiter=None) -> tuple[float, float, float]:
    """(‖p‖, ‖r‖/‖g‖, ‖Hg‖) for the Tikhonov-filtered Newton step p = argmin ‖Hp − g‖² + τ²‖p‖²
    and its residual r = g − Hp (module docstring): estimates of the truncated step's length
    ‖H_τ⁺g‖ and of the kernel share κ. H an (n, n) array: exactly, by one complex symmetric
    solve, (H + iτI)⁻¹ = (H − iτI)(H² + τ²I)⁻¹, so p = Re x and r = −τ·Im x for
    x = (H + iτI)⁻¹g (LAPACK zsysv, 4× the flops of a real LDLᵀ: 1.0 s at n = 2,410, one
    thread). H a LinearOperator: by LSMR with damp = τ (2 products per iteration, at most
    maxiter, default 10·n); ‖p‖ = inf when it stops short (the step is then not certified).
    g = 0 gives (0, 0, 0). Raises ValueError for a g of the wrong shape or τ ≤ 0."""
    op, n = _as_operator(H)
    g = np.asarray(g, dtype=np.float64)
    if g.shape != (n,):
        raise ValueError(f"g has shape {g.shape}; expected ({n},) like H")
    if not (math.isfinite(tau) and tau > 0):
        raise ValueError(f"tau={tau!r} must be a finite number > 0")
    g_norm = float(np.linalg.norm(g))
    if g_norm == 0.0:
        return 0.0, 0.0, 0.0
    hg_norm = float(np.linalg.norm(op.matvec(g)))
    if isinstance(H, np.ndarray):
        A = (0.5 * (H + H.T)).astype(np.complex128)
        A[np.diag_indices_from(A)] += 1j * tau
        x = scipy.linalg.solve(A, g.astype(np.complex128), assume_a="sym", overwrite_a=True,
                               check_finite=False)
        return (float(np.linalg.norm(x.real)), tau * float(np.linalg.norm(x.imag)) / g_norm,
                hg_norm)
    # tolerances at rounding: the step's length is what is measured, not a rough direction
    p, istop = scipy.sparse.linalg.lsmr(op, g, damp=tau, atol=1e-14, btol=1e-14,
                                        maxiter=maxiter or 10 * n)[:2]
    r = g - op.matvec(p)
    step = float(np.linalg.norm(p)) if istop in (1, 2, 4, 5) else math.inf
    return step, float(np.linalg.norm(r)) / g_norm, hg_norm


def counted_newton(H, g, rtol=1e-6, tau_max=math.inf):
    """(CountedSpectrum, ‖p‖, ‖r‖/‖g‖, ‖Hg‖) of count_spectrum and filtered_newton at its τ:
    what engine.critical.classification needs beyond the dense limit; None when H·v is not
    finite, Lanczos does not converge or a factorization fails (the point is then not
    classified). Raises ValueError for a non-square H or a g not of shape (n,)."""
    n = _as_operator(H)[1]
    if np.shape(g) != (n,):
        raise ValueError(f"g has shape {np.shape(g)}; expected ({n},) like H (n, n)")
    try:
        spec = count_spectrum(H, rtol, tau_max)
        return (spec, *filtered_newton(H, g, spec.tau))
    except (ValueError, np.linalg.LinAlgError, scipy.sparse.linalg.ArpackNoConvergence):
        return None
