"""pyhf's ``infer.calculators`` on top of :mod:`hfx.infer`'s calculators.

Constructors take pyhf's positional arguments ``(data, pdf, init_pars, par_bounds,
fixed_params, test_stat, ...)``; methods return pyhf's types: 0-d arrays for scalars and,
from ``expected_pvalues``, three lists (CLs+b, CLb, CLs) of five values each, ordered from
the −2σ edge of the band to the +2σ edge.  hfx extensions, keyword-only: ``optimizer``
and, for toys, ``seed``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hfx.compat.pyhf.infer._common import as_data, infer_kwargs, native_model, native_optimizer
from hfx.infer import asymptotic as _asymptotic
from hfx.infer import toys as _toys

__all__ = [
    "AsymptoticCalculator",
    "AsymptoticTestStatDistribution",
    "EmpiricalDistribution",
    "HypoTestFitResults",
    "ToyCalculator",
    "generate_asimov_data",
]

HypoTestFitResults = _asymptotic.HypotestFits  # pyhf's name for the five fitted vectors


def _arrays(value: Any) -> Any:
    return np.asarray(value, dtype=np.float64)


class AsymptoticTestStatDistribution(_asymptotic.AsymptoticTestStatDistribution):
    """Normal distribution of the statistic (−μ̂/σ space) shifted by ``shift``; answers are
    arrays as in pyhf."""

    def cdf(self, value: Any) -> Any:
        return _arrays(super().cdf(value))

    def pvalue(self, value: Any) -> Any:
        return _arrays(super().pvalue(value))

    def expected_value(self, nsigma: Any) -> Any:
        return _arrays(super().expected_value(nsigma))


class EmpiricalDistribution(_toys.EmpiricalDistribution):
    """Distribution of a statistic given by samples (toys); answers are arrays as in pyhf."""

    def pvalue(self, value: Any) -> Any:
        return _arrays(super().pvalue(value))

    def expected_value(self, nsigma: Any) -> Any:
        return _arrays(super().expected_value(nsigma))


def generate_asimov_data(
    asimov_mu: float,
    data: Any,
    pdf: Any,
    init_pars: Any = None,
    par_bounds: Any = None,
    fixed_params: Any = None,
    return_fitted_pars: bool = False,
    *,
    optimizer: Any = None,
) -> Any:
    """Expected main + auxiliary data at the fit to ``data`` with the POI held at
    ``asimov_mu``; with ``return_fitted_pars`` also that fit's parameters."""
    kwargs = infer_kwargs(pdf, init_pars, par_bounds, fixed_params, native_optimizer(optimizer))
    asimov, cond = _asymptotic.asimov_data(
        native_model(pdf, kwargs["fixed"]),
        as_data(data),
        float(asimov_mu),
        return_fit=True,
        **kwargs,
    )
    asimov = np.array(asimov, dtype=np.float64)
    if return_fitted_pars:
        return asimov, np.array(cond.bestfit, dtype=np.float64)
    return asimov


def _pvalue_triple(clsb: Any, clb: Any, cls: Any) -> tuple[Any, Any, Any]:
    return _arrays(clsb), _arrays(clb), _arrays(cls)


def _band(triples: Any) -> list[list[Any]]:
    """Five (CLs+b, CLb, CLs) triples → pyhf's [[CLs+b ×5], [CLb ×5], [CLs ×5]]."""
    return [[_arrays(t[k]) for t in triples] for k in range(3)]


class _PValues:
    """p-values of pyhf's calculators, delegated to the native calculator ``self.native``."""

    native: Any

    def pvalues(
        self, teststat: Any, sig_plus_bkg_distribution: Any, bkg_only_distribution: Any
    ) -> tuple[Any, Any, Any]:
        """(CLs+b, CLb, CLs) for an observed statistic, as 0-d arrays."""
        return _pvalue_triple(
            *self.native.pvalues(teststat, sig_plus_bkg_distribution, bkg_only_distribution)
        )

    def expected_pvalues(
        self, sig_plus_bkg_distribution: Any, bkg_only_distribution: Any
    ) -> list[list[Any]]:
        """[[CLs+b ×5], [CLb ×5], [CLs ×5]]: the −2σ … +2σ edges of the expected band."""
        return _band(self.native.expected_pvalues(sig_plus_bkg_distribution, bkg_only_distribution))


class AsymptoticCalculator(_PValues):
    """Asymptotic calculator with pyhf's constructor and methods.

    ``calc_base_dist`` is ``"normal"`` or ``"clipped_normal"``.  After ``teststatistic``,
    ``sqrtqmuA_v`` holds √q_A and ``fitted_pars`` the five fitted parameter vectors.
    Repeated calls at several POI values reuse the fits that do not depend on the POI.
    """

    def __init__(
        self,
        data: Any,
        pdf: Any,
        init_pars: Any = None,
        par_bounds: Any = None,
        fixed_params: Any = None,
        test_stat: str = "qtilde",
        calc_base_dist: str = "normal",
        *,
        optimizer: Any = None,
    ):
        self.data = data
        self.pdf = pdf
        self.test_stat = test_stat
        self.calc_base_dist = calc_base_dist
        kwargs = infer_kwargs(pdf, init_pars, par_bounds, fixed_params, native_optimizer(optimizer))
        self.init_pars = list(kwargs["init"])
        self.par_bounds = [tuple(b) for b in kwargs["bounds"]]
        self.fixed_params = [bool(f) for f in kwargs["fixed"]]
        self.native = _asymptotic.AsymptoticCalculator(
            native_model(pdf, kwargs["fixed"]),
            as_data(data),
            test_stat=test_stat,
            base_dist=calc_base_dist,
            **kwargs,
        )
        self.sqrtqmuA_v: Any = None
        self._poi: float | None = None
        self._fitted: Any = None

    @property
    def fitted_pars(self) -> Any:
        """The fitted parameter vectors of the last ``teststatistic`` call (None before)."""
        if self._poi is None:
            return None
        if self._fitted is None:
            self._fitted = self.native.fitted_pars(self._poi)
        return self._fitted

    def teststatistic(self, poi_test: float) -> Any:
        """Observed statistic in −μ̂/σ space (a 0-d array)."""
        poi = float(poi_test)
        value = self.native.teststatistic(poi)
        self.sqrtqmuA_v = _arrays(self.native.sqrt_qmu_asimov(poi))
        self._poi, self._fitted = poi, None
        return _arrays(value)

    def distributions(
        self, poi_test: float
    ) -> tuple[AsymptoticTestStatDistribution, AsymptoticTestStatDistribution]:
        """(signal+background, background-only) distributions at ``poi_test``."""
        sb, b = self.native.distributions(float(poi_test))
        return (
            AsymptoticTestStatDistribution(sb.shift, sb.cutoff),
            AsymptoticTestStatDistribution(b.shift, b.cutoff),
        )


def _pyhf_sampler(pdf: Any) -> Any:
    """Toys as pyhf's ToyCalculator draws them: ``pdf.make_pdf(pars).sample((ntoys,))``."""

    def sample(pars: np.ndarray, ntoys: int) -> np.ndarray:
        return np.asarray(pdf.make_pdf(pars).sample((ntoys,)), dtype=np.float64)

    return sample


class ToyCalculator(_PValues):
    """Toy-based calculator with pyhf's constructor and methods (statistic in q space).

    Without ``seed`` the toys are drawn as pyhf draws them, ``pdf.make_pdf(pars).sample``
    from NumPy's global generator, so ``np.random.seed(0)`` before the call gives pyhf's
    toys (for Poisson-constrained models; with Gaussian constraints the order of the draws
    differs).  ``seed`` (an hfx extension) draws them from a :class:`numpy.random.Generator`
    of that seed instead.  ``track_progress`` shows a progress bar on stderr.
    """

    def __init__(
        self,
        data: Any,
        pdf: Any,
        init_pars: Any = None,
        par_bounds: Any = None,
        fixed_params: Any = None,
        test_stat: str = "qtilde",
        ntoys: int = 2000,
        track_progress: bool = True,
        *,
        seed: Any = None,
        optimizer: Any = None,
    ):
        self.data = data
        self.pdf = pdf
        self.test_stat = test_stat
        self.ntoys = int(ntoys)
        self.track_progress = bool(track_progress)
        kwargs = infer_kwargs(pdf, init_pars, par_bounds, fixed_params, native_optimizer(optimizer))
        self.init_pars = list(kwargs["init"])
        self.par_bounds = [tuple(b) for b in kwargs["bounds"]]
        self.fixed_params = [bool(f) for f in kwargs["fixed"]]
        self.native = _toys.ToyCalculator(
            native_model(pdf, kwargs["fixed"]),
            as_data(data),
            test_stat=test_stat,
            ntoys=self.ntoys,
            seed=seed,
            sampler=_pyhf_sampler(pdf) if seed is None else None,
            progress=self.track_progress,
            **kwargs,
        )

    def teststatistic(self, poi_test: float) -> Any:
        """Observed statistic (q space, a 0-d array)."""
        return _arrays(self.native.teststatistic(float(poi_test)))

    def distributions(
        self, poi_test: float, track_progress: bool | None = None
    ) -> tuple[EmpiricalDistribution, EmpiricalDistribution]:
        """(signal+background, background-only) toy distributions at ``poi_test``."""
        native = self.native
        previous = native.progress
        if track_progress is not None:
            native.progress = bool(track_progress)
        try:
            sb, b = native.distributions(float(poi_test))
        finally:
            native.progress = previous
        return EmpiricalDistribution(sb.samples), EmpiricalDistribution(b.samples)
