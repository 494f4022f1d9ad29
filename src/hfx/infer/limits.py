"""Upper limits on the POI: CLs = level on the observed curve and on each expected curve.

``method="scan"`` evaluates CLs on a grid and interpolates linearly (as pyhf's
``linear_grid_scan``: ``np.interp`` on the reversed curve).  ``method="toms748"`` brackets
each crossing inside the POI bounds and refines it with TOMS 748; the expected curves
are bracketed from every point already evaluated.

With the asymptotic calculator every μ-independent piece (free fit to the data, the
Asimov dataset and its fits) is computed once, conditional fits start from the nearest μ
already fitted, and the expected curves need only the fit to the Asimov data at each μ.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import toms748

from hfx.errors import HfxError, HfxWarning
from hfx.infer.asymptotic import AsymptoticCalculator
from hfx.infer.hypotest import make_calculator, run_hypotest

__all__ = ["UpperLimitResult", "upper_limit"]


@dataclass(frozen=True)
class UpperLimitResult:
    """Observed and expected (−2σ … +2σ) upper limits at CLs = ``level``.

    ``scan``, ``cls_obs`` and ``cls_exp`` (five curves, one per band point) hold the grid and
    the CLs values of a ``method="scan"`` limit; they are ``None`` for ``"toms748"``.
    """

    obs: float
    exp: tuple[float, ...]
    level: float
    method: str
    scan: tuple[float, ...] | None = None
    cls_obs: tuple[float, ...] | None = None
    cls_exp: tuple[tuple[float, ...], ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python (JSON-serialisable) view."""

        def _list(x):
            return None if x is None else [float(v) for v in x]

        return {
            "obs": self.obs,
            "exp": list(self.exp),
            "level": self.level,
            "method": self.method,
            "scan": _list(self.scan),
            "cls_obs": _list(self.cls_obs),
            "cls_exp": None if self.cls_exp is None else [_list(c) for c in self.cls_exp],
        }


class _Curves:
    """CLs (observed, five expected) at any μ, cached; expected-only where that suffices."""

    def __init__(self, calc):
        self.calc = calc
        self.obs: dict[float, float] = {}
        self.exp: dict[float, tuple[float, ...]] = {}

    def observed(self, mu: float) -> float:
        mu = float(mu)
        if mu not in self.obs:
            res = run_hypotest(self.calc, mu)
            self.obs[mu] = res.cls
            self.exp[mu] = res.cls_expected
        return self.obs[mu]

    def expected(self, mu: float, k: int) -> float:
        mu = float(mu)
        if mu not in self.exp:
            if isinstance(self.calc, AsymptoticCalculator):
                self.exp[mu] = self.calc.expected_cls(mu)
            else:
                self.observed(mu)
        return self.exp[mu][k]


def _interp_limit(level: float, scan: np.ndarray, cls: np.ndarray) -> float:
    return float(np.interp(level, cls[::-1], scan[::-1]))


def _scan(curves: _Curves, scan: np.ndarray, level: float) -> UpperLimitResult:
    obs = np.array([curves.observed(mu) for mu in scan])
    exp = np.array([[curves.expected(mu, k) for mu in scan] for k in range(5)])
    return UpperLimitResult(
        obs=_interp_limit(level, scan, obs),
        exp=tuple(_interp_limit(level, scan, exp[k]) for k in range(5)),
        level=level,
        method="scan",
        scan=tuple(float(x) for x in scan),
        cls_obs=tuple(float(x) for x in obs),
        cls_exp=tuple(tuple(float(x) for x in exp[k]) for k in range(5)),
    )


def _root(f, known: dict[float, float], lo: float, hi: float, rtol: float, what: str) -> float:
    """Crossing of f(μ) = 0 (f decreasing) bracketed by the cached values ``known``."""
    below = [m for m, v in known.items() if v >= 0.0]
    above = [m for m, v in known.items() if v < 0.0]
    if not below or not above:
        side = "below the POI lower bound" if not below else "above the POI upper bound"
        warnings.warn(
            f"the {what} CLs curve does not cross the level inside the POI bounds "
            f"[{lo}, {hi}] (the crossing lies {side}); widen bounds= to find it",
            HfxWarning,
            stacklevel=3,
        )
        return math.nan
    # the closest values on either side of the level (pyhf's "best bracket")
    a = min(below, key=lambda m: known[m])
    b = max(above, key=lambda m: known[m])
    if known[a] == 0.0:
        return a
    a, b = min(a, b), max(a, b)
    return float(toms748(f, a, b, k=2, xtol=2e-12, rtol=rtol))


def _toms748(curves: _Curves, lo: float, hi: float, level: float, rtol: float):
    def f_obs(mu: float) -> float:
        return curves.observed(mu) - level

    curves.observed(lo)
    curves.observed(hi)
    obs = _root(f_obs, {m: v - level for m, v in curves.obs.items()}, lo, hi, rtol, "observed")
    exp = []
    for k, name in enumerate(("-2σ", "-1σ", "median", "+1σ", "+2σ")):

        def f_exp(mu: float, k: int = k) -> float:
            return curves.expected(mu, k) - level

        known = {m: v[k] - level for m, v in curves.exp.items()}
        exp.append(_root(f_exp, known, lo, hi, rtol, f"expected {name}"))
    return UpperLimitResult(obs=obs, exp=tuple(exp), level=level, method="toms748")


def upper_limit(
    model,
    data: Any,
    *,
    scan: Any = None,
    level: float = 0.05,
    method: str | None = None,
    rtol: float = 1e-6,
    test_stat: str = "qtilde",
    calculator: str = "asymptotic",
    ntoys: int = 2000,
    seed: Any = None,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    optimizer: Any = None,
) -> UpperLimitResult:
    """Upper limits (observed and expected band) on the POI at CLs = ``level``.

    ``method`` is "toms748" (root finding inside the POI bounds, relative tolerance
    ``rtol``) or "scan" (linear interpolation on the grid ``scan``); by default "scan"
    when a grid is given, else "toms748".
    """
    if method is None:
        method = "toms748" if scan is None else "scan"
    if method not in ("toms748", "scan"):
        raise HfxError(f"unknown upper-limit method {method!r}; choose 'toms748' or 'scan'")
    if not 0.0 < level < 1.0:
        raise HfxError(f"level must lie in (0, 1), got {level}")
    calc = make_calculator(
        model,
        data,
        calculator=calculator,
        test_stat=test_stat,
        ntoys=ntoys,
        seed=seed,
        init=init,
        bounds=bounds,
        fixed=fixed,
        optimizer=optimizer,
    )
    curves = _Curves(calc)
    if method == "scan":
        if scan is None:
            raise HfxError("method='scan' needs the grid of POI values (scan=...)")
        grid = np.asarray(scan, dtype=float).reshape(-1)
        if grid.size < 2:
            raise HfxError("scan needs at least two POI values")
        return _scan(curves, grid, level)
    lo, hi = (float(x) for x in calc.opts.bounds[calc.poi_index])
    return _toms748(curves, lo, hi, level, rtol)
