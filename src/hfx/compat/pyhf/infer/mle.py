"""pyhf's ``infer.mle``: maximum-likelihood fits with pyhf's arguments and return shapes.

``fit(data, pdf)`` returns the best-fit parameter vector; the ``return_*`` flags add, in
pyhf's order, the correlation matrix, −2 log L at the minimum (a 0-d array) and the
:class:`hfx.optimize.FitResult`.  With ``return_uncertainties=True`` the first item is an
``[npars, 2]`` array of (value, uncertainty) rows.  hfx computes uncertainties and
correlations from the Hessian for every optimizer (pyhf does only with Minuit); fixed
parameters get uncertainty 0 and zero correlation rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hfx.compat.pyhf.backend import default_optimizer
from hfx.compat.pyhf.infer._common import (
    as_data,
    fit_settings,
    native_model,
    native_optimizer,
    poi_index,
    scalar,
)
from hfx.errors import HfxError, PoiOutOfBoundsError

__all__ = ["current_optimizer", "fit", "fixed_poi_fit", "twice_nll"]


def twice_nll(pars: Any, data: Any, pdf: Any) -> Any:
    """−2 log L(pars | data), one value per parameter point (shape (1,) for one point)."""
    return -2 * pdf.logpdf(pars, data)


def _shape_result(
    result: Any,
    return_fitted_val: bool,
    return_result_obj: bool,
    return_uncertainties: bool,
    return_correlations: bool,
) -> Any:
    pars = np.array(result.bestfit, dtype=np.float64)
    if return_uncertainties:
        pars = np.stack([pars, np.array(result.uncertainties, dtype=np.float64)], axis=1)
    out: list[Any] = [pars]
    if return_correlations:
        out.append(np.array(result.correlation, dtype=np.float64))
    if return_fitted_val:
        out.append(scalar(result.twice_nll))
    if return_result_obj:
        out.append(_optimize_result(result))
    return tuple(out) if len(out) > 1 else out[0]


def _optimize_result(result: Any) -> Any:
    """pyhf's result object: a SciPy OptimizeResult with ``x``, ``fun`` (−2 log L, pyhf's
    objective), ``unc``, ``corr``, ``hess_inv`` (the covariance), ``minuit`` (None: hfx's
    uncertainties come from the exact Hessian), ``success``, ``message``, ``nfev``, ``njev``;
    plus the fields of hfx's FitResult (``bestfit``, ``uncertainties``, ``covariance``,
    ``correlation``, ``twice_nll``, ``par_names``, ``fixed``) and the FitResult itself
    (``native``)."""
    from scipy.optimize import OptimizeResult

    out = OptimizeResult()
    out.update(
        x=np.array(result.bestfit, dtype=np.float64),
        fun=scalar(result.twice_nll),
        unc=np.array(result.uncertainties, dtype=np.float64),
        corr=np.array(result.correlation, dtype=np.float64),
        hess_inv=np.array(result.covariance, dtype=np.float64),
        minuit=None,
        success=bool(result.success),
        message=str(result.message),
        nfev=int(result.nfev),
        njev=int(result.ngrad),
        bestfit=result.bestfit,
        uncertainties=result.uncertainties,
        covariance=result.covariance,
        correlation=result.correlation,
        twice_nll=result.twice_nll,
        par_names=result.par_names,
        fixed=result.fixed,
        native=result,
    )
    return out


def fit(
    data: Any,
    pdf: Any,
    init_pars: Any = None,
    par_bounds: Any = None,
    fixed_params: Any = None,
    *,
    return_fitted_val: bool = False,
    return_result_obj: bool = False,
    return_uncertainties: bool = False,
    return_correlations: bool = False,
    optimizer: Any = None,
    do_grad: bool | None = None,
    do_stitch: bool = False,
    **options: Any,
) -> Any:
    """Unconditional maximum-likelihood fit of ``pdf`` to ``data`` (main + auxiliary).

    ``init_pars``, ``par_bounds`` and ``fixed_params`` default to the model's suggestions.
    ``optimizer`` (an hfx extension) is ``"scipy"``, ``"minuit"`` or an object from
    :mod:`hfx.compat.pyhf.optimize` (default: the one given to ``set_backend``); per-fit
    options (``maxiter``, ``tolerance``, ``strategy`` for Minuit) are accepted as in pyhf.
    ``do_grad``/``do_stitch`` are accepted and have no effect (hfx always uses the exact
    gradient).  Raises :class:`hfx.errors.FitError` when the minimisation fails.
    """
    from hfx.optimize import fit as native_fit

    del do_grad, do_stitch
    settings = fit_settings(pdf, init_pars, par_bounds, fixed_params)
    opt = native_optimizer(optimizer, **options)
    extra = {} if opt is None else {"optimizer": opt}
    result = native_fit(
        native_model(pdf, settings["fixed"]),
        as_data(data),
        uncertainties=return_uncertainties or return_correlations,
        **settings,
        **extra,
    )
    return _shape_result(
        result, return_fitted_val, return_result_obj, return_uncertainties, return_correlations
    )


def fixed_poi_fit(
    poi_val: float,
    data: Any,
    pdf: Any,
    init_pars: Any = None,
    par_bounds: Any = None,
    fixed_params: Any = None,
    **kwargs: Any,
) -> Any:
    """Fit with the parameter of interest held at ``poi_val``; same options and returns as
    :func:`fit`."""
    idx = poi_index(pdf, "to fit with a fixed POI")
    settings = fit_settings(pdf, init_pars, par_bounds, fixed_params)
    init = settings["init"]
    fixed = settings["fixed"]
    lo, hi = (float(b) for b in settings["bounds"][idx])
    if not lo <= float(poi_val) <= hi:
        raise PoiOutOfBoundsError(
            f"fixed POI value {float(poi_val):g} lies outside its bounds [{lo:g}, {hi:g}]"
        )
    init[idx] = float(poi_val)
    fixed[idx] = True
    return fit(data, pdf, init, par_bounds, fixed, **kwargs)


class _CurrentOptimizer:
    """``pyhf.optimizer``: the default optimizer, with pyhf's ``minimize`` method."""

    def __init__(self, optimizer: Any):
        self._optimizer = optimizer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._optimizer, name)

    def __repr__(self) -> str:
        return repr(self._optimizer)

    def minimize(
        self,
        objective: Any,
        data: Any,
        pdf: Any,
        init_pars: Any,
        par_bounds: Any,
        fixed_vals: Any = None,
        return_fitted_val: bool = False,
        return_result_obj: bool = False,
        return_uncertainties: bool = False,
        return_correlations: bool = False,
        do_grad: bool | None = None,
        do_stitch: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Minimise ``objective`` (``pyhf.infer.mle.twice_nll``, the one hfx minimises) with
        the parameters in ``fixed_vals`` (``[(index, value), ...]``) held; returns as
        :func:`fit`."""
        if objective is not twice_nll:
            raise HfxError(
                "hfx.compat.pyhf minimises pyhf.infer.mle.twice_nll only, not "
                f"{getattr(objective, '__name__', objective)!r}"
            )
        settings = fit_settings(pdf, init_pars, par_bounds, None)
        init, fixed = list(settings["init"]), list(settings["fixed"])
        for index, value in fixed_vals or ():
            init[int(index)] = float(value)
            fixed[int(index)] = True
        return fit(
            data,
            pdf,
            init,
            par_bounds,
            fixed,
            return_fitted_val=return_fitted_val,
            return_result_obj=return_result_obj,
            return_uncertainties=return_uncertainties,
            return_correlations=return_correlations,
            optimizer=self._optimizer,
            do_grad=do_grad,
            do_stitch=do_stitch,
            **kwargs,
        )


def current_optimizer() -> _CurrentOptimizer:
    """The optimizer later inference calls use (``pyhf.optimizer``)."""
    return _CurrentOptimizer(default_optimizer())
