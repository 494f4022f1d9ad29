"""pyhf's ``infer.test_statistics``: q₀, q_μ, q̃_μ, t_μ, t̃_μ with pyhf's arguments.

Each returns the statistic as a 0-d array; with ``return_fitted_pars=True`` it returns
``(value, (conditional fit pars, unconditional fit pars))`` in pyhf's order.  The work is
done by :mod:`hfx.infer.teststats`; ``optimizer`` (keyword-only) is an hfx extension.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from hfx.compat.pyhf.infer._common import (
    as_data,
    infer_kwargs,
    native_model,
    native_optimizer,
    poi_index,
    scalar,
)
from hfx.infer import teststats as _native

__all__ = ["q0", "qmu", "qmu_tilde", "tmu", "tmu_tilde"]

log = logging.getLogger("hfx.compat.pyhf")


def _statistic(
    function: Any,
    args: tuple[Any, ...],
    data: Any,
    pdf: Any,
    init_pars: Any,
    par_bounds: Any,
    fixed_params: Any,
    return_fitted_pars: bool,
    optimizer: Any,
) -> Any:
    poi_index(pdf, "for profile likelihood based test statistics")
    kwargs = infer_kwargs(pdf, init_pars, par_bounds, fixed_params, native_optimizer(optimizer))
    value, (free, cond) = function(
        native_model(pdf, kwargs["fixed"]), as_data(data), *args, return_fits=True, **kwargs
    )
    if not return_fitted_pars:
        return scalar(value)
    pars = (np.array(cond.bestfit, dtype=np.float64), np.array(free.bestfit, dtype=np.float64))
    return scalar(value), pars


def qmu(
    mu: float,
    data: Any,
    pdf: Any,
    init_pars: Any = None,
    par_bounds: Any = None,
    fixed_params: Any = None,
    return_fitted_pars: bool = False,
    *,
    optimizer: Any = None,
) -> Any:
    """q_μ: t_μ when μ̂ ≤ μ, else 0 (for a POI that may go negative)."""
    return _statistic(
        _native.qmu,
        (float(mu),),
        data,
        pdf,
        init_pars,
        par_bounds,
        fixed_params,
        return_fitted_pars,
        optimizer,
    )


def qmu_tilde(
    mu: float,
    data: Any,
    pdf: Any,
    init_pars: Any = None,
    par_bounds: Any = None,
    fixed_params: Any = None,
    return_fitted_pars: bool = False,
    *,
    optimizer: Any = None,
) -> Any:
    """q̃_μ: q_μ for a POI bounded below at 0."""
    return _statistic(
        _native.qmu_tilde,
        (float(mu),),
        data,
        pdf,
        init_pars,
        par_bounds,
        fixed_params,
        return_fitted_pars,
        optimizer,
    )


def tmu(
    mu: float,
    data: Any,
    pdf: Any,
    init_pars: Any = None,
    par_bounds: Any = None,
    fixed_params: Any = None,
    return_fitted_pars: bool = False,
    *,
    optimizer: Any = None,
) -> Any:
    """t_μ = −2 ln λ(μ), clipped at 0."""
    return _statistic(
        _native.tmu,
        (float(mu),),
        data,
        pdf,
        init_pars,
        par_bounds,
        fixed_params,
        return_fitted_pars,
        optimizer,
    )


def tmu_tilde(
    mu: float,
    data: Any,
    pdf: Any,
    init_pars: Any = None,
    par_bounds: Any = None,
    fixed_params: Any = None,
    return_fitted_pars: bool = False,
    *,
    optimizer: Any = None,
) -> Any:
    """t̃_μ: t_μ for a POI bounded below at 0."""
    return _statistic(
        _native.tmu_tilde,
        (float(mu),),
        data,
        pdf,
        init_pars,
        par_bounds,
        fixed_params,
        return_fitted_pars,
        optimizer,
    )


def q0(
    mu: float,
    data: Any,
    pdf: Any,
    init_pars: Any = None,
    par_bounds: Any = None,
    fixed_params: Any = None,
    return_fitted_pars: bool = False,
    *,
    optimizer: Any = None,
) -> Any:
    """Discovery statistic q₀ (t₀ when μ̂ ≥ 0, else 0); ``mu`` other than 0 is replaced by
    0 with a logged warning, as in pyhf."""
    if mu != 0.0:
        log.warning(
            "q0 test statistic only used for fit configuration with POI set to zero: "
            "using mu=0, not %s",
            mu,
        )
    return _statistic(
        _native.q0,
        (),
        data,
        pdf,
        init_pars,
        par_bounds,
        fixed_params,
        return_fitted_pars,
        optimizer,
    )
