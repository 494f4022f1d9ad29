"""Toy-based calculator: the statistic's distributions from pseudo-experiments.

Toys for the signal+background hypothesis (POI = tested value) and for the background-only
one (POI = 0; POI = 1 for q₀) are drawn around the conditional fits to the observed data:
main bins ~ Poisson(ν), Gaussian auxiliary data ~ Normal(θ̂, σ), Poisson auxiliary data ~
Poisson(τ·γ̂).  Every toy of a hypothesis is then fitted in one batched computation (free
and conditional fit), with a seeded :class:`numpy.random.Generator`.  p-values count toys
at or above the observed value (inclusive); the expected band holds the percentiles of
the p-values of the background-only toys, as pyhf computes it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from hfx.errors import HfxError
from hfx.infer._common import (
    as_numpy,
    log,
    poi_index,
    resolve_options,
)
from hfx.infer.normal import normal_sf
from hfx.infer.progress import ProgressBar
from hfx.infer.teststats import TestStatistic, checked_test_stat, profile_statistic
from hfx.optimize import FitResult, fit_batch, fixed_poi_fit_batch

__all__ = ["EmpiricalDistribution", "ToyCalculator", "sample_toys"]

_BAND = (-2.0, -1.0, 0.0, 1.0, 2.0)  # percentiles Φ(n) of the band, smallest CLs first


class EmpiricalDistribution:
    """The distribution of a statistic given by samples (e.g. from toys)."""

    def __init__(self, samples: Any):
        self.samples = np.ravel(as_numpy(samples))
        self._sorted = np.sort(self.samples)

    def __repr__(self) -> str:
        return f"EmpiricalDistribution({self.samples.size} samples)"

    def pvalue(self, value: Any) -> Any:
        """Fraction of samples ≥ ``value`` (inclusive)."""
        v = np.asarray(value, dtype=float)
        n = self._sorted.size
        p = (n - np.searchsorted(self._sorted, v, side="left")) / n
        return float(p) if p.ndim == 0 else p

    def expected_value(self, nsigma: Any) -> Any:
        """The Φ(nsigma) quantile of the samples (linear interpolation)."""
        q = 100.0 * normal_sf(-np.asarray(nsigma, dtype=float))
        v = np.percentile(self.samples, q, method="linear")
        return float(v) if np.ndim(v) == 0 else v


def sample_toys(model: Any, pars: Any, ntoys: int, rng: np.random.Generator) -> np.ndarray:
    """``ntoys`` datasets (main + aux, [ntoys, ndata]) drawn from ``model`` at ``pars``."""
    pars = as_numpy(pars)
    arrays = getattr(model, "arrays", None)
    if arrays is None:
        raise HfxError("toys need a compiled hfx Model (its constraint layout)")
    rates = as_numpy(model.expected_actualdata(pars))
    main = rng.poisson(np.clip(rates, 0.0, None), size=(ntoys, rates.size)).astype(np.float64)
    aux = np.zeros((ntoys, model.config.nauxdata))
    if arrays.gauss_par.size:
        centre = pars[arrays.gauss_par]
        aux[:, arrays.gauss_aux] = rng.normal(centre, arrays.gauss_sigma, size=(ntoys, centre.size))
    if arrays.pois_par.size:
        lam = np.clip(pars[arrays.pois_par] * arrays.pois_tau, 0.0, None)
        aux[:, arrays.pois_aux] = rng.poisson(lam, size=(ntoys, lam.size))
    return np.concatenate([main, aux], axis=1)


class ToyCalculator:
    """Toy-based calculator with pyhf's interface (statistic in q space, not −μ̂/σ)."""

    def __init__(
        self,
        model: Any,
        data: Any,
        *,
        test_stat: str | TestStatistic = "qtilde",
        ntoys: int = 2000,
        seed: Any = None,
        progress: bool = False,
        init: Any = None,
        bounds: Any = None,
        fixed: Any = None,
        optimizer: Any = None,
        engine: str = "auto",
        sampler: Callable[[np.ndarray, int], Any] | None = None,
    ) -> None:
        """``sampler(pars, ntoys)``, when given, draws the toys instead of ``seed``'s
        generator (the pyhf facade uses it to draw pyhf's toys from NumPy's global one)."""
        if int(ntoys) < 1:
            raise HfxError(f"ntoys must be at least 1, got {ntoys}")
        self.model = model
        self.data = as_numpy(data)
        self.opts = resolve_options(model, init, bounds, fixed, optimizer, engine)
        self.poi_index = poi_index(model, self.opts)
        self.statistic = checked_test_stat(model, self.opts, test_stat)
        self.test_stat = self.statistic.name
        self.ntoys = int(ntoys)
        self.rng = np.random.default_rng(seed)
        self.sampler = sampler
        self.progress = bool(progress)
        self._free: FitResult | None = None
        self._cond: dict[float, FitResult] = {}

    def _sample(self, pars: Any) -> np.ndarray:
        if self.sampler is None:
            return sample_toys(self.model, pars, self.ntoys, self.rng)
        toys = np.asarray(self.sampler(as_numpy(pars), self.ntoys), dtype=np.float64)
        return toys.reshape(self.ntoys, -1)

    def _conditional(self, mu: float) -> FitResult:
        mu = float(mu)
        if mu not in self._cond:
            self._cond[mu] = self.opts.conditional(self.model, self.data, mu)
        return self._cond[mu]

    def teststatistic(self, poi: float) -> float:
        """Observed statistic (q space)."""
        if self._free is None:
            self._free = self.opts.free(self.model, self.data)
        mu = self.statistic.tested_poi(poi)
        value, _, cond = profile_statistic(
            self.statistic,
            self.model,
            self.data,
            poi,
            self.opts,
            free=self._free,
            cond=self._cond.get(mu),
            need_cond=False,
        )
        if cond is not None:
            self._cond[mu] = cond
        return value

    def toy_teststats(self, poi: float, toys: np.ndarray, start: Any, label: str) -> np.ndarray:
        """The statistic at ``poi`` for every row of ``toys`` ([ntoys, ndata])."""
        mu = self.statistic.tested_poi(poi)
        n = toys.shape[0]
        step = n if not self.progress else max(1, -(-n // 20))  # ~20 updates of the bar
        free_nll, cond_nll, muhat = np.empty(n), np.empty(n), np.empty(n)
        nfail = 0
        bars = ProgressBar(self.progress)
        with bars.task(label, n) as advance:
            for lo in range(0, n, step):
                chunk = toys[lo : lo + step]
                f_nll, f_mu, c_nll, bad = self._fit_chunk(chunk, mu, start)
                free_nll[lo : lo + step], muhat[lo : lo + step] = f_nll, f_mu
                cond_nll[lo : lo + step] = c_nll
                nfail += bad
                advance(chunk.shape[0])
        if nfail:
            log.warning(
                "%d of %d toy fits (%s) did not converge (each keeps the lowest −log L its "
                "Newton and L-BFGS-B runs found)",
                nfail,
                2 * n,
                label,
            )
        value = np.clip(cond_nll - free_nll, 0.0, None)
        return np.where(self.statistic.vanishes(muhat, mu), 0.0, value)

    def _fit_chunk(
        self, chunk: np.ndarray, mu: float, start: Any
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        opts, model = self.opts, self.model
        init = np.where(opts.fixed, opts.init, np.clip(start, *opts.bounds.T))
        if opts.batched(model):
            # a toy fit that converges in neither Newton nor L-BFGS-B keeps its lowest point
            # and is counted, not refitted by every fallback (seconds each, on a kink)
            free = fit_batch(
                model,
                chunk,
                init=init,
                bounds=opts.bounds,
                fixed=opts.fixed,
                plan=opts.plan,
                thorough=False,
            )
            cond_init = init.copy()
            cond_init[self.poi_index] = mu
            cond = fixed_poi_fit_batch(
                mu,
                model,
                chunk,
                init=cond_init,
                bounds=opts.bounds,
                fixed=opts.fixed,
                plan=opts.plan,
                thorough=False,
            )
            bad = int(np.sum(~np.asarray(free.success)) + np.sum(~np.asarray(cond.success)))
            return (
                np.asarray(free.twice_nll, dtype=float),
                np.asarray(free.bestfit, dtype=float)[:, self.poi_index],
                np.asarray(cond.twice_nll, dtype=float),
                bad,
            )
        f_nll, f_mu, c_nll = [], [], []
        for row in chunk:
            row_free = opts.free(model, row, init=init)
            row_cond = opts.conditional(model, row, mu, init=init)
            f_nll.append(row_free.twice_nll)
            f_mu.append(row_free.bestfit[self.poi_index])
            c_nll.append(row_cond.twice_nll)
        return np.array(f_nll), np.array(f_mu), np.array(c_nll), 0

    def distributions(self, poi: float) -> tuple[EmpiricalDistribution, EmpiricalDistribution]:
        """(signal+background, background-only) toy distributions of the statistic at ``poi``.

        The s+b toys come first from the generator, then the background-only ones.
        """
        sb_mu = float(poi)
        b_mu = self.statistic.asimov_poi
        sb_pars = self._conditional(sb_mu).bestfit
        b_pars = self._conditional(b_mu).bestfit
        sb_toys = self._sample(sb_pars)
        b_toys = self._sample(b_pars)
        sb = self.toy_teststats(poi, sb_toys, sb_pars, "signal+background toys")
        b = self.toy_teststats(poi, b_toys, b_pars, "background-only toys")
        return EmpiricalDistribution(sb), EmpiricalDistribution(b)

    @staticmethod
    def pvalues(
        teststat: Any,
        sig_plus_bkg_distribution: EmpiricalDistribution,
        bkg_only_distribution: EmpiricalDistribution,
    ) -> tuple[Any, Any, Any]:
        """(CLs+b, CLb, CLs): fractions of toys at or above ``teststat``."""
        clsb = sig_plus_bkg_distribution.pvalue(teststat)
        clb = bkg_only_distribution.pvalue(teststat)
        with np.errstate(divide="ignore", invalid="ignore"):
            cls = np.divide(clsb, clb)
        if np.ndim(cls) == 0:
            return float(clsb), float(clb), float(cls)
        return clsb, clb, cls

    def expected_pvalues(
        self,
        sig_plus_bkg_distribution: EmpiricalDistribution,
        bkg_only_distribution: EmpiricalDistribution,
    ) -> tuple[tuple[float, float, float], ...]:
        """Five (CLs+b, CLb, CLs) triples: percentiles Φ(−2)…Φ(2) of each p-value over the
        background-only toys (the −2σ band edge first)."""
        clsb, clb, cls = self.pvalues(
            bkg_only_distribution.samples, sig_plus_bkg_distribution, bkg_only_distribution
        )
        q = 100.0 * normal_sf(-np.asarray(_BAND))
        cols = [
            np.percentile(np.asarray(v, dtype=float), q, method="linear") for v in (clsb, clb, cls)
        ]
        return tuple((float(a), float(b), float(c)) for a, b, c in zip(*cols, strict=True))

    def expected_cls(self, poi: float) -> tuple[float, ...]:
        """Expected CLs band at ``poi`` from fresh toys."""
        sb, b = self.distributions(poi)
        return tuple(t[2] for t in self.expected_pvalues(sb, b))
