"""Fit diagnostics: inference on top of fits that shows what a fit did (DESIGN.md §6).

:func:`ranking` — the POI's shift when each nuisance parameter is held at its pre- and
post-fit ±1σ values (cabinetry's impact definitions).
:func:`pulls`, :func:`correlations` — pulls of the constrained parameters, the (pruned)
correlation matrix.
:func:`templates`, :func:`modifier_grid` — each sample's nominal and ±1σ templates, and
which modifier acts where.
:func:`yields` — pre- and post-fit yields per channel, sample and bin with uncertainties.
"""

from __future__ import annotations

from hfx.diagnostics.pulls import Correlations, Pull, PullsResult, correlations, pulls
from hfx.diagnostics.ranking import Impact, RankingResult, prefit_widths, ranking
from hfx.diagnostics.templates import (
    ModifierGrid,
    SampleTemplates,
    Variation,
    modifier_grid,
    templates,
)
from hfx.diagnostics.yields import ChannelYields, YieldsResult, prefit_parameters, yields

__all__ = [
    "ChannelYields",
    "Correlations",
    "Impact",
    "ModifierGrid",
    "Pull",
    "PullsResult",
    "RankingResult",
    "SampleTemplates",
    "Variation",
    "YieldsResult",
    "correlations",
    "modifier_grid",
    "prefit_parameters",
    "prefit_widths",
    "pulls",
    "ranking",
    "templates",
    "yields",
]
