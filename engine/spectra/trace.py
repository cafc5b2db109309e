"""tr H from few Hessian-vector products beyond Hutchinson and Hutch++ (engine.spectra.lanczos):
XTrace, every probe used twice (Epperly, Tropp & Webber 2024), and Krylov-aware Hutch++, the
exact part on a Krylov space (Chen & Hallman 2023; krylov_aware_trace says how).

Hutch++ splits its m products in three: a sketch S, the products HQ on Q = orth(HS), and
Hutchinson probes G on the complement of Q. Each probe does one job. XTrace draws s = m/2 probes
Ω = [ω₁ … ω_s] and does both jobs with every one of them, exchangeably: for each i, the basis
Q₍ᵢ₎ = orth(HΩ₋ᵢ) of the sketch *without* ω_i gives

    tᵢ = tr(Q₍ᵢ₎ᵀ H Q₍ᵢ₎) + ω_iᵀ (I − P₍ᵢ₎) H (I − P₍ᵢ₎) ω_i,   P₍ᵢ₎ = Q₍ᵢ₎Q₍ᵢ₎ᵀ.

P₍ᵢ₎ does not depend on ω_i and E[ωωᵀ] = I, so
E[tᵢ | Ω₋ᵢ] = tr(P₍ᵢ₎HP₍ᵢ₎) + tr((I − P₍ᵢ₎)H(I − P₍ᵢ₎)) = tr H: every tᵢ is unbiased for any square
H (symmetric, indefinite, no PSD needed — unlike XNysTrace, whose Nyström sketch assumes H ⪰ 0,
which a Hessian away from a minimum is not). The estimate is the mean of the tᵢ: a sketch of rank
s − 1 instead of Hutch++'s m/3 and s Hutchinson samples instead of m/3, for the same m products.

Computed without s separate bases (the paper's downdating): Y = HΩ = QR (one QR); the vector
Q R⁻ᵀeᵢ is orthogonal to every column of Y but the i-th, so with sᵢ = R⁻ᵀeᵢ / ‖R⁻ᵀeᵢ‖,
P₍ᵢ₎ = Q(I − sᵢsᵢᵀ)Qᵀ; then Z = HQ (s more products), Ĥ = QᵀZ, W = QᵀΩ and
    tr(Q₍ᵢ₎ᵀHQ₍ᵢ₎) = tr Ĥ − sᵢᵀĤsᵢ,
    H(I − P₍ᵢ₎)ω_i = y_i − Z(I − sᵢsᵢᵀ)w_i,   (I − P₍ᵢ₎)ω_i = ω_i − Q(I − sᵢsᵢᵀ)w_i.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg

from engine.io.errors import check_rng
from engine.spectra.lanczos import _as_operator, _check_count, _rademacher

# Y = HΩ counts as rank-deficient when σ_min(R) ≤ this share of σ_max(R): H then has (numerical)
# rank below s, the leave-one-out bases all span the same range(Y), and R⁻ᵀ would only amplify
# rounding (module docstring of xtrace)
_RANK_RTOL = 1e-8


def xtrace(op, n_products=100, *, rng) -> tuple[float, float]:
    """(estimate, standard error) of tr H by XTrace (Epperly, Tropp & Webber 2024, "XTrace:
    making the most of every sample in stochastic trace estimation", SIAM J. Matrix Anal. Appl.
    45(1); module docstring for the math) from n_products HVPs.

    s = min(n_products // 2, n) Rademacher probes Ω (n, s); Y = HΩ and Z = HQ, Q = orth(Y):
    2s products through matmat, one QR of (n, s), O(n·s²) arithmetic. The estimate is the mean
    of the s exchangeable unbiased estimates tᵢ; the standard error is their sample standard
    deviation / √s (the paper's error estimate: the tᵢ share probes, so it is an estimate, not
    a bound). Where H's spectrum decays, the error falls like Hutch++'s, O(1/m) against
    Hutchinson's O(1/√m), but with a sketch of rank s − 1 = m/2 − 1 rather than m/3.
    When s ≥ n, Q spans ℝⁿ and the trace is exact up to rounding (standard error 0); when Y
    has numerical rank r < s (σ_min(R) ≤ 1e-8·σ_max(R): H of rank < s), every leave-one-out
    basis spans range(Y), so P₍ᵢ₎ = Q_rQ_rᵀ for all i (r + s products).
    op: a square LinearOperator or (n, n) array (symmetric or not); rng: a numpy Generator.
    Raises ValueError for n_products < 4 (two probes are needed for an error bar) or a
    non-square op.
    """
    op, n = _as_operator(op)
    check_rng(rng)
    s = min(_check_count("n_products", n_products, minimum=4) // 2, n)
    Omega = _rademacher(rng, (n, s))
    Y = np.asarray(op.matmat(Omega), dtype=np.float64)
    Q, R = np.linalg.qr(Y)
    if s == n:  # Q is square and orthogonal: tr(QᵀHQ) = tr H
        return float(np.einsum("ip,ip->", Q, op.matmat(Q))), 0.0
    U, sigma, _ = np.linalg.svd(R)
    rank = int(np.sum(sigma > _RANK_RTOL * sigma[0])) if sigma[0] > 0.0 else 0
    if rank < s:
        return _deflated(op, Q @ U[:, :rank], Omega, Y)
    Z = np.asarray(op.matmat(Q), dtype=np.float64)
    H_hat = Q.T @ Z
    S = scipy.linalg.solve_triangular(R, np.eye(s), trans="T")  # column i: R⁻ᵀeᵢ
    S /= np.linalg.norm(S, axis=0)
    W = Q.T @ Omega
    kept = W - S * np.einsum("ip,ip->p", S, W)  # (I − sᵢsᵢᵀ)wᵢ, column by column
    residual = Omega - Q @ kept                 # (I − P₍ᵢ₎)ωᵢ
    samples = np.einsum("ip,ip->p", residual, Y - Z @ kept)
    estimates = np.trace(H_hat) - np.einsum("ip,ip->p", S, H_hat @ S) + samples
    return float(estimates.mean()), float(estimates.std(ddof=1) / np.sqrt(s))


def _deflated(op, Q, Omega, Y):
    """tr(QᵀHQ) + Hutchinson with the probes Ω on the complement of Q (n, r): the XTrace estimate
    when every leave-one-out basis spans range(Q)."""
    s = Omega.shape[1]
    Z = np.asarray(op.matmat(Q), dtype=np.float64) if Q.shape[1] else np.zeros_like(Q)
    W = Q.T @ Omega
    samples = np.einsum("ip,ip->p", Omega - Q @ W, Y - Z @ W)
    estimates = float(np.einsum("ip,ip->", Q, Z)) + samples
    return float(estimates.mean()), float(estimates.std(ddof=1) / np.sqrt(s))


# krylov_aware_trace leaves 1/5 of its products (at least 2) to its Hutchinson probes. Measured on
# the bench's sinc nets (experiments.bench.trace, 30 seeds): with 1/10 the estimates were up to
# 1.7× more accurate, but the error bar of its few probes covered as few as 83 % of the seeds; with
# 1/2, 10× less accurate at 300 products on 1-40-40-1 (8× against 90× Hutchinson's accuracy)
_KRYLOV_PROBE_SHARE = 5
# a Lanczos step whose new direction keeps less than this share of the product's norm has found an
# invariant subspace of H: the space restarts from a fresh probe on the complement
_BREAKDOWN = 1e-10


def krylov_aware_trace(op, n_products=100, *, rng) -> tuple[float, float]:
    """(estimate, standard error) of tr H by Krylov-aware Hutch++ (Chen & Hallman 2023,
    "Krylov-aware stochastic trace estimation", SIAM J. Matrix Anal. Appl. 44(3), for f(x) = x):
    Hutch++ with its sketch Q = orth(HS) replaced by a Krylov space, from n_products HVPs.

    r = max(2, n_products // 5) Rademacher probes G (n, r) for Hutchinson, q = n_products − r
    Lanczos steps from a Rademacher ω: the orthonormal basis Q = [q₁ … q_q] of
    K_q(H, ω) = span{ω, Hω, …, H^{q−1}ω} (full re-orthogonalization, twice), whose Rayleigh
    quotients αⱼ = qⱼᵀHqⱼ are the steps' own products, so
        tr H = tr(QᵀHQ) + tr((I − P)H(I − P)),   P = QQᵀ,
        estimate = Σⱼ αⱼ + (1/r) Σᵢ g̃ᵢᵀHg̃ᵢ,   g̃ᵢ = (I − P)gᵢ,
    unbiased for any Q, as G is drawn independently of it. Why: Hutch++ pays 2k products for a
    sketched k-dimensional space and its trace; a Krylov space costs one product per dimension and
    reaches the extreme eigenvectors of both signs, which carry most of ‖H‖_F on a net's Hessian
    (`make bench`: the error falls far faster than Hutch++'s; where the spectrum is flat, as on a
    digits 64-32-10 net at its initialization, it is within 0.8–2.3× of Hutchinson's accuracy from
    60 to 300 products, as are Hutch++ and XTrace). When the Krylov space becomes
    invariant (a new direction below 1e-10 of its product's norm) it restarts from a fresh probe
    projected on the complement; when q ≥ n, Q spans ℝⁿ and the trace is exact up to rounding
    (standard error 0, n products). The standard error is the Hutchinson part's (sample std of its
    r probes / √r; the Krylov part is exact given ω). op: a symmetric LinearOperator or (n, n)
    array; rng: a numpy Generator (ω, then G, then any restart's probe). Cost: n_products products
    (matvec for the steps, one matmat for G), O(q²·n) for the re-orthogonalization, memory q·n.
    Raises ValueError for n_products < 4 (two probes are needed for an error bar) or a
    non-square op.
    """
    op, n = _as_operator(op)
    check_rng(rng)
    m = _check_count("n_products", n_products, minimum=4)
    r = max(2, m // _KRYLOV_PROBE_SHARE)
    q = min(m - r, n)
    w = _rademacher(rng, n)
    G = _rademacher(rng, (n, r)) if q < n else None
    Q = np.empty((q, n))  # rows: the basis, one contiguous row per step
    top = 0.0
    for j in range(q):
        Q[j] = w / np.linalg.norm(w)
        z = np.asarray(op.matvec(Q[j]), dtype=np.float64).reshape(n)
        top += float(Q[j] @ z)
        norm = np.linalg.norm(z)
        w = _complement(Q[:j + 1], z)
        while j + 1 < q and np.linalg.norm(w) <= _BREAKDOWN * max(norm, np.finfo(float).tiny):
            # an invariant subspace: go on from a fresh probe on its complement
            w = _complement(Q[:j + 1], _rademacher(rng, n))
            norm = np.sqrt(n)
    if G is None:
        return top, 0.0
    G = _complement(Q, G)
    samples = np.einsum("ip,ip->p", G, np.asarray(op.matmat(G), dtype=np.float64))
    return top + float(samples.mean()), float(samples.std(ddof=1) / np.sqrt(r))


def _complement(Q, x):
    """x (n,) or (n, r) minus its part in the row space of Q (q, n), orthonormal rows: classical
    Gram–Schmidt twice, orthogonal to rounding (Kahan–Parlett: twice is enough)."""
    for _ in range(2):
        x = x - Q.T @ (Q @ x)
    return x
