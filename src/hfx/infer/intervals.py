"""Profile-likelihood scans and intervals for any single parameter component.

Δ(2NLL)(x) = min over the other parameters of 2NLL with the component held at x, minus the
global minimum.  The interval at confidence level ``cl`` is where Δ(2NLL) stays below the
χ²₁ quantile (1 for 68.27%, 3.84 for 95%), found by bracketing and root finding on each
side of the best fit; an edge that does not cross inside the bounds is the bound.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np

from hfx._names import did_you_mean
from hfx.errors import FitError, HfxError
from hfx.infer._common import FitOptions, as_numpy, resolve_options
from hfx.infer.normal import chi2_1_ppf
from hfx.optimize import FitResult, fit

__all__ = ["ProfileScan", "interval", "profile_scan"]

ONE_SIGMA = 0.6826894921370859  # P(|Z| < 1)


@dataclass(frozen=True)
class ProfileScan:
    """Δ(2NLL) of the profile likelihood of ``par`` at ``values``.

    ``bestfit`` is the global best-fit parameter vector and ``minimum`` its 2NLL.
    """

    par: str
    values: np.ndarray
    delta_twice_nll: np.ndarray
    bestfit: np.ndarray
    minimum: float

    def crossings(self, level: float = 1.0) -> tuple[float | None, float | None]:
        """Where the scanned Δ(2NLL) crosses ``level`` left and right of its lowest point,
        interpolated linearly between grid points; None on a side the scan does not reach
        ``level`` (1: the 68.3% interval, 3.84: 95%)."""
        x = np.asarray(self.values, dtype=float)
        y = np.asarray(self.delta_twice_nll, dtype=float)
        order = np.argsort(x)
        x, y = x[order], y[order]
        k = int(np.argmin(y))

        def cross(i: int, j: int) -> float:
            return float(x[i] + (level - y[i]) * (x[j] - x[i]) / (y[j] - y[i]))

        left = next((cross(i + 1, i) for i in range(k - 1, -1, -1) if y[i] >= level), None)
        right = next((cross(i - 1, i) for i in range(k + 1, x.size) if y[i] >= level), None)
        return left, right

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python (JSON-serialisable) view."""
        return {
            "par": self.par,
            "values": [float(v) for v in self.values],
            "delta_twice_nll": [float(v) for v in self.delta_twice_nll],
            "bestfit": [float(v) for v in self.bestfit],
            "minimum": float(self.minimum),
        }


def _component(model: Any, par: Any) -> tuple[int, str]:
    """(index, label) of a component given by label ("mu", "gamma[1]"), set name or index."""
    cfg = model.config
    names = list(cfg.par_names)
    if par is None:
        if cfg.poi_index is None:
            raise HfxError("no parameter given and the model has no POI")
        return int(cfg.poi_index), names[cfg.poi_index]
    if isinstance(par, (int, np.integer)):
        if not 0 <= int(par) < cfg.npars:
            raise HfxError(f"parameter index {par} out of range 0..{cfg.npars - 1}")
        return int(par), names[int(par)]
    if par in names:
        return names.index(par), str(par)
    try:
        sl = cfg.par_slice(par)
    except Exception:  # unknown name: report the known ones
        raise HfxError(
            f"unknown parameter {par!r}; " + did_you_mean(str(par), names, noun="component")
        ) from None
    if sl.stop - sl.start != 1:
        raise HfxError(
            f"parameter {par!r} has {sl.stop - sl.start} components; pick one, e.g. "
            f"{names[sl.start]!r}"
        )
    return sl.start, names[sl.start]


class _Profile:
    """2NLL profiled over everything but one component, warm-started from the last fit."""

    def __init__(self, model: Any, data: np.ndarray, opts: FitOptions, index: int) -> None:
        self.model, self.data, self.index = model, data, index
        self.opts = dataclasses.replace(opts, warm=True)
        self.best: FitResult = fit(
            model,
            data,
            init=opts.init,
            bounds=opts.bounds,
            fixed=opts.fixed,
            uncertainties=True,
            plan=opts.plan,
        )
        if opts.fixed[index]:
            raise HfxError(f"parameter {model.config.par_names[index]!r} is fixed")
        self.cache: dict[float, FitResult] = {}

    def _start(self, x: float) -> np.ndarray:
        near = min(self.cache, key=lambda v: abs(v - x)) if self.cache else None
        return self.best.bestfit if near is None else self.cache[near].bestfit

    def many(self, xs: Collection[float]) -> np.ndarray:
        """Δ(2NLL) at every value of ``xs`` (the missing ones fitted in one batch)."""
        todo = sorted({float(x) for x in xs} - set(self.cache))
        if todo:
            starts = [self._start(x) for x in todo]
            fits = self.opts.fixed_component_many(self.model, self.data, self.index, todo, starts)
            self.cache.update(zip(todo, fits, strict=True))
        best = self.minimum
        return np.array([float(self.cache[float(x)].twice_nll) - best for x in xs])

    @property
    def minimum(self) -> float:
        """Lowest 2NLL seen: the free fit, or a constrained fit that went (rounding-)lower."""
        lowest = min((float(f.twice_nll) for f in self.cache.values()), default=np.inf)
        return min(float(self.best.twice_nll), lowest)

    def __call__(self, x: float) -> float:
        return float(self.many([x])[0])


def profile_scan(
    model: Any,
    data: Any,
    par: Any = None,
    values: Any = None,
    *,
    npoints: int = 41,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    optimizer: Any = None,
    engine: str = "auto",
) -> ProfileScan:
    """Profile-likelihood scan of ``par`` (the POI by default) at ``values``.

    Without ``values``: ``npoints`` points over best fit ± 3σ (Hessian σ), clipped to the
    parameter's bounds.
    """
    opts = resolve_options(model, init, bounds, fixed, optimizer, engine)
    index, label = _component(model, par)
    prof = _Profile(model, as_numpy(data), opts, index)
    xhat = float(prof.best.bestfit[index])
    lo, hi = opts.bounds[index]
    if values is None:
        sigma = float(prof.best.uncertainties[index]) or max(abs(xhat), 1.0) * 0.1
        grid = np.linspace(max(lo, xhat - 3 * sigma), min(hi, xhat + 3 * sigma), int(npoints))
    else:
        grid = np.asarray(values, dtype=float).reshape(-1)
    delta = prof.many(grid)
    return ProfileScan(
        par=label,
        values=grid,
        delta_twice_nll=delta,
        bestfit=prof.best.bestfit.copy(),
        minimum=prof.minimum,
    )


def _edge(prof: _Profile, xhat: float, sigma: float, bound: float, level: float) -> float:
    """Where Δ(2NLL) crosses ``level`` between the best fit and ``bound``."""
    direction = 1.0 if bound > xhat else -1.0
    inside = xhat
    step = sigma * math.sqrt(level)
    for _ in range(60):
        x = xhat + direction * step
        if (x - bound) * direction >= 0.0:
            x = bound
        if prof(x) - level > 0.0:
            from scipy.optimize import brentq  # 0.3 s to import: only for an interval

            return float(
                brentq(
                    lambda v: prof(v) - level,
                    min(inside, x),
                    max(inside, x),
                    xtol=1e-10,
                    rtol=1e-10,
                )
            )
        if x == bound:
            return float(bound)
        inside = x
        step *= 2.0
    raise FitError(f"no crossing of Δ(2NLL) = {level} found towards {bound}")


def interval(
    model: Any,
    data: Any,
    par: Any = None,
    *,
    cl: float = ONE_SIGMA,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    optimizer: Any = None,
    engine: str = "auto",
) -> tuple[float, float]:
    """Profile-likelihood interval (lo, hi) of ``par`` (the POI by default) at level ``cl``.

    ``cl`` defaults to 68.27% (Δ(2NLL) = 1); use 0.95 for Δ(2NLL) = 3.84.
    """
    if not 0.0 < cl < 1.0:
        raise HfxError(f"cl must lie in (0, 1), got {cl}")
    opts = resolve_options(model, init, bounds, fixed, optimizer, engine)
    index, _ = _component(model, par)
    prof = _Profile(model, as_numpy(data), opts, index)
    level = chi2_1_ppf(cl)
    xhat = float(prof.best.bestfit[index])
    lo, hi = (float(b) for b in opts.bounds[index])
    sigma = float(prof.best.uncertainties[index])
    if not sigma > 0 or not math.isfinite(sigma):
        sigma = 0.1 * max(abs(xhat), 1.0)
    left = lo if xhat <= lo else _edge(prof, xhat, sigma, lo, level)
    right = hi if xhat >= hi else _edge(prof, xhat, sigma, hi, level)
    return left, right
