"""Hessian: H = ∇²L(θ) of one model at one θ, with the spectral tools as methods.

    H = Hessian(net, theta, data=(x, y))        # an MLP: the exact R-operator HVP
    H = Hessian(loss, theta)                    # a loss of a flat θ, autograd.numpy
    H = Hessian(from_torch(model, loss_fn, (x, y)))   # torch / jax (engine.adapters), θ = θ₀
    H.eigenvalues(5)            top-5 eigenpairs by Lanczos, verified (Eigenpairs)
    H.trace()                   (estimate, standard error) by Hutch++ (or 'hutchinson', 'xtrace',
                                'krylov-aware')
    H.density()                 (grid, ρ, nodes, weights) by stochastic Lanczos quadrature
    H.matrix()                  the dense (n, n) H, for n ≤ max_dense
    H.hvp(v), H @ v             H v for v (n,) or V (n, B)
A thin face over the functions (hvp_operator, extreme_eigenvalues, hutchpp_trace,
hutchinson_trace, slq_density, exact_hessian), which stay the API underneath: each method is one
call of one of them on the operator built once here. Unlike PyHessian's object it holds no
gradient state: two Hessians of one model are independent, and nothing accumulates.
Randomness: `rng` (a numpy Generator or an int seed; default seed 0, so two calls agree).
"""
from __future__ import annotations

import numpy as np

from engine.adapters.autograd import from_autograd
from engine.adapters.base import FlatLoss
from engine.derivatives.curvature import exact_hessian
from engine.io.errors import check_float_array
from engine.nets.model import MLP
from engine.spectra.eigenpairs import Eigenpairs, extreme_eigenvalues
from engine.spectra.lanczos import hutchinson_trace, hutchpp_trace, hvp_operator, slq_density
from engine.spectra.trace import krylov_aware_trace, xtrace

TRACE_METHODS = ("hutch++", "hutchinson", "xtrace", "krylov-aware")
_TRACE_ESTIMATORS = {"hutch++": hutchpp_trace, "hutchinson": hutchinson_trace, "xtrace": xtrace,
                     "krylov-aware": krylov_aware_trace}


class Hessian:
    """H = ∇²L(θ) as an object (module docstring). model: an MLP (data=(x, y) required), a
    FlatLoss (theta defaults to its θ₀) or a loss function of θ written with autograd.numpy
    (theta required). max_dense: the largest n for which matrix() forms H (n² floats: 2000 →
    32 MB). Raises ValueError for a missing θ or data, data given where the model carries its
    own, or max_dense not a positive integer."""

    def __init__(self, model, theta=None, data=None, *, max_dense: int = 2000):
        if not (isinstance(max_dense, (int, np.integer)) and max_dense >= 1):
            raise ValueError(f"max_dense={max_dense!r} must be a positive integer (rows of H)")
        if isinstance(model, MLP):
            if not (isinstance(data, (tuple, list)) and len(data) == 2):
                raise ValueError("an MLP needs its data: Hessian(net, theta, data=(x, y))")
            if theta is None:
                raise ValueError("Hessian(net, theta, data=(x, y)) needs the parameters theta")
            self._theta = model.check_theta(theta)
            self._x, self._y = model.check_data(*data)
            self._op = hvp_operator(model, self._theta, self._x, self._y)
            self.route = f"MLP {'-'.join(map(str, model.sizes))} {model.activation}"
        else:
            if data is not None:
                raise ValueError("data is only for an MLP; a loss function or FlatLoss carries "
                                 "its own (e.g. from_torch(model, loss_fn, (x, y)))")
            if not isinstance(model, FlatLoss):
                if theta is None:
                    raise ValueError("Hessian(loss, theta) needs the parameters theta")
                model = from_autograd(model, theta)
            theta = model.theta0 if theta is None else theta
            if theta is None:
                raise ValueError(f"{model!r} has no θ₀: give Hessian(f, theta)")
            self._theta = model.check_theta(theta)
            self._op = hvp_operator(model, self._theta)
            self.route = f"{model.route} {model.describe}"
        self.model, self.max_dense = model, int(max_dense)
        self.n = self._theta.size

    @property
    def theta(self) -> np.ndarray:
        """θ (n,), a copy: the point where H is taken."""
        return self._theta.copy()

    @property
    def operator(self):
        """H as a symmetric scipy LinearOperator (hvp_operator), for the functions directly."""
        return self._op

    def hvp(self, v) -> np.ndarray:
        """H v for v (n,) → (n,), or V (n, B) → (n, B) (B products, batched where the route
        can). Cost ≈ 2 gradients per product."""
        v = check_float_array("v", v, f"give a vector ({self.n},) or a block ({self.n}, B)")
        return self._op.matvec(v) if v.ndim == 1 else self._op.matmat(v)

    def __matmul__(self, v):
        return self.hvp(v)

    def eigenvalues(self, k: int = 5, which: str = "LA", *, rng=None,
                    return_vectors: bool = False) -> Eigenpairs:
        """The k largest ('LA') or smallest ('SA') eigenpairs, most extreme first, verified
        (engine.spectra.eigenpairs.extreme_eigenvalues; np.asarray(result) is the values)."""
        return extreme_eigenvalues(self._op, k, which, rng=_generator(rng),
                                   return_vectors=return_vectors)

    def trace(self, method: str = "hutch++", n_products: int = 99, *, rng=None):
        """(estimate, standard error) of tr H from n_products HVPs: 'hutch++' (hutchpp_trace;
        on a net's Hessian many times more accurate per product than 'hutchinson',
        hutchinson_trace), 'xtrace' (engine.spectra.trace.xtrace: every probe both sketches
        and samples) or 'krylov-aware' (engine.spectra.trace.krylov_aware_trace: the exact part
        on a Krylov space, one product per dimension; the most accurate of the four at the same
        products on the bench nets, `python -m experiments.bench --only trace`). Raises
        ValueError for another method."""
        if method not in TRACE_METHODS:
            raise ValueError(f"method={method!r} is unknown; choose one of {list(TRACE_METHODS)}")
        return _TRACE_ESTIMATORS[method](self._op, n_products, rng=_generator(rng))

    def density(self, n_steps: int = 80, n_probes: int = 10, *, rng=None, grid=None,
                sigma2=None):
        """(grid, density, nodes, weights) of ρ(λ) by SLQ (slq_density, which says how)."""
        return slq_density(self._op, n_steps, n_probes, rng=_generator(rng), grid=grid,
                           sigma2=sigma2)

    def matrix(self) -> np.ndarray:
        """The dense H (n, n): the MLP's structured exact Hessian, the framework's own
        (engine.adapters) otherwise. Raises ValueError for n > max_dense (use the methods,
        which never form H)."""
        if self.n > self.max_dense:
            raise ValueError(f"H has n = {self.n} > max_dense = {self.max_dense} rows; use "
                             "eigenvalues/trace/density, or pass a larger max_dense")
        if isinstance(self.model, MLP):
            return exact_hessian(self.model, self._theta, self._x, self._y)
        return self.model.hessian(self._theta)

    def __repr__(self):
        return (f"Hessian({self.route}, n={self.n}, at ‖θ‖ = "
                f"{float(np.linalg.norm(self._theta)):.4g})")


def _generator(rng):
    if rng is None:
        return np.random.default_rng(0)
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)):
        return np.random.default_rng(int(rng))
    raise ValueError(f"rng={rng!r}: give a numpy Generator or an int seed")
