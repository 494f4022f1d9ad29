"""Projected Newton with the exact Jacobian for one fit: the first attempt of a default fit.

The iterations of :mod:`hfx.optimize.newton` (or their compiled form, by ``engine``) on a
single row: Gauss-Newton + secant curvature, the exact curvature near the minimum,
converging in a handful of iterations where L-BFGS-B needs tens of gradient calls.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from hfx.optimize import engines, gauss_newton, kernel
from hfx.optimize.problem import Objective
from hfx.optimize.result import Minimum

__all__ = ["NewtonOptimizer"]


@dataclass(frozen=True)
class NewtonOptimizer:
    """Projected Newton on the free parameters; converged when the Newton decrement (the
    predicted decrease of −log L) is below ``tolerance``.  ``engine``: a resolved engine
    (:func:`~hfx.optimize.engines.resolve_engine`), "numpy" or "numba"."""

    tolerance: float = 1e-13
    maxiter: int = 100
    engine: str = "numpy"
    name = "newton"

    @staticmethod
    def applies(model: Any) -> bool:
        """Whether ``model`` has the exact Jacobian and is small enough for dense steps."""
        return gauss_newton.newton_ok(model)

    def minimize(self, obj: Objective, x0: np.ndarray, bnds: np.ndarray) -> Minimum:
        """Minimise ``obj`` from ``x0`` inside ``bnds`` [nfree, 2]."""
        if x0.size == 0:
            fun, _ = obj(x0)
            return Minimum(x0, fun, bool(np.isfinite(fun) and fun < 1e299), "no free parameters")
        lo = np.ascontiguousarray(bnds[:, 0], dtype=np.float64)
        hi = np.ascontiguousarray(bnds[:, 1], dtype=np.float64)
        start = obj.expand(np.minimum(np.maximum(x0, lo), hi))
        data = np.ascontiguousarray(obj.data, dtype=np.float64)[None, :]
        if self.engine == "numba" and x0.size <= kernel.MAX_FREE:
            # the end point and −log L there in one compiled call
            idx = np.ascontiguousarray(obj.idx, dtype=np.int64)
            x, ok, twice, niter = kernel.fit_one(
                obj.model, data, start[None, :], idx, lo, hi, float(self.tolerance),
                int(self.maxiter),
            )  # fmt: skip
            obj.ncalls += 1
            fun = 0.5 * twice
            converged = ok and math.isfinite(fun) and fun < 1e299
        else:  # (−log L through the objective: its gradient there is kept for the Hessian)
            rows, done, niter = engines.newton_rows(
                self.engine, obj.model, data, start[None, :], obj.free, lo, hi,
                self.tolerance, self.maxiter,
            )  # fmt: skip
            x = rows[0]
            fun, _ = obj(x)
            converged = bool(done[0]) and bool(np.isfinite(fun)) and fun < 1e299
        state = "converged" if converged else "did not converge"
        return Minimum(x, fun, converged, f"Newton: {state} in {niter} iterations")

    def with_strategy(self, strategy: int) -> NewtonOptimizer:
        """Newton has no strategies; the same optimizer (used by the retry logic)."""
        return self
