"""Profile-likelihood test statistics: t_μ, q_μ, their "tilde" variants and q₀.

All are built from two fits, one unconditional (μ̂, θ̂) and one with the POI held at the
tested value (θ̂̂(μ)):  t_μ = −2 ln λ(μ) = 2NLL(μ, θ̂̂) − 2NLL(μ̂, θ̂), clipped at 0;
q_μ = t_μ if μ̂ ≤ μ else 0;  q₀ = t₀ if μ̂ ≥ 0 else 0.  The "tilde" variants are the same
formulae evaluated with the POI bounded below at 0 (the bound does the substitution of
μ̂ by 0), so they differ from the plain ones only in the bounds they expect.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hfx.infer._common import (
    FitOptions,
    check_test_stat,
    poi_index,
    resolve_options,
    warn_bounds,
)
from hfx.optimize import FitResult

__all__ = ["get_test_stat", "q0", "qmu", "qmu_tilde", "tmu", "tmu_tilde"]


def vanishes(test_stat: str, muhat: float, mu: float) -> bool:
    """Whether the statistic is 0 whatever the conditional fit (q with μ̂ > μ, q₀ with μ̂ < 0)."""
    if test_stat in ("q", "qtilde"):
        return muhat > mu
    return test_stat == "q0" and muhat < 0.0


def profile_statistic(
    test_stat: str,
    model,
    data: Any,
    mu: float,
    opts: FitOptions,
    *,
    free: FitResult | None = None,
    cond: FitResult | None = None,
    cond_init: Any = None,
    need_cond: bool = True,
) -> tuple[float, FitResult, FitResult | None]:
    """Value of ``test_stat`` at ``mu`` with the two fits it used.

    ``free``/``cond`` are reused when given; ``cond_init`` warm-starts the conditional fit.
    With ``need_cond=False`` the conditional fit is skipped where the statistic is 0
    whatever its value (q_μ with μ̂ > μ, q₀ with μ̂ < 0); the second fit is then ``None``.
    """
    idx = poi_index(model, opts)
    if test_stat == "q0":
        mu = 0.0
    if free is None:
        free = opts.free(model, data)
    muhat = float(free.bestfit[idx])
    zero = vanishes(test_stat, muhat, mu)
    if zero and not need_cond and cond is None:
        return 0.0, free, None
    if cond is None:
        cond = opts.conditional(model, data, mu, init=cond_init)
    value = max(float(cond.twice_nll) - float(free.twice_nll), 0.0)
    return (0.0 if zero else value), free, cond


def _public(test_stat: str, model, data, mu, init, bounds, fixed, optimizer, return_fits):
    opts = resolve_options(model, init, bounds, fixed, optimizer)
    idx = poi_index(model, opts)
    warn_bounds(test_stat, float(opts.bounds[idx, 0]))
    value, free, cond = profile_statistic(test_stat, model, data, mu, opts)
    if return_fits:
        return value, (free, cond)
    return value


def qmu(
    model,
    data: Any,
    mu: float,
    *,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    optimizer: Any = None,
    return_fits: bool = False,
) -> float | tuple[float, tuple[FitResult, FitResult]]:
    """One-sided upper-limit statistic q_μ (0 when μ̂ > μ).

    With ``return_fits=True`` returns ``(q_μ, (unconditional fit, conditional fit))``.
    """
    return _public("q", model, data, mu, init, bounds, fixed, optimizer, return_fits)


def qmu_tilde(
    model,
    data: Any,
    mu: float,
    *,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    optimizer: Any = None,
    return_fits: bool = False,
) -> float | tuple[float, tuple[FitResult, FitResult]]:
    """q̃_μ: q_μ for a POI bounded below at 0 (logs a warning for other lower bounds)."""
    return _public("qtilde", model, data, mu, init, bounds, fixed, optimizer, return_fits)


def tmu(
    model,
    data: Any,
    mu: float,
    *,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    optimizer: Any = None,
    return_fits: bool = False,
) -> float | tuple[float, tuple[FitResult, FitResult]]:
    """Two-sided statistic t_μ = −2 ln λ(μ), clipped at 0."""
    return _public("t", model, data, mu, init, bounds, fixed, optimizer, return_fits)


def tmu_tilde(
    model,
    data: Any,
    mu: float,
    *,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    optimizer: Any = None,
    return_fits: bool = False,
) -> float | tuple[float, tuple[FitResult, FitResult]]:
    """t̃_μ: t_μ for a POI bounded below at 0 (logs a warning for other lower bounds)."""
    return _public("ttilde", model, data, mu, init, bounds, fixed, optimizer, return_fits)


def q0(
    model,
    data: Any,
    *,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    optimizer: Any = None,
    return_fits: bool = False,
) -> float | tuple[float, tuple[FitResult, FitResult]]:
    """Discovery statistic q₀ = t₀ if μ̂ ≥ 0 else 0 (background-only hypothesis μ = 0)."""
    return _public("q0", model, data, 0.0, init, bounds, fixed, optimizer, return_fits)


_BY_NAME: dict[str, Callable[..., Any]] = {
    "q0": q0,
    "q": qmu,
    "qtilde": qmu_tilde,
    "t": tmu,
    "ttilde": tmu_tilde,
}


def get_test_stat(name: str) -> Callable[..., Any]:
    """The public function for a statistic name: "q0", "q", "qtilde", "t" or "ttilde"."""
    return _BY_NAME[check_test_stat(name)]


def checked_test_stat(model, opts: FitOptions, name: str, allowed=None) -> str:
    """Validate ``name`` (against ``allowed`` if given) and log pyhf's bound warnings once."""
    check_test_stat(name, *(() if allowed is None else (allowed,)))
    idx = poi_index(model, opts)
    warn_bounds(name, float(opts.bounds[idx, 0]))
    return name
