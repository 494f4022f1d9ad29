"""Plumbing shared by the inference modules: fit options, POI checks and thin fit wrappers.

Every fit made on behalf of inference skips the Hessian (``uncertainties=False``); the
optimizer is only forwarded when the caller chose one, so the default path stays the
library's default optimizer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtr, ndtri

from hfx.errors import FitError, HfxError, ModelError
from hfx.optimize import FitResult, fit, fixed_poi_fit

log = logging.getLogger("hfx.infer")

TEST_STATS = ("q0", "q", "qtilde", "t", "ttilde")

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


def normal_sf(x: Any) -> Any:
    """Upper-tail probability Φ(−x) of the standard normal, accurate far in the tail."""
    return ndtr(-np.asarray(x, dtype=np.float64))


def normal_isf(p: Any) -> Any:
    """Inverse of :func:`normal_sf`: the significance Z with Φ(−Z) = p."""
    return -ndtri(np.asarray(p, dtype=np.float64))


def batch_fitters() -> tuple[Any, Any] | None:
    """(fit_batch, fixed_poi_fit_batch) from :mod:`hfx.optimize`, or None if not available."""
    import hfx.optimize as opt

    fit_batch = getattr(opt, "fit_batch", None)
    fixed_batch = getattr(opt, "fixed_poi_fit_batch", None)
    if fit_batch is None or fixed_batch is None:
        return None
    return fit_batch, fixed_batch


def _row_result(model, batch, row: int, fixed: np.ndarray) -> FitResult:
    """One row of a batched fit as a :class:`FitResult` (no uncertainties)."""
    if not bool(np.asarray(batch.success)[row]):
        raise FitError("minimisation did not converge (batched Newton and scalar fallback)")
    pars = np.array(np.asarray(batch.bestfit)[row], dtype=np.float64)
    n = pars.size
    return FitResult(
        bestfit=pars,
        uncertainties=np.zeros(n),
        covariance=np.zeros((n, n)),
        correlation=np.zeros((n, n)),
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
    """Resolved starting point, bounds, fixed mask and optimizer for every fit of a task.

    With no optimizer chosen, fits of compiled hfx models run through the batched Newton
    fitter (``hfx.optimize.fit_batch``, same minima, several times faster than one
    L-BFGS-B fit); a chosen optimizer, or a model without the Jacobian the batched fitter
    needs, goes through :func:`hfx.optimize.fit`.
    """

    init: np.ndarray
    bounds: np.ndarray
    fixed: np.ndarray
    optimizer: Any = None

    def batched(self, model) -> bool:
        """Whether fits of ``model`` go through the batched fitter."""
        return (
            self.optimizer is None
            and hasattr(model, "expected_and_jacobian")
            and hasattr(model, "arrays")
            and batch_fitters() is not None
        )

    def _start(self, init: Any) -> np.ndarray:
        return self.init if init is None else _clip(init, self.bounds, self.fixed, self.init)

    def free(self, model, data: Any, *, init: Any = None, precise: bool = False):
        """Unconditional fit (no uncertainties); ``precise`` as for :meth:`conditional`."""
        start = self._start(init)
        if self.batched(model):
            fit_batch, _ = batch_fitters()
            rows = np.asarray(as_numpy(data))[None, :]
            res = fit_batch(
                model,
                rows,
                init=start,
                bounds=self.bounds,
                fixed=self.fixed,
                tolerance=PRECISE_TOLERANCE if precise else BATCH_TOLERANCE,
            )
            return _row_result(model, res, 0, self.fixed)
        kw = {} if self.optimizer is None else {"optimizer": self.optimizer}
        return fit(
            model,
            data,
            init=start,
            bounds=self.bounds,
            fixed=self.fixed,
            uncertainties=False,
            **kw,
        )

    def conditional(
        self, model, data: Any, poi_value: float, *, init: Any = None, precise: bool = False
    ):
        """Fit with the POI held at ``poi_value`` (no uncertainties).

        ``precise`` drives the parameters (not only the minimum) to full precision.
        """
        return self.conditional_many(model, [data], [poi_value], [init], precise=precise)[0]

    def conditional_many(
        self, model, datasets, poi_values, inits, *, precise: bool = False
    ) -> list[FitResult]:
        """Several POI-fixed fits (one per dataset/value/start), batched when possible."""
        starts = [self._start(i) for i in inits]
        if self.batched(model) and datasets:
            _, fixed_batch = batch_fitters()
            idx = model.config.poi_index
            init = np.stack(starts)
            init[:, idx] = np.asarray(poi_values, dtype=np.float64)
            mask = self.fixed.copy()
            mask[idx] = True
            res = fixed_batch(
                np.asarray(poi_values, dtype=np.float64),
                model,
                np.stack([as_numpy(d) for d in datasets]),
                init=init,
                bounds=self.bounds,
                fixed=self.fixed,
                tolerance=PRECISE_TOLERANCE if precise else BATCH_TOLERANCE,
            )
            return [_row_result(model, res, k, mask) for k in range(len(datasets))]
        kw = {} if self.optimizer is None else {"optimizer": self.optimizer}
        return [
            fixed_poi_fit(
                float(mu),
                model,
                d,
                init=start,
                bounds=self.bounds,
                fixed=self.fixed,
                uncertainties=False,
                **kw,
            )
            for d, mu, start in zip(datasets, poi_values, starts, strict=True)
        ]

    def fixed_component_many(self, model, data: Any, index: int, values, inits) -> list[FitResult]:
        """Fits of ``data`` with component ``index`` held at each of ``values`` (one batch)."""
        mask = self.fixed.copy()
        mask[index] = True
        starts = np.stack([self._start(i) for i in inits])
        starts[:, index] = np.asarray(values, dtype=np.float64)
        data = as_numpy(data)
        if self.batched(model):
            fit_batch, _ = batch_fitters()
            res = fit_batch(
                model,
                np.broadcast_to(data, (starts.shape[0], data.size)).copy(),
                init=starts,
                bounds=self.bounds,
                fixed=mask,
                tolerance=BATCH_TOLERANCE,
            )
            return [_row_result(model, res, k, mask) for k in range(starts.shape[0])]
        kw = {} if self.optimizer is None else {"optimizer": self.optimizer}
        return [
            fit(
                model,
                data,
                init=start,
                bounds=self.bounds,
                fixed=mask,
                uncertainties=False,
                **kw,
            )
            for start in starts
        ]


def _clip(start: Any, bounds: np.ndarray, fixed: np.ndarray, init: np.ndarray) -> np.ndarray:
    """A warm start moved inside the bounds; fixed components keep the task's init."""
    x = np.clip(np.asarray(start, dtype=np.float64), bounds[:, 0], bounds[:, 1])
    return np.where(fixed, init, x)


def resolve_options(
    model, init: Any = None, bounds: Any = None, fixed: Any = None, optimizer: Any = None
) -> FitOptions:
    """Fill unset options from the model's suggestions and check their shapes."""
    cfg = model.config
    n = cfg.npars
    x0 = as_numpy(cfg.suggested_init() if init is None else init).reshape(-1)
    bnds = as_numpy(cfg.suggested_bounds() if bounds is None else bounds).reshape(-1, 2)
    mask = np.array(cfg.suggested_fixed(), dtype=bool).reshape(-1)
    if fixed is not None:
        mask = mask | np.asarray(fixed, dtype=bool).reshape(-1)
    if x0.shape != (n,) or bnds.shape != (n, 2) or mask.shape != (n,):
        raise HfxError(
            f"init, bounds and fixed must describe the model's {n} parameters; got shapes "
            f"{x0.shape}, {bnds.shape}, {mask.shape}"
        )
    return FitOptions(init=x0, bounds=bnds, fixed=mask, optimizer=optimizer)


def poi_index(model, opts: FitOptions | None = None) -> int:
    """Index of the POI; it must exist and float for profile-likelihood inference."""
    idx = model.config.poi_index
    if idx is None:
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


def check_test_stat(name: str, allowed: tuple[str, ...] = TEST_STATS) -> str:
    """Validate a test-statistic name."""
    if name not in allowed:
        raise HfxError(f"unknown test statistic {name!r}; choose one of {', '.join(allowed)}")
    return name


def warn_bounds(test_stat: str, lower_bound: float) -> None:
    """Log (as pyhf does) when the POI lower bound does not suit the chosen statistic."""
    tilde = test_stat in ("qtilde", "ttilde")
    if test_stat == "q0":
        return
    if tilde and lower_bound != 0:
        other = test_stat[0]
        log.warning(
            "%s used with a POI lower bound of %s, not 0; %r is meant for that case",
            test_stat,
            lower_bound,
            other,
        )
    elif not tilde and lower_bound == 0:
        log.warning(
            "%s used with the POI bounded at 0; %r is the statistic meant for that case",
            test_stat,
            test_stat + "tilde",
        )
