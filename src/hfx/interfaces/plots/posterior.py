"""Marginal posteriors of a Bayesian fit: one histogram per parameter, with the central 68 %
credible interval shaded, the mean, and (for the POI) the 95 % upper limit."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from hfx.interfaces.plots._common import PathArg, figure, save_figure, style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from hfx.infer.bayes import PosteriorResult

__all__ = ["posterior_plot"]

_BAND = "#9ecae1"


def posterior_plot(
    result: PosteriorResult,
    names: Sequence[str] | None = None,
    path: PathArg | None = None,
    bins: int = 60,
) -> Figure:
    """Histograms of the draws of ``names`` (default: the POI and up to five parameters
    with the largest posterior spread relative to their mean), densities normalised."""
    if names is None:
        names = _default_names(result)
    with style():
        columns = min(3, len(names))
        rows = math.ceil(len(names) / columns)
        fig = figure(3.6 * columns, 2.9 * rows)
        axes = fig.subplots(rows, columns, squeeze=False).ravel()
        for ax, name in zip(axes, names, strict=False):
            draws = result.draws(name)
            low, high = result.interval(name, 0.6827)
            counts, edges, _ = ax.hist(
                draws, bins=bins, density=True, histtype="step", color="black", lw=1.2
            )
            centres = 0.5 * (edges[1:] + edges[:-1])
            inside = (centres >= low) & (centres <= high)
            ax.fill_between(
                centres, 0, np.where(inside, counts, 0.0), step="mid", color=_BAND,
                label="68 % credible", lw=0,
            )  # fmt: skip
            ax.axvline(result.mean(name), color="#d62728", lw=1.5, label="mean")
            if result.poi_index is not None and name == result.par_names[result.poi_index]:
                limit = result.upper_limit(0.95)
                ax.axvline(limit, color="#2ca02c", ls="--", lw=1.5, label="95 % upper limit")
            ax.set_xlabel(name)
            ax.set_ylabel("posterior density")
            ax.set_ylim(0, None)
        for ax in axes[len(names) :]:
            ax.set_visible(False)
        axes[0].legend(loc="best", fontsize="small", frameon=False)
        chains, draws_per_chain = result.samples.shape[:2]
        fig.suptitle(f"Posterior: {chains} chains × {draws_per_chain} NUTS draws")
        fig.tight_layout()
    save_figure(fig, path)
    return fig


def _default_names(result: PosteriorResult) -> list[str]:
    sampled = [i for i in range(len(result.par_names)) if np.isfinite(result.rhat[i])]
    if not sampled:
        sampled = list(range(len(result.par_names)))
    chosen = [] if result.poi_index is None else [result.poi_index]
    spread = sorted(
        (i for i in sampled if i not in chosen),
        key=lambda i: -float(np.std(result.samples[:, :, i])),
    )
    chosen += spread[: 6 - len(chosen)]
    return [result.par_names[i] for i in chosen]
