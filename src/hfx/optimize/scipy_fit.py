"""The default optimizer: ``scipy.optimize.minimize`` (L-BFGS-B) with the model's exact gradient."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hfx.optimize import gauss_newton
from hfx.optimize.problem import Objective, projected_gradient, single_threaded_blas
from hfx.optimize.result import Minimum


@dataclass(frozen=True)
class ScipyOptimizer:
    """L-BFGS-B on the free parameters.

    ``tolerance`` is L-BFGS-B's relative ``ftol``; convergence is then confirmed by a small
    projected gradient (components pushing against an active bound do not count).
    """

    tolerance: float = 1e-12
    maxiter: int = 10000
    name = "scipy"

    def minimize(self, obj: Objective, x0: np.ndarray, bnds: np.ndarray) -> Minimum:
        """Minimise ``obj`` from ``x0`` inside ``bnds`` [nfree, 2]."""
        if x0.size == 0:
            fun, _ = obj(x0)
            return Minimum(x0, fun, bool(np.isfinite(fun) and fun < 1e299), "no free parameters")
        # precondition: work in y = x·s with s² the Gauss-Newton diagonal at the start
        scale = np.ones_like(x0)
        if gauss_newton.supports(obj.model):
            g2 = gauss_newton.diagonal_curvature(obj.model, obj.data, obj.full, obj.free)
            scale = np.sqrt(g2(x0))

        def scaled(y: np.ndarray) -> tuple[float, np.ndarray]:
            f, g = obj(y / scale)
            return f, g / scale

        from scipy.optimize import minimize  # 0.3 s to import: only once a fit falls back here

        with single_threaded_blas():
            res = minimize(
                scaled,
                x0 * scale,
                jac=True,
                method="L-BFGS-B",
                bounds=[
                    (lo if np.isfinite(lo) else None, hi if np.isfinite(hi) else None)
                    for lo, hi in bnds * scale[:, None]
                ],
                options={
                    "maxiter": self.maxiter,
                    "maxfun": 10 * self.maxiter,
                    "ftol": self.tolerance,
                    "gtol": 1e-9,
                    "maxcor": 30,
                },
            )
        res.x = np.clip(np.asarray(res.x) / scale, bnds[:, 0], bnds[:, 1])
        x, fun = np.asarray(res.x, dtype=np.float64), float(res.fun)
        msg = f"scipy L-BFGS-B: {res.message}"
        if not np.isfinite(fun) or fun >= 1e299:
            return Minimum(x, fun, False, msg)
        _, g = obj(x)
        converged = projected_gradient(x, g, bnds) <= 1e-3 * max(1.0, abs(fun)) ** 0.5
        if not converged:
            msg += " (gradient not small at the end point)"
        return Minimum(x, fun, converged, msg)

    def with_strategy(self, strategy: int) -> ScipyOptimizer:
        """Scipy has no strategies; the same optimizer (used by the retry logic)."""
        return self
