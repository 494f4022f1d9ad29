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

from hfx.errors import HfxError, ModelError
from hfx.optimize import fit, fixed_poi_fit

log = logging.getLogger("hfx.infer")

TEST_STATS = ("q0", "q", "qtilde", "t", "ttilde")


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


@dataclass(frozen=True)
class FitOptions:
    """Resolved starting point, bounds, fixed mask and optimizer for every fit of a task."""

    init: np.ndarray
    bounds: np.ndarray
    fixed: np.ndarray
    optimizer: Any = None

    def free(self, model, data: Any, *, init: Any = None):
        """Unconditional fit (no uncertainties)."""
        start = self.init if init is None else _clip(init, self.bounds, self.fixed, self.init)
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

    def conditional(self, model, data: Any, poi_value: float, *, init: Any = None):
        """Fit with the POI held at ``poi_value`` (no uncertainties)."""
        start = self.init if init is None else _clip(init, self.bounds, self.fixed, self.init)
        kw = {} if self.optimizer is None else {"optimizer": self.optimizer}
        return fixed_poi_fit(
            float(poi_value),
            model,
            data,
            init=start,
            bounds=self.bounds,
            fixed=self.fixed,
            uncertainties=False,
            **kw,
        )

    def fixing(self, index: int, value: float, *, init: Any = None):
        """Fit options and start with component ``index`` fixed at ``value``."""
        start = np.array(self.init if init is None else init, dtype=np.float64)
        start[index] = float(value)
        mask = self.fixed.copy()
        mask[index] = True
        return start, mask


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
