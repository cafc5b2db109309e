"""scipy's Levenberg–Marquardt (MINPACK's lmder) with the same numbers in every process.

scipy ≥ 1.15 runs a C translation of MINPACK. Its `qrfac` (QR with column pivoting), when a
column's norm has fallen by cancellation (0.05·(rdiag_k/wa_k)² ≤ ε, a nearly rank-deficient
Jacobian: a Hessian at or near a critical point of a net with symmetries), recomputes the
norm of column k below row j as enorm(m − j, a[j+1, k]): one element too many (the Fortran's
m − j counts 1-based rows j+1…m). For every column but the last the extra element is the first
entry of the next column: wrong, but the same in every run. For the last column it is the 8 bytes
after the Jacobian's buffer (valgrind: "Invalid read of size 8 … 0 bytes after a block" in
enorm ← qrfac ← LMDER, scipy 1.17.1), whatever the heap holds there. That value only steers the
pivot order, so the step differs at rounding level — and a search over a symmetry orbit
amplifies rounding: the same seed ended at different points of the orbit in different
processes, after different numbers of steps (--jobs 1 against --jobs 2, or one process against
another, or the same unit run twice in one process).

The fix here: solve the problem padded by one variable t and one residual s·t, s the smallest
normal float64, r̃(θ, t) = (r(θ), s·t), J̃ = [[J, 0], [0, s]], from t = 0. The padding column has
the smallest norm, so the pivoting keeps it last (only a column whose norm estimate fell to exactly
0 goes behind it, and such a column is never recomputed either), its norm never falls (its only
entry is in a row no other column touches), and it is never recomputed; a real column's
recomputation still reads one element too many, and for the last real one that is now the padding
column's first entry, an exact 0, which adds nothing to the norm (what the Fortran computes).
Every other operation on the real block is the unpadded one plus exact zeros (rows and columns of
0, a product with t = 0), so MINPACK takes the unpadded steps bit for bit wherever the stray
element was harmless, and t stays 0. s ≠ 0 keeps J̃ of full rank, so MINPACK's rank-deficient
branch (a zero column: its Levenberg–Marquardt parameter loses its Gauss–Newton lower bound)
is never taken — with a zero column instead, searches on the deep linear autoencoder took
300 evaluations instead of 46 (measured). The Fortran MINPACK (scipy < 1.15) has no stray read,
and the padding changes nothing there. Cost: one more row and column in J (O(m + n) per
evaluation beside MINPACK's O(mn²) QR).
"""
from __future__ import annotations

import numpy as np
import scipy.optimize

# the padding column's one entry: below any column norm of a real Jacobian, still normal
_PAD = np.finfo(np.float64).tiny


def least_squares(fun, x0, jac, *, method, **options) -> scipy.optimize.OptimizeResult:
    """scipy.optimize.least_squares(fun, x0, jac=jac, method=method, **options) for
    fun(x) → r (m,), jac(x) → J (m, n), x0 (n,); for method 'lm' solved on the zero-padded problem
    of the module docstring, so the result does not depend on the heap, and returned for x alone
    (x, fun, jac, grad, active_mask cut back to n and m). Other methods go to scipy as they are.
    Errors are scipy's (e.g. ValueError for 'lm' with m < n)."""
    if method != "lm":
        return scipy.optimize.least_squares(fun, x0, jac=jac, method=method, **options)
    x0 = np.asarray(x0, dtype=np.float64)
    n = x0.size

    def padded_fun(x):
        return np.append(np.asarray(fun(x[:n]), dtype=np.float64), _PAD * x[n])

    def padded_jac(x):
        J = np.asarray(jac(x[:n]), dtype=np.float64)
        out = np.zeros((J.shape[0] + 1, n + 1))
        out[:-1, :-1], out[-1, -1] = J, _PAD
        return out

    res = scipy.optimize.least_squares(padded_fun, np.append(x0, 0.0), jac=padded_jac,
                                       method="lm", **options)
    res.x, res.fun, res.jac = res.x[:n], res.fun[:-1], res.jac[:-1, :n]
    res.grad, res.active_mask = res.grad[:n], res.active_mask[:n]
    return res
