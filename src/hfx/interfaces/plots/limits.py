"""The Brazil band: observed and expected CLs against the POI with the ±1σ/±2σ bands."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from hfx.errors import HfxError
from hfx.interfaces.plots._common import figure, save_figure, style

__all__ = ["brazil_plot"]


def brazil_plot(
    result: Any, path: str | os.PathLike[str] | None = None, *, poi_label: str = "μ"
) -> Any:
    """CLs curves of a scanned :class:`hfx.UpperLimitResult`, the CLs level and the limits."""
    if result.scan is None or result.cls_obs is None or result.cls_exp is None:
        raise HfxError(
            "a Brazil band needs the CLs curves of a scan: use upper_limit(..., scan=...)"
        )
    mu = np.asarray(result.scan, dtype=float)
    obs = np.asarray(result.cls_obs, dtype=float)
    exp = np.asarray(result.cls_exp, dtype=float)  # [5, n]: -2σ, -1σ, median, +1σ, +2σ
    with style():
        fig = figure(6.0, 4.5)
        ax = fig.add_subplot()
        ax.fill_between(mu, exp[0], exp[4], color="#ffe066", lw=0, label=r"expected $\pm 2\sigma$")
        ax.fill_between(mu, exp[1], exp[3], color="#69db7c", lw=0, label=r"expected $\pm 1\sigma$")
        ax.plot(mu, exp[2], color="black", ls="--", lw=1.2, label="expected")
        ax.plot(mu, obs, color="black", lw=1.6, label="observed")
        ax.axhline(result.level, color="red", lw=1.0, label=f"CLs = {result.level:g}")
        ax.axvline(result.obs, color="black", lw=0.8, ls=":")
        ax.axvline(result.exp[2], color="dimgrey", lw=0.8, ls=":")
        ax.set_xlabel(poi_label)
        ax.set_ylabel("CLs")
        ax.set_xlim(float(mu.min()), float(mu.max()))
        ax.set_ylim(0.0, 1.05)
        ax.text(
            0.97,
            0.62,
            f"observed limit {result.obs:.3g}\nexpected limit {result.exp[2]:.3g}"
            f" (+{result.exp[3] - result.exp[2]:.2g} −{result.exp[2] - result.exp[1]:.2g})",
            transform=ax.transAxes,
            ha="right",
            va="top",
            fontsize=9,
        )
        ax.legend(loc="upper right", frameon=False)
        fig.tight_layout()
    save_figure(fig, path)
    return fig
