"""The Brazil band: observed and expected CLs against the POI with the ±1σ/±2σ bands."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from hfx.errors import HfxError
from hfx.interfaces.plots._common import PathArg, figure, save_figure, style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from hfx.infer import UpperLimitResult

__all__ = ["brazil_plot"]


def brazil_plot(
    result: UpperLimitResult, path: PathArg | None = None, *, poi_label: str = "μ"
) -> Figure:
    """CLs curves of a scanned upper limit (``upper_limit(..., scan=...)``): observed (solid),
    expected median (dashed) with its ±1σ (green) and ±2σ (yellow) bands, the CLs level
    (red) and the observed and expected limits (dotted, values in the legend)."""
    if result.scan is None or result.cls_obs is None or result.cls_exp is None:
        raise HfxError(
            "a Brazil band needs the CLs curves of a scan: use upper_limit(..., scan=...)"
        )
    mu = np.asarray(result.scan, dtype=float)
    obs = np.asarray(result.cls_obs, dtype=float)
    exp = np.asarray(result.cls_exp, dtype=float)  # [5, n]: -2σ, -1σ, median, +1σ, +2σ
    up, down = result.exp[3] - result.exp[2], result.exp[2] - result.exp[1]
    with style():
        fig = figure(6.0, 4.5)
        ax = fig.add_subplot()
        ax.plot(mu, obs, color="black", lw=1.6, label="observed", zorder=4)
        ax.plot(mu, exp[2], color="black", ls="--", lw=1.2, label="expected", zorder=3)
        ax.fill_between(mu, exp[1], exp[3], color="#69db7c", lw=0, label=r"expected $\pm 1\sigma$")
        ax.fill_between(mu, exp[0], exp[4], color="#ffe066", lw=0, label=r"expected $\pm 2\sigma$")
        ax.collections[-1].set_zorder(ax.collections[0].get_zorder() - 0.1)  # yellow under green
        ax.axhline(result.level, color="red", lw=1.0, label=f"CLs = {result.level:g}")
        ax.axvline(
            result.obs, color="black", lw=0.9, ls=":", label=f"observed limit {result.obs:.3g}"
        )
        ax.axvline(
            result.exp[2],
            color="dimgrey",
            lw=0.9,
            ls=(0, (1, 3)),
            label=f"expected limit ${result.exp[2]:.3g}^{{+{up:.2g}}}_{{-{down:.2g}}}$",
        )
        ax.set_xlabel(poi_label)
        ax.set_ylabel("CLs")
        ax.set_xlim(float(mu.min()), float(mu.max()))
        ax.set_ylim(0.0, 1.05)
        ax.legend(loc="upper right", frameon=False)
        fig.tight_layout()
    save_figure(fig, path)
    return fig
