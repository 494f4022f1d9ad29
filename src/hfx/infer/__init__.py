"""Statistical inference on hfx models: test statistics, CLs, limits, significance, intervals.

Native argument order is ``(model, data, ...)``; every fit option (``init``, ``bounds``,
``fixed``, ``optimizer``) is keyword-only.  Numbers follow pyhf 0.7 conventions.
"""

from __future__ import annotations

from hfx.infer.asymptotic import (
    AsymptoticCalculator,
    AsymptoticTestStatDistribution,
    HypotestFits,
    asimov_data,
)
from hfx.infer.hypotest import HypotestResult, hypotest, make_calculator
from hfx.infer.intervals import ProfileScan, interval, profile_scan
from hfx.infer.limits import UpperLimitResult, upper_limit
from hfx.infer.significance import SignificanceResult, significance
from hfx.infer.teststats import (
    TEST_STATISTICS,
    TestStatistic,
    get_test_stat,
    q0,
    qmu,
    qmu_tilde,
    test_statistic,
    tmu,
    tmu_tilde,
)
from hfx.infer.toys import EmpiricalDistribution, ToyCalculator, sample_toys

__all__ = [
    "TEST_STATISTICS",
    "AsymptoticCalculator",
    "AsymptoticTestStatDistribution",
    "EmpiricalDistribution",
    "HypotestFits",
    "HypotestResult",
    "ProfileScan",
    "SignificanceResult",
    "TestStatistic",
    "ToyCalculator",
    "UpperLimitResult",
    "asimov_data",
    "get_test_stat",
    "hypotest",
    "interval",
    "make_calculator",
    "profile_scan",
    "q0",
    "qmu",
    "qmu_tilde",
    "sample_toys",
    "significance",
    "test_statistic",
    "tmu",
    "tmu_tilde",
    "upper_limit",
]
