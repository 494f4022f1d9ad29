"""The impact ranking, ATLAS style: pre- and post-fit POI shifts as bars (top axis), each
parameter's best fit or pull as a point with its post-fit uncertainty (bottom axis)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from hfx.interfaces.plots._common import PathArg, figure, save_figure, style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from hfx.diagnostics import Impact, RankingResult

__all__ = ["ranking_plot"]

_BARS = (  # (field, colour, filled, legend label)
    ("prefit_up", "#4dabf7", False, r"pre-fit: $\theta = \hat\theta + \Delta\theta$"),
    ("prefit_down", "#ffa94d", False, r"pre-fit: $\theta = \hat\theta - \Delta\theta$"),
    ("postfit_up", "#1c7ed6", True, r"post-fit: $\theta = \hat\theta + \hat\sigma$"),
    ("postfit_down", "#e8590c", True, r"post-fit: $\theta = \hat\theta - \hat\sigma$"),
)


def ranking_plot(
    result: RankingResult,
    path: PathArg | None = None,
    *,
    top: int | None = None,
    model: Any = None,
) -> Figure:
    """Impacts of ``result`` (largest at the top; the first ``top`` only) on the top axis:
    pre-fit as open bars, post-fit filled.  On the bottom axis each parameter's θ̂ ± σ̂; with
    the ``model``, the pulls (θ̂ − θ₀)/Δθ ± σ̂/Δθ instead, as in ATLAS ranking plots, and free
    parameters (normfactors) θ̂ ± σ̂ as open squares."""
    impacts = list(result.impacts)[: top if top is not None else None]
    n = len(impacts)
    y = np.arange(n)[::-1].astype(float)
    field = {k: np.array([getattr(i, k) for i in impacts], dtype=float) for k, *_ in _BARS}
    poi = result.poi
    with style():
        fig = figure(7.0, max(3.2, 0.35 * n + 2.4), layout="constrained")
        points = fig.add_subplot()
        bars = points.twiny()  # the impacts' axis on top
        for key, colour, filled, label in _BARS:
            if filled:
                bars.barh(y, field[key], height=0.7, color=colour, alpha=0.75, label=label)
            else:
                bars.barh(
                    y, field[key], height=0.7, fill=False, edgecolor=colour, lw=1.2, label=label
                )
        shifts = np.abs(np.concatenate(list(field.values()))) if n else np.zeros(1)
        widest = float(shifts.max()) or 1.0
        bars.set_xlim(-1.25 * widest, 1.25 * widest)
        bars.set_xlabel(f"Δ{poi}")
        centre, error, constrained = _points(impacts, model)
        for chosen, marker, face, label in (
            (
                constrained,
                "o",
                "black",
                r"pull $(\hat\theta-\theta_0)/\Delta\theta$"
                if model is not None
                else r"$\hat\theta \pm \hat\sigma$",
            ),
            (~constrained, "s", "white", r"free parameter: $\hat\theta \pm \hat\sigma$"),
        ):
            if chosen.any():
                points.errorbar(
                    centre[chosen],
                    y[chosen],
                    xerr=error[chosen],
                    fmt=marker,
                    mfc=face,
                    color="black",
                    ms=4,
                    capsize=0,
                    zorder=5,
                    label=label,
                )
        extent = float(np.max(np.abs(centre) + error)) if n else 1.0
        reach = max(2.0, 1.1 * extent)
        points.set_xlim(-reach, reach)
        points.set_xlabel(
            r"$(\hat\theta-\theta_0)/\Delta\theta$" if model is not None else r"$\hat\theta$"
        )
        points.set_yticks(y)
        points.set_yticklabels([i.name for i in impacts])
        points.set_ylim(-0.7, n - 0.3)
        points.tick_params(axis="y", which="both", left=False, right=False)
        points.axvline(0.0, color="grey", lw=0.8, ls="--")
        points.set_zorder(bars.get_zorder() + 1)  # the points over the bars
        points.patch.set_visible(False)
        handles, labels = bars.get_legend_handles_labels()
        more = points.get_legend_handles_labels()
        fig.legend(
            handles + more[0],
            labels + more[1],
            loc="outside upper center",
            ncol=3,  # filled by column: pre-fit, post-fit, points
            frameon=False,
            fontsize=8,
            title=f"impacts on {poi} = {result.bestfit:.3g} ± {result.uncertainty:.2g}",
            title_fontsize=9,
        )
    save_figure(fig, path)
    return fig


def _points(impacts: list[Impact], model: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(centre, error, constrained) of each row's point: pulls with the model, else θ̂ ± σ̂."""
    best = np.array([i.bestfit for i in impacts], dtype=float)
    sigma = np.array([i.uncertainty for i in impacts], dtype=float)
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
