"""Impact ranking: how far the POI moves when one nuisance parameter is held away from its
best fit, for every free parameter but the POI.

The definitions are cabinetry's (and those of ATLAS ranking plots): with θ̂, σ̂ from the
unconditional fit (Hessian uncertainties) and Δθ the parameter's pre-fit width (its
constraint: σ of a Gaussian, 1/√τ of a Poisson; 0 for an unconstrained parameter, whose
pre-fit impacts are then 0), the impacts are μ̂(θ fixed at v) − μ̂ for
v = θ̂ + Δθ, θ̂ − Δθ (pre-fit) and θ̂ + σ̂, θ̂ − σ̂ (post-fit).  Every conditional fit
starts from the task's init with the held parameter at v, as cabinetry's do; the four
fits of a parameter run as one batch.  Parameters are sorted by their larger post-fit
impact, largest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hfx._names import did_you_mean
from hfx.compile.parameters import CONSTRAINT_NORMAL, CONSTRAINT_POISSON
from hfx.errors import HfxError
from hfx.infer._common import as_numpy, poi_index, resolve_options
from hfx.infer.progress import ProgressBar
from hfx.optimize import FitResult, fit

__all__ = ["Impact", "RankingResult", "prefit_widths", "ranking"]


@dataclass(frozen=True)
class Impact:
    """One parameter's best fit, post-fit uncertainty and its four POI shifts."""

    name: str
    bestfit: float
    uncertainty: float
    prefit_up: float
    prefit_down: float
    postfit_up: float
    postfit_down: float

    @property
    def postfit(self) -> float:
        """The larger post-fit shift in size (the ranking's sort key)."""
        return max(abs(self.postfit_up), abs(self.postfit_down))

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class RankingResult:
    """The POI's best fit and uncertainty, and the impacts of every other free parameter,
    sorted by post-fit impact (largest first)."""

    poi: str
    bestfit: float
    uncertainty: float
    impacts: tuple[Impact, ...]

    def top(self, n: int) -> RankingResult:
        """The ``n`` parameters of largest post-fit impact."""
        if n < 1:
            raise HfxError(f"the number of parameters to show must be at least 1, got {n}")
        return RankingResult(self.poi, self.bestfit, self.uncertainty, self.impacts[:n])

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python (JSON-serialisable) view."""
        return {
            "poi": self.poi,
            "bestfit": self.bestfit,
            "uncertainty": self.uncertainty,
            "ranking": [impact.to_dict() for impact in self.impacts],
        }


def prefit_widths(model: Any) -> np.ndarray:
    """Each parameter's pre-fit width [npars]: the σ of its Gaussian constraint, 1/√τ of its
    Poisson constraint, 0 for an unconstrained or fixed parameter."""
    cfg = model.config
    widths = np.zeros(cfg.npars)
    for name in cfg.parameters:
        spec = cfg.param_set(name)
        if spec.constraint == CONSTRAINT_NORMAL:
            widths[spec.slice] = spec.sigmas
        elif spec.constraint == CONSTRAINT_POISSON:
            factors = np.asarray(spec.factors, dtype=float)
            with np.errstate(divide="ignore"):
                widths[spec.slice] = np.where(factors > 0, 1.0 / np.sqrt(factors), 0.0)
    widths[np.asarray(cfg.suggested_fixed(), dtype=bool)] = 0.0
    return widths


def _chosen(
    model: Any, parameters: Sequence[str] | None, fixed: np.ndarray, poi: int
) -> set[int] | None:
    """Indices of the asked-for components; each must exist, be free and not be the POI."""
    if parameters is None:
        return None
    names = list(model.config.par_names)
    out = set()
    for name in parameters:
        if name not in names:
            raise HfxError(f"no parameter {name!r} to rank: {did_you_mean(name, names)}")
        i = names.index(name)
        if fixed[i]:
            raise HfxError(f"parameter {name!r} is fixed: a fixed parameter has no impact")
        if i == poi:
            raise HfxError(f"{name!r} is the POI: impacts are shifts of the POI itself")
        out.add(i)
    return out


def _held_fits(
    model: Any,
    data: np.ndarray,
    opts: Any,
    rows: list[tuple[int, float]],
    start: np.ndarray,
    progress: bool = False,
) -> list[np.ndarray]:
    """Best fits of ``data`` with, in each row, one component held at a value.

    With NumPy Newton steps all rows run as one batch: the held component of a row gets
    equal lower and upper bounds there.  Rows that do not converge, and every row on the
    other routes (compiled kernels, a chosen optimizer), are fitted per component as one
    batch each (:meth:`FitOptions.fixed_component_many`).
    """
    out: list[np.ndarray | None] = [None] * len(rows)
    plan = opts.plan
    if rows and plan.batched and plan.engine == "numpy":
        from hfx.infer._common import BATCH_TOLERANCE
        from hfx.optimize.engines import newton_rows

        free = ~opts.fixed
        col = np.cumsum(free) - 1  # position of each free component among the free ones
        full = np.repeat(start[None, :], len(rows), axis=0)
        lo = np.repeat(opts.bounds[free, 0][None, :], len(rows), axis=0)
        hi = np.repeat(opts.bounds[free, 1][None, :], len(rows), axis=0)
        for r, (i, value) in enumerate(rows):
            v = min(max(value, opts.bounds[i, 0]), opts.bounds[i, 1])
            full[r, i] = lo[r, col[i]] = hi[r, col[i]] = v
        nrows = len(rows)
        x = np.empty((nrows, int(free.sum())))
        converged = np.zeros(nrows, dtype=bool)
        # with a bar, ~10 chunks (each still a batch); without, one
        step = max(_MIN_CHUNK, -(-nrows // 10)) if progress else nrows
        with ProgressBar(progress).task("ranking: conditional fits", nrows) as advance:
            for first in range(0, nrows, step):
                part = slice(first, first + step)
                x[part], converged[part], _ = newton_rows(
                    plan.engine,
                    model,
                    np.broadcast_to(data, (full[part].shape[0], data.size)),
                    full[part],
                    free,
                    lo[part],
                    hi[part],
                    BATCH_TOLERANCE,
                    _BATCH_MAXITER,
                )
                advance(full[part].shape[0])
        for row in np.flatnonzero(converged):
            best = full[row].copy()
            best[free] = x[row]
            out[row] = best
        # the rows Newton did not finish: L-BFGS-B from the same start, as fit_batch does
        for row in np.flatnonzero(~converged):
            mask = opts.fixed.copy()
            mask[rows[row][0]] = True
            found = fit(
                model,
                data,
                init=full[row],
                bounds=opts.bounds,
                fixed=mask,
                optimizer="scipy",
                uncertainties=False,
            )
            out[row] = np.asarray(found.bestfit, dtype=float)
    by_component: dict[int, list[int]] = {}
    for r, (i, _) in enumerate(rows):
        if out[r] is None:
            by_component.setdefault(i, []).append(r)
    for i, todo in by_component.items():
        values = [rows[r][1] for r in todo]
        fits = opts.fixed_component_many(model, data, i, values, [None] * len(values))
        for r, f in zip(todo, fits, strict=True):
            out[r] = np.asarray(f.bestfit, dtype=float)
    return [x for x in out if x is not None]


# Newton iterations of the one-batch route: from the best fit a row converges in under 10;
# one that has not by then zig-zags on a bound and is finished by L-BFGS-B
_BATCH_MAXITER = 20
_MIN_CHUNK = 32  # rows per batch when a progress bar splits the work


def ranking(
    model: Any,
    data: Any,
    *,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    engine: str = "auto",
    fit_result: FitResult | None = None,
    parameters: Sequence[str] | None = None,
    progress: bool = False,
) -> RankingResult:
    """Impacts of every free parameter except the POI (see the module's notes), or of the
    components labelled in ``parameters`` only.

    ``fit_result``: the unconditional fit with uncertainties, if already made (else made
    here).  ``fixed`` parameters get no impact.  ``progress``: a bar on stderr.
    """
    data = as_numpy(data)
    opts = resolve_options(model, init, bounds, fixed, None, engine)
    poi = poi_index(model, opts)
    chosen = _chosen(model, parameters, opts.fixed, poi)
    if fit_result is None:
        fit_result = fit(
            model,
            data,
            init=opts.init,
            bounds=opts.bounds,
            fixed=opts.fixed,
            plan=opts.plan,
            uncertainties=True,
        )
    best, sigma = fit_result.bestfit, fit_result.uncertainties
    mu_hat = float(best[poi])
    widths = prefit_widths(model)
    widths[opts.fixed] = 0.0
    names = model.config.par_names
    # every conditional fit: (component, held value), four per parameter (two without a
    # pre-fit width)
    rows: list[tuple[int, float]] = []
    # each ranked component's rows: (θ̂ + Δθ, θ̂ − Δθ,) θ̂ + σ̂, θ̂ − σ̂
    ranked: dict[int, list[int]] = {}
    for k in np.flatnonzero(~opts.fixed):
        i = int(k)
        if i == poi or (chosen is not None and i not in chosen):
            continue
        held_at = [best[i] + sigma[i], best[i] - sigma[i]]
        if widths[i] > 0.0:
            held_at = [best[i] + widths[i], best[i] - widths[i], *held_at]
        ranked[i] = list(range(len(rows), len(rows) + len(held_at)))
        rows += [(i, float(v)) for v in held_at]
    held = _held_fits(model, data, opts, rows, np.asarray(best, dtype=float), progress)
    shift = [float(x[poi]) - mu_hat for x in held]
    impacts = []
    for i, at in ranked.items():
        pre = [shift[at[0]], shift[at[1]]] if len(at) == 4 else [0.0, 0.0]
        impacts.append(
            Impact(
                name=names[i],
                bestfit=float(best[i]),
                uncertainty=float(sigma[i]),
                prefit_up=pre[0],
                prefit_down=pre[1],
                postfit_up=shift[at[-2]],
                postfit_down=shift[at[-1]],
            )
        )
    impacts.sort(key=lambda impact: -impact.postfit)
    return RankingResult(
        poi=names[poi],
        bestfit=mu_hat,
        uncertainty=float(sigma[poi]),
        impacts=tuple(impacts),
    )
