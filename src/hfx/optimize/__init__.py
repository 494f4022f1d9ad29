"""Maximum-likelihood fits of compiled models: optimizers as values, scalar and batched fits."""

from __future__ import annotations

from hfx.optimize.api import OPTIMIZER_NAMES, fit, fixed_poi_fit, get_optimizer
from hfx.optimize.batched import BatchFitResult, fit_batch, fixed_poi_fit_batch
from hfx.optimize.common import hessian
from hfx.optimize.minuit_fit import MinuitOptimizer
from hfx.optimize.result import FitResult
from hfx.optimize.scipy_fit import ScipyOptimizer

__all__ = [
    "OPTIMIZER_NAMES",
    "BatchFitResult",
    "FitResult",
    "MinuitOptimizer",
    "ScipyOptimizer",
    "fit",
    "fit_batch",
    "fixed_poi_fit",
    "fixed_poi_fit_batch",
    "get_optimizer",
    "hessian",
]
