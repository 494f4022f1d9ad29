"""MIGRAD (iminuit, extra ``minuit``) with the model's exact gradient.

MIGRAD's seed gets the diagonal second derivatives from the Gauss-Newton curvature of
the exact Jacobian (when the model provides it), which saves the 2·npars numerical calls
of the seed.  Uncertainties are not taken from Minuit's HESSE (second differences of
−log L) but from the Hessian of differences of the exact gradient
(:func:`hfx.optimize.common.hessian`), more accurate and the same for every optimizer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hfx.errors import FitError, MissingExtraError
from hfx.optimize import gauss_newton
from hfx.optimize.problem import Objective, single_threaded_blas
from hfx.optimize.result import Minimum


def _iminuit() -> Any:  # the iminuit module (untyped: no py.typed, no stubs)
    try:
        import iminuit
    except ImportError:
        raise MissingExtraError(
            "the minuit optimizer needs iminuit; install it with `pip install 'hfx[minuit]'`"
        ) from None
    return iminuit


@dataclass(frozen=True)
class MinuitOptimizer:
    """MIGRAD on the free parameters with ``errordef`` 0.5 (the objective is −log L).

    ``strategy`` None means 0 (the gradient is exact, so MIGRAD needs no extra
    derivative calls); ``tolerance`` is Minuit's EDM tolerance (goal 0.002·tol·errordef);
    ``ncall`` caps the function calls (None: Minuit's default).  ``steps`` sets the initial
    step to (upper − lower)/steps for bounded parameters.
    """

    strategy: int | None = None
    tolerance: float = 0.1
    ncall: int | None = None
    steps: int = 1000
    name = "minuit"

    def __post_init__(self) -> None:
        if self.strategy not in (None, 0, 1, 2):
            raise FitError(f"Minuit strategy must be None, 0, 1 or 2, not {self.strategy!r}")
        if not self.tolerance > 0:
            raise FitError(f"Minuit tolerance must be positive, not {self.tolerance!r}")

    def with_strategy(self, strategy: int) -> MinuitOptimizer:
        """A copy with another strategy (the retry logic uses strategy 2)."""
        return MinuitOptimizer(strategy, self.tolerance, self.ncall, self.steps)

    def minimize(self, obj: Objective, x0: np.ndarray, bnds: np.ndarray) -> Minimum:
        """Minimise ``obj`` from ``x0`` inside ``bnds`` [nfree, 2]."""
        iminuit = _iminuit()
        if x0.size == 0:
            fun, _ = obj(x0)
            return Minimum(x0, fun, bool(np.isfinite(fun) and fun < 1e299), "no free parameters")

        def fcn(x: np.ndarray) -> float:
            return obj(x)[0]

        def grad(x: np.ndarray) -> np.ndarray:
            return obj(x)[1]

        extra = {}
        if gauss_newton.supports(obj.model):
            # exact-Jacobian curvature for MIGRAD's seed instead of 2·npars numerical calls
            extra["g2"] = gauss_newton.diagonal_curvature(obj.model, obj.data, obj.full, obj.free)
        m = iminuit.Minuit(fcn, x0, grad=grad, name=[f"x{i}" for i in range(x0.size)], **extra)
        m.errordef = iminuit.Minuit.LIKELIHOOD
        m.print_level = 0
        m.strategy = 0 if self.strategy is None else self.strategy
        m.tol = self.tolerance
        finite = np.isfinite(bnds).all(axis=1)
        width = np.where(finite, bnds[:, 1] - bnds[:, 0], 0.0)
        m.errors = np.where(finite & (width > 0), width / self.steps, 0.01 * np.maximum(1, abs(x0)))
        m.limits = [
            (lo if np.isfinite(lo) else None, hi if np.isfinite(hi) else None) for lo, hi in bnds
        ]
        with single_threaded_blas():
            m.migrad(ncall=self.ncall)
        fmin = m.fmin
        x = np.array(m.values, dtype=np.float64)
        fun, _ = obj(x)
        converged = bool(fmin.is_valid) and np.isfinite(fun) and fun < 1e299
        problems = [
            label
            for flag, label in (
                (fmin.has_reached_call_limit, "call limit reached"),
                (fmin.is_above_max_edm, f"EDM {fmin.edm:.3g} above goal"),
                (not fmin.has_valid_parameters, "invalid parameters"),
            )
            if flag
        ]
        msg = f"Minuit MIGRAD (strategy {m.strategy.strategy}): " + (
            "valid minimum" if converged else ", ".join(problems) or "invalid minimum"
        )
        return Minimum(x, float(fun), converged, msg, coarse=True)
