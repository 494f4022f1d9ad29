"""Upper limits on the POI: CLs = level on the observed curve and on each expected curve.

``method="scan"`` evaluates CLs on a grid and interpolates linearly (as pyhf's
``linear_grid_scan``: ``np.interp`` on the reversed curve).  ``method="toms748"`` (pyhf's
name for root finding, kept) brackets each crossing inside the POI bounds and refines it
with Brent's method; the expected curves are bracketed from every point already evaluated.

With the asymptotic calculator every μ-independent piece (free fit to the data, the
Asimov dataset and its fits) is computed once, conditional fits start from the nearest μ
already fitted, and the expected curves need only the fit to the Asimov data at each μ.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from itertools import pairwise
from typing import Any

import numpy as np

from hfx.errors import HfxError, ResultError, check_finite
from hfx.infer.asymptotic import NSIGMA, AsymptoticCalculator
from hfx.infer.hypotest import check_poi_in_bounds, make_calculator, run_hypotest
from hfx.infer.normal import normal_ppf, normal_sf
from hfx.infer.toys import ToyCalculator

__all__ = ["UpperLimitResult", "upper_limit"]

_EPS = float(np.finfo(float).eps)


@dataclass(frozen=True)
class UpperLimitResult:
    """Observed and expected (−2σ … +2σ) upper limits at CLs = ``level``.

    ``scan``, ``cls_obs`` and ``cls_exp`` (five curves, one per band point) hold the grid and
    the CLs values of a ``method="scan"`` limit; they are ``None`` for ``"toms748"``.
    """

    obs: float
    exp: tuple[float, ...]
    level: float
    method: str
    scan: tuple[float, ...] | None = None
    cls_obs: tuple[float, ...] | None = None
    cls_exp: tuple[tuple[float, ...], ...] | None = None

    def __post_init__(self) -> None:
        d = self.to_dict()
        check_finite(
            f"upper limit at CLs = {self.level:g}",
            {k: d[k] for k in ("obs", "exp", "cls_obs", "cls_exp")},
            "the CLs curve is not finite at some POI value (a fit failed there)",
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python (JSON-serialisable) view."""

        def _list(x: Iterable[float] | None) -> list[float] | None:
            return None if x is None else [float(v) for v in x]

        return {
            "obs": self.obs,
            "exp": list(self.exp),
            "level": self.level,
            "method": self.method,
            "scan": _list(self.scan),
            "cls_obs": _list(self.cls_obs),
            "cls_exp": None if self.cls_exp is None else [_list(c) for c in self.cls_exp],
        }


class _Curves:
    """CLs (observed, five expected) at any μ, cached; expected-only where that suffices."""

    def __init__(self, calc: AsymptoticCalculator | ToyCalculator) -> None:
        self.calc = calc
        self.obs: dict[float, float] = {}
        self.exp: dict[float, tuple[float, ...]] = {}

    def observed(self, mu: float) -> float:
        mu = float(mu)
        if mu not in self.obs:
            res = run_hypotest(self.calc, mu)
            self.obs[mu] = res.cls
            self.exp[mu] = res.cls_expected
        return self.obs[mu]

    def expected(self, mu: float, k: int) -> float:
        mu = float(mu)
        if mu not in self.exp:
            if isinstance(self.calc, AsymptoticCalculator):
                self.exp[mu] = self.calc.expected_cls(mu)
            else:
                self.observed(mu)
        return self.exp[mu][k]


def _interp_limit(level: float, scan: np.ndarray, cls: np.ndarray) -> float:
    return float(np.interp(level, cls[::-1], scan[::-1]))


def _scan(curves: _Curves, scan: np.ndarray, level: float) -> UpperLimitResult:
    obs = np.array([curves.observed(mu) for mu in scan])
    exp = np.array([[curves.expected(mu, k) for mu in scan] for k in range(5)])
    return UpperLimitResult(
        obs=_interp_limit(level, scan, obs),
        exp=tuple(_interp_limit(level, scan, exp[k]) for k in range(5)),
        level=level,
        method="scan",
        scan=tuple(float(x) for x in scan),
        cls_obs=tuple(float(x) for x in obs),
        cls_exp=tuple(tuple(float(x) for x in exp[k]) for k in range(5)),
    )


def _probit(cls: float, level: float) -> float:
    """Φ⁻¹(CLs) − Φ⁻¹(level): same sign and root as CLs − level, nearly linear in μ."""
    c = min(max(float(cls), 1e-300), 1.0 - 1e-16)
    return float(normal_ppf(c) - normal_ppf(level))


def _no_crossing(what: str, lo: float, hi: float, side: str) -> float:
    raise ResultError(
        f"no upper limit: the {what} CLs curve does not cross the level inside the POI "
        f"bounds [{lo:g}, {hi:g}] (the crossing lies {side}); widen the POI bounds "
        "(bounds=, or the measurement's parameter config) to find it"
    )


def _next_point(pts: list[tuple[float, float]], lo: float, hi: float, up: bool) -> float:
    """Next trial μ when every value so far lies on one side of the level.

    Extrapolates the secant of the two points nearest the crossing (overshooting by 10% so
    the next point brackets it), else steps geometrically; never leaves [lo, hi].
    """
    pts = sorted(pts, reverse=up)  # nearest the crossing first
    x1, f1 = pts[0]
    scale = max(abs(x1), 1e-3 * (hi - lo) if math.isfinite(hi - lo) else 1e-3)
    step = 0.03 * scale
    if len(pts) > 1:
        x0, f0 = pts[1]
        step = 2.0 * abs(x1 - x0)  # no usable secant: double the last step
        if f1 != f0:
            root = x1 - f1 * (x1 - x0) / (f1 - f0)
            if (root > x1) == up:
                step = min(max(1.1 * abs(root - x1), 0.002 * scale), 4.0 * scale)
    x = x1 + step if up else x1 - step
    return min(max(x, lo), hi)


def _root(
    f: Callable[[float], float],
    known: dict[float, float],
    lo: float,
    hi: float,
    guess: float,
    rtol: float,
    what: str,
) -> float:
    """Crossing of the decreasing curve f inside [lo, hi], starting from ``guess``.

    ``known`` holds values of f already computed (shared with the other curves).
    """
    if not known:
        x = min(max(guess, lo), hi)
        known[x] = f(x)
    for _ in range(100):
        pos = [(m, v) for m, v in known.items() if v >= 0.0]
        neg = [(m, v) for m, v in known.items() if v < 0.0]
        if pos and neg:
            break
        if pos:
            if max(m for m, _ in pos) >= hi:
                return _no_crossing(what, lo, hi, "above the POI upper bound")
            x = _next_point(pos, lo, hi, up=True)
        else:
            if min(m for m, _ in neg) <= lo:
                return _no_crossing(what, lo, hi, "below the POI lower bound")
            x = _next_point(neg, lo, hi, up=False)
        known[x] = f(x)
    else:  # pragma: no cover - the search reaches a bound long before
        return _no_crossing(what, lo, hi, "out of reach")
    # adjacent points where the curve goes from at/above the level to below it (with noisy
    # curves, e.g. from toys, the first such step; else any change of sign)
    xs = sorted(known)
    pairs = [(p, q) for p, q in pairwise(xs) if (known[p] >= 0.0) != (known[q] >= 0.0)]
    a, b = next(((p, q) for p, q in pairs if known[p] >= 0.0), pairs[0])
    if known[a] == 0.0:
        return a
    return _brent(f, a, b, known[a], known[b], xtol=2e-12, rtol=rtol)


def _brent(
    f: Callable[[float], float],
    a: float,
    b: float,
    fa: float,
    fb: float,
    xtol: float,
    rtol: float,
    maxiter: int = 200,
) -> float:
    """The root of ``f`` between ``a`` and ``b`` (``fa``, ``fb`` of opposite signs) to within
    ``xtol + rtol·|x|``: Brent's method (secant and inverse quadratic steps, bisection when
    they stall; R. P. Brent, Algorithms for Minimization without Derivatives, 1973, ch. 4).

    On the nearly linear curves of a limit it needs two or three evaluations; scipy's
    TOMS 748 found the same roots with more Python around each step and 0.3 s of import."""
    if fb == 0.0:
        return b
    c, fc = a, fa
    d = e = b - a
    for _ in range(maxiter):
        if (fb > 0.0) == (fc > 0.0):  # keep the root between b and c
            c, fc = a, fa
            d = e = b - a
        if abs(fc) < abs(fb):  # b is the best estimate
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol = 2.0 * _EPS * abs(b) + 0.5 * (xtol + rtol * abs(b))
        half = 0.5 * (c - b)
        if abs(half) <= tol or fb == 0.0:
            return b
        if abs(e) >= tol and abs(fa) > abs(fb):
            s = fb / fa
            if a == c:  # secant through a and b
                p, q = 2.0 * half * s, 1.0 - s
            else:  # inverse quadratic interpolation through a, b, c
                q, r = fa / fc, fb / fc
                p = s * (2.0 * half * q * (q - r) - (b - a) * (r - 1.0))
                q = (q - 1.0) * (r - 1.0) * (s - 1.0)
            if p > 0.0:
                q = -q
            else:
                p = -p
            if 2.0 * p < min(3.0 * half * q - abs(tol * q), abs(e * q)):
                e, d = d, p / q  # the interpolation step, inside the bracket
            else:
                d = e = half
        else:
            d = e = half  # bisection
        a, fa = b, fb
        b += d if abs(d) > tol else math.copysign(tol, half)
        fb = f(b)
    return b


def _toms748(curves: _Curves, lo: float, hi: float, level: float, rtol: float) -> UpperLimitResult:
    calc = curves.calc
    names = ("-2σ", "-1σ", "median", "+1σ", "+2σ")

    def f_obs(mu: float) -> float:
        return _probit(curves.observed(mu), level)

    asymptotic = isinstance(calc, AsymptoticCalculator)
    # expected curve k is at the level where √q_A reaches targets[k]: its CLs at n σ is
    # Φ(−n − √q_A)/Φ(−n) (normal base distribution)
    targets = [float(-normal_ppf(level * normal_sf(n)) - n) for n in NSIGMA]
    direct = calc if isinstance(calc, AsymptoticCalculator) and calc.base_dist == "normal" else None

    def f_exp(mu: float, k: int) -> float:
        if direct is not None:  # the same root, in √q_A (about linear in μ, no Φ⁻¹ to compute)
            return targets[k] - direct.sqrt_qmu_asimov(mu)
        return _probit(curves.expected(mu, k), level)

    def known_exp(k: int) -> dict[float, float]:
        if direct is not None:
            return {m: targets[k] - v for m, v in direct.known_sqrt_qmu_asimov()}
        return {m: _probit(v[k], level) for m, v in curves.exp.items()}

    default = min(max(1.0, lo), hi) if hi > lo else lo
    if asymptotic and default <= 0.0:
        default = 0.5 * (lo + hi) if math.isfinite(hi) else 1.0
    if isinstance(calc, AsymptoticCalculator):
        calc.sqrt_qmu_asimov(default)

    def guess(k: int) -> float:
        """μ where √q_A reaches the value that puts expected curve k at the level.

        √q_A(μ) rises about linearly from 0 at μ = 0: interpolate the points known so far.
        """
        if not isinstance(calc, AsymptoticCalculator):
            return default
        known = [(m, v) for m, v in calc.known_sqrt_qmu_asimov() if m > 0]
        xs = np.array([0.0] + [m for m, _ in known])
        ys = np.array([0.0] + [v for _, v in known])
        t = targets[k]
        if t >= ys[-1]:  # extrapolate with the last segment
            slope = (ys[-1] - ys[-2]) / (xs[-1] - xs[-2]) if xs[-1] > xs[-2] else 0.0
            return xs[-1] + (t - ys[-1]) / slope if slope > 0 else hi
        return float(np.interp(t, ys, xs)) if np.all(np.diff(ys) > 0) else xs[-1] * t / ys[-1]

    exp = [math.nan] * 5
    # median first: the observed limit usually lies near it
    exp[2] = _root(
        lambda m: f_exp(m, 2),
        known_exp(2),
        lo,
        hi,
        guess(2),
        rtol,
        "expected median",
    )
    start = exp[2] if math.isfinite(exp[2]) else guess(2)
    obs = _root(
        f_obs,
        {m: _probit(v, level) for m, v in curves.obs.items()},
        lo,
        hi,
        start,
        rtol,
        "observed",
    )
    for k in (1, 3, 0, 4):
        exp[k] = _root(
            partial(f_exp, k=k), known_exp(k), lo, hi, guess(k), rtol, f"expected {names[k]}"
        )
    return UpperLimitResult(obs=obs, exp=tuple(exp), level=level, method="toms748")


def upper_limit(
    model: Any,
    data: Any,
    *,
    scan: Any = None,
    level: float = 0.05,
    method: str | None = None,
    rtol: float = 1e-6,
    test_stat: str = "qtilde",
    calculator: str = "asymptotic",
    ntoys: int = 2000,
    seed: Any = None,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    optimizer: Any = None,
    engine: str = "auto",
) -> UpperLimitResult:
    """Upper limits (observed and expected band) on the POI at CLs = ``level``.

    ``method`` is "toms748" (root finding inside the POI bounds, relative tolerance
    ``rtol``; pyhf's name, here by Brent's method) or "scan" (linear interpolation on the
    grid ``scan``); by default "scan" when a grid is given, else "toms748".
    """
    if method is None:
        method = "toms748" if scan is None else "scan"
    if method not in ("toms748", "scan"):
        raise HfxError(f"unknown upper-limit method {method!r}; choose 'toms748' or 'scan'")
    if not 0.0 < level < 1.0:
        raise HfxError(f"level must lie in (0, 1), got {level}")
    calc = make_calculator(
        model,
        data,
        calculator=calculator,
        test_stat=test_stat,
        ntoys=ntoys,
        seed=seed,
        init=init,
        bounds=bounds,
        fixed=fixed,
        optimizer=optimizer,
        engine=engine,
    )
    curves = _Curves(calc)
    if method == "scan":
        if scan is None:
            raise HfxError("method='scan' needs the grid of POI values (scan=...)")
        grid = np.asarray(scan, dtype=float).reshape(-1)
        if grid.size < 2:
            raise HfxError("scan needs at least two POI values")
        check_poi_in_bounds(calc, grid, what="scan point")
        return _scan(curves, grid, level)
    lo, hi = (float(x) for x in calc.opts.bounds[calc.poi_index])
    return _toms748(curves, lo, hi, level, rtol)
