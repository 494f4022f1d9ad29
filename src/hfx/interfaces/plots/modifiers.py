"""Inputs drawn: the modifier grid (which modifier acts on which sample of which channel) and
a sample's nominal histogram with each modifier's ±1σ templates."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from hfx.errors import HfxError
from hfx.interfaces.plots._common import PathArg, figure, save_figure, style
from hfx.interfaces.plots.yields import _safe

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from hfx.diagnostics import ModifierGrid, SampleTemplates

__all__ = ["modifier_grid_plot", "templates_plot", "templates_plots"]

_TYPE_COLOURS = MappingProxyType(
    {
        "normfactor": "#e03131",
        "shapefactor": "#f08c00",
        "normsys": "#1971c2",
        "histosys": "#2f9e44",
        "staterror": "#868e96",
        "shapesys": "#9c36b5",
        "lumi": "#0c8599",
    }
)


def modifier_grid_plot(grid: ModifierGrid, path: PathArg | None = None) -> Figure:
    """The grid as a table: a row per modifier, a column per (channel, sample), a cell
    coloured by the modifier's type where it acts; the types in the legend.  ``grid``: a
    :class:`hfx.diagnostics.ModifierGrid` (:func:`hfx.diagnostics.modifier_grid`)."""
    modifiers, types = list(grid.modifiers), list(grid.types)
    columns, acts = list(grid.columns), np.asarray(grid.acts)
    known = list(_TYPE_COLOURS)  # the types in this order, any other after them
    kinds = sorted(set(types), key=lambda t: (known.index(t) if t in known else len(known), t))
    code = {t: k + 1 for k, t in enumerate(kinds)}
    cells = np.where(acts, np.array([code[t] for t in types], dtype=int)[:, None], 0)
    colours = ["white", *(_TYPE_COLOURS.get(t, "black") for t in kinds)]
    nrow, ncol = cells.shape
    with style():
        from matplotlib.colors import ListedColormap
        from matplotlib.patches import Patch

        fig = figure(max(4.0, 0.35 * ncol + 3.5), max(3.0, 0.22 * nrow + 2.0))
        ax = fig.add_subplot()
        ax.imshow(
            cells,
            cmap=ListedColormap(colours),
            vmin=0,
            vmax=len(colours) - 1,
            aspect="auto",
            interpolation="none",
        )
        ax.set_xticks(np.arange(ncol))
        ax.set_xticklabels([f"{c} / {s}" for c, s in columns], rotation=90, fontsize=7)
        ax.set_yticks(np.arange(nrow))
        ax.set_yticklabels(modifiers, fontsize=7)
        ax.set_xticks(np.arange(ncol + 1) - 0.5, minor=True)
        ax.set_yticks(np.arange(nrow + 1) - 0.5, minor=True)
        ax.grid(which="minor", color="lightgrey", lw=0.5)
        ax.tick_params(which="both", length=0)
        ax.set_xlabel("channel / sample")
        ax.set_ylabel("modifier")
        handles = [Patch(color=_TYPE_COLOURS.get(t, "black"), label=t) for t in kinds]
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            frameon=False,
            fontsize=8,
            title="type",
            title_fontsize=8,
        )
        fig.tight_layout()
    save_figure(fig, path)
    return fig


def templates_plot(sample: SampleTemplates, modifier: str, path: PathArg | None = None) -> Figure:
    """Nominal, up and down templates of one ``modifier`` of ``sample``, with (up or
    down)/nominal below."""
    variation = next((v for v in sample.variations if v.modifier == modifier), None)
    if variation is None:
        known = ", ".join(v.modifier for v in sample.variations) or "none"
        raise HfxError(
            f"{sample.channel} / {sample.sample} has no variation of {modifier!r} "
            f"(its variations: {known})"
        )
    nominal = np.asarray(sample.nominal, dtype=float)
    edges = np.arange(nominal.size + 1, dtype=float)
    with style():
        fig = figure(6.0, 5.5)
        grid = fig.add_gridspec(2, 1, height_ratios=(3, 1), hspace=0.05)
        top = fig.add_subplot(grid[0])
        ratio = fig.add_subplot(grid[1], sharex=top)
        top.stairs(nominal, edges, color="black", lw=1.5, label="nominal")
        top.stairs(variation.up, edges, color="#e03131", lw=1.2, label=r"$+1\sigma$")
        top.stairs(variation.down, edges, color="#1971c2", lw=1.2, ls="--", label=r"$-1\sigma$")
        top.set_ylabel("events")
        highest = max(
            float(np.max(variation.up)), float(np.max(variation.down)), float(np.max(nominal)), 1e-9
        )
        top.set_ylim(0.0, 1.4 * highest)
        top.text(
            0.03,
            0.95,
            f"{sample.channel} / {sample.sample}\n{modifier} ({variation.type})",
            transform=top.transAxes,
            va="top",
        )
        top.legend(loc="upper right", frameon=False)
        top.tick_params(labelbottom=False)
        with np.errstate(divide="ignore", invalid="ignore"):
            up = np.where(nominal > 0, variation.up / nominal, 1.0)
            down = np.where(nominal > 0, variation.down / nominal, 1.0)
        ratio.stairs(up, edges, baseline=None, color="#e03131", lw=1.2)
        ratio.stairs(down, edges, baseline=None, color="#1971c2", lw=1.2, ls="--")
        ratio.axhline(1.0, color="black", lw=0.8)
        spread = max(float(np.max(np.abs(np.concatenate([up, down]) - 1.0))), 0.01)
        ratio.set_ylim(1 - 1.3 * spread, 1 + 1.3 * spread)
        ratio.set_ylabel("var. / nom.")
        ratio.set_xlabel("bin")
        ratio.set_xlim(edges[0], edges[-1])
        ratio.set_xticks(0.5 * (edges[:-1] + edges[1:]))
        ratio.set_xticklabels([str(b) for b in range(nominal.size)])
    save_figure(fig, path)
    return fig


def templates_plots(samples: Iterable[SampleTemplates], directory: PathArg) -> list[Path]:
    """``DIR/{channel}_{sample}_{modifier}.png`` for every variation of every sample."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for sample in samples:
        for variation in sample.variations:
            name = f"{_safe(sample.channel)}_{_safe(sample.sample)}_{_safe(variation.modifier)}"
            path = folder / f"{name}.png"
            templates_plot(sample, variation.modifier, path)
            paths.append(path)
    return paths
