"""Fit diagnostics: inference on top of fits that shows what a fit did (DESIGN.md §6).

:func:`ranking` — the POI's shift when each nuisance parameter is held at its pre- and
post-fit ±1σ values (cabinetry's impact definitions).
"""

from __future__ import annotations

from hfx.diagnostics.ranking import Impact, RankingResult, prefit_widths, ranking

__all__ = ["Impact", "RankingResult", "prefit_widths", "ranking"]
