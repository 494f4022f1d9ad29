"""Asymptotic (Asimov) calculator: p-values from the large-sample formulae of arXiv:1007.1727.

The Asimov dataset is the expected data (main and auxiliary) at the conditional fit to the
observed data with μ = 0 (μ = 1 for q₀).  The statistic is reported in −μ̂/σ space:
√q − √q_A for q and q₀; for q̃ the same while √q ≤ √q_A, else (q − q_A)/(2√q_A).  Then
CLs+b = Φ(−(t + √q_A)), CLb = Φ(−t), CLs = CLs+b/CLb, and the expected band at
n = 2, 1, 0, −1, −2 evaluates these at t = n.

The calculator keeps every fit it makes: the free fit to the data, the Asimov dataset and
its free fit are the same for every tested μ; every fit starts from the task's init.
The free fit to the Asimov data needs no
minimisation: every Poisson and Gaussian term is at its maximum at the parameters the
Asimov data were generated from, so those parameters are the global minimum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from hfx.errors import ArgumentError
from hfx.infer._common import FitOptions, as_numpy, poi_index, resolve_options
from hfx.infer.asymptotic_lean import LeanAsymptotic, prepare, prepare_checked
from hfx.infer.normal import normal_sf
from hfx.infer.teststats import (
    ASYMPTOTIC_TEST_STATS,
    TestStatistic,
    checked_test_stat,
    profile_statistic,
    test_statistic,
)
from hfx.optimize import FitPlan, FitResult, make_plan, zero_matrix

__all__ = [
    "AsymptoticCalculator",
    "AsymptoticTestStatDistribution",
    "HypotestFits",
    "asimov_data",
    "test_at_defaults",
]

NSIGMA = (2.0, 1.0, 0.0, -1.0, -2.0)
"""Band points in the order of pyhf's expected set (smallest CLs, i.e. −2σ band edge, first)."""


class AsymptoticTestStatDistribution:
    """Standard normal distribution of the statistic in −μ̂/σ space, shifted by ``shift``.

    Values below ``cutoff`` (−∞ unless a clipped base distribution is asked for) have no
    p-value (NaN).
    """

    def __init__(self, shift: float, cutoff: float = -math.inf):
        self.shift = float(shift)
        self.cutoff = float(cutoff)

    def __repr__(self) -> str:
        return f"AsymptoticTestStatDistribution(shift={self.shift!r}, cutoff={self.cutoff!r})"

    def cdf(self, value: Any) -> Any:
        """P(T ≤ value)."""
        return normal_sf(-(np.asarray(value, dtype=float) - self.shift))

    def pvalue(self, value: Any) -> Any:
        """P(T ≥ value) = Φ(−(value − shift)), NaN below the cutoff."""
        if isinstance(value, float):  # (the common scalar case without array round trips)
            return normal_sf(value - self.shift) if value >= self.cutoff else math.nan
        value = np.asarray(value, dtype=float)
        p = normal_sf(value - self.shift)
        p = np.where(value >= self.cutoff, p, np.nan)
        return float(p) if p.ndim == 0 else p

    def expected_value(self, nsigma: Any) -> Any:
        """The statistic ``nsigma`` standard deviations above the centre (not below the cutoff)."""
        if isinstance(nsigma, float):
            return max(self.shift + nsigma, self.cutoff)
        v = np.maximum(self.shift + np.asarray(nsigma, dtype=float), self.cutoff)
        return float(v) if v.ndim == 0 else v


@dataclass(frozen=True)
class HypotestFits:
    """The five parameter vectors behind one asymptotic hypothesis test (as pyhf names them)."""

    asimov_pars: np.ndarray
    free_fit_to_data: np.ndarray
    free_fit_to_asimov: np.ndarray
    fixed_poi_fit_to_data: np.ndarray
    fixed_poi_fit_to_asimov: np.ndarray

    def to_dict(self) -> dict[str, list[float]]:
        return {k: [float(x) for x in getattr(self, k)] for k in self.__dataclass_fields__}


def _asimov(
    model: Any, data: Any, poi_value: float, opts: FitOptions
) -> tuple[np.ndarray, FitResult]:
    cond = opts.conditional(model, data, poi_value)
    return as_numpy(model.expected_data(cond.bestfit)), cond


def asimov_data(
    model: Any,
    data: Any,
    poi_value: float,
    *,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    optimizer: Any = None,
    engine: str = "auto",
    return_fit: bool = False,
) -> np.ndarray | tuple[np.ndarray, FitResult]:
    """Expected main + auxiliary data at the conditional fit to ``data`` with POI = ``poi_value``.

    With ``return_fit=True`` also returns that conditional fit.
    """
    opts = resolve_options(model, init, bounds, fixed, optimizer, engine)
    poi_index(model, opts)
    asimov, cond = _asimov(model, as_numpy(data), poi_value, opts)
    return (asimov, cond) if return_fit else asimov


def _saturated_fit(
    model: Any, pars: np.ndarray, data: np.ndarray, fixed: np.ndarray, plan: FitPlan
) -> FitResult:
    """A FitResult for a point known to be the global minimum (no minimisation run)."""
    n = pars.size
    twice_nll = float(plan.twice_nll(model, pars[None, :], data[None, :])[0])
    return FitResult(
        bestfit=pars.copy(),
        uncertainties=np.zeros(n),
        covariance=zero_matrix(n),
        correlation=zero_matrix(n),
        twice_nll=twice_nll,
        success=True,
        message="Asimov data: the generating parameters are the global minimum",
        nfev=1,
        ngrad=0,
        par_names=tuple(model.config.par_names),
        fixed=fixed.copy(),
    )


class AsymptoticCalculator:
    """Asymptotic CLs calculator for ``test_stat`` in "q0", "q", "qtilde" (pyhf's conventions).

    ``base_dist="clipped_normal"`` cuts the distributions at −√q_A as pyhf's option does.
    """

    def __init__(
        self,
        model: Any,
        data: Any,
        *,
        test_stat: str | TestStatistic = "qtilde",
        init: Any = None,
        bounds: Any = None,
        fixed: Any = None,
        optimizer: Any = None,
        engine: str = "auto",
        base_dist: str = "normal",
    ) -> None:
        if base_dist not in ("normal", "clipped_normal"):
            raise ArgumentError(
                f"unknown base distribution {base_dist!r}: normal or clipped_normal"
            )
        self.model = model
        self.data = as_numpy(data)
        self.opts = resolve_options(model, init, bounds, fixed, optimizer, engine)
        self.poi_index = poi_index(model, self.opts)
        self.statistic = checked_test_stat(model, self.opts, test_stat, ASYMPTOTIC_TEST_STATS)
        self.test_stat = self.statistic.name
        self.base_dist = base_dist
        self.asimov_mu = self.statistic.asimov_poi
        self._free_data: FitResult | None = None
        self._asimov: tuple[np.ndarray, FitResult] | None = None
        self._free_asimov: FitResult | None = None
        self._cond_data: dict[float, FitResult] = {}
        self._precise: set[float] = set()  # data fits converged in the parameters too
        self._cond_asimov: dict[float, FitResult] = {}
        self._q_data: dict[float, float] = {}
        self._q_asimov: dict[float, float] = {}
        self._lean: LeanAsymptotic | None = None  # the fast path's arrays (asymptotic_lean)
        self._lean_tried = False

    def _lean_values(self, mu: float, with_data: bool) -> bool:
        """Fill q on the Asimov data (and on the data) at ``mu`` through the fast path of
        :mod:`hfx.infer.asymptotic_lean`; False where the fits below must run instead."""
        if not self._lean_tried:
            self._lean_tried = True
            first = self.statistic.tested_poi(mu)
            self._lean = prepare(
                self.model, self.data, self.opts, self.poi_index, self.asimov_mu, first
            )
        if self._lean is None:
            return False
        values = self._lean.q_values(self.statistic, mu, with_data)
        if values is None:
            return False
        q_data, self._q_asimov[mu] = values
        if q_data is not None:
            self._q_data[mu] = q_data
        return True

    # --- the fits, made once each ------------------------------------------------------------
    def free_fit_to_data(self) -> FitResult:
        """Unconditional fit to the observed data."""
        if self._free_data is None:
            self._free_data = self.opts.free(self.model, self.data)
        return self._free_data

    def asimov(self) -> tuple[np.ndarray, FitResult]:
        """The Asimov dataset and the conditional fit it was generated from."""
        if self._asimov is None:
            cond = self.conditional_fit_to_data(self.asimov_mu, precise=True)
            data = self.opts.plan.expected_data(self.model, cond.bestfit)
            self._asimov = (data, cond)
        return self._asimov

    def free_fit_to_asimov(self) -> FitResult:
        """Unconditional fit to the Asimov data (exact: its generating parameters)."""
        if self._free_asimov is None:
            data, gen = self.asimov()
            lo, hi = self.opts.bounds[self.poi_index]
            if lo <= self.asimov_mu <= hi:
                self._free_asimov = _saturated_fit(
                    self.model, gen.bestfit, data, self.opts.fixed, self.opts.plan
                )
            else:  # the generating point is outside the allowed region: minimise for real
                self._free_asimov = self.opts.free(self.model, data)
        return self._free_asimov

    def conditional_fit_to_data(self, mu: float, *, precise: bool = False) -> FitResult:
        """Fit to the observed data with the POI at ``mu`` (cached).

        Where the free fit already sits at ``mu`` (e.g. μ̂ = 0 on its bound) it is that fit.
        ``precise`` converges the parameters themselves (they define the Asimov data).
        """
        mu = float(mu)
        if mu not in self._cond_data or (precise and mu not in self._precise):
            free = self.free_fit_to_data()
            if float(free.bestfit[self.poi_index]) == mu:
                self._cond_data[mu] = free
            else:
                self._cond_data[mu] = self.opts.conditional(
                    self.model, self.data, mu, precise=precise
                )
            if precise:
                self._precise.add(mu)
        return self._cond_data[mu]

    def conditional_fit_to_asimov(self, mu: float) -> FitResult:
        """Fit to the Asimov data with the POI at ``mu`` (cached)."""
        mu = float(mu)
        if mu not in self._cond_asimov:
            data, _ = self.asimov()
            if mu == self.asimov_mu:
                self._cond_asimov[mu] = self.free_fit_to_asimov()
            else:
                self._cond_asimov[mu] = self.opts.conditional(self.model, data, mu)
        return self._cond_asimov[mu]

    # --- statistics ------------------------------------------------------------------------
    def qmu_data(self, mu: float) -> float:
        """The test statistic (q space) on the observed data; skips fits it does not need."""
        mu = float(mu)
        if mu not in self._q_data and not self._lean_values(mu, True):
            target = self.statistic.tested_poi(mu)
            free = self.free_fit_to_data()
            if self.statistic.vanishes(float(free.bestfit[self.poi_index]), target):
                self._q_data[mu] = 0.0
            else:
                cond = self.conditional_fit_to_data(target)
                value, _, _ = profile_statistic(
                    self.statistic, self.model, self.data, mu, self.opts, free=free, cond=cond
                )
                self._q_data[mu] = value
        return self._q_data[mu]

    def qmu_asimov(self, mu: float) -> float:
        """The test statistic (q space) on the Asimov data."""
        mu = float(mu)
        if mu not in self._q_asimov and not self._lean_values(mu, False):
            data, _ = self.asimov()
            target = self.statistic.tested_poi(mu)
            value, _, _ = profile_statistic(
                self.statistic,
                self.model,
                data,
                mu,
                self.opts,
                free=self.free_fit_to_asimov(),
                cond=self.conditional_fit_to_asimov(target),
            )
            self._q_asimov[mu] = value
        return self._q_asimov[mu]

    def sqrt_qmu_asimov(self, mu: float) -> float:
        """√q_A at ``mu``: the shift of the signal-plus-background distribution."""
        return math.sqrt(self.qmu_asimov(mu))

    def known_sqrt_qmu_asimov(self) -> list[tuple[float, float]]:
        """(μ, √q_A(μ)) for every μ computed so far, sorted by μ (no new fits)."""
        return [(mu, math.sqrt(q)) for mu, q in sorted(self._q_asimov.items())]

    # --- the calculator interface ----------------------------------------------------------
    def prefetch(self, poi: float) -> None:
        """Run the two conditional fits at ``poi`` (data, Asimov) in one batched call."""
        mu = self.statistic.tested_poi(poi)
        if not self.opts.batched(self.model):
            return
        asimov, _ = self.asimov()
        free = self.free_fit_to_data()
        muhat = float(free.bestfit[self.poi_index])
        need_data = (
            mu not in self._cond_data and muhat != mu and not self.statistic.vanishes(muhat, mu)
        )
        need_asimov = mu not in self._cond_asimov and mu != self.asimov_mu
        if not (need_data and need_asimov):
            return
        fits = self.opts.conditional_many(
            self.model,
            [self.data, asimov],
            [mu, mu],
            [None, None],
        )
        self._cond_data[mu], self._cond_asimov[mu] = fits

    def teststatistic(self, poi: float) -> float:
        """The observed statistic in −μ̂/σ space."""
        mu = float(poi)
        if mu not in self._q_data and not self._lean_values(mu, True):
            self.prefetch(poi)
        sqrt_q = math.sqrt(self.qmu_data(poi))
        sqrt_qa = self.sqrt_qmu_asimov(poi)
        return self.statistic.to_asymptotic(sqrt_q, sqrt_qa)

    def distributions(
        self, poi: float
    ) -> tuple[AsymptoticTestStatDistribution, AsymptoticTestStatDistribution]:
        """(signal+background, background-only) distributions of the statistic at ``poi``."""
        return _distributions(self.sqrt_qmu_asimov(poi), self.base_dist)

    @staticmethod
    def pvalues(
        teststat: float,
        sig_plus_bkg_distribution: AsymptoticTestStatDistribution,
        bkg_only_distribution: AsymptoticTestStatDistribution,
    ) -> tuple[float, float, float]:
        """(CLs+b, CLb, CLs) for an observed statistic."""
        clsb = float(sig_plus_bkg_distribution.pvalue(teststat))
        clb = float(bkg_only_distribution.pvalue(teststat))
        if clb != 0.0:
            return clsb, clb, clsb / clb
        with np.errstate(divide="ignore", invalid="ignore"):  # NaN or ±inf, as NumPy divides
            return clsb, clb, float(np.divide(clsb, clb))

    def expected_pvalues(
        self,
        sig_plus_bkg_distribution: AsymptoticTestStatDistribution,
        bkg_only_distribution: AsymptoticTestStatDistribution,
    ) -> tuple[tuple[float, float, float], ...]:
        """Five (CLs+b, CLb, CLs) triples at n = 2, 1, 0, −1, −2 (the −2σ band edge first)."""
        return _expected_pvalues(sig_plus_bkg_distribution, bkg_only_distribution)

    def expected_cls(self, poi: float) -> tuple[float, ...]:
        """Expected CLs band at ``poi`` (needs only the Asimov fits)."""
        sb, b = self.distributions(poi)
        return tuple(t[2] for t in self.expected_pvalues(sb, b))

    def fitted_pars(self, poi: float) -> HypotestFits:
        """Parameter vectors of the fits behind the test at ``poi`` (runs any skipped fit)."""
        mu = self.statistic.tested_poi(poi)
        data_cond = self.conditional_fit_to_data(mu)
        asimov_cond = self.conditional_fit_to_asimov(mu)
        return HypotestFits(
            asimov_pars=self.asimov()[1].bestfit.copy(),
            free_fit_to_data=self.free_fit_to_data().bestfit.copy(),
            free_fit_to_asimov=self.free_fit_to_asimov().bestfit.copy(),
            fixed_poi_fit_to_data=data_cond.bestfit.copy(),
            fixed_poi_fit_to_asimov=asimov_cond.bestfit.copy(),
        )


def _distributions(
    sqrt_qa: float, base_dist: str
) -> tuple[AsymptoticTestStatDistribution, AsymptoticTestStatDistribution]:
    """(signal+background, background-only) distributions for √q_A (see the calculator's
    ``base_dist``)."""
    cutoff = -math.inf if base_dist == "normal" else -sqrt_qa
    return (
        AsymptoticTestStatDistribution(-sqrt_qa, cutoff),
        AsymptoticTestStatDistribution(0.0, cutoff),
    )


def _expected_pvalues(
    sig_plus_bkg_distribution: AsymptoticTestStatDistribution,
    bkg_only_distribution: AsymptoticTestStatDistribution,
) -> tuple[tuple[float, float, float], ...]:
    return tuple(
        AsymptoticCalculator.pvalues(
            bkg_only_distribution.expected_value(n),
            sig_plus_bkg_distribution,
            bkg_only_distribution,
        )
        for n in NSIGMA
    )


def test_at_defaults(
    model: Any,
    data: Any,
    poi: float,
    test_stat: str | TestStatistic,
    optimizer: Any,
    engine: str,
) -> tuple[str, float, tuple[float, float, float], tuple[tuple[float, float, float], ...]] | None:
    """One asymptotic test at ``poi`` with the model's own init, bounds and fixed values, as
    the calculator makes it (the same fits through :mod:`hfx.infer.asymptotic_lean`, the
    same p-value functions), without the calculator: (statistic name, observed statistic,
    (CLs+b, CLb, CLs), expected triples).

    None wherever the calculator's path does anything else or has something to say (a
    model without the config's once-made start, fits that are not batched, no floating POI,
    a POI value outside its bounds, the lean fits declining): the caller runs that path."""
    config = model.config
    start = getattr(config, "suggested_start", None)
    if start is None or not config.suggested_start_in_bounds:
        return None
    plan = make_plan(model, engine=engine, optimizer=optimizer)
    index = config.poi_index
    init, bounds, fixed = start
    if not plan.batched or index is None or fixed[index]:
        return None
    statistic = test_statistic(test_stat, ASYMPTOTIC_TEST_STATS)
    mu, asimov_mu = float(poi), statistic.asimov_poi
    lo, hi = float(bounds[index, 0]), float(bounds[index, 1])
    if not (math.isfinite(mu) and lo <= mu <= hi and lo <= asimov_mu <= hi):
        return None
    # the config's arrays, checked once: read-only views, and the private writeable copies
    # that the compiled kernels take (a read-only array would make them compile again)
    opts = FitOptions(init=init, bounds=bounds, fixed=fixed, plan=plan)
    start_row, *free = config._kernel_fit_arrays
    held = config._kernel_held_arrays
    lean = prepare_checked(
        model,
        as_numpy(data),
        opts,
        start_row[0],
        tuple(free),
        held,
        index,
        asimov_mu,
        statistic.tested_poi(mu),
    )
    values = None if lean is None else lean.q_values(statistic, mu, True)
    if values is None or values[0] is None:
        return None
    statistic.check_bounds(lo)
    sqrt_qa = math.sqrt(values[1])
    teststat = statistic.to_asymptotic(math.sqrt(values[0]), sqrt_qa)
    sig_plus_bkg, bkg_only = _distributions(sqrt_qa, "normal")  # (the calculator's default)
    observed = AsymptoticCalculator.pvalues(teststat, sig_plus_bkg, bkg_only)
    return statistic.name, teststat, observed, _expected_pvalues(sig_plus_bkg, bkg_only)
