"""Maximum-likelihood fits of compiled models."""

from __future__ import annotations

from hfx.optimize.result import FitResult
from hfx.optimize.scipy_fit import fit, fixed_poi_fit, hessian

__all__ = ["FitResult", "fit", "fixed_poi_fit", "hessian"]
