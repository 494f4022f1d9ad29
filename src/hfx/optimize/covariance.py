"""Uncertainties of a fit: the Hessian (exact, or differences of the exact gradient), its
positive-definite correction and inverse, and the Newton polish that makes neither the
minimum nor the covariance depend on an optimizer's stopping rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from hfx.optimize import gauss_newton
from hfx.optimize.newton import newton_directions
from hfx.optimize.newton_fit import NewtonOptimizer
from hfx.optimize.problem import CHUNK_ELEMENTS, Objective, to_numpy
from hfx.optimize.result import FitResult, Minimum, zero_matrix

__all__ = [
    "build_result",
    "covariance",
    "covariance_on_bounds",
    "hessian",
    "make_positive_definite",
]


def hessian(
    model: Any,
    pars: Any,
    data: Any,
    free: Any = None,
    bounds: Any = None,
    *,
    gradient: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Hessian of −log L over the ``free`` components of ``pars`` from differences of the gradient.

    Central differences where both neighbours lie inside ``bounds``; second-order one-sided
    differences at a bound.  All stencil points go through one batched gradient call:
    ``model.nll_and_grad``, or ``gradient(points [m, npars]) -> [m, nfree]`` when given.
    Returns a symmetric [nfree, nfree] matrix.
    """
    pars = np.asarray(pars, dtype=np.float64)
    n = pars.size
    free = np.ones(n, dtype=bool) if free is None else np.asarray(free, dtype=bool)
    bnds = np.tile([-np.inf, np.inf], (n, 1)) if bounds is None else np.asarray(bounds, dtype=float)
    idx = np.flatnonzero(free)
    if idx.size == 0:
        return np.zeros((0, 0))
    h = 1e-5 * np.maximum(1.0, np.abs(pars[idx]))
    lo_ok = pars[idx] - h >= bnds[idx, 0]
    hi_ok = pars[idx] + h <= bnds[idx, 1]
    central = ((-1.0, 1.0), (-0.5, 0.5))
    forward = ((0.0, 1.0, 2.0), (-1.5, 2.0, -0.5))
    backward = ((0.0, -1.0, -2.0), (1.5, -2.0, 0.5))
    stencils = [
        central if lo and hi else (forward if hi else backward)
        for lo, hi in zip(lo_ok, hi_ok, strict=True)
    ]
    npoints = sum(len(s[0]) for s in stencils)
    points = np.tile(pars, (npoints, 1))
    row = 0
    for k, (offs, _) in enumerate(stencils):
        points[row : row + len(offs), idx[k]] += np.asarray(offs) * h[k]
        row += len(offs)
    if gradient is None:
        # bounded memory: each point's gradient works on arrays of the model's entries
        per_point = max(1, 4 * getattr(getattr(model, "arrays", None), "nentries", 1) * 8)
        chunk = max(1, CHUNK_ELEMENTS // per_point)
        grads = np.concatenate(
            [
                to_numpy(model.nll_and_grad(points[i : i + chunk], data)[1])[:, idx]
                for i in range(0, npoints, chunk)
            ]
        )
    else:
        grads = gradient(points)
    hess = np.empty((idx.size, idx.size))
    row = 0
    for k, (offs, weights) in enumerate(stencils):
        hess[k] = np.asarray(weights) @ grads[row : row + len(offs)] / h[k]
        row += len(offs)
    sym: np.ndarray = 0.5 * (hess + hess.T)
    return sym


def make_positive_definite(hess: np.ndarray) -> tuple[np.ndarray, bool]:
    """Shift the diagonal of a non-positive-definite Hessian, as Minuit's MnPosDef does.

    Works on the diagonally scaled matrix; returns the (possibly) corrected matrix and
    whether a correction was needed (e.g. a POI on its bound where the likelihood is flat).
    """
    diag = np.diag(hess).copy()
    changed = bool(np.any(diag <= 0))
    diag = np.where(diag > 0, diag, 1.0)
    h = hess.copy()
    h[np.diag_indices_from(h)] = diag
    scale = 1.0 / np.sqrt(diag)
    eig = np.linalg.eigvalsh(h * np.outer(scale, scale))
    pmin, pmax = float(eig[0]), float(eig[-1])
    if pmin > 1e-6 * max(pmax, 1.0):
        return h, changed
    h[np.diag_indices_from(h)] = diag * (1.0 + 1e-3 * pmax - pmin)
    return h, True


def _inverse(hess: np.ndarray) -> np.ndarray:
    """The symmetrised inverse (pseudo-inverse where singular) of a positive-definite Hessian."""
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        cov = np.linalg.pinv(hess)
    out: np.ndarray = 0.5 * (cov + cov.T)
    return out


def covariance(hess: np.ndarray) -> tuple[np.ndarray, bool]:
    """Inverse of the (positive-definite-corrected) Hessian and whether it was corrected."""
    hess, corrected = make_positive_definite(hess)
    return _inverse(hess), corrected


def covariance_on_bounds(hess: np.ndarray, on_bound: np.ndarray) -> tuple[np.ndarray, bool, bool]:
    """:func:`covariance`, except where a parameter sitting on one of its bounds makes the
    Hessian indefinite (a minimum on a bound need not be a stationary point, e.g. a POI at 0
    whose likelihood would fall further below it): then the others' covariance comes from
    their own block (the bound parameters held where they are) and each bound parameter gets
    1/curvature along itself alone, uncorrelated.  Shifting the whole diagonal instead
    shrinks every other uncertainty (on 2018-14_Comb_bkgonly: 0.16 for nuisance parameters
    whose Minuit and finite-difference uncertainties are 1.0).

    Returns (covariance, corrected at all, handled through the bound parameters)."""
    shifted, corrected = make_positive_definite(hess)
    inner = ~on_bound
    diag = np.diag(hess)
    block, block_shifted = hess[np.ix_(inner, inner)], False
    if inner.any() and corrected and on_bound.any():
        block, block_shifted = make_positive_definite(block)
    if not corrected or not on_bound.any() or np.any(diag[on_bound] <= 0) or block_shifted:
        return _inverse(shifted), corrected, False
    cov = np.zeros_like(hess)
    if inner.any():
        cov[np.ix_(inner, inner)] = _inverse(block)
    bound = np.flatnonzero(on_bound)
    cov[bound, bound] = 1.0 / diag[bound]
    return cov, True, True


def _fast_gradient(
    model: Any, data: np.ndarray, full: np.ndarray, free: np.ndarray
) -> Callable[[np.ndarray], np.ndarray] | None:
    """Gradient over the free components for many points from the exact Jacobian, or None.

    Several times faster per point than a batched ``nll_and_grad`` on large models.
    """
    if not gauss_newton.newton_ok(model):
        return None
    problem = gauss_newton.GaussNewton(
        model, data[None, :], full[None, :].copy(), free, exact=False
    )
    idx = np.flatnonzero(free)
    chunk = gauss_newton.rows_per_chunk(model)

    def gradient(points: np.ndarray) -> np.ndarray:
        out = []
        for i in range(0, points.shape[0], chunk):
            part = points[i : i + chunk]
            rows = np.zeros(part.shape[0], dtype=int)
            out.append(problem.evaluate(rows, part[:, idx])[1])
        return np.concatenate(out)

    return gradient


def _polish_hessian(
    model: Any,
    data: np.ndarray,
    pars: np.ndarray,
    free: np.ndarray,
    bnds: np.ndarray,
    gradient: Callable[[np.ndarray], np.ndarray] | None,
) -> np.ndarray:
    """The exact analytic Hessian where the model allows it, else differences of the gradient."""
    exact = gauss_newton.exact_hessian(model, data, pars, free)
    if exact is not None:
        sym: np.ndarray = 0.5 * (exact + exact.T)
        return sym
    return hessian(model, pars, data, free, bnds, gradient=gradient)


def _newton_polish(
    model: Any,
    data: np.ndarray,
    obj: Objective,
    x: np.ndarray,
    fun: float,
    free: np.ndarray,
    bnds: np.ndarray,
    maxiter: int = 3,
) -> tuple[np.ndarray, float, np.ndarray, bool]:
    """Projected Newton steps (:func:`~hfx.optimize.newton.newton_directions`) with the exact
    (or exact-gradient) Hessian from a (nearly) converged ``x``.

    Returns (x, fun, Hessian at x, whether x moved).
    """
    fbnds = bnds[free]
    lo, hi = fbnds[:, 0], fbnds[:, 1]
    refined = False
    exact = gauss_newton.exact_ok(model)  # else differences of the (fast) gradient
    gradient = None if exact else _fast_gradient(model, data, obj.full, free)
    hess = _polish_hessian(model, data, obj.expand(x), free, bnds, gradient)
    for _ in range(maxiter):
        _, g = obj(x)
        step, held = newton_directions(x[None, :], g[None, :], hess[None, :, :], None, lo, hi)
        move = np.where(held[0], np.where(g > 0, lo, hi) - x, step[0])
        decrement = -float(g @ move)
        if not decrement > 1e-7:  # −log L within ~5e-8 of the minimum: nothing to refine
            break
        for t in (1.0, 0.5, 0.25, 0.125):
            x_new = np.clip(x + t * move, lo, hi)
            f_new, _ = obj(x_new)
            if f_new < fun:
                break
        else:
            break
        x, fun, refined = x_new, f_new, True
        hess = _polish_hessian(model, data, obj.expand(x), free, bnds, gradient)
        obj.ncalls += 1
    return x, fun, hess, refined


def _batched_polish(
    model: Any,
    obj: Objective,
    x: np.ndarray,
    fun: float,
    bnds: np.ndarray,
    mask: np.ndarray,
    engine: str,
) -> tuple[np.ndarray, float, bool]:
    """Newton iterations (exact Jacobian, analytic curvature) from a coarse minimum ``x``.

    Much cheaper than :func:`_newton_polish`'s finite-difference Hessian; models without
    the Jacobian, or too large for dense steps, keep ``x``.  Returns (x, fun, moved).
    """
    if not NewtonOptimizer.applies(model):
        return x, fun, False
    found = NewtonOptimizer(maxiter=20, engine=engine).minimize(obj, x, bnds[~mask])
    if not (found.converged and found.fun < fun):
        return x, fun, False
    return found.x, found.fun, True


def build_result(
    model: Any,
    data: np.ndarray,
    obj: Objective,
    best: Minimum,
    bnds: np.ndarray,
    mask: np.ndarray,
    uncertainties: bool,
    engine: str = "numpy",
) -> FitResult:
    """Assemble a :class:`FitResult`, with Hessian-based uncertainties when asked for.

    With uncertainties, or from an optimizer with a coarse stopping rule (Minuit's EDM),
    a minimum that is still measurably off first gets Newton steps with the exact-gradient
    Hessian, so neither the minimum nor the covariance depends on the stopping rule.
    """
    x, fun = best.x, best.fun
    n = obj.full.size
    msg = best.message
    free = ~mask
    if uncertainties and obj.idx.size:
        idx = obj.idx
        cov = np.zeros((n, n))
        x, fun, hess, refined = _newton_polish(model, data, obj, x, fun, free, bnds)
        if refined:
            msg += "; refined by Newton steps"
        lo, hi = bnds[free, 0], bnds[free, 1]
        # on a bound, or within 1e-4 of its range of it (where an optimizer like Minuit, which
        # never reaches a bound, stops); used only where the Hessian is indefinite
        near = 1e-4 * np.where(np.isfinite(hi - lo), hi - lo, 1.0)
        on_bound = (x <= lo + near) | (x >= hi - near)
        cov_free, corrected, by_bounds = covariance_on_bounds(hess, on_bound)
        cov[np.ix_(idx, idx)] = cov_free
        if by_bounds:
            names = [model.config.par_names[i] for i in idx[on_bound]]
            msg += (
                f"; Hessian not positive definite with {', '.join(names)} on a bound: "
                "uncertainties with that held there, its own along it alone (approximate)"
            )
        elif corrected:
            msg += "; Hessian not positive definite, diagonal shifted (uncertainties approximate)"
        obj.ncalls += 1
        sigma = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            outer = np.outer(sigma, sigma)
            corr = np.where(outer > 0, cov / outer, 0.0)
        diag = np.flatnonzero(sigma > 0)
        corr[diag, diag] = 1.0
    else:
        if obj.idx.size and best.coarse:
            x, fun, refined = _batched_polish(model, obj, x, fun, bnds, mask, engine)
            if refined:
                msg += "; refined by Newton steps"
        sigma = np.zeros(n)
        cov = corr = zero_matrix(n)
    bestfit = obj.expand(x)
    return FitResult(
        bestfit=bestfit,
        uncertainties=sigma,
        covariance=cov,
        correlation=corr,
        twice_nll=2.0 * fun,
        success=True,
        message=msg,
        nfev=obj.ncalls,
        ngrad=obj.ncalls,
        par_names=tuple(model.config.par_names),
        fixed=mask,
    )
