"""Data against the stacked model per channel, with the model's uncertainty band and a
data/model ratio panel."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from hfx.interfaces.plots._common import figure, save_figure, style

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


def yields_plot(
    channel: Any,
    path: str | os.PathLike[str] | None = None,
    *,
    postfit: bool,
    bin_edges: Any = None,
    log: bool = False,
) -> Any:
    """Stacked samples (largest total at the bottom), data with √n error bars, the total's
    ±1σ band hatched, and data/model below.  ``channel``: :class:`hfx.diagnostics.ChannelYields`."""
    yields = np.asarray(channel.yields, dtype=float)
    total = np.asarray(channel.total, dtype=float)
    stdev = np.asarray(channel.total_stdev, dtype=float)
    data = np.asarray(channel.data, dtype=float)
    nbins = total.size
    edges = np.arange(nbins + 1, dtype=float) if bin_edges is None else np.asarray(bin_edges)
    centres = 0.5 * (edges[:-1] + edges[1:])
    order = np.argsort(-yields.sum(axis=1), kind="stable")
    with style():
        fig = figure(6.0, 6.0)
        grid = fig.add_gridspec(2, 1, height_ratios=(3, 1), hspace=0.05)
        top = fig.add_subplot(grid[0])
        ratio = fig.add_subplot(grid[1], sharex=top)
        bottom = np.zeros(nbins)
        for k, s in enumerate(order):
            top.stairs(
                bottom + yields[s],
                edges,
                baseline=bottom,
                fill=True,
                color=_COLOURS[k % len(_COLOURS)],
                label=channel.samples[s],
            )
            bottom = bottom + yields[s]
        top.stairs(
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
        top.errorbar(centres, data, yerr=np.sqrt(data), fmt="o", color="black", ms=4, label="data")
        top.set_ylabel("events")
        if log:
            top.set_yscale("log")
            positive = total[total > 0]
            floor = 0.5 * float(positive.min()) if positive.size else 0.1
            top.set_ylim(floor, 50.0 * max(float(total.max()), float(data.max()), floor))
        else:
            top.set_ylim(0.0, 1.45 * max(float((total + stdev).max()), float(data.max()), 1.0))
        stage = "post-fit" if postfit else "pre-fit"
        top.text(0.03, 0.95, f"{channel.name}\n{stage}", transform=top.transAxes, va="top")
        top.legend(loc="upper right", frameon=False, ncol=2)
        top.tick_params(labelbottom=False)
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(total > 0, stdev / total, 0.0)
            ratio_values = np.where(total > 0, data / total, np.nan)
            ratio_errors = np.where(total > 0, np.sqrt(data) / total, np.nan)
        ratio.stairs(
            1 + rel,
            edges,
            baseline=1 - rel,
            fill=False,
            hatch="///",
            color="none",
            edgecolor="dimgrey",
            lw=0,
        )
        ratio.axhline(1.0, color="black", lw=0.8)
        shown = np.isfinite(ratio_values)
        ratio.errorbar(
            centres[shown],
            ratio_values[shown],
            yerr=ratio_errors[shown],
            fmt="o",
            color="black",
            ms=4,
        )
        ratio.set_ylim(0.0, 2.0)
        ratio.set_ylabel("data / model")
        ratio.set_xlabel("bin" if bin_edges is None else "observable")
        ratio.set_xlim(edges[0], edges[-1])
        if bin_edges is None:
            ratio.set_xticks(centres)
            ratio.set_xticklabels([str(b) for b in range(nbins)])
    save_figure(fig, path)
    return fig


def yields_plots(
    result: Any, directory: str | os.PathLike[str], *, log: bool = False
) -> list[Path]:
    """One plot per channel of :class:`hfx.YieldsResult`, ``DIR/{channel}_{stage}.png``
    (the folder is created)."""
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
