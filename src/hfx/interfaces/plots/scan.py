"""A profile-likelihood scan: Δ(−2 log L) against the parameter, with the 68%/95% levels."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from hfx.interfaces.plots._common import figure, save_figure, style

__all__ = ["scan_plot"]

_LEVELS = ((1.0, "68% CL"), (3.841458820694124, "95% CL"))


def scan_plot(scan: Any, path: str | os.PathLike[str] | None = None) -> Any:
    """Δ(−2 log L) of :class:`hfx.infer.ProfileScan` with its crossings of 1 and 3.84."""
    x = np.asarray(scan.values, dtype=float)
    y = np.asarray(scan.delta_twice_nll, dtype=float)
    order = np.argsort(x)
    with style():
        fig = figure(6.0, 4.5)
        ax = fig.add_subplot()
        ax.plot(
            x[order], y[order], color="black", lw=1.5, marker="o", ms=3, label="profile likelihood"
        )
        for level, label in _LEVELS:
            ax.axhline(level, color="grey", lw=0.8, ls="--")
            ax.text(
                float(x[np.argmin(y)]),  # above the minimum, where the curve is not
                level,
                label,
                va="bottom",
                ha="center",
                fontsize=8,
                color="grey",
            )
            for edge in scan.crossings(level):
                if edge is not None:
                    ax.axvline(edge, color="#1c7ed6", lw=0.6, ls=":")
        ax.set_xlabel(scan.par)
        ax.set_ylabel(r"$-2\,\Delta \log L$")
        ax.set_xlim(float(x.min()), float(x.max()))
        ax.set_ylim(0.0, max(1.1 * float(np.nanmax(y)), 4.5))
        ax.legend(loc="upper center", frameon=False)
        fig.tight_layout()
    save_figure(fig, path)
    return fig
