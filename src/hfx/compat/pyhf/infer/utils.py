"""pyhf's ``infer.utils``: calculator factory and test-statistic lookup by name."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from hfx.compat.pyhf.exceptions import InvalidTestStatistic
from hfx.compat.pyhf.infer import test_statistics
from hfx.compat.pyhf.infer.calculators import AsymptoticCalculator, ToyCalculator
from hfx.errors import HfxError

__all__ = ["all_pois_floating", "create_calculator", "get_test_stat"]

_CALCULATORS = MappingProxyType({"asymptotics": AsymptoticCalculator, "toybased": ToyCalculator})
_TEST_STATS = MappingProxyType(
    {
        "q0": test_statistics.q0,
        "q": test_statistics.qmu,
        "qtilde": test_statistics.qmu_tilde,
    }
)


def all_pois_floating(pdf: Any, fixed_params: Any) -> bool:
    """True when the POI is not fixed in ``fixed_params``."""
    return not fixed_params[pdf.config.poi_index]


def create_calculator(calctype: str, *args: Any, **kwargs: Any) -> Any:
    """An ``AsymptoticCalculator`` ("asymptotics") or ``ToyCalculator`` ("toybased")."""
    try:
        cls = _CALCULATORS[calctype]
    except KeyError:
        raise HfxError(
            f"unknown calctype {calctype!r}; choose one of {', '.join(_CALCULATORS)}"
        ) from None
    return cls(*args, **kwargs)


def get_test_stat(name: str) -> Any:
    """The test-statistic function for "q0", "q" or "qtilde"."""
    try:
        return _TEST_STATS[name]
    except KeyError:
        raise InvalidTestStatistic(
            f"unknown test statistic {name!r}; choose one of {', '.join(_TEST_STATS)}"
        ) from None
