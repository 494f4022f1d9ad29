"""Pulls and correlations of a fit: how far the data moved each constrained parameter from its
nominal value, in units of its pre-fit width, and which parameters the fit ties together.

The pull of a constrained parameter is (θ̂ − θ₀)/Δθ with θ₀ its nominal value (0 for normsys
and histosys, 1 for staterror, shapesys and lumi) and Δθ its pre-fit width; σ̂/Δθ is its
post-fit constraint (below 1: the data know more about it than its constraint did).  Free
(normfactor, shapefactor) and fixed parameters have no pull.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hfx.diagnostics.ranking import prefit_widths
from hfx.diagnostics.yields import prefit_parameters
from hfx.errors import HfxError
from hfx.optimize import FitResult

__all__ = ["Correlations", "Pull", "PullsResult", "correlations", "pulls"]


@dataclass(frozen=True)
class Pull:
    """One constrained parameter's best fit, uncertainty, nominal, pre-fit width and pull."""

    name: str
    bestfit: float
    uncertainty: float
    nominal: float
    prefit_width: float

    @property
    def pull(self) -> float:
        """(θ̂ − θ₀)/Δθ."""
        return (self.bestfit - self.nominal) / self.prefit_width

    @property
    def constraint(self) -> float:
        """σ̂/Δθ: the post-fit uncertainty in units of the pre-fit width."""
        return self.uncertainty / self.prefit_width

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "bestfit": self.bestfit,
            "uncertainty": self.uncertainty,
            "nominal": self.nominal,
            "prefit_width": self.prefit_width,
            "pull": self.pull,
            "constraint": self.constraint,
        }


@dataclass(frozen=True)
class PullsResult:
    """The pulls of every constrained, free parameter, in the model's parameter order."""

    pulls: tuple[Pull, ...]

    def __iter__(self) -> Any:
        return iter(self.pulls)

    def __len__(self) -> int:
        return len(self.pulls)

    def to_dict(self) -> dict[str, Any]:
        return {"pulls": [p.to_dict() for p in self.pulls]}


def pulls(model: Any, fit_result: FitResult) -> PullsResult:
    """Pulls of the constrained parameters that were free in ``fit_result``."""
    widths = prefit_widths(model)
    nominal = prefit_parameters(model)
    names = model.config.par_names
    fixed = np.asarray(fit_result.fixed, dtype=bool)
    out = [
        Pull(
            name=names[i],
            bestfit=float(fit_result.bestfit[i]),
            uncertainty=float(fit_result.uncertainties[i]),
            nominal=float(nominal[i]),
            prefit_width=float(widths[i]),
        )
        for i in range(model.config.npars)
        if widths[i] > 0.0 and not fixed[i]
    ]
    return PullsResult(tuple(out))


@dataclass(frozen=True)
class Correlations:
    """A correlation matrix and the labels of its rows (and columns)."""

    labels: tuple[str, ...]
    matrix: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        return {"parameters": list(self.labels), "matrix": self.matrix.tolist()}


def correlations(fit_result: FitResult, *, threshold: float = 0.0) -> Correlations:
    """The fit's correlation matrix over its free parameters; with ``threshold`` > 0 only the
    parameters correlated with at least one other by |ρ| ≥ threshold (the pruned view of a
    large model)."""
    if not 0.0 <= threshold <= 1.0:
        raise HfxError(f"the correlation threshold must lie in [0, 1], got {threshold}")
    free = np.flatnonzero(~np.asarray(fit_result.fixed, dtype=bool))
    corr = np.asarray(fit_result.correlation, dtype=float)[np.ix_(free, free)]
    if threshold > 0.0:
        off = np.abs(corr - np.diag(np.diag(corr)))
        keep = np.flatnonzero((off >= threshold).any(axis=1))
        free, corr = free[keep], corr[np.ix_(keep, keep)]
    labels = tuple(fit_result.par_names[i] for i in free)
    return Correlations(labels, corr)
