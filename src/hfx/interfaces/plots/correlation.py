"""The correlation matrix as a heat map, values printed in the cells of small matrices."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from hfx.interfaces.plots._common import PathArg, figure, save_figure, style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from hfx.diagnostics import Correlations

__all__ = ["correlation_plot"]

_ANNOTATE_UP_TO = 20  # parameters; larger matrices get colours only


def correlation_plot(corr: Correlations, path: PathArg | None = None) -> Figure:
    """Heat map of ``corr``, −1 blue to +1 red, its labels on both axes; the values printed
    in the cells of a matrix of at most 20 parameters."""
    labels = list(corr.labels)
    matrix = np.asarray(corr.matrix, dtype=float)
    n = len(labels)
    size = max(4.0, 0.32 * n + 2.5)
    with style():
        fig = figure(size + 1.0, size)
        ax = fig.add_subplot()
        image = ax.imshow(matrix, cmap="RdBu_r", vmin=-1.0, vmax=1.0, interpolation="none")
        ax.set_xticks(np.arange(n))
        ax.set_yticks(np.arange(n))
        ax.set_xticklabels(labels, rotation=90, fontsize=8)
        ax.set_yticklabels(labels, fontsize=8)
        ax.tick_params(which="both", length=0)
        if n <= _ANNOTATE_UP_TO:
            for i in range(n):
                for j in range(n):
                    value = float(matrix[i, j])
                    ax.text(
                        j,
                        i,
                        f"{round(value, 2) + 0.0:.2f}",  # + 0.0: no "-0.00"
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if abs(value) > 0.6 else "black",
                    )
        bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
        bar.set_label("correlation", loc="center")
        fig.tight_layout()
    save_figure(fig, path)
    return fig
