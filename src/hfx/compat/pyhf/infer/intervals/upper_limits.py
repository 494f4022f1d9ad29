"""pyhf's ``infer.intervals.upper_limits``: CLs upper limits from a scan or by root finding.

``upper_limit(data, model)`` finds where the observed and each expected CLs curve cross
``level`` with TOMS 748 (brackets start at the POI bounds and widen as pyhf's do);
``upper_limit(data, model, scan)`` interpolates linearly on a grid of POI values.  Returns
``(obs, [exp −2σ … +2σ])`` as 0-d arrays; ``return_results=True`` adds the hypothesis
tests made: ``(scan, results)``, each result ``(CLs_obs, [CLs_exp ×5])``.

All tests of one call share one calculator, so fits that do not depend on the tested
value are made once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import toms748

from hfx.compat.pyhf.infer import utils
from hfx.compat.pyhf.infer._common import scalar
from hfx.compat.pyhf.infer._hypotest import check_prerequisites, run_test
from hfx.errors import HfxError

__all__ = ["linear_grid_scan", "toms748_scan", "upper_limit"]

_MAX_WIDENING = 64  # halvings/doublings of a bracket before giving up


class _Tests:
    """CLs (observed, expected set) at POI values, each computed once."""

    def __init__(self, data: Any, model: Any, hypotest_kwargs: dict[str, Any]):
        kwargs = dict(hypotest_kwargs)
        for flag in ("return_tail_probs", "return_expected", "return_expected_set"):
            kwargs.pop(flag, None)
        if kwargs.pop("return_calculator", False):
            raise HfxError("upper_limit: return_calculator is not supported")
        self.test_stat = kwargs.get("test_stat", "qtilde")
        calctype = kwargs.pop("calctype", "asymptotics")
        fit_args = [kwargs.pop(k, None) for k in ("init_pars", "par_bounds", "fixed_params")]
        # the checks hypotest makes (POI present and floating), once
        check_prerequisites(model, fit_args[2])
        self.calc = utils.create_calculator(calctype, data, model, *fit_args, **kwargs)
        self.cache: dict[float, tuple[Any, list[Any]]] = {}

    def __call__(self, poi: float) -> tuple[Any, list[Any]]:
        poi = float(poi)
        if poi not in self.cache:
            obs, band = run_test(self.calc, poi, self.test_stat, return_expected_set=True)
            self.cache[poi] = (obs, band)
        return self.cache[poi]

    def curve(self, poi: float, which: int) -> float:
        """CLs at ``poi`` on curve ``which``: 0 observed, 1…5 the expected −2σ … +2σ."""
        obs, band = self(poi)
        return float(obs if which == 0 else band[which - 1])


def _all_values(result: tuple[Any, list[Any]]) -> np.ndarray:
    return np.array([result[0], *result[1]], dtype=np.float64)


def _bracket(tests: _Tests, which: int, level: float) -> tuple[float, float]:
    """The tightest bracket of the crossing of curve ``which`` among the points tested."""
    pois = np.array(list(tests.cache), dtype=np.float64)
    values = np.array([tests.curve(p, which) for p in pois]) - level
    above, below = values >= 0, values < 0
    if not above.any() or not below.any():
        raise HfxError(f"no bracket of the CLs = {level} crossing among the tested POI values")
    lower = pois[above][np.argmin(values[above])]
    upper = pois[below][np.argmax(values[below])]
    return float(lower), float(upper)


def toms748_scan(
    data: Any,
    model: Any,
    bounds_low: float,
    bounds_up: float,
    level: float = 0.05,
    atol: float = 2e-12,
    rtol: float = 1e-4,
    from_upper_limit_fn: bool = False,
    **hypotest_kwargs: Any,
) -> Any:
    """Upper limits by TOMS 748 root finding of CLs − ``level`` between the bounds.

    ``bounds_low`` is halved while any CLs there is below ``level``, ``bounds_up`` doubled
    while any is above.  Returns ``(obs, [exp ×5])``, with ``from_upper_limit_fn`` also
    ``(list of POI values tested, list of their (obs, [exp ×5]))``.
    """
    tests = _Tests(data, model, hypotest_kwargs)
    low, up = float(bounds_low), float(bounds_up)
    for _ in range(_MAX_WIDENING):
        if not np.any(_all_values(tests(low)) < level):
            break
        low /= 2
    else:
        raise HfxError(f"CLs stays below {level} down to POI = {low}; no lower bracket found")
    for _ in range(_MAX_WIDENING):
        if not np.any(_all_values(tests(up)) > level):
            break
        up *= 2
    else:
        raise HfxError(f"CLs stays above {level} up to POI = {up}; no upper bracket found")

    def root(which: int, lo: float, hi: float) -> Any:
        def f(poi: float) -> float:
            return tests.curve(poi, which) - level

        return scalar(toms748(f, lo, hi, k=2, xtol=atol, rtol=rtol))

    obs = root(0, low, up)
    exp = [root(which, *_bracket(tests, which, level)) for which in range(1, 6)]
    if from_upper_limit_fn:
        return obs, exp, (list(tests.cache), list(tests.cache.values()))
    return obs, exp


def linear_grid_scan(
    data: Any,
    model: Any,
    scan: Any,
    level: float = 0.05,
    return_results: bool = False,
    **hypotest_kwargs: Any,
) -> Any:
    """Upper limits by linear interpolation of the CLs curves on the grid ``scan``."""
    scan = np.asarray(scan, dtype=np.float64)
    tests = _Tests(data, model, hypotest_kwargs)
    results = [tests(poi) for poi in scan]
    curves = np.array([_all_values(r) for r in results]).T  # [6, npoints]
    limits = [scalar(np.interp(level, curve[::-1], scan[::-1])) for curve in curves]
    if return_results:
        return limits[0], limits[1:], (scan, results)
    return limits[0], limits[1:]


def upper_limit(
    data: Any,
    model: Any,
    scan: Any = None,
    level: float = 0.05,
    return_results: bool = False,
    **hypotest_kwargs: Any,
) -> Any:
    """Observed and expected upper limits at CLs = ``level``: on the grid ``scan``, or
    with TOMS 748 inside the POI's suggested bounds when ``scan`` is None."""
    if scan is not None:
        return linear_grid_scan(data, model, scan, level, return_results, **hypotest_kwargs)
    cfg = model.config
    low, up = cfg.suggested_bounds()[cfg.poi_index]
    obs, exp, results = toms748_scan(
        data, model, low, up, level, from_upper_limit_fn=True, **hypotest_kwargs
    )
    if return_results:
        return obs, exp, results
    return obs, exp
