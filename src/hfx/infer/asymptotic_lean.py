"""The fits of an asymptotic test as plain arrays: the fast path of the asymptotic calculator.

An asymptotic test at μ needs four −2 log L values: the free and the μ-conditional fit to
the data, and the same two on the Asimov data.  :class:`AsymptoticCalculator
<hfx.infer.asymptotic.AsymptoticCalculator>` keeps every fit as a
:class:`~hfx.optimize.FitResult`; on small models building those objects costs more than
the fits.  Here the same fits run through the fit plan's ``newton_values`` (one call per
μ, both datasets in it) and only the numbers are kept.

Every fit is the one the calculator's own path makes: the same start, bounds, tolerance,
engine and iterations, so the values are identical.  Wherever that path does something
else (a row that did not converge and would be refitted with L-BFGS-B, μ equal to the
Asimov μ, the Asimov μ outside the POI bounds), :func:`prepare` and
:meth:`LeanAsymptotic.q_values` return None and the calculator takes its own path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hfx.infer._common import BATCH_TOLERANCE, PRECISE_TOLERANCE, FitOptions
from hfx.infer.teststats import TestStatistic

__all__ = ["LeanAsymptotic", "prepare", "prepare_checked"]


@dataclass(slots=True)  # (not frozen: a frozen dataclass takes microseconds to build)
class LeanAsymptotic:
    """The μ-independent part of an asymptotic test, as arrays (not changed once made)."""

    model: Any
    opts: FitOptions
    poi: int
    rows: np.ndarray  # [2, ndata]: the observed data, the Asimov data
    start: np.ndarray  # [npars]: the task's init (every conditional fit starts there)
    idx: np.ndarray  # free parameters of a conditional fit (the POI held)
    lo: np.ndarray
    hi: np.ndarray
    muhat: float  # the POI at the free fit to the data
    free_nll: float  # −2 log L of the free fit to the data
    asimov_mu: float
    asimov_nll: float  # −2 log L of the Asimov data at its generating parameters (its minimum)
    # (POI value, −2 log L of the data, of the Asimov data) of conditional fits made with
    # the ones above, in the same call
    first: tuple[float, float, float] | None = None

    def q_values(
        self, statistic: TestStatistic, mu: float, with_data: bool
    ) -> tuple[float | None, float] | None:
        """(q on the data or None without ``with_data``, q on the Asimov data) at ``mu``, or
        None where the calculator's own path must run."""
        target = statistic.tested_poi(mu)
        if target == self.asimov_mu:
            return None
        fit_data = with_data and not statistic.vanishes(self.muhat, target)
        fit_data = fit_data and self.muhat != target
        nll: Any
        if self.first is not None and self.first[0] == target:
            nll = self.first[1:] if fit_data else self.first[2:]
        else:
            rows = self.rows if fit_data else self.rows[1:]
            full = np.empty((rows.shape[0], self.start.size))
            full[:] = self.start
            full[:, self.poi] = target
            _, converged, nll, _ = self.opts.plan.newton_values(
                self.model, rows, full, self.idx, self.lo, self.hi, BATCH_TOLERANCE
            )
            if not converged.all():
                return None
        # as profile_statistic: clipped at 0, and 0 where the statistic vanishes
        q_asimov = (
            0.0
            if statistic.vanishes(self.asimov_mu, target)
            else max(float(nll[-1]) - self.asimov_nll, 0.0)
        )
        if not with_data:
            return None, q_asimov
        q_data = max(float(nll[0]) - self.free_nll, 0.0) if fit_data else 0.0
        return q_data, q_asimov


def prepare(
    model: Any,
    data: np.ndarray,
    opts: FitOptions,
    poi: int,
    asimov_mu: float,
    first: float | None = None,
) -> LeanAsymptotic | None:
    """The free fit to ``data``, the Asimov data and their −2 log L values, as the
    calculator makes them; None where its own path must run (see the module's notes).

    ``first``: a POI value whose two conditional fits run in the same call (the first
    tested μ; a statistic's ``tested_poi``)."""
    lo_all, hi_all = opts.bounds[:, 0], opts.bounds[:, 1]
    if not (opts.plan.batched and lo_all[poi] <= asimov_mu <= hi_all[poi]):
        return None
    start = np.ascontiguousarray(opts.init, dtype=np.float64)
    inside = (lo_all <= start) & (start <= hi_all)
    if not ((lo_all <= hi_all).all() and (inside | opts.fixed).all()):
        return None  # fit_batch refuses these bounds or this start: let it say so
    idx = np.flatnonzero(~opts.fixed)
    idx_cond = idx[idx != poi]
    free = (idx, lo_all[idx], hi_all[idx])  # (fancy indexing: contiguous copies)
    held = (idx_cond, lo_all[idx_cond], hi_all[idx_cond])
    return prepare_checked(model, data, opts, start, free, held, poi, asimov_mu, first)


def prepare_checked(
    model: Any,
    data: np.ndarray,
    opts: FitOptions,
    start: np.ndarray,
    free: tuple[np.ndarray, np.ndarray, np.ndarray],
    held: tuple[np.ndarray, np.ndarray, np.ndarray],
    poi: int,
    asimov_mu: float,
    first: float | None = None,
) -> LeanAsymptotic | None:
    """:func:`prepare` for a caller that made its checks: ``opts`` has a batched plan, its
    bounds are ordered and hold ``asimov_mu`` and every free component of ``start`` (its
    init, C-contiguous float64); ``free`` and ``held`` are the free parameters' indices
    (int64) and lower and upper bounds, of the free fits and of the conditional ones (the
    POI held)."""
    observed = np.ascontiguousarray(data, dtype=np.float64)
    if observed.shape != (model.config.nmaindata + model.config.nauxdata,):
        return None  # the fits below name the mismatch (the kernels would read past the end)
    idx_cond, lo, hi = held
    fits = opts.plan.asimov_fits(
        model,
        observed,
        start,
        free[0],
        free[1:],
        idx_cond,
        (lo, hi),
        poi,
        asimov_mu,
        BATCH_TOLERANCE,
        PRECISE_TOLERANCE,
        then=first if first is not None and first != asimov_mu else None,
    )
    if fits is None:
        return None
    asimov, muhat, free_nll, asimov_nll, conditional = fits
    rows = np.empty((2, observed.size))
    rows[0], rows[1] = observed, asimov
    return LeanAsymptotic(
        model=model,
        opts=opts,
        poi=poi,
        rows=rows,
        start=start,
        idx=idx_cond,
        lo=lo,
        hi=hi,
        muhat=muhat,
        free_nll=free_nll,
        asimov_mu=asimov_mu,
        asimov_nll=asimov_nll,
        first=None if conditional is None or first is None else (first, *conditional),
    )
