"""Profile-likelihood test statistics: t_μ, q_μ, their "tilde" variants and q₀.

All are built from two fits, one unconditional (μ̂, θ̂) and one with the POI held at the
tested value (θ̂̂(μ)):  t_μ = −2 ln λ(μ) = 2NLL(μ, θ̂̂) − 2NLL(μ̂, θ̂), clipped at 0;
q_μ = t_μ if μ̂ ≤ μ else 0;  q₀ = t₀ if μ̂ ≥ 0 else 0.  The "tilde" variants are the same
formulae evaluated with the POI bounded below at 0 (the bound does the substitution of
μ̂ by 0), so they differ from the plain ones only in the bounds they expect.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from hfx.errors import HfxError
from hfx.infer._common import FitOptions, poi_index, resolve_options
from hfx.optimize import FitResult

__all__ = [
    "TEST_STATISTICS",
    "TestStatistic",
    "get_test_stat",
    "q0",
    "qmu",
    "qmu_tilde",
    "test_statistic",
    "tmu",
    "tmu_tilde",
]

log = logging.getLogger("hfx.infer")


@dataclass(frozen=True)
class TestStatistic:
    """One profile-likelihood test statistic and the rules that come with it.

    ``one_sided``: q-type, 0 when μ̂ > μ (upper limits).  ``tilde``: meant for a POI bounded
    below at 0.  ``discovery``: q₀, which always tests μ = 0 and reports p₀ = CLs+b.
    ``asymptotic``: the Asimov formulae of arXiv:1007.1727 exist for it.
    """

    __test__ = False  # not a pytest test class, whatever its name

    name: str
    one_sided: bool = False
    tilde: bool = False
    discovery: bool = False
    asymptotic: bool = False

    def __str__(self) -> str:
        return self.name

    def tested_poi(self, mu: float) -> float:
        """The POI value the conditional fit holds: 0 for q₀, else ``mu``."""
        return 0.0 if self.discovery else float(mu)

    @property
    def asimov_poi(self) -> float:
        """POI of the Asimov data (and of the background-only toys): 1 for q₀, else 0."""
        return 1.0 if self.discovery else 0.0

    @property
    def headline(self) -> str:
        """Which p-value is reported: ``"clsb"`` (p₀) for q₀, ``"cls"`` otherwise."""
        return "clsb" if self.discovery else "cls"

    def vanishes(self, muhat: Any, mu: float) -> Any:
        """Whether the statistic is 0 whatever the conditional fit (q with μ̂ > μ, q₀ with
        μ̂ < 0); a bool for a scalar ``muhat``, a boolean array for an array."""
        if type(muhat) is float:  # (the common scalar case, without array round trips)
            if self.one_sided:
                return muhat > mu
            return self.discovery and muhat < 0.0
        m = np.asarray(muhat, dtype=np.float64)
        if self.one_sided:
            out = m > mu
        elif self.discovery:
            out = m < 0.0
        else:
            out = np.zeros(m.shape, dtype=bool)
        return bool(out) if out.ndim == 0 else out

    def to_asymptotic(self, sqrt_q: float, sqrt_qa: float) -> float:
        """The statistic in −μ̂/σ space from √q and √q_A.

        √q − √q_A, except for q̃ beyond √q_A: (q − q_A)/(2√q_A).
        """
        if not self.tilde or sqrt_q <= sqrt_qa:
            return sqrt_q - sqrt_qa
        if sqrt_qa == 0.0:  # q > q_A = 0: ±inf by the sign of zero, as IEEE division gives
            return math.copysign(math.inf, sqrt_qa)
        return (sqrt_q**2 - sqrt_qa**2) / (2.0 * sqrt_qa)

    def check_bounds(self, lower_bound: float) -> None:
        """Log (as pyhf does) when the POI lower bound does not suit this statistic."""
        if self.discovery:
            return
        long_name = {"q": "qmu", "qtilde": "qmu_tilde", "t": "tmu", "ttilde": "tmu_tilde"}
        if self.tilde and lower_bound != 0:
            log.warning(
                "%s test statistic used for fit configuration with POI not bounded at zero "
                "(lower bound %s); test_stat=%r (%s) is meant for that case",
                long_name[self.name],
                lower_bound,
                self.name[0],
                long_name[self.name[0]],
            )
        elif not self.tilde and lower_bound == 0:
            log.warning(
                "%s test statistic used for fit configuration with POI bounded at zero; "
                "test_stat=%r (%s) is meant for that case",
                long_name[self.name],
                self.name + "tilde",
                long_name[self.name + "tilde"],
            )


TEST_STATISTICS: Mapping[str, TestStatistic] = MappingProxyType(
    {
        s.name: s
        for s in (
            TestStatistic("q0", discovery=True, asymptotic=True),
            TestStatistic("q", one_sided=True, asymptotic=True),
            TestStatistic("qtilde", one_sided=True, tilde=True, asymptotic=True),
            TestStatistic("t"),
            TestStatistic("ttilde", tilde=True),
        )
    }
)
"""Every statistic hfx knows, by name (read-only)."""

TEST_STATS = tuple(TEST_STATISTICS)
ASYMPTOTIC_TEST_STATS = tuple(n for n, s in TEST_STATISTICS.items() if s.asymptotic)


def test_statistic(
    name: str | TestStatistic, allowed: Iterable[str] | None = None
) -> TestStatistic:
    """The :class:`TestStatistic` called ``name`` (an instance passes through).

    ``allowed`` narrows the accepted names (e.g. those with asymptotic formulae); an unknown
    or refused name raises :class:`~hfx.errors.HfxError` listing the accepted ones.
    """
    choices = TEST_STATS if allowed is None else tuple(allowed)
    key = name.name if isinstance(name, TestStatistic) else name
    if key not in choices or key not in TEST_STATISTICS:
        raise HfxError(f"unknown test statistic {key!r}; choose one of {', '.join(choices)}")
    return TEST_STATISTICS[key]


test_statistic.__test__ = False  # type: ignore[attr-defined]


def profile_statistic(
    test_stat: str | TestStatistic,
    model: Any,
    data: Any,
    mu: float,
    opts: FitOptions,
    *,
    free: FitResult | None = None,
    cond: FitResult | None = None,
    cond_init: Any = None,
    need_cond: bool = True,
) -> tuple[float, FitResult, FitResult | None]:
    """Value of ``test_stat`` at ``mu`` with the two fits it used.

    ``free``/``cond`` are reused when given; ``cond_init`` warm-starts the conditional fit.
    With ``need_cond=False`` the conditional fit is skipped where the statistic is 0
    whatever its value (q_μ with μ̂ > μ, q₀ with μ̂ < 0); the second fit is then ``None``.
    """
    stat = test_statistic(test_stat)
    idx = poi_index(model, opts)
    mu = stat.tested_poi(mu)
    if free is None:
        free = opts.free(model, data)
    muhat = float(free.bestfit[idx])
    zero = stat.vanishes(muhat, mu)
    if zero and not need_cond and cond is None:
        return 0.0, free, None
    if cond is None:
        cond = opts.conditional(model, data, mu, init=cond_init)
    value = max(float(cond.twice_nll) - float(free.twice_nll), 0.0)
    return (0.0 if zero else value), free, cond


def _public(
    test_stat: str,
    model: Any,
    data: Any,
    mu: float,
    init: Any,
    bounds: Any,
    fixed: Any,
    optimizer: Any,
    return_fits: bool,
) -> float | tuple[float, tuple[FitResult, FitResult]]:
    opts = resolve_options(model, init, bounds, fixed, optimizer)
    idx = poi_index(model, opts)
    TEST_STATISTICS[test_stat].check_bounds(float(opts.bounds[idx, 0]))
    value, free, cond = profile_statistic(test_stat, model, data, mu, opts)
    assert cond is not None  # need_cond=True: the conditional fit always runs
    if return_fits:
        return value, (free, cond)
    return value


def qmu(
    model: Any,
    data: Any,
    mu: float,
    *,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    optimizer: Any = None,
    return_fits: bool = False,
) -> float | tuple[float, tuple[FitResult, FitResult]]:
    """One-sided upper-limit statistic q_μ (0 when μ̂ > μ).

    With ``return_fits=True`` returns ``(q_μ, (unconditional fit, conditional fit))``.
    """
    return _public("q", model, data, mu, init, bounds, fixed, optimizer, return_fits)


def qmu_tilde(
    model: Any,
    data: Any,
    mu: float,
    *,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    optimizer: Any = None,
    return_fits: bool = False,
) -> float | tuple[float, tuple[FitResult, FitResult]]:
    """q̃_μ: q_μ for a POI bounded below at 0 (logs a warning for other lower bounds)."""
    return _public("qtilde", model, data, mu, init, bounds, fixed, optimizer, return_fits)


def tmu(
    model: Any,
    data: Any,
    mu: float,
    *,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    optimizer: Any = None,
    return_fits: bool = False,
) -> float | tuple[float, tuple[FitResult, FitResult]]:
    """Two-sided statistic t_μ = −2 ln λ(μ), clipped at 0."""
    return _public("t", model, data, mu, init, bounds, fixed, optimizer, return_fits)


def tmu_tilde(
    model: Any,
    data: Any,
    mu: float,
    *,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    optimizer: Any = None,
    return_fits: bool = False,
) -> float | tuple[float, tuple[FitResult, FitResult]]:
    """t̃_μ: t_μ for a POI bounded below at 0 (logs a warning for other lower bounds)."""
    return _public("ttilde", model, data, mu, init, bounds, fixed, optimizer, return_fits)


def q0(
    model: Any,
    data: Any,
    *,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    optimizer: Any = None,
    return_fits: bool = False,
) -> float | tuple[float, tuple[FitResult, FitResult]]:
    """Discovery statistic q₀ = t₀ if μ̂ ≥ 0 else 0 (background-only hypothesis μ = 0)."""
    return _public("q0", model, data, 0.0, init, bounds, fixed, optimizer, return_fits)


_BY_NAME: Mapping[str, Callable[..., Any]] = MappingProxyType(
    {
        "q0": q0,
        "q": qmu,
        "qtilde": qmu_tilde,
        "t": tmu,
        "ttilde": tmu_tilde,
    }
)


def get_test_stat(name: str) -> Callable[..., Any]:
    """The public function for a statistic name: "q0", "q", "qtilde", "t" or "ttilde"."""
    return _BY_NAME[test_statistic(name).name]


def checked_test_stat(
    model: Any,
    opts: FitOptions,
    name: str | TestStatistic,
    allowed: Iterable[str] | None = None,
) -> TestStatistic:
    """The statistic ``name`` (checked against ``allowed`` if given), with pyhf's bound
    warnings logged once."""
    stat = test_statistic(name, allowed)
    stat.check_bounds(float(opts.bounds[poi_index(model, opts), 0]))
    return stat
