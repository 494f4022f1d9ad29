"""The impact ranking, ATLAS style: pre- and post-fit POI shifts as bars (top axis), each
parameter's best fit and post-fit uncertainty as a point (bottom axis)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from hfx.interfaces.plots._common import figure, save_figure, style

__all__ = ["ranking_plot"]


def ranking_plot(
    result: Any,
    path: str | os.PathLike[str] | None = None,
    *,
    top: int | None = None,
    model: Any = None,
) -> Any:
    """Impacts of :class:`hfx.RankingResult` (largest at the top; the first ``top`` only).

    With the ``model``, the points are pulls (θ̂ − θ₀)/Δθ ± σ̂/Δθ as in ATLAS ranking plots,
    and free parameters (normfactors) θ̂ ± σ̂ as open squares; without it, θ̂ ± σ̂ for all.
    """
    impacts = list(result.impacts)[: top if top is not None else None]
    n = len(impacts)
    y = np.arange(n)[::-1].astype(float)
    field = {
        k: np.array([getattr(i, k) for i in impacts], dtype=float)
        for k in (
            "prefit_up",
            "prefit_down",
            "postfit_up",
            "postfit_down",
            "bestfit",
            "uncertainty",
        )
    }
    poi = result.poi
    with style():
        fig = figure(7.0, max(2.5, 0.35 * n + 1.6))
        pulls = fig.add_subplot()
        impact = pulls.twiny()
        # the bars on the top axis (impacts), the points on the bottom one (θ̂ ± σ̂)
        for key, colour, label in (
            ("prefit_up", "#4dabf7", r"pre-fit $+\Delta\theta$"),
            ("prefit_down", "#ffa94d", r"pre-fit $-\Delta\theta$"),
        ):
            impact.barh(
                y, field[key], height=0.7, fill=False, edgecolor=colour, lw=1.2, label=label
            )
        for key, colour, label in (
            ("postfit_up", "#1c7ed6", r"post-fit $+\hat\sigma$"),
            ("postfit_down", "#e8590c", r"post-fit $-\hat\sigma$"),
        ):
            impact.barh(y, field[key], height=0.7, color=colour, alpha=0.75, label=label)
        widest = (
            float(
                np.max(
                    np.abs(
                        np.concatenate(
                            [
                                field[k]
                                for k in ("prefit_up", "prefit_down", "postfit_up", "postfit_down")
                            ]
                        )
                    )
                )
            )
            if n
            else 1.0
        )
        widest = widest if widest > 0 else 1.0
        impact.set_xlim(-1.25 * widest, 1.25 * widest)
        impact.set_xlabel(f"Δ{poi} (impact on the best-fit {poi})")
        centre, error, constrained = _points(impacts, field, model)
        if constrained.any():
            label = (
                r"pull $(\hat\theta-\theta_0)/\Delta\theta$"
                if model is not None
                else r"$\hat\theta \pm \hat\sigma$"
            )
            pulls.errorbar(
                centre[constrained],
                y[constrained],
                xerr=error[constrained],
                fmt="o",
                color="black",
                ms=4,
                capsize=0,
                zorder=5,
                label=label,
            )
        if (~constrained).any():
            pulls.errorbar(
                centre[~constrained],
                y[~constrained],
                xerr=error[~constrained],
                fmt="s",
                mfc="white",
                color="black",
                ms=4,
                capsize=0,
                zorder=5,
                label=r"free: $\hat\theta \pm \hat\sigma$",
            )
        extent = float(np.max(np.abs(centre) + error)) if n else 1.0
        pulls.set_xlim(-max(2.0, 1.1 * extent), max(2.0, 1.1 * extent))
        pulls.set_xlabel(
            r"$(\hat\theta-\theta_0)/\Delta\theta$" if model is not None else r"$\hat\theta$"
        )
        pulls.set_yticks(y)
        pulls.set_yticklabels([i.name for i in impacts])
        pulls.set_ylim(-0.7, n - 0.3 + 1.2)
        pulls.tick_params(axis="y", which="both", left=False, right=False)
        pulls.axvline(0.0, color="grey", lw=0.8, ls="--")
        pulls.set_zorder(impact.get_zorder() + 1)
        pulls.patch.set_visible(False)
        handles = impact.get_legend_handles_labels()
        points = pulls.get_legend_handles_labels()
        pulls.legend(
            handles[0] + points[0],
            handles[1] + points[1],
            loc="upper center",
            ncol=3,
            frameon=False,
            fontsize=7,
        )
        fig.tight_layout()
    save_figure(fig, path)
    return fig


def _points(
    impacts: list[Any], field: dict[str, np.ndarray], model: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(centre, error, constrained) of each row's point: pulls with the model, else θ̂ ± σ̂."""
    best, sigma = field["bestfit"], field["uncertainty"]
    if model is None:
        return best, sigma, np.ones(best.size, dtype=bool)
    from hfx.diagnostics import prefit_parameters, prefit_widths

    names = list(model.config.par_names)
    at = np.array([names.index(i.name) for i in impacts], dtype=int)
    width = prefit_widths(model)[at]
    nominal = prefit_parameters(model)[at]
    constrained = width > 0
    safe = np.where(constrained, width, 1.0)
    centre = np.where(constrained, (best - nominal) / safe, best)
    error = np.where(constrained, sigma / safe, sigma)
    return centre, error, constrained
