"""−log L, its gradient and the Gauss-Newton Hessian over the free parameters, for many rows.

The Poisson part of the Hessian is JᵀWJ with the exact Jacobian ∂ν/∂θ of the expected
counts (``Model.expected_and_jacobian``) and W = n/ν²; the constraint curvature is exact.
Used by the batched fits and to seed Minuit's diagonal second derivatives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from hfx.likelihood.backends import NumpyBackend
from hfx.likelihood.curvature import ResidualCurvature
from hfx.likelihood.terms import (
    gauss_curvature,
    gauss_gradient,
    gauss_nll,
    poisson_curvature,
    poisson_nll,
    poisson_residual,
    rate_constraint_curvature,
    rate_constraint_gradient,
)
from hfx.optimize.problem import CHUNK_ELEMENTS, to_numpy

__all__ = [
    "EXACT_MIN_FREE",
    "GaussNewton",
    "dense_ok",
    "diagonal_curvature",
    "exact_hessian",
    "exact_ok",
    "newton_ok",
    "rows_per_chunk",
    "supports",
]

_NP = NumpyBackend()

# below this many free parameters Gauss-Newton + secant converges as fast as exact Newton,
# and the exact curvature only adds cost (measured on the 3-5 parameter ATLAS models)
EXACT_MIN_FREE = 20


# Memory limits of the dense paths: a Jacobian is [rows, bins, parameters] and a Hessian
# [rows, parameters, parameters]; beyond these sizes the scalar fits (linear in the number
# of modifier entries) are used instead.  Rows are evaluated in chunks of CHUNK_ELEMENTS.
MAX_JACOBIAN = 4_000_000  # bins × parameters of one row
MAX_PARAMETERS = 1000  # a Newton solve per row costs parameters³


def supports(model: Any) -> bool:
    """Whether ``model`` provides what :class:`GaussNewton` needs."""
    return hasattr(model, "expected_and_jacobian") and hasattr(model, "arrays")


def dense_ok(model: Any) -> bool:
    """Whether one row's dense Jacobian and Hessian of ``model`` are of a reasonable size."""
    npars: int = model.config.npars
    nmaindata: int = model.config.nmaindata
    return npars <= MAX_PARAMETERS and nmaindata * npars <= MAX_JACOBIAN


def newton_ok(model: Any) -> bool:
    """Whether ``model`` can take dense Newton steps: exact Jacobian and a moderate size."""
    return supports(model) and dense_ok(model)


def exact_ok(model: Any) -> bool:
    """Whether :func:`exact_hessian` applies: dense Newton steps on a NumPy model."""
    return newton_ok(model) and ResidualCurvature.supports(model)


def rows_per_chunk(model: Any) -> int:
    """How many rows to evaluate together within :data:`CHUNK_ELEMENTS`."""
    npars: int = model.config.npars
    nmaindata: int = model.config.nmaindata
    per_row = nmaindata * npars + npars * npars
    return max(1, CHUNK_ELEMENTS // max(per_row, 1))


class GaussNewton:
    """−log L (up to per-row constants), gradient and Gauss-Newton Hessian over free parameters."""

    last_jac: np.ndarray  # Jacobian [n, nbins, nfree] of the last ``evaluate``
    last_res: np.ndarray  # Poisson residual 1 − n/ν [n, nbins] of the last ``evaluate``

    def __init__(
        self, model: Any, data: np.ndarray, full: np.ndarray, free: np.ndarray, exact: bool = True
    ) -> None:
        a = model.arrays
        self.model = model
        self.nb = model.config.nmaindata
        self.free = free
        self.idx = np.flatnonzero(free)
        self.full = full  # [N, npars], fixed components already in place
        self.data = data
        pos = np.full(model.config.npars, -1)
        pos[self.idx] = np.arange(self.idx.size)
        # constraints acting on free parameters, in free coordinates
        g_keep = pos[a.gauss_par] >= 0
        self.g_par = pos[a.gauss_par][g_keep]
        self.g_aux = (a.gauss_aux + self.nb)[g_keep]
        self.g_sigma = a.gauss_sigma[g_keep]
        self.g_w = gauss_curvature(self.g_sigma)
        p_keep = pos[a.pois_par] >= 0
        self.p_par = pos[a.pois_par][p_keep]
        self.p_aux = (a.pois_aux + self.nb)[p_keep]
        self.p_tau = a.pois_tau[p_keep]
        # the curvature Gauss-Newton leaves out, exactly (NumPy models of moderate size)
        use = exact and self.idx.size >= EXACT_MIN_FREE and ResidualCurvature.supports(model)
        self.curvature = ResidualCurvature(model) if use else None

    def pars(self, rows: np.ndarray, x: np.ndarray) -> np.ndarray:
        full: np.ndarray = self.full[rows]
        full[:, self.idx] = x
        return full

    def evaluate(
        self, rows: np.ndarray, x: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(f [n], g [n, nfree], H [n, nfree, nfree]) for ``rows`` at free values ``x``."""
        nu, jac = self.model.expected_and_jacobian(self.pars(rows, x))
        nu, jac = to_numpy(nu), to_numpy(jac)[:, :, self.idx]
        d = self.data[rows]
        n = d[:, : self.nb]
        with np.errstate(divide="ignore", invalid="ignore"):
            f = np.sum(poisson_nll(_NP, n, nu), axis=1)
            residual = poisson_residual(np, n, nu)
            g = np.einsum("nb,nbp->np", residual, jac)
            wj = jac * poisson_curvature(np, n, nu)[:, :, None]
            h = np.matmul(jac.transpose(0, 2, 1), wj)
            if self.g_par.size:
                theta, aux = x[:, self.g_par], d[:, self.g_aux]
                f += np.sum(gauss_nll(theta, aux, self.g_sigma), axis=1)
                g[:, self.g_par] += gauss_gradient(theta, aux, self.g_sigma)
                h[:, self.g_par, self.g_par] += self.g_w
            if self.p_par.size:
                theta, aux = x[:, self.p_par], d[:, self.p_aux]
                f += np.sum(poisson_nll(_NP, aux, theta * self.p_tau), axis=1)
                g[:, self.p_par] += rate_constraint_gradient(theta, aux, self.p_tau)
                h[:, self.p_par, self.p_par] += rate_constraint_curvature(theta, aux)
        bad = ~np.isfinite(f) | np.any(nu < 0, axis=1) | ~np.isfinite(g).all(axis=1)
        f[bad] = np.inf
        self.last_jac, self.last_res = jac, residual
        return f, g, h

    def fisher_diagonal(self, rows: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Diagonal of the Gauss-Newton Hessian [n, nfree] without a dense Jacobian."""
        pars = self.pars(rows, x)
        n = self.data[rows, : self.nb]
        with np.errstate(divide="ignore", invalid="ignore"):
            nu = to_numpy(self.model.expected_actualdata(pars))
            weight = poisson_curvature(np, n, nu)
        diag = to_numpy(self.model.fisher_diagonal(pars, weight))[:, self.idx]
        if self.g_par.size:
            diag[:, self.g_par] += self.g_w
        if self.p_par.size:
            diag[:, self.p_par] += rate_constraint_curvature(
                x[:, self.p_par], self.data[rows][:, self.p_aux]
            )
        return diag

    def residual_curvature(
        self, rows: np.ndarray, x: np.ndarray, residual: np.ndarray
    ) -> np.ndarray:
        """Σ_b r_b ∂²ν_b over the free parameters [n, nfree, nfree] (``curvature`` not None)."""
        assert self.curvature is not None  # only called on problems built with ``exact``
        full = self.curvature(self.pars(rows, x), np.where(np.isfinite(residual), residual, 0.0))
        out: np.ndarray = full[:, self.idx][:, :, self.idx]
        return out


def diagonal_curvature(
    model: Any, data: np.ndarray, full: np.ndarray, free: np.ndarray
) -> Callable[[np.ndarray], np.ndarray]:
    """A function x ↦ Gauss-Newton diagonal of the Hessian at free values ``x`` (Minuit's g2).

    Non-positive or non-finite entries are replaced by 1.  Models too large for a dense
    Jacobian get the same diagonal from :meth:`Model.fisher_diagonal` (linear cost).
    """
    problem = GaussNewton(model, data[None, :], full[None, :].copy(), free, exact=False)
    row = np.zeros(1, dtype=int)
    sparse = not dense_ok(model)

    def g2(x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)[None, :]
        d = (
            problem.fisher_diagonal(row, x)[0]
            if sparse
            else np.diagonal(problem.evaluate(row, x)[2][0]).copy()
        )
        return np.where(np.isfinite(d) & (d > 0), d, 1.0)

    return g2


def exact_hessian(
    model: Any, data: np.ndarray, pars: np.ndarray, free: np.ndarray
) -> np.ndarray | None:
    """Exact Hessian of −log L over the ``free`` components at ``pars`` [nfree, nfree]:
    Gauss-Newton + the residual curvature + the constraint terms, or None where the model
    lacks what it needs (no Jacobian, not NumPy, too large for dense matrices)."""
    if not exact_ok(model):
        return None
    pars = np.asarray(pars, dtype=np.float64)
    problem = GaussNewton(model, data[None, :], pars[None, :].copy(), free, exact=False)
    row = np.zeros(1, dtype=int)
    _, _, h = problem.evaluate(row, pars[free][None, :])
    residual = np.where(np.isfinite(problem.last_res), problem.last_res, 0.0)
    idx = np.flatnonzero(free)
    curvature = ResidualCurvature(model)(pars[None, :], residual)[0][np.ix_(idx, idx)]
    hess: np.ndarray = h[0] + curvature
    return hess
