"""``fit`` and ``fixed_poi_fit``: one maximum-likelihood fit, as its :class:`FitPlan` says.

Only the free parameters are handed to the optimizer; fixed ones (the model's
``suggested_fixed()`` plus the caller's ``fixed``) stay at their initial values.  Without a
chosen optimizer, models with the exact Jacobian are first fitted by projected Newton
(:class:`~hfx.optimize.newton_fit.NewtonOptimizer` on the plan's engine), with L-BFGS-B as
the fallback.  A failed
minimisation is retried from the model's suggested start (when the caller gave another),
from a perturbed start, then with the other optimizer (Minuit
with strategy 2 after scipy, scipy after Minuit) before :class:`~hfx.errors.FitError`.
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from hfx.errors import FitError
from hfx.optimize import kernel
from hfx.optimize.covariance import build_result
from hfx.optimize.minuit_fit import MinuitOptimizer
from hfx.optimize.newton_fit import NewtonOptimizer
from hfx.optimize.plan import FitPlan, Optimizer, default_plan_runs_kernels, make_plan
from hfx.optimize.problem import (
    Objective,
    check_data,
    diagnose,
    poi_mask_and_init,
    resolve,
    to_numpy,
)
from hfx.optimize.result import FitResult, Minimum, zero_matrix
from hfx.optimize.scipy_fit import ScipyOptimizer

__all__ = ["fit", "fixed_poi_fit"]

NEWTON = NewtonOptimizer()  # (its tolerance and iteration limit: those of every default fit)


def _fallback(optimizer: Optimizer) -> Optimizer | None:
    if isinstance(optimizer, MinuitOptimizer):
        return ScipyOptimizer() if optimizer.strategy == 2 else optimizer.with_strategy(2)
    if importlib.util.find_spec("iminuit") is None:
        return None
    return MinuitOptimizer(strategy=2)


def _perturbed(x0: np.ndarray, bnds: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(0)
    width = np.where(np.isfinite(bnds).all(axis=1), bnds[:, 1] - bnds[:, 0], 2.0)
    moved = x0 + 0.05 * width * rng.uniform(-1.0, 1.0, size=x0.size)
    return np.clip(moved, bnds[:, 0], bnds[:, 1])


def _attempts(
    model: Any,
    opt: Optimizer,
    x0: np.ndarray,
    fbnds: np.ndarray,
    free: np.ndarray,
    first: NewtonOptimizer | None,
) -> Iterator[tuple[Optimizer | NewtonOptimizer, np.ndarray]]:
    """(optimizer, start) pairs, made only when the previous attempt failed: ``first`` (the
    plan's projected Newton, if any), then the caller's start, the model's suggested start
    (if different), a perturbed start, the other optimizer."""
    if first is not None:
        yield first, x0
    yield opt, x0
    if not x0.size:
        return
    default = np.clip(
        np.asarray(model.config.suggested_init(), dtype=float)[free], fbnds[:, 0], fbnds[:, 1]
    )
    if not np.allclose(default, x0):
        yield opt, default
    yield opt, _perturbed(x0, fbnds)
    other = _fallback(opt)
    if other is not None:
        yield other, x0


def _better(found: Minimum, best: Minimum | None) -> bool:
    if best is None or (found.converged and not best.converged):
        return True
    return found.converged == best.converged and found.fun < best.fun


def _sum_is_finite(values: np.ndarray) -> bool:
    """Whether the sum of ``values`` is finite: False where a value is not, or the sum
    overflows (which callers tell apart on their general path).  Plain Python on short
    vectors, where NumPy's reductions cost microseconds each."""
    if values.size <= 256:
        return math.isfinite(sum(values.tolist()))
    return bool(np.isfinite(values).all())


def _kernel_fit_from_defaults(model: Any, data: Any) -> FitResult | None:
    """A fit without uncertainties from the model's suggested start on the compiled
    kernels (for a plan batched on them), where its first attempt (projected Newton)
    converges: the same call and result as the general path below, without its set-up
    (microseconds matter on small models).  None where that path has to run instead."""
    cfg = model.config
    if not getattr(cfg, "suggested_start_in_bounds", False):
        return None  # (not an hfx model, or the general path says what is wrong)
    (x0, _, mask), (idx, _, _) = cfg.suggested_start, cfg.suggested_free
    if not 0 < idx.size <= kernel.MAX_FREE:
        return None
    data = to_numpy(data)
    if data.shape != (cfg.nmaindata + cfg.nauxdata,) or not _sum_is_finite(data):
        return None
    start, kernel_idx, lo, hi = cfg._kernel_fit_arrays  # (the kernels only read them)
    x, converged, twice, niter = kernel.fit_one(
        model, np.ascontiguousarray(data)[None, :], start, kernel_idx, lo, hi,
        NEWTON.tolerance, NEWTON.maxiter,
    )  # fmt: skip
    if not (converged and math.isfinite(twice) and twice < 2e299):
        return None
    bestfit = x0.copy()
    bestfit[idx] = x
    zeros = zero_matrix(x0.size)
    return FitResult._made(
        bestfit=bestfit,
        uncertainties=np.zeros(x0.size),
        covariance=zeros,
        correlation=zeros,
        twice_nll=twice,
        success=True,
        message=f"Newton: converged in {niter} iterations",
        nfev=1,
        ngrad=1,
        par_names=tuple(cfg.par_names),
        fixed=mask.copy(),
    )


def fit(
    model: Any,
    data: Any,
    *,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    optimizer: Any = None,
    engine: str = "auto",
    uncertainties: bool = True,
    plan: FitPlan | None = None,
) -> FitResult:
    """Unconditional maximum-likelihood fit of ``model`` to ``data`` (main + auxiliary).

    ``optimizer``: None or "auto" (projected Newton with the exact Jacobian where the model
    has it, L-BFGS-B if that fails), "scipy" (L-BFGS-B), "minuit" or an optimizer instance.
    ``engine``: "auto", "numpy" or "numba" (:mod:`hfx.optimize.engines`).  A ``plan``
    (:func:`~hfx.optimize.plan.make_plan`) replaces both.  With ``uncertainties=False`` no
    Hessian is computed (uncertainties and covariance are zero).
    """
    defaults = init is None and bounds is None and fixed is None and not uncertainties
    if plan is not None:
        lean = defaults and plan.batched and plan.engine == "numba"
    else:  # (asked without making the plan, which costs more than a small fit's set-up)
        lean = (
            defaults
            and engine == "auto"
            and (optimizer is None or optimizer == "auto")
            and default_plan_runs_kernels(model)
        )
    if lean:
        quick = _kernel_fit_from_defaults(model, data)
        if quick is not None:
            return quick
    if plan is None:
        plan = make_plan(model, engine=engine, optimizer=optimizer)
    opt = plan.optimizer if plan.optimizer is not None else ScipyOptimizer()
    x_init, bnds, mask = resolve(model, init, bounds, fixed)
    data = to_numpy(data)
    check_data(model, data)
    free = ~mask
    obj = Objective(model, data, x_init, free)
    fbnds = bnds[free]
    x0 = x_init[free]
    best: Minimum | None = None
    messages = []
    for attempt, start in _attempts(model, opt, x0, fbnds, free, plan.first_attempt()):
        found = attempt.minimize(obj, start, fbnds)
        messages.append(found.message)
        if np.isfinite(found.fun) and found.fun < 1e299 and _better(found, best):
            best = found
        if found.converged:
            break
    if best is None or not best.converged:
        reason = diagnose(model, data, x_init)
        where = (
            f" (best −log L {best.fun:.6g}, not converged)"
            if best is not None
            else " (−log L never finite)"
        )
        raise FitError(
            f"minimisation did not converge after {len(messages)} attempts{where}"
            + (f": {reason}" if reason else "")
            + "; "
            + "; ".join(messages)
        )
    return build_result(model, data, obj, best, bnds, mask, uncertainties, plan.engine)


def fixed_poi_fit(
    poi_value: float,
    model: Any,
    data: Any,
    *,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    optimizer: Any = None,
    engine: str = "auto",
    uncertainties: bool = True,
    plan: FitPlan | None = None,
) -> FitResult:
    """Conditional fit with the parameter of interest held at ``poi_value`` (arguments as
    :func:`fit`)."""
    x0, mask = poi_mask_and_init(model, poi_value, init, fixed)
    return fit(
        model,
        data,
        init=x0,
        bounds=bounds,
        fixed=mask,
        optimizer=optimizer,
        engine=engine,
        uncertainties=uncertainties,
        plan=plan,
    )
