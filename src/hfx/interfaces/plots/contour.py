"""An exclusion plot of a scan: the points coloured by observed CLs, the observed and expected
CLs = level contours and the expected ±1σ band."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from hfx.interfaces.plots._common import PathArg, figure, save_figure, style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from hfx.interfaces.scan.contour import ContourResult

__all__ = ["contour_plot"]

_BAND = "#ffd92f"
# the colour scale ends this many decades below the level (points below are the darkest)
_DECADES_BELOW = 6


def contour_plot(
    result: ContourResult,
    records: Iterable[Mapping[str, Any]] | None = None,
    path: PathArg | None = None,
) -> Figure:
    """The points of ``result`` coloured by observed CLs (log scale), the observed (red) and
    expected (dashed) CLs = level contours with the expected ±1σ band (yellow); points of
    ``records`` that failed are marked with grey crosses."""
    with style():
        from matplotlib.colors import LogNorm
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch

        fig = figure(6.4, 5.0)
        ax = fig.add_subplot()
        gx, gy = result.grid_x, result.grid_y
        low, high = result.grids["expected_minus1sigma"], result.grids["expected_plus1sigma"]
        # > 0 strictly between the −1σ and +1σ contours: zero on both, smooth in between
        between = -(low - result.z_level) * (high - result.z_level)
        between = np.ma.masked_invalid(between)
        if np.ma.count(between) and float(between.max()) > 0.0:
            ax.contourf(
                gx, gy, between, levels=[0.0, float(between.max())], colors=[_BAND], zorder=1
            )
        for name, colour, dash in (("expected", "black", "--"), ("observed", "#d62728", "-")):
            for line in result.curves[name]:
                xy = np.asarray(line)
                ax.plot(xy[:, 0], xy[:, 1], color=colour, ls=dash, lw=2.0, zorder=4)
        cls = np.clip(result.cls_obs, 1e-300, 1.0)
        vmin = min(max(float(cls.min()), result.level * 10.0**-_DECADES_BELOW), result.level)
        points = ax.scatter(
            result.point_x,
            result.point_y,
            c=cls,
            cmap="viridis",
            norm=LogNorm(vmin=vmin, vmax=1.0, clip=True),
            s=28,
            edgecolors="#333333",
            linewidths=0.4,
            zorder=3,
        )
        bar = fig.colorbar(points, ax=ax, extend="min" if float(cls.min()) < vmin else "neither")
        bar.set_label("observed CLs")
        bar.ax.axhline(result.level, color="#d62728", lw=1.5)
        handles: list[Any] = [
            Line2D([], [], color="#d62728", lw=2.0, label="observed"),
            Line2D([], [], color="black", lw=2.0, ls="--", label="expected"),
            Patch(facecolor=_BAND, label=r"expected $\pm 1\sigma$"),
        ]
        failed = _failed_positions(records, result.x_index, result.y_index)
        if len(failed):
            ax.scatter(failed[:, 0], failed[:, 1], marker="x", color="grey", s=30, zorder=3)
            handles.append(Line2D([], [], color="grey", marker="x", ls="", label="failed points"))
        for axis_set, values in ((ax.set_xlim, result.point_x), (ax.set_ylim, result.point_y)):
            pad = 0.03 * float(np.ptp(values))  # whole markers at the edges
            axis_set(float(values.min()) - pad, float(values.max()) + pad)
        ax.set_xlabel(result.x)
        ax.set_ylabel(result.y)
        ax.set_title(f"CLs = {result.level:g} exclusion")
        ax.legend(handles=handles, loc="best", frameon=True, framealpha=0.9)
        fig.tight_layout()
    save_figure(fig, path)
    return fig


def _failed_positions(
    records: Iterable[Mapping[str, Any]] | None, ix: int, iy: int
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """(x, y) of the latest record of each failed point that has both values."""
    if records is None:
        return np.empty((0, 2))
    from hfx.interfaces.scan.records import latest_by_name

    out = []
    for record in latest_by_name(records).values():
        values = record.get("values")
        if record.get("status") == "ok" or not isinstance(values, list):
            continue
        try:
            out.append((float(values[ix]), float(values[iy])))
        except (IndexError, TypeError, ValueError):
            continue
    return np.array(out, dtype=float).reshape(-1, 2)
