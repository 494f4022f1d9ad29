"""One hypothesis test: observed CLs+b, CLb, CLs and the five-point expected band."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from hfx.errors import HfxError, PoiOutOfBoundsError, ResultError, check_finite
from hfx.infer.asymptotic import AsymptoticCalculator, test_at_defaults
from hfx.infer.teststats import TestStatistic, test_statistic
from hfx.infer.toys import ToyCalculator

__all__ = [
    "HypotestResult",
    "PoiOutOfBoundsError",
    "check_poi_in_bounds",
    "hypotest",
    "make_calculator",
]

_ASYMPTOTIC = ("asymptotic", "asymptotics")
_TOYS = ("toys", "toybased")


@dataclass(frozen=True)
class HypotestResult:
    """p-values of one test.  Expected tuples run over the band −2σ … +2σ (pyhf's order,
    i.e. n = 2, 1, 0, −1, −2 in the background-only statistic; smallest CLs first).

    For ``test_stat="q0"`` the discovery p-value p₀ is ``clsb`` (see :attr:`pvalue`).
    """

    poi: float
    test_stat: str
    calculator: str
    cls: float
    clsb: float
    clb: float
    cls_expected: tuple[float, ...]
    clsb_expected: tuple[float, ...]
    clb_expected: tuple[float, ...]
    teststat: float

    def __post_init__(self) -> None:
        # for q0 only p0 = CLs+b is a result (CLs there is 0/0 when no toy passes)
        values = [self.clsb, *self.clsb_expected, self.teststat]
        if self.test_stat != "q0":
            values += [self.cls, *self.cls_expected, self.clb, *self.clb_expected]
        # (NaN and infinities survive a sum; one that overflows is checked value by value)
        if not math.isfinite(sum(values)):  # then name the first bad value
            check_finite(f"hypothesis test at POI = {self.poi:g}", self._numbers())

    def _numbers(self) -> dict[str, Any]:
        d = self.to_dict()
        # for q0 only p0 = CLs+b is a result (CLs there is 0/0 when no toy passes)
        keys: tuple[str, ...] = (
            ("CLsb", "CLsb_exp") if self.test_stat == "q0" else ("CLs_obs", "CLs_exp")
        )
        keys += ("CLsb", "CLb", "CLsb_exp", "CLb_exp") if self.test_stat != "q0" else ()
        return {k: d[k] for k in keys} | {"test statistic": self.teststat}

    @property
    def pvalue(self) -> float:
        """The headline p-value: p₀ = CLs+b for q₀, CLs otherwise."""
        return float(getattr(self, test_statistic(self.test_stat).headline))

    @property
    def pvalue_expected(self) -> tuple[float, ...]:
        """Expected band of :attr:`pvalue`."""
        return tuple(getattr(self, test_statistic(self.test_stat).headline + "_expected"))

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python (JSON-serialisable) view."""
        return {
            "poi": self.poi,
            "CLs_obs": self.cls,
            "CLs_exp": list(self.cls_expected),
            "CLsb": self.clsb,
            "CLb": self.clb,
            "CLsb_exp": list(self.clsb_expected),
            "CLb_exp": list(self.clb_expected),
            "teststat": self.teststat,
            "test_stat": self.test_stat,
            "calculator": self.calculator,
        }


def make_calculator(
    model: Any,
    data: Any,
    *,
    calculator: str = "asymptotic",
    test_stat: str | TestStatistic = "qtilde",
    ntoys: int = 2000,
    seed: Any = None,
    progress: bool = False,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    optimizer: Any = None,
    engine: str = "auto",
) -> AsymptoticCalculator | ToyCalculator:
    """An asymptotic ("asymptotic") or toy-based ("toys") calculator for ``model``/``data``."""
    common = {"test_stat": test_stat, "init": init, "bounds": bounds, "fixed": fixed}
    if calculator in _ASYMPTOTIC:
        return AsymptoticCalculator(model, data, optimizer=optimizer, engine=engine, **common)
    if calculator in _TOYS:
        return ToyCalculator(
            model,
            data,
            ntoys=ntoys,
            seed=seed,
            progress=progress,
            optimizer=optimizer,
            engine=engine,
            **common,
        )
    raise HfxError(f"unknown calculator {calculator!r}; choose 'asymptotic' or 'toys'")


def check_poi_in_bounds(calc: Any, values: Iterable[float], what: str = "test POI") -> None:
    """Refuse POI values that are not finite or lie outside the POI bounds of ``calc``.

    ``calc`` is an hfx calculator (or a pyhf-facade one wrapping it as ``.native``).  The
    fits hold the POI at the tested value, which the bounds forbid: outside them the
    result would depend on how each fit copes (pyhf refuses with a ValueError).
    """
    calc = getattr(calc, "native", calc)
    lo, hi = (float(b) for b in calc.opts.bounds[calc.poi_index])
    name = getattr(calc.model.config, "poi_name", None) or f"index {calc.poi_index}"
    for value in values:
        value = float(value)
        if not math.isfinite(value):
            raise PoiOutOfBoundsError(f"{what} {value} of the POI {name!r} is not a number")
        if not lo <= value <= hi:
            raise PoiOutOfBoundsError(
                f"{what} {value:g} lies outside the bounds [{lo:g}, {hi:g}] of the POI "
                f"{name!r}; test a value inside them or widen the bounds (bounds=, or the "
                "POI's entry in the measurement's config parameters)"
            )


def run_hypotest(calc: AsymptoticCalculator | ToyCalculator, poi: float) -> HypotestResult:
    """The test at ``poi`` with an existing calculator (reuses its fits)."""
    teststat = calc.teststatistic(poi)
    # the same calls either way; the branches give each calculator its own distributions
    if isinstance(calc, ToyCalculator):
        toy_sb, toy_b = calc.distributions(poi)
        clsb, clb, cls = calc.pvalues(teststat, toy_sb, toy_b)
        expected = calc.expected_pvalues(toy_sb, toy_b)
    else:
        sb, b = calc.distributions(poi)
        clsb, clb, cls = calc.pvalues(teststat, sb, b)
        expected = calc.expected_pvalues(sb, b)
    try:
        return _result(calc, poi, teststat, clsb, clb, cls, expected)
    except ResultError as exc:
        raise ResultError(f"{exc.message}; {likely_cause(calc)}") from None


def _result(
    calc: Any, poi: float, teststat: Any, clsb: Any, clb: Any, cls: Any, expected: Any
) -> HypotestResult:
    kind = "toys" if isinstance(calc, ToyCalculator) else "asymptotic"
    return _make_result(calc.test_stat, kind, poi, teststat, clsb, clb, cls, expected)


def _make_result(
    test_stat: str,
    kind: str,
    poi: float,
    teststat: Any,
    clsb: Any,
    clb: Any,
    cls: Any,
    expected: Any,
) -> HypotestResult:
    return HypotestResult(
        poi=float(poi),
        test_stat=test_stat,
        calculator=kind,
        cls=float(cls),
        clsb=float(clsb),
        clb=float(clb),
        cls_expected=tuple(float(t[2]) for t in expected),
        clsb_expected=tuple(float(t[0]) for t in expected),
        clb_expected=tuple(float(t[1]) for t in expected),
        teststat=float(teststat),
    )


def likely_cause(calc: Any) -> str:
    """Why a test at ``calc`` came out non-finite, as far as its fits tell (one clause)."""
    model = getattr(calc, "model", None)
    nbins = model.config.nmaindata if model is not None else 0
    checks = []
    cached = getattr(calc, "_asimov", None)
    free = getattr(calc, "_free_data", None)
    if isinstance(calc, AsymptoticCalculator):  # (its fast path keeps no fits: make them)
        with contextlib.suppress(HfxError):  # (a fit that fails here says nothing more)
            cached, free = calc.asimov(), calc.free_fit_to_data()
    if cached is not None:
        checks.append(("the Asimov data", np.asarray(cached[0], dtype=float)[:nbins]))
    if free is not None and model is not None:
        rates = model.expected_actualdata(free.bestfit)
        checks.append(("the best fit to the data", np.asarray(rates, dtype=float)))
    for what, counts in checks:
        bad = np.flatnonzero(~(counts >= 0.0))
        if bad.size:
            b = int(bad[0])
            return (
                f"{what} has {counts[b]:.3g} expected events in {_bin_name(model, b)}: a sample's "
                "yield is interpolated below zero there (e.g. a histosys on a zero nominal), "
                "which the Poisson term cannot describe"
            )
    return (
        "a fit ended at a non-finite likelihood (no expected events in a bin with observed "
        "events, or an expected count below zero)"
    )


def _bin_name(model: Any, index: int) -> str:
    for channel, sl in model.config.channel_slices.items():
        if sl.start <= index < sl.stop:
            return f"channel {channel!r}, bin {index - sl.start}"
    return f"bin {index}"


def hypotest(
    model: Any,
    data: Any,
    poi: float = 1.0,
    *,
    test_stat: str | TestStatistic = "qtilde",
    calculator: str = "asymptotic",
    ntoys: int = 2000,
    seed: Any = None,
    progress: bool = False,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    optimizer: Any = None,
    engine: str = "auto",
) -> HypotestResult:
    """Test the hypothesis POI = ``poi`` against ``data`` (main + auxiliary).

    ``calculator`` is "asymptotic" (Asimov formulae) or "toys" (``ntoys`` pseudo-experiments
    per hypothesis, drawn with ``numpy.random.default_rng(seed)``; ``progress`` shows a bar
    on stderr).  ``test_stat`` is "qtilde" (POI bounded at 0), "q" or "q0" (discovery; ``poi``
    must then be 0).  Toys also accept "t" and "ttilde".
    """
    if calculator in _ASYMPTOTIC and init is None and bounds is None and fixed is None:
        found = test_at_defaults(model, data, poi, test_stat, optimizer, engine)
        if found is not None:
            name, teststat, (clsb, clb, cls), expected = found
            # a non-finite result goes the calculator's way, which names its likely cause
            with contextlib.suppress(ResultError):
                return _make_result(name, "asymptotic", poi, teststat, clsb, clb, cls, expected)
    calc = make_calculator(
        model,
        data,
        calculator=calculator,
        test_stat=test_stat,
        ntoys=ntoys,
        seed=seed,
        progress=progress,
        init=init,
        bounds=bounds,
        fixed=fixed,
        optimizer=optimizer,
        engine=engine,
    )
    check_poi_in_bounds(calc, [poi])
    return run_hypotest(calc, poi)
