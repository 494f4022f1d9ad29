"""A profile-likelihood scan: Δ(−2 log L) against the parameter, with the 68%/95% levels."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from hfx.interfaces.plots._common import PathArg, figure, save_figure, style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from hfx.infer import ProfileScan

__all__ = ["scan_plot"]

# Δ(−2 log L) of a 68.27% and a 95% interval of one parameter, and their colours
_LEVELS = ((1.0, "68% CL", "#1c7ed6"), (3.841458820694124, "95% CL", "#e8590c"))


def scan_plot(scan: ProfileScan, path: PathArg | None = None) -> Figure:
    """Δ(−2 log L) of ``scan`` with the levels 1 and 3.84 (dashed) and where the curve crosses
    them (dotted; the intervals in the legend)."""
    x = np.asarray(scan.values, dtype=float)
    y = np.asarray(scan.delta_twice_nll, dtype=float)
    order = np.argsort(x)
    with style():
        from matplotlib.lines import Line2D

        fig = figure(6.0, 4.5)
        ax = fig.add_subplot()
        ax.plot(
            x[order], y[order], color="black", lw=1.5, marker="o", ms=3, label="profile likelihood"
        )
        handles = list(ax.get_lines())
        for level, name, colour in _LEVELS:
            ax.axhline(level, color="grey", lw=0.8, ls="--")
            ax.text(
                float(x[np.argmin(y)]),  # above the minimum, where the curve is not
                level,
                name,
                va="bottom",
                ha="center",
                fontsize=8,
                color="grey",
            )
            edges = scan.crossings(level)
            for edge in edges:
                if edge is not None:
                    ax.axvline(edge, color=colour, lw=0.8, ls=":")
            handles.append(
                Line2D([], [], color=colour, lw=0.8, ls=":", label=f"{name}: {_interval(*edges)}")
            )
        ax.set_xlabel(scan.par)
        ax.set_ylabel(r"$-2\,\Delta \log L$")
        ax.set_xlim(float(x.min()), float(x.max()))
        ax.set_ylim(0.0, max(1.1 * float(np.max(y)), 4.5))
        ax.legend(handles=handles, loc="upper center", frameon=False)
        fig.tight_layout()
    save_figure(fig, path)
    return fig


def _interval(low: float | None, high: float | None) -> str:
    """An interval as the legend shows it; a side the scan did not reach is left open."""
    if low is not None and high is not None:
        return f"[{low:.3g}, {high:.3g}]"
    if high is not None:
        return f"< {high:.3g} (lower end not reached)"
    if low is not None:
        return f"> {low:.3g} (upper end not reached)"
    return "not reached in the scanned range"
