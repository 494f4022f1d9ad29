"""What the pyhf-style inference functions share: argument translation and result shapes.

pyhf passes ``init_pars``, ``par_bounds`` and ``fixed_params`` positionally and falls back
to the model's suggestions when one is empty; hfx takes ``init``/``bounds``/``fixed``
keywords.  pyhf's NumPy backend answers with 0-d arrays for scalars and 1-d arrays for
parameter vectors; the helpers here produce the same.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import numpy as np

from hfx.compat.pyhf.backend import _as_optimizer, default_optimizer
from hfx.compat.pyhf.optimize import _Optimizer, scipy_optimizer
from hfx.errors import HfxError, ModelError

# pyhf's names for the calculators and hfx's.
CALCTYPES = MappingProxyType({"asymptotics": "asymptotic", "toybased": "toys"})


def native_model(pdf: Any, fixed: Any = None) -> Any:
    """The model hfx's inference works on (see :func:`hfx.compat.pyhf.infer._duck.as_native`).

    ``fixed`` is the fixed mask of the call: where it frees a parameter the model fixes,
    the model is viewed with ``fixed`` as its suggestion (pyhf's ``fixed_params`` replace
    the suggestion, hfx's ``fixed`` add to it).
    """
    from hfx.compat.pyhf.infer._duck import WithFixed, as_native

    model = as_native(pdf)
    if fixed is not None:
        mask = np.array(fixed, dtype=bool).reshape(-1)
        suggested = np.array(model.config.suggested_fixed(), dtype=bool).reshape(-1)
        if mask.shape == suggested.shape and np.any(suggested & ~mask):
            model = WithFixed(model, mask)
    return model


def as_data(data: Any) -> np.ndarray:
    """Observed main data followed by auxiliary data, as a float64 array."""
    if hasattr(data, "detach"):
        data = data.detach().cpu()
    return np.array(data, dtype=np.float64)


def scalar(value: Any) -> np.ndarray:
    """A 0-d float64 array, as pyhf's NumPy backend returns for scalars."""
    return np.asarray(float(np.asarray(value, dtype=np.float64)), dtype=np.float64)


def vector(value: Any) -> np.ndarray:
    return np.array(value, dtype=np.float64).reshape(-1)


def _empty(value: Any) -> bool:
    """pyhf's ``x or default``: None or an empty sequence means 'use the default'."""
    if value is None:
        return True
    try:
        return len(value) == 0
    except TypeError:
        return False


def fit_settings(pdf: Any, init_pars: Any, par_bounds: Any, fixed_params: Any) -> dict[str, Any]:
    """hfx's ``init``/``bounds``/``fixed`` keywords for pyhf's three optional arguments."""
    cfg = pdf.config
    init = cfg.suggested_init() if _empty(init_pars) else init_pars
    bounds = cfg.suggested_bounds() if _empty(par_bounds) else par_bounds
    fixed = cfg.suggested_fixed() if _empty(fixed_params) else fixed_params
    return {
        "init": vector(init),
        "bounds": np.array(bounds, dtype=np.float64).reshape(-1, 2),
        "fixed": np.array(fixed, dtype=bool).reshape(-1),
    }


def poi_index(pdf: Any, purpose: str) -> int:
    idx = pdf.config.poi_index
    if idx is None:
        raise ModelError(f"No POI is defined. A POI is required {purpose}.")
    return int(idx)


def optimizer_settings(optimizer: Any = None, **options: Any) -> _Optimizer:
    """The facade optimizer for a call: ``optimizer`` (or the default) with per-fit options."""
    opt = default_optimizer() if optimizer is None else None
    if opt is None:
        if not isinstance(optimizer, (str, bytes, _Optimizer)):
            raise HfxError(
                f"unsupported optimizer {optimizer!r}: use 'scipy', 'minuit' or an object from "
                "hfx.compat.pyhf.optimize"
            )
        opt = _as_optimizer(optimizer)
    options = {k: v for k, v in options.items() if v is not None}
    return opt.with_options(**options) if options else opt


def native_optimizer(optimizer: Any = None, **options: Any) -> Any:
    """The hfx optimizer object for a call (see :func:`optimizer_settings`).

    None when the call uses pyhf's default (scipy, default settings): hfx's default
    optimizer then runs with its own tolerances.
    """
    opt = optimizer_settings(optimizer, **options)
    if opt == scipy_optimizer():
        return None
    return opt.to_native()


def infer_kwargs(
    pdf: Any, init_pars: Any, par_bounds: Any, fixed_params: Any, optimizer: Any
) -> dict[str, Any]:
    """The keyword arguments of an ``hfx.infer`` call for pyhf's fit arguments."""
    return {**fit_settings(pdf, init_pars, par_bounds, fixed_params), "optimizer": optimizer}
