"""Plumbing shared by the inference modules: fit options, POI checks and thin fit wrappers.

Every fit made on behalf of inference skips the Hessian (``uncertainties=False``) and runs
as the task's fit plan says (:func:`hfx.optimize.make_plan`, made once per task from its
``optimizer`` and ``engine`` arguments).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hfx.errors import FitError, HfxError, ModelError
from hfx.optimize import (
    BatchFitResult,
    FitPlan,
    FitResult,
    fit,
    fit_batch,
    fixed_poi_fit,
    make_plan,
    zero_matrix,
)

log = logging.getLogger("hfx.infer")

# Newton-decrement thresholds of the batched fitter.  Test statistics need the minimum
# value only (1e-13 on −log L is far below any quoted precision); the Asimov data are
# built from fitted parameters, whose error enters at first order, so that fit is driven
# much further (PRECISE).
BATCH_TOLERANCE = 1e-13
PRECISE_TOLERANCE = 1e-18


def as_numpy(x: Any) -> np.ndarray:
    """A float64 NumPy copy of a backend array (torch/jax/numpy) or a sequence."""
    if hasattr(x, "detach"):  # torch
        x = x.detach().cpu()
    return np.array(x, dtype=np.float64)


def _fresh(suggested: Any) -> np.ndarray:
    """A model's suggested values as float64: hfx's configs return fresh float64 arrays
    already (kept as they are); anything else is converted (a copy)."""
    if type(suggested) is np.ndarray and suggested.dtype == np.float64:
        return suggested
    return as_numpy(suggested)


def _row_result(model: Any, batch: BatchFitResult, row: int, fixed: np.ndarray) -> FitResult:
    """One row of a batched fit as a :class:`FitResult` (no uncertainties)."""
    if not bool(np.asarray(batch.success)[row]):
        raise FitError("minimisation did not converge (batched Newton and scalar fallback)")
    pars = np.array(np.asarray(batch.bestfit)[row], dtype=np.float64)
    n = pars.size
    return FitResult(
        bestfit=pars,
        uncertainties=np.zeros(n),
        covariance=zero_matrix(n),
        correlation=zero_matrix(n),
        twice_nll=float(np.asarray(batch.twice_nll)[row]),
        success=True,
        message="batched Newton fit",
        nfev=int(batch.niter),
        ngrad=int(batch.niter),
        par_names=tuple(model.config.par_names),
        fixed=fixed.copy(),
    )


@dataclass(frozen=True)
class FitOptions:
    """Resolved starting point, bounds, fixed mask and fit plan for every fit of a task.

    The plan (:class:`hfx.optimize.FitPlan`, made once from the task's ``optimizer`` and
    ``engine``) decides the path: with no optimizer chosen, fits of compiled hfx models run
    through the batched Newton fitter (``hfx.optimize.fit_batch``, same minima, several
    times faster than one L-BFGS-B fit); a chosen optimizer, or a model without the
    Jacobian the batched fitter needs, goes through :func:`hfx.optimize.fit`.

    Batched fits start from ``init``, as pyhf's and ROOT's do; with ``warm`` (profile
    scans) also from the caller's warm start.  For CLs and limits a second start doubled
    the rows without making the scans converge faster (measured on the shared workspaces).
    """

    init: np.ndarray
    bounds: np.ndarray
    fixed: np.ndarray
    plan: FitPlan
    warm: bool = False

    def batched(self, model: Any) -> bool:
        """Whether fits of ``model`` go through the batched fitter."""
        return self.plan.batched

    def _start(self, init: Any) -> np.ndarray:
        return self.init if init is None else _clip(init, self.bounds, self.fixed, self.init)

    def _starts(self, init: Any, index: int | None, value: float | None) -> list[np.ndarray]:
        """Starting points of one batched fit: the task's init, plus the caller's warm start
        when ``warm`` is set.

        With both, they run in one batch and the lower minimum wins, so a warm start never
        traps a fit in a worse local minimum than the init would find.
        """
        default = self.init.copy()
        if index is not None:
            default[index] = value
        if init is None or not self.warm:
            return [default]
        warm = self._start(init)
        if index is not None:
            warm[index] = value
        return [default] if np.array_equal(warm, default) else [warm, default]

    def _batched(
        self,
        model: Any,
        datasets: Sequence[Any],
        starts: Sequence[Sequence[np.ndarray]],
        mask: np.ndarray,
        tolerance: float,
    ) -> list[FitResult]:
        """Batched fits: one result per dataset, the best over its list of starts."""
        owner = [i for i, group in enumerate(starts) for _ in group]
        rows = np.stack([as_numpy(datasets[i]) for i in owner])
        init = np.stack([x for group in starts for x in group])
        res = fit_batch(
            model,
            rows,
            init=init,
            bounds=self.bounds,
            fixed=mask,
            tolerance=tolerance,
            plan=self.plan,
        )
        nll = np.where(np.asarray(res.success, dtype=bool), np.asarray(res.twice_nll), np.inf)
        out: list[FitResult] = []
        for i in range(len(datasets)):
            rows_i = [r for r, o in enumerate(owner) if o == i]
            out.append(_row_result(model, res, min(rows_i, key=lambda r: nll[r]), mask))
        return out

    def free(self, model: Any, data: Any, *, init: Any = None, precise: bool = False) -> FitResult:
        """Unconditional fit (no uncertainties); ``precise`` as for :meth:`conditional`."""
        tol = PRECISE_TOLERANCE if precise else BATCH_TOLERANCE
        if self.batched(model):
            starts = [self._starts(init, None, None)]
            return self._batched(model, [data], starts, self.fixed, tol)[0]
        return fit(
            model,
            data,
            init=self._start(init),
            bounds=self.bounds,
            fixed=self.fixed,
            uncertainties=False,
            plan=self.plan,
        )

    def conditional(
        self, model: Any, data: Any, poi_value: float, *, init: Any = None, precise: bool = False
    ) -> FitResult:
        """Fit with the POI held at ``poi_value`` (no uncertainties).

        ``precise`` drives the parameters (not only the minimum) to full precision.
        """
        return self.conditional_many(model, [data], [poi_value], [init], precise=precise)[0]

    def conditional_many(
        self,
        model: Any,
        datasets: Sequence[Any],
        poi_values: Sequence[float],
        inits: Sequence[Any],
        *,
        precise: bool = False,
    ) -> list[FitResult]:
        """POI-fixed fits, one per (dataset, value, warm start), in one batch when possible.

        Without the batched fitter, each fit starts from the task's init (as pyhf's do).
        """
        idx = model.config.poi_index
        if self.batched(model) and datasets:
            mask = self.fixed.copy()
            mask[idx] = True
            starts = [
                self._starts(i, idx, float(v)) for i, v in zip(inits, poi_values, strict=True)
            ]
            tol = PRECISE_TOLERANCE if precise else BATCH_TOLERANCE
            return self._batched(model, datasets, starts, mask, tol)
        return [
            fixed_poi_fit(
                float(mu),
                model,
                d,
                init=self.init,
                bounds=self.bounds,
                fixed=self.fixed,
                uncertainties=False,
                plan=self.plan,
            )
            for d, mu in zip(datasets, poi_values, strict=True)
        ]

    def fixed_component_many(
        self, model: Any, data: Any, index: int, values: Sequence[float], inits: Sequence[Any]
    ) -> list[FitResult]:
        """Fits of ``data`` with component ``index`` held at each of ``values`` (one batch)."""
        mask = self.fixed.copy()
        mask[index] = True
        if self.batched(model):
            starts = [self._starts(i, index, float(v)) for i, v in zip(inits, values, strict=True)]
            return self._batched(model, [data] * len(starts), starts, mask, BATCH_TOLERANCE)
        out = []
        for value, init in zip(values, inits, strict=True):
            start = self._start(init)
            start[index] = float(value)
            out.append(
                fit(
                    model,
                    data,
                    init=start,
                    bounds=self.bounds,
                    fixed=mask,
                    uncertainties=False,
                    plan=self.plan,
                )
            )
        return out


def _clip(start: Any, bounds: np.ndarray, fixed: np.ndarray, init: np.ndarray) -> np.ndarray:
    """A warm start moved inside the bounds; fixed components keep the task's init."""
    x = np.clip(np.asarray(start, dtype=np.float64), bounds[:, 0], bounds[:, 1])
    return np.where(fixed, init, x)


def resolve_options(
    model: Any,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    optimizer: Any = None,
    engine: str = "auto",
) -> FitOptions:
    """Fill unset options from the model's suggestions, check their shapes and make the
    task's fit plan (``optimizer`` and ``engine`` as in :func:`hfx.optimize.make_plan`)."""
    cfg = model.config
    plan = make_plan(model, engine=engine, optimizer=optimizer)
    if init is None and bounds is None and fixed is None:
        start = getattr(cfg, "suggested_start", None)  # (an hfx model's, checked once)
        if start is not None:
            x0, bnds, mask = (vector.copy() for vector in start)
            return FitOptions(init=x0, bounds=bnds, fixed=mask, plan=plan)
    n = cfg.npars
    x0 = _fresh(cfg.suggested_init()) if init is None else as_numpy(init)
    bnds = _fresh(cfg.suggested_bounds()) if bounds is None else as_numpy(bounds)
    x0, bnds = x0.reshape(-1), bnds.reshape(-1, 2)
    mask = np.asarray(cfg.suggested_fixed(), dtype=bool).reshape(-1)
    if fixed is not None:
        mask = mask | np.asarray(fixed, dtype=bool).reshape(-1)
    if x0.shape != (n,) or bnds.shape != (n, 2) or mask.shape != (n,):
        raise HfxError(
            f"init, bounds and fixed must describe the model's {n} parameters; got shapes "
            f"{x0.shape}, {bnds.shape}, {mask.shape}"
        )
    return FitOptions(init=x0, bounds=bnds, fixed=mask, plan=plan)


def poi_index(model: Any, opts: FitOptions | None = None) -> int:
    """Index of the POI; it must exist and float for profile-likelihood inference."""
    idx = model.config.poi_index
    if idx is None:
        missing = getattr(model.config, "missing_poi", None)
        if missing:
            raise ModelError(
                f"this inference needs a parameter of interest, but the measurement's POI "
                f"{missing!r} is missing from the model (a background-only workspace?): "
                "apply the signal patch that adds it (hfx: --patch; Python: patches=...)"
            )
        raise ModelError(
            "this inference needs a parameter of interest, but the model has none "
            "(build it with poi_name=...)"
        )
    if opts is not None and opts.fixed[idx]:
        name = getattr(model.config, "poi_name", None) or f"index {idx}"
        raise ModelError(
            f"the POI ({name}) is fixed; profile-likelihood inference needs it floating "
            "(unset it in fixed= or in the measurement)"
        )
    return int(idx)
