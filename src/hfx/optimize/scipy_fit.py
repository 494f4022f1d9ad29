"""Maximum-likelihood fits with ``scipy.optimize.minimize`` and the model's exact gradient.

Only the free parameters are handed to the minimiser; fixed ones (the model's
``suggested_fixed()`` plus the caller's ``fixed``) stay at their initial values.  The
covariance is the inverse Hessian of −log L over the free parameters, the Hessian coming
from central differences of the exact gradient (all stencil points in one batched call).
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
from scipy.optimize import minimize

from hfx.errors import FitError
from hfx.optimize.result import FitResult

_DEFAULT_TOLERANCE = 1e-12


def _numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):  # torch
        x = x.detach().cpu()
    return np.asarray(x, dtype=np.float64)


def _resolve(model, init, bounds, fixed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cfg = model.config
    n = cfg.npars
    x0 = np.array(cfg.suggested_init() if init is None else init, dtype=np.float64).reshape(-1)
    bnds = np.array(cfg.suggested_bounds() if bounds is None else bounds, dtype=np.float64)
    mask = np.array(cfg.suggested_fixed(), dtype=bool).reshape(-1)
    if fixed is not None:
        mask = mask | np.asarray(fixed, dtype=bool).reshape(-1)
    if x0.shape != (n,) or bnds.shape != (n, 2) or mask.shape != (n,):
        raise FitError(
            f"init, bounds and fixed must describe {n} parameters; got shapes "
            f"{x0.shape}, {bnds.shape}, {mask.shape}"
        )
    if np.any(bnds[:, 0] > bnds[:, 1]):
        bad = int(np.argmax(bnds[:, 0] > bnds[:, 1]))
        raise FitError(f"parameter {cfg.par_names[bad]!r} has lower bound above upper bound")
    free = ~mask
    outside = free & ((x0 < bnds[:, 0]) | (x0 > bnds[:, 1]))
    if np.any(outside):
        bad = int(np.argmax(outside))
        raise FitError(
            f"initial value {x0[bad]} of parameter {cfg.par_names[bad]!r} lies outside its "
            f"bounds [{bnds[bad, 0]}, {bnds[bad, 1]}]"
        )
    return x0, bnds, mask


class _Objective:
    """−log L and gradient over the free parameters, counting evaluations."""

    def __init__(self, model, data, full: np.ndarray, free: np.ndarray):
        self.model = model
        self.data = data
        self.full = full.copy()
        self.free = free
        self.ncalls = 0
        self.last: tuple[np.ndarray, float, np.ndarray] | None = None

    def expand(self, x: np.ndarray) -> np.ndarray:
        pars = self.full.copy()
        pars[self.free] = x
        return pars

    def __call__(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        self.ncalls += 1
        val, grad = self.model.nll_and_grad(self.expand(x), self.data)
        val = float(_numpy(val))
        grad = _numpy(grad)[self.free]
        if not np.isfinite(val) or not np.all(np.isfinite(grad)):
            # e.g. a negative expected rate: report a value well above the last finite one
            # (growing with the distance from it) so the line search backtracks towards it
            if self.last is None:
                return 1e300, np.zeros_like(x)
            x_ok, f_ok, g_ok = self.last
            rise = 4.0 * abs(float(g_ok @ (x - x_ok))) + 1e-3 * (1.0 + abs(f_ok))
            return f_ok + rise, g_ok.copy()
        self.last = (x.copy(), val, grad)
        return val, grad


def hessian(model, pars: Any, data: Any, free: Any = None, bounds: Any = None) -> np.ndarray:
    """Hessian of −log L over the ``free`` components of ``pars`` from differences of the gradient.

    Central differences where both neighbours lie inside ``bounds``; second-order one-sided
    differences at a bound.  Returns a symmetric [nfree, nfree] matrix.
    """
    pars = np.asarray(pars, dtype=np.float64)
    n = pars.size
    free = np.ones(n, dtype=bool) if free is None else np.asarray(free, dtype=bool)
    bnds = np.tile([-np.inf, np.inf], (n, 1)) if bounds is None else np.asarray(bounds, dtype=float)
    idx = np.flatnonzero(free)
    h = 1e-5 * np.maximum(1.0, np.abs(pars[idx]))
    lo_ok = pars[idx] - h >= bnds[idx, 0]
    hi_ok = pars[idx] + h <= bnds[idx, 1]
    # per free component: offsets (in units of h) and weights for d(grad)/dx
    stencils = []
    for k in range(idx.size):
        if lo_ok[k] and hi_ok[k]:
            stencils.append(((-1.0, 1.0), (-0.5, 0.5)))
        elif hi_ok[k]:
            stencils.append(((0.0, 1.0, 2.0), (-1.5, 2.0, -0.5)))
        else:
            stencils.append(((0.0, -1.0, -2.0), (1.5, -2.0, 0.5)))
    points = []
    for k, (offs, _) in enumerate(stencils):
        for o in offs:
            p = pars.copy()
            p[idx[k]] += o * h[k]
            points.append(p)
    if not points:
        return np.zeros((0, 0))
    _, grads = model.nll_and_grad(np.stack(points), data)
    grads = _numpy(grads)[:, idx]
    hess = np.empty((idx.size, idx.size))
    row = 0
    for k, (offs, weights) in enumerate(stencils):
        g = grads[row : row + len(offs)]
        hess[k] = np.tensordot(np.asarray(weights), g, axes=1) / h[k]
        row += len(offs)
    return 0.5 * (hess + hess.T)


def _make_positive_definite(hess: np.ndarray) -> tuple[np.ndarray, bool]:
    """Shift the diagonal of a non-positive-definite Hessian, as Minuit's MnPosDef does.

    Works on the diagonally scaled matrix; returns the (possibly) corrected matrix and
    whether a correction was needed.  Happens e.g. at a POI sitting on its bound where the
    likelihood is flat.
    """
    diag = np.diag(hess).copy()
    changed = bool(np.any(diag <= 0))
    diag = np.where(diag > 0, diag, 1.0)
    h = hess.copy()
    h[np.diag_indices_from(h)] = diag
    scale = 1.0 / np.sqrt(diag)
    scaled = h * np.outer(scale, scale)
    eig = np.linalg.eigvalsh(scaled)
    pmin, pmax = float(eig[0]), float(eig[-1])
    if pmin > 1e-6 * max(pmax, 1.0):
        return h, changed
    padd = 1e-3 * pmax - pmin
    h[np.diag_indices_from(h)] = diag * (1.0 + padd)
    return h, True


def _covariance(hess: np.ndarray) -> tuple[np.ndarray, bool]:
    hess, corrected = _make_positive_definite(hess)
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        cov = np.linalg.pinv(hess)
    return 0.5 * (cov + cov.T), corrected


def _single_threaded_blas():
    """Limit BLAS to one thread while L-BFGS-B runs, when ``threadpoolctl`` is installed.

    The minimiser's tiny dense algebra goes through BLAS; a threaded BLAS spends far more
    time waking threads than computing (3x slower fits on 60-parameter models).
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional speed-up only
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _minimize(obj: _Objective, x0: np.ndarray, bnds: np.ndarray, tolerance: float, maxiter: int):
    with _single_threaded_blas():
        return minimize(
            obj,
            x0,
            jac=True,
            method="L-BFGS-B",
            bounds=[
                (lo if np.isfinite(lo) else None, hi if np.isfinite(hi) else None)
                for lo, hi in bnds
            ],
            options={
                "maxiter": maxiter,
                "maxfun": 10 * maxiter,
                "ftol": tolerance,
                "gtol": 1e-9,
                "maxcor": 30,
            },
        )


def _projected_gradient(x: np.ndarray, g: np.ndarray, bnds: np.ndarray) -> float:
    pg = g.copy()
    pg[(x <= bnds[:, 0]) & (g > 0)] = 0.0
    pg[(x >= bnds[:, 1]) & (g < 0)] = 0.0
    return float(np.max(np.abs(pg))) if pg.size else 0.0


def fit(
    model,
    data: Any,
    *,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    tolerance: float = _DEFAULT_TOLERANCE,
    maxiter: int = 10000,
    uncertainties: bool = True,
) -> FitResult:
    """Unconditional maximum-likelihood fit of ``model`` to ``data`` (main + auxiliary)."""
    x_init, bnds, mask = _resolve(model, init, bounds, fixed)
    data = _numpy(data)
    free = ~mask
    obj = _Objective(model, data, x_init, free)
    fbnds = bnds[free]
    starts = [x_init[free]]
    rng = np.random.default_rng(0)
    width = np.where(np.isfinite(fbnds).all(axis=1), fbnds[:, 1] - fbnds[:, 0], 2.0)
    perturbed = starts[0] + 0.05 * width * rng.uniform(-1.0, 1.0, size=starts[0].size)
    starts.append(np.clip(perturbed, fbnds[:, 0], fbnds[:, 1]))

    best, messages = None, []
    for x0 in starts:
        if free.any():
            res = _minimize(obj, x0, fbnds, tolerance, maxiter)
            x, fun, msg = np.asarray(res.x, dtype=float), float(res.fun), str(res.message)
        else:
            x, msg = x0, "no free parameters"
            fun, _ = obj(x0)
        messages.append(msg)
        if not np.isfinite(fun) or fun >= 1e299:
            continue
        _, g = obj(x)
        pgrad = _projected_gradient(x, g, fbnds)
        converged = pgrad <= 1e-3 * max(1.0, abs(fun)) ** 0.5
        if best is None or fun < best[1]:
            best = (x, fun, msg, converged)
        if converged:
            break
    if best is None or not best[3]:
        detail = "; ".join(messages)
        where = "" if best is None else f" (−log L = {best[1]:.6g}, gradient not small)"
        raise FitError(
            f"minimisation did not converge after a retry from a perturbed start{where}: {detail}"
        )
    x, fun, msg, _ = best

    bestfit = obj.expand(x)
    n = bestfit.size
    cov = np.zeros((n, n))
    if uncertainties and free.any():
        idx = np.flatnonzero(free)
        cov_free, corrected = _covariance(hessian(model, bestfit, data, free, bnds))
        cov[np.ix_(idx, idx)] = cov_free
        if corrected:
            msg += "; Hessian not positive definite, diagonal shifted (uncertainties approximate)"
        obj.ncalls += 1
    sigma = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = np.where(np.outer(sigma, sigma) > 0, cov / np.outer(sigma, sigma), 0.0)
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


def fixed_poi_fit(
    poi_value: float, model, data: Any, *, init: Any = None, fixed: Any = None, **kw: Any
) -> FitResult:
    """Conditional fit with the parameter of interest held at ``poi_value``."""
    poi = model.config.poi_index
    if poi is None:
        raise FitError(
            "fixed_poi_fit needs a model with a parameter of interest (poi_index is None)"
        )
    x0 = np.array(model.config.suggested_init() if init is None else init, dtype=np.float64)
    x0[poi] = float(poi_value)
    mask = (
        np.zeros(model.config.npars, dtype=bool) if fixed is None else np.array(fixed, dtype=bool)
    )
    mask[poi] = True
    return fit(model, data, init=x0, fixed=mask, **kw)
