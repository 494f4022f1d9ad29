"""Maximum-likelihood fits of compiled models: the door the inference layer uses.

``fit`` / ``fixed_poi_fit`` make one fit; ``fit_batch`` / ``fixed_poi_fit_batch`` many at
once.  How they run is a :class:`FitPlan` value (:func:`make_plan`): the optimizer ("auto",
"scipy", "minuit" or an instance) and the engine ("auto", "numpy", "numba").
"""

from __future__ import annotations

from hfx.optimize.api import fit, fixed_poi_fit
from hfx.optimize.batched import fit_batch, fixed_poi_fit_batch
from hfx.optimize.covariance import hessian
from hfx.optimize.engines import ENGINES
from hfx.optimize.minuit_fit import MinuitOptimizer
from hfx.optimize.newton_fit import NewtonOptimizer
from hfx.optimize.plan import OPTIMIZER_NAMES, FitPlan, get_optimizer, make_plan
from hfx.optimize.result import BatchFitResult, FitResult, zero_matrix
from hfx.optimize.scipy_fit import ScipyOptimizer

__all__ = [
    "ENGINES",
    "OPTIMIZER_NAMES",
    "BatchFitResult",
    "FitPlan",
    "FitResult",
    "MinuitOptimizer",
    "NewtonOptimizer",
    "ScipyOptimizer",
    "fit",
    "fit_batch",
    "fixed_poi_fit",
    "fixed_poi_fit_batch",
    "get_optimizer",
    "hessian",
    "make_plan",
    "zero_matrix",
]
