"""Data against the stacked model per channel, with the model's uncertainty band and a
data/model ratio panel.

The samples are stacked largest (summed over the bins) at the bottom, so the small ones
sit on top where they stay visible; the legend lists data first, then the samples as they
appear from the top of the stack down, then the band.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hfx.interfaces.plots._common import PathArg, figure, save_figure, style

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from hfx.diagnostics import ChannelYields, YieldsResult

__all__ = ["yields_plot", "yields_plots"]

# colour cycle for the stacked samples (colour-blind friendly, Okabe-Ito)
_COLOURS = (
    "#56B4E9",
    "#E69F00",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#999999",
    "#882255",
    "#117733",
    "#44AA99",
    "#DDCC77",
)
_MOST_TICKS = 20  # bin numbers labelled on the x axis; every k-th beyond that


def yields_plot(
    channel: ChannelYields,
    path: PathArg | None = None,
    *,
    postfit: bool,
    bin_edges: Any = None,
    log: bool = False,
    xlabel: str | None = None,
) -> Figure:
    """Stacked samples of ``channel``, data with √n error bars, the total's ±1σ band
    hatched, and data/model below with the band's relative width around 1.

    ``bin_edges`` (nbins + 1): the observable's edges (x label ``xlabel``, default
    "observable"); without them the bins are numbered (x label "bin")."""
    yields = np.asarray(channel.yields, dtype=float)
    total = np.asarray(channel.total, dtype=float)
    stdev = np.asarray(channel.total_stdev, dtype=float)
    data = np.asarray(channel.data, dtype=float)
    nbins = total.size
    numbered = bin_edges is None
    edges = np.arange(nbins + 1, dtype=float) if numbered else np.asarray(bin_edges, float)
    centres = 0.5 * (edges[:-1] + edges[1:])
    order = np.argsort(-yields.sum(axis=1), kind="stable")
    with style():
        fig = figure(6.0, 6.0)
        grid = fig.add_gridspec(2, 1, height_ratios=(3, 1), hspace=0.05)
        top = fig.add_subplot(grid[0])
        ratio = fig.add_subplot(grid[1], sharex=top)
        bottom = np.zeros(nbins)
        stack = []
        for k, s in enumerate(order):
            stack.append(
                top.stairs(
                    bottom + yields[s],
                    edges,
                    baseline=bottom,
                    fill=True,
                    color=_COLOURS[k % len(_COLOURS)],
                    label=channel.samples[s],
                )
            )
            bottom = bottom + yields[s]
        band = top.stairs(
            total + stdev,
            edges,
            baseline=total - stdev,
            fill=False,
            hatch="///",
            color="none",
            edgecolor="dimgrey",
            lw=0,
            label="uncertainty",
        )
        top.stairs(total, edges, color="black", lw=0.8)
        points = top.errorbar(
            centres, data, yerr=np.sqrt(data), fmt="o", color="black", ms=4, label="data"
        )
        top.set_ylabel("events")
        handles = [points, *stack[::-1], band]
        rows = -(-len(handles) // 2)
        peak = max(float(np.max(total + stdev)), float(np.max(data + np.sqrt(data))), 1e-9)
        _leave_room(top, peak, yields[order[0]] if order.size else total, rows, log)
        stage = "post-fit" if postfit else "pre-fit"
        top.text(0.03, 0.95, f"{channel.name}\n{stage}", transform=top.transAxes, va="top")
        top.legend(handles=handles, loc="upper right", frameon=False, ncol=2)
        top.tick_params(labelbottom=False)
        _ratio_panel(ratio, edges, centres, data, total, stdev)
        ratio.set_xlabel("bin" if numbered else (xlabel or "observable"))
        ratio.set_xlim(edges[0], edges[-1])
        if numbered:
            step = -(-nbins // _MOST_TICKS)
            ratio.set_xticks(centres[::step])
            ratio.set_xticklabels([str(b) for b in range(0, nbins, step)])
            ratio.tick_params(axis="x", which="minor", bottom=False, top=False)
    save_figure(fig, path)
    return fig


def _leave_room(ax: Axes, peak: float, lowest: np.ndarray, rows: int, log: bool) -> None:
    """y range from 0 (linear) or below the stack's lowest layer (log) to above ``peak``,
    leaving the top of the axes to the legend's ``rows`` rows."""
    free = 1.0 - (0.08 + 0.05 * rows)  # fraction of the height the histogram may use
    if not log:
        ax.set_ylim(0.0, peak / free)
        return
    ax.set_yscale("log")
    positive = lowest[lowest > 0]
    floor = 0.5 * float(positive.min()) if positive.size else 1e-2 * peak
    floor = min(max(floor, 1e-4 * peak), 0.5 * peak)
    ax.set_ylim(floor, floor * (peak / floor) ** (1.0 / free))


def _ratio_panel(
    ax: Axes,
    edges: np.ndarray,
    centres: np.ndarray,
    data: np.ndarray,
    total: np.ndarray,
    stdev: np.ndarray,
) -> None:
    """data/model with √n/model error bars over the band 1 ± σ/model; bins without a
    model are left empty.  y from 0 to 2, or higher if a point lies above."""
    positive = total > 0
    safe = np.where(positive, total, 1.0)
    rel = np.where(positive, stdev / safe, 0.0)
    ax.stairs(
        1 + rel,
        edges,
        baseline=1 - rel,
        fill=False,
        hatch="///",
        color="none",
        edgecolor="dimgrey",
        lw=0,
    )
    ax.axhline(1.0, color="black", lw=0.8)
    values = data[positive] / total[positive]
    ax.errorbar(
        centres[positive],
        values,
        yerr=np.sqrt(data[positive]) / total[positive],
        fmt="o",
        color="black",
        ms=4,
    )
    highest = float(values.max()) if values.size else 0.0
    ax.set_ylim(0.0, max(2.0, float(np.ceil(2.4 * highest)) / 2))
    ax.set_ylabel("data / model")


def yields_plots(result: YieldsResult, directory: PathArg, *, log: bool = False) -> list[Path]:
    """One PNG per channel of ``result``, ``DIR/{channel}_{prefit|postfit}.png`` (the folder
    and its parents are created); the paths in channel order."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    stage = "postfit" if result.postfit else "prefit"
    paths = []
    for channel in result.channels:
        path = folder / f"{_safe(channel.name)}_{stage}.png"
        yields_plot(channel, path, postfit=result.postfit, log=log)
        paths.append(path)
    return paths


def _safe(name: str) -> str:
    """A channel name as a file name: path separators and odd characters replaced."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name).lstrip(".") or "channel"
