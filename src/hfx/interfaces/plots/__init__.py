"""Plots of hfx's results (extra ``plot``: matplotlib; mplhep's style where installed).

Every function takes a result object, returns a matplotlib ``Figure`` (no GUI needed) and,
with ``path``, saves it there atomically (format from the suffix).
"""

from __future__ import annotations

from hfx.interfaces.plots._common import save_figure
from hfx.interfaces.plots.contour import contour_plot
from hfx.interfaces.plots.correlation import correlation_plot
from hfx.interfaces.plots.limits import brazil_plot
from hfx.interfaces.plots.modifiers import modifier_grid_plot, templates_plot, templates_plots
from hfx.interfaces.plots.posterior import posterior_plot
from hfx.interfaces.plots.pulls import pulls_plot
from hfx.interfaces.plots.ranking import ranking_plot
from hfx.interfaces.plots.scan import scan_plot
from hfx.interfaces.plots.yields import yields_plot, yields_plots

__all__ = [
    "brazil_plot",
    "contour_plot",
    "correlation_plot",
    "modifier_grid_plot",
    "posterior_plot",
    "pulls_plot",
    "ranking_plot",
    "save_figure",
    "scan_plot",
    "templates_plot",
    "templates_plots",
    "yields_plot",
    "yields_plots",
]
