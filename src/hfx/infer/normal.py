"""The standard normal distribution's tail probability and its inverse, without SciPy.

Inference needs Φ and Φ⁻¹ on a handful of numbers per call; importing ``scipy.special`` or
``scipy.stats`` for them costs 0.2–0.4 s per process, more than a whole small-model CLs.
The upper tail uses ``math.erfc`` (full relative precision far into the tail); the inverse
uses Wichura's algorithm AS 241 (PPND16, relative error about 1e-16), written out here from
the published coefficients.  Both accept a float or an array-like and return the same kind.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["chi2_1_ppf", "normal_cdf", "normal_isf", "normal_ppf", "normal_sf"]

_SQRT_HALF = math.sqrt(0.5)

# AS 241, central region |q| ≤ 0.425: r = 0.180625 − q², ppf = q · A(r) / B(r)
_A = (
    3.387132872796366608,
    133.14166789178437745,
    1971.5909503065514427,
    13731.693765509461125,
    45921.953931549871457,
    67265.770927008700853,
    33430.575583588128105,
    2509.0809287301226727,
)
_B = (
    1.0,
    42.313330701600911252,
    687.1870074920579083,
    5394.1960214247511077,
    21213.794301586595867,
    39307.89580009271061,
    28729.085735721942674,
    5226.495278852545925,
)
# intermediate tail, r = sqrt(−log min(p, 1 − p)) ≤ 5: ppf = C(r − 1.6) / D(r − 1.6)
_C = (
    1.42343711074968357734,
    4.6303378461565452959,
    5.7694972214606914055,
    3.64784832476320460504,
    1.27045825245236838258,
    0.24178072517745061177,
    0.0227238449892691845833,
    7.7454501427834140764e-4,
)
_D = (
    1.0,
    2.05319162663775882187,
    1.6763848301838038494,
    0.68976733498510000455,
    0.14810397642748007459,
    0.0151986665636164571966,
    5.475938084995344946e-4,
    1.05075007164441684324e-9,
)
# far tail, r > 5: ppf = E(r − 5) / F(r − 5)
_E = (
    6.6579046435011037772,
    5.4637849111641143699,
    1.7848265399172913358,
    0.29656057182850489123,
    0.026532189526576123093,
    0.0012426609473880784386,
    2.71155556874348757815e-5,
    2.01033439929228813265e-7,
)
_F = (
    1.0,
    0.59983220655588793769,
    0.13692988092273580531,
    0.0148753612908506148525,
    7.868691311456132591e-4,
    1.8463183175100546818e-5,
    1.4215117583164458887e-7,
    2.04426310338993978564e-15,
)


def _poly(coefficients: tuple[float, ...], x: float) -> float:
    """c0 + c1 x + … + c7 x⁷ (Horner)."""
    out = 0.0
    for c in reversed(coefficients):
        out = out * x + c
    return out


def _sf(x: float) -> float:
    return 0.5 * math.erfc(x * _SQRT_HALF)


def _ppf(p: float) -> float:
    if not 0.0 < p < 1.0:
        if p == 0.0:
            return -math.inf
        if p == 1.0:
            return math.inf
        return math.nan
    q = p - 0.5
    if abs(q) <= 0.425:
        r = 0.180625 - q * q
        return q * _poly(_A, r) / _poly(_B, r)
    r = math.sqrt(-math.log(p if q < 0.0 else 1.0 - p))
    if r <= 5.0:
        value = _poly(_C, r - 1.6) / _poly(_D, r - 1.6)
    else:
        value = _poly(_E, r - 5.0) / _poly(_F, r - 5.0)
    return -value if q < 0.0 else value


def _elementwise(fn: Any, x: Any) -> Any:
    """``fn`` on a float, or on every element of an array-like (same shape back)."""
    if isinstance(x, (float, int)):
        return fn(float(x))
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 0:
        return np.float64(fn(float(arr)))
    return np.array([fn(v) for v in arr.ravel().tolist()], dtype=np.float64).reshape(arr.shape)


def normal_sf(x: Any) -> Any:
    """Upper-tail probability 1 − Φ(x) = Φ(−x), accurate far in the tail."""
    if type(x) is float:  # (the common scalar case, without the dispatch below)
        return 0.5 * math.erfc(x * _SQRT_HALF)
    return _elementwise(_sf, x)


def normal_cdf(x: Any) -> Any:
    """Φ(x)."""
    return _elementwise(lambda v: _sf(-v), x)


def normal_ppf(p: Any) -> Any:
    """Φ⁻¹(p): −inf at 0, +inf at 1, NaN outside [0, 1]."""
    return _elementwise(_ppf, p)


def normal_isf(p: Any) -> Any:
    """The significance Z with Φ(−Z) = p (inverse of :func:`normal_sf`)."""
    return _elementwise(lambda v: -_ppf(v), p)


def chi2_1_ppf(cl: float) -> float:
    """Quantile of the χ² distribution with one degree of freedom: Φ⁻¹((1 + cl)/2)²."""
    return float(_ppf(0.5 * (1.0 + cl)) ** 2)
