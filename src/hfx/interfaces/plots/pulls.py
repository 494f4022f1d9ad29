"""Pulls of the constrained parameters: (θ̂ − θ₀)/Δθ with σ̂/Δθ as error bar, ±1σ/±2σ bands."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from hfx.interfaces.plots._common import PathArg, figure, save_figure, style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from hfx.diagnostics import PullsResult

__all__ = ["pulls_plot"]


def pulls_plot(
    result: PullsResult, path: PathArg | None = None, *, title: str | None = None
) -> Figure:
    """One row per parameter (the first at the top): the pull with its post-fit constraint
    as error bar; green ±1 and yellow ±2 bands; the x range at least [−3, 3]."""
    pulls = list(result)
    names = [p.name for p in pulls]
    values = np.array([p.pull for p in pulls], dtype=float)
    errors = np.array([p.constraint for p in pulls], dtype=float)
    n = len(pulls)
    y = np.arange(n)[::-1].astype(float)
    with style():
        longest = max((len(name) for name in names), default=0)
        fig = figure(4.5 + 0.08 * longest, max(2.0, 0.28 * n + 1.0))
        ax = fig.add_subplot()
        ax.axvspan(-2, 2, color="#ffe066", zorder=0)
        ax.axvspan(-1, 1, color="#8ce99a", zorder=0)
        ax.axvline(0.0, color="grey", lw=0.8, ls="--", zorder=1)
        ax.errorbar(values, y, xerr=errors, fmt="o", color="black", ms=4, capsize=0, zorder=3)
        ax.set_yticks(y)
        ax.set_yticklabels(names)
        ax.set_ylim(-0.7, n - 0.3)
        ax.tick_params(axis="y", which="both", left=False, right=False)
        extent = float(np.max(np.abs(values) + errors)) if n else 0.0
        limit = max(3.0, float(np.ceil(extent + 0.5)))
        ax.set_xlim(-limit, limit)
        ax.set_xlabel(r"$(\hat\theta - \theta_0)\,/\,\Delta\theta$")
        if title:
            ax.set_title(title)
        fig.tight_layout()
    save_figure(fig, path)
    return fig
