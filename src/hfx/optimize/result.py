"""What fits return: one fit's :class:`FitResult`, a batch's :class:`BatchFitResult`, and an
optimizer run's :class:`Minimum`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["BatchFitResult", "FitResult", "Minimum", "zero_matrix"]


def zero_matrix(n: int) -> np.ndarray:
    """A read-only [n, n] matrix of zeros (backed by a single value when n is large)."""
    if n <= 64:  # (allocating is quicker than broadcasting for small n)
        zeros = np.zeros((n, n))
        zeros.setflags(write=False)  # (quicker than through the flags object)
        return zeros
    return np.broadcast_to(np.zeros(1), (n, n))


@dataclass(frozen=True)
class FitResult:
    """Best-fit parameters, −2 log L at the minimum and the Hessian-based uncertainties.

    ``uncertainties``, ``covariance`` and ``correlation`` refer to the full parameter vector;
    fixed parameters have zero uncertainty and zero rows/columns in both matrices (the
    correlation diagonal is 1 for free parameters only, as Minuit reports it).  Fits made
    without uncertainties hold read-only zero matrices that take no memory (see
    :func:`zero_matrix`), so models with 10⁴ parameters need no 10⁸-element arrays.
    """

    bestfit: np.ndarray
    uncertainties: np.ndarray
    covariance: np.ndarray
    correlation: np.ndarray
    twice_nll: float
    success: bool
    message: str
    nfev: int
    ngrad: int
    par_names: tuple[str, ...]
    fixed: np.ndarray

    @classmethod
    def _made(cls, **fields: Any) -> FitResult:
        """A result from every field by keyword, as the constructor makes it without its one
        attribute call per field (a fast path's result object costs microseconds)."""
        if fields.keys() != _FIT_RESULT_FIELDS:
            raise TypeError(f"FitResult fields: {sorted(_FIT_RESULT_FIELDS)}")
        result = object.__new__(cls)
        result.__dict__.update(fields)
        return result

    @property
    def nll(self) -> float:
        """−log L at the minimum."""
        return 0.5 * self.twice_nll

    def value(self, name: str) -> float:
        """Best-fit value of the component labelled ``name`` (e.g. ``mu`` or ``gamma[1]``)."""
        return float(self.bestfit[self.par_names.index(name)])

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python (JSON-serialisable) view of the result."""
        return {
            "bestfit": [float(v) for v in self.bestfit],
            "uncertainties": [float(v) for v in self.uncertainties],
            "covariance": np.asarray(self.covariance, dtype=float).tolist(),
            "correlation": np.asarray(self.correlation, dtype=float).tolist(),
            "twice_nll": float(self.twice_nll),
            "success": bool(self.success),
            "message": str(self.message),
            "nfev": int(self.nfev),
            "ngrad": int(self.ngrad),
            "par_names": list(self.par_names),
            "fixed": [bool(v) for v in self.fixed],
        }


_FIT_RESULT_FIELDS = frozenset(FitResult.__dataclass_fields__)


@dataclass(frozen=True)
class BatchFitResult:
    """Per-row best fits of a batched minimisation.

    ``niter`` is the number of Newton iterations of the batch; ``nfallback`` how many rows
    were refitted with the scalar L-BFGS-B :func:`~hfx.optimize.fit` (``success`` is False only for
    rows where that failed too).
    """

    bestfit: np.ndarray
    twice_nll: np.ndarray
    success: np.ndarray
    niter: int
    nfallback: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python (JSON-serialisable) view of the result."""
        return {
            "bestfit": np.asarray(self.bestfit, dtype=float).tolist(),
            "twice_nll": [float(v) for v in self.twice_nll],
            "success": [bool(v) for v in self.success],
            "niter": int(self.niter),
            "nfallback": int(self.nfallback),
        }


@dataclass
class Minimum:
    """What one optimizer run found (over the free parameters)."""

    x: np.ndarray
    fun: float
    converged: bool
    message: str
    coarse: bool = False  # stopped on a loose criterion (Minuit's EDM): polish the minimum
