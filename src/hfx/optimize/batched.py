"""Many fits at once: ``fit_batch`` / ``fixed_poi_fit_batch`` for N datasets or N starts.

All rows run through projected Newton together (:mod:`hfx.optimize.newton`, or its compiled
form, as the plan's engine says); rows that do not converge are refitted one by one with
:func:`~hfx.optimize.fit`, as are all rows of models too large for dense Newton steps
(``gauss_newton.dense_ok``).  On multimodal likelihoods a row may end in a different local
minimum than the scalar path.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hfx.errors import FitError
from hfx.optimize import engines
from hfx.optimize.api import fit
from hfx.optimize.plan import FitPlan, make_plan
from hfx.optimize.problem import Objective, resolve, to_numpy
from hfx.optimize.result import BatchFitResult, Minimum
from hfx.optimize.scipy_fit import ScipyOptimizer

__all__ = ["fit_batch", "fixed_poi_fit_batch"]


def fit_batch(
    model: Any,
    data: Any,
    *,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    tolerance: float = 1e-10,
    maxiter: int = 100,
    engine: str = "auto",
    plan: FitPlan | None = None,
    thorough: bool = True,
) -> BatchFitResult:
    """Fit N datasets ``data`` [N, ndata] (or one dataset from N starts ``init`` [N, npars]).

    ``init`` None | [npars] | [N, npars]; ``bounds`` [npars, 2]; ``fixed`` [npars] mask (the
    same for all rows).  A row converges when its Newton decrement (the predicted decrease
    of −log L) is below ``tolerance``; rows that fail after ``maxiter`` iterations are
    refitted by L-BFGS-B from where Newton stopped (if lower than the start) and from the
    start, and where neither converges by the scalar :func:`~hfx.optimize.fit`'s further
    attempts (not with ``thorough`` False: such rows keep the lowest point found and are
    flagged unsuccessful); the lowest minimum found is kept.
    ``engine`` ("auto", "numpy", "numba", "jax") or a ``plan`` say where the Newton
    iterations run; a plan with a chosen optimizer is not a batched plan and is refused.
    """
    if plan is None:
        plan = make_plan(model, engine=engine)
    if plan.optimizer is not None:
        raise FitError("fit_batch runs projected Newton; a plan with an optimizer fits one by one")
    cfg = model.config
    npars = cfg.npars
    init_arr = np.asarray(cfg.suggested_init() if init is None else init, dtype=np.float64)
    data = to_numpy(data)
    if data.ndim == 1:
        data = data[None, :]
    nrows = max(data.shape[0], init_arr.shape[0] if init_arr.ndim == 2 else 1)
    if data.ndim != 2 or data.shape[0] not in (1, nrows):
        raise FitError(f"data must be [N, ndata] or [ndata]; got shape {data.shape}")
    if init_arr.shape not in ((npars,), (nrows, npars)):
        raise FitError(f"init must be [{npars}] or [{nrows}, {npars}]; got {init_arr.shape}")
    _, bnds, mask = resolve(model, init_arr if init_arr.ndim == 1 else init_arr[0], bounds, fixed)
    if data.shape[-1] != cfg.nmaindata + cfg.nauxdata:
        raise FitError(
            f"data has {data.shape[-1]} values per dataset, the model expects "
            f"{cfg.nmaindata + cfg.nauxdata}"
        )
    if data.shape[0] != nrows:
        data = np.repeat(data, nrows, axis=0)
    full = np.empty((nrows, npars))
    full[:] = init_arr
    free = ~mask
    lo, hi = bnds[free, 0], bnds[free, 1]
    outside = (full[:, free] < lo) | (full[:, free] > hi)
    if outside.any():
        row, col = np.argwhere(outside)[0]
        name = cfg.par_names[np.flatnonzero(free)[col]]
        raise FitError(f"row {row}: initial value of {name!r} lies outside its bounds")

    if plan.newton:
        x, converged, niter = engines.newton_rows(
            plan.engine, model, data, full, free, lo, hi, tolerance, maxiter
        )
    else:  # too large for dense Newton steps: the scalar fits below, row by row
        x, converged, niter = full[:, free].copy(), np.zeros(nrows, dtype=bool), 0
    bestfit = full.copy()
    bestfit[:, free] = x
    success = converged.copy()
    redo = np.flatnonzero(~converged)
    # a row the compiled JAX fit left is refitted on the same model in NumPy (the same
    # numbers; L-BFGS-B calls it once per step, which JAX would dispatch op by op)
    refit_model, refit_engine = (
        (model.to("numpy"), "numpy") if plan.engine == "jax" and redo.size else (model, plan.engine)
    )
    if redo.size:
        reached = plan.twice_nll(model, bestfit[redo], data[redo])
        started = plan.twice_nll(model, full[redo], data[redo])
    for k, i in enumerate(redo):
        best = reached[k] if np.isfinite(reached[k]) else np.inf
        # one L-BFGS-B run from where Newton stopped (where it went down: it ran out of
        # iterations near a kink or along a flat direction), then one from the start; the
        # scalar fit's further attempts only where neither converges
        starts = [bestfit[i].copy()] if best < started[k] else []
        for start in [*starts, full[i]]:
            found = _polish(refit_model, data[i], start, bnds, mask)
            if 2.0 * found.fun < best:
                bestfit[i, ~mask], best = found.x, 2.0 * found.fun
            if found.converged:
                success[i] = True
                break
        if success[i] or not thorough:
            continue
        try:
            res = fit(
                refit_model,
                data[i],
                init=full[i],
                bounds=bnds,
                fixed=mask,
                optimizer="scipy",
                engine=refit_engine,
                uncertainties=False,
            )
        except FitError:
            continue
        if res.twice_nll < best:
            bestfit[i] = res.bestfit
        success[i] = True
    return BatchFitResult(
        bestfit=bestfit,
        twice_nll=plan.twice_nll(model, bestfit, data),
        success=success,
        niter=niter,
        nfallback=int(redo.size),
    )


def _polish(
    model: Any, data: np.ndarray, start: np.ndarray, bounds: np.ndarray, fixed: np.ndarray
) -> Minimum:
    """One L-BFGS-B run from ``start`` (full parameters) over the free ones."""
    free = ~fixed
    objective = Objective(model, data, start, free)
    return ScipyOptimizer().minimize(objective, start[free], bounds[free])


def fixed_poi_fit_batch(
    poi_value: Any,
    model: Any,
    data: Any,
    *,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    tolerance: float = 1e-10,
    maxiter: int = 100,
    engine: str = "auto",
    plan: FitPlan | None = None,
    thorough: bool = True,
) -> BatchFitResult:
    """:func:`fit_batch` with the POI held at ``poi_value`` (a scalar or one value per row)."""
    poi = model.config.poi_index
    if poi is None:
        raise FitError(
            "fixed_poi_fit_batch needs a model with a parameter of interest (poi_index is None)"
        )
    npars = model.config.npars
    x0 = np.array(model.config.suggested_init() if init is None else init, dtype=np.float64)
    values = np.asarray(poi_value, dtype=np.float64)
    if values.ndim and x0.ndim == 1:
        x0 = np.tile(x0, (values.size, 1))
    x0[..., poi] = values
    mask = np.zeros(npars, dtype=bool) if fixed is None else np.array(fixed, dtype=bool)
    if mask.shape != (npars,):
        raise FitError(f"fixed must describe {npars} parameters; got shape {mask.shape}")
    mask[poi] = True
    return fit_batch(
        model,
        data,
        init=x0,
        bounds=bounds,
        fixed=mask,
        tolerance=tolerance,
        maxiter=maxiter,
        engine=engine,
        plan=plan,
        thorough=thorough,
    )
