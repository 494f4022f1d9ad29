"""Maximum-likelihood fits of compiled models: optimizers as values, scalar and batched fits."""

from __future__ import annotations

from hfx.optimize.api import OPTIMIZER_NAMES, fit, fixed_poi_fit, get_optimizer
from hfx.optimize.common import hessian
from hfx.optimize.minuit_fit import MinuitOptimizer
from hfx.optimize.result import FitResult
from hfx.optimize.scipy_fit import ScipyOptimizer

__all__ = [
    "OPTIMIZER_NAMES",
    "FitResult",
    "MinuitOptimizer",
    "ScipyOptimizer",
    "fit",
    "fixed_poi_fit",
    "get_optimizer",
    "hessian",
]
