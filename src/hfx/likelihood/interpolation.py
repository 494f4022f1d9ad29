"""Interpolation of systematic variations between the -1σ, nominal and +1σ templates.

Every code maps a nuisance parameter α to a shift ``d(α)`` of the nominal value I⁰ given
the up (I⁺) and down (I⁻) templates, with ``d(0) = 0``, ``d(1) = I⁺ - I⁰`` and
``d(-1) = I⁻ - I⁰``.  normsys applies them to factors (I⁰ = 1, κ = 1 + d), histosys to
yields (Δ = d).  Each function also returns ``∂d/∂α`` for the analytic gradient.

Codes (HistFactory numbering):
- ``code0``: piecewise linear;
- ``code1``: piecewise exponential, I⁰·(I^±/I⁰)^|α|;
- ``code2``: quadratic for |α| ≤ 1, linear beyond;
- ``code4``: sixth-order polynomial for |α| < 1 matched (value, first and second derivative)
  to the exponential of code1 outside;
- ``code4p``: sixth-order polynomial for |α| < 1, linear (code0) outside.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# the code names live with the settings that choose them; re-exported here
from hfx.compile.settings import INTERP_CODES as INTERP_CODES
from hfx.compile.settings import normalize_code as normalize_code


@dataclass(frozen=True)
class InterpConstants:
    """Per-term constants of one interpolation code, computed once at compile time (NumPy)."""

    code: str
    nominal: Any  # NumPy arrays, or traced JAX arrays (see prepare)
    up: Any  # I⁺ − I⁰
    down: Any  # I⁰ − I⁻
    extra: dict[str, Any]


def prepare(code: str, nominal: Any, high: Any, low: Any, xp: Any = np) -> InterpConstants:
    """Precompute the constants ``code`` needs for templates (nominal, high, low).

    ``xp`` is the array namespace: NumPy at compile time, ``jax.numpy`` when the templates
    are traced (gradients with respect to modifier data)."""
    if xp is np:
        nom = np.asarray(nominal, dtype=np.float64)
        hi = np.asarray(high, dtype=np.float64)
        lo = np.asarray(low, dtype=np.float64)
    else:
        nom, hi, lo = xp.asarray(nominal), xp.asarray(high), xp.asarray(low)
    up = hi - nom
    down = nom - lo
    extra: dict[str, Any] = {}
    if code in ("code1", "code4"):
        with np.errstate(divide="ignore", invalid="ignore"):
            nonzero = nom != 0
            safe = xp.where(nonzero, nom, 1.0)
            ratio_up, ratio_down = hi / safe, lo / safe
            # the log's argument is 1 where the nominal is 0, so no NaN reaches a gradient
            # through the unused branch
            log_up = xp.where(nonzero, xp.log(xp.where(nonzero, ratio_up, 1.0)), 0.0)
            log_down = xp.where(nonzero, xp.log(xp.where(nonzero, ratio_down, 1.0)), 0.0)
        extra["log_up"] = log_up
        extra["log_down"] = log_down
        if code == "code4":
            extra["coef"] = _code4_coefficients(ratio_up, ratio_down, log_up, log_down, xp)
    elif code == "code2":
        extra["a"] = 0.5 * (hi + lo) - nom
        extra["b"] = 0.5 * (hi - lo)
    elif code == "code4p":
        extra["s"] = 0.5 * (up + down)
        extra["a"] = (up - down) / 16.0
    return InterpConstants(code, nom, up, down, extra)


def code4_system() -> np.ndarray:
    """The 6×6 linear system of code 4's polynomial p(α) = 1 + Σ aᵢ αⁱ (i = 1 … 6): its
    value, slope and curvature at α = +1 and α = −1, each row one condition on a₁ … a₆."""
    powers = np.arange(1, 7)
    sign = (-1.0) ** powers
    return np.stack(
        [
            np.ones(6),  # p(1)
            sign,  # p(-1)
            powers.astype(float),  # p'(1)
            powers * (-sign),  # p'(-1)
            powers * (powers - 1.0),  # p''(1)
            powers * (powers - 1.0) * sign,  # p''(-1)
        ]
    )


# The exact inverse of code4_system() (its entries are multiples of 1/16, so the floats are
# exact; tests/likelihood checks the product with the system).  A constant rather than
# np.linalg.inv at each compile: the first LAPACK call of a process costs about a
# millisecond, which a small model's first fit would otherwise pay.
_CODE4_INVERSE = (
    np.array(
        [
            [15, -15, -7, -7, 1, -1],
            [24, 24, -9, 9, 1, 1],
            [-10, 10, 10, 10, -2, 2],
            [-24, -24, 14, -14, -2, -2],
            [3, -3, -3, -3, 1, -1],
            [8, 8, -5, 5, 1, 1],
        ],
        dtype=np.float64,
    )
    / 16.0
)
_CODE4_INVERSE.setflags(write=False)


def _code4_coefficients(
    ratio_up: Any, ratio_down: Any, log_up: Any, log_down: Any, xp: Any = np
) -> Any:
    """Coefficients a₁…a₆ of p(α) = 1 + Σ aᵢ αⁱ matching the exponential at α = ±1 (value,
    slope and curvature: :func:`code4_system`)."""
    rhs = xp.stack(
        [
            ratio_up - 1.0,
            ratio_down - 1.0,
            ratio_up * log_up,
            -ratio_down * log_down,
            ratio_up * log_up**2,
            ratio_down * log_down**2,
        ],
        axis=-1,
    )
    return rhs @ _CODE4_INVERSE.T


_POWERS = np.arange(7.0)


def _power_table(alpha: np.ndarray, degree: int) -> np.ndarray:
    """α⁰ … α^degree along a new last axis, by products (``**`` costs a pow per element)."""
    out = np.empty((*np.shape(alpha), degree + 1))
    out[..., 0] = 1.0
    out[..., 1:] = np.cumprod(np.broadcast_to(alpha[..., None], out[..., 1:].shape), axis=-1)
    return out


def interpolate(xp: Any, alpha: Any, c: dict[str, Any], code: str) -> tuple[Any, Any]:
    """Shift d(α) and ∂d/∂α for arrays ``alpha[..., T]`` with backend constants ``c``.

    ``xp`` is the array namespace (numpy, jax.numpy or torch); ``c`` holds the fields of
    :class:`InterpConstants` (``nominal``, ``up``, ``down`` and the ``extra`` entries) as
    backend arrays.
    """
    positive = alpha >= 0
    if code == "code0":
        slope = xp.where(positive, c["up"], c["down"])
        return alpha * slope, slope + 0.0 * alpha
    if code == "code1":
        log_ratio = xp.where(positive, c["log_up"], -c["log_down"])
        value = c["nominal"] * xp.exp(alpha * log_ratio)
        return value - c["nominal"], value * log_ratio
    if code == "code2":
        a, b = c["a"], c["b"]
        inside = a * alpha * alpha + b * alpha
        d_inside = 2.0 * a * alpha + b
        above = c["up"] + (b + 2.0 * a) * (alpha - 1.0)
        below = -c["down"] + (b - 2.0 * a) * (alpha + 1.0)
        value = xp.where(alpha > 1, above, xp.where(alpha < -1, below, inside))
        deriv = xp.where(alpha > 1, b + 2.0 * a, xp.where(alpha < -1, b - 2.0 * a, d_inside))
        return value, deriv + 0.0 * alpha
    if code == "code4p":
        s, a = c["s"], c["a"]
        a2 = alpha * alpha
        inside = alpha * s + a2 * a * (15.0 + a2 * (3.0 * a2 - 10.0))
        d_inside = s + alpha * a * (30.0 + a2 * (18.0 * a2 - 40.0))
        slope = xp.where(positive, c["up"], c["down"])
        outside = xp.abs(alpha) > 1
        return xp.where(outside, alpha * slope, inside), xp.where(outside, slope, d_inside)
    if code == "code4":
        nom = c["nominal"]
        log_ratio = xp.where(positive, c["log_up"], -c["log_down"])
        # keep the exponent finite on the branch that is not selected
        outside = xp.abs(alpha) >= 1
        safe_alpha = xp.where(outside, alpha, 0.0 * alpha)
        expo = nom * xp.exp(safe_alpha * log_ratio)
        coef = c["coef"]
        if xp is np:  # few large operations beat Horner's many small ones on NumPy
            powers = _power_table(alpha, 6)
            poly = np.sum(powers[..., 1:] * coef, axis=-1)
            dpoly = np.sum(powers[..., :-1] * (coef * _POWERS[1:]), axis=-1)
        else:
            poly = 0.0 * alpha
            dpoly = 0.0 * alpha
            for i in range(6, 0, -1):
                poly = (poly + coef[..., i - 1]) * alpha
            for i in range(6, 1, -1):
                dpoly = (dpoly + i * coef[..., i - 1]) * alpha
            dpoly = dpoly + coef[..., 0]
        value = xp.where(outside, expo - nom, nom * poly)
        deriv = xp.where(outside, expo * log_ratio, nom * dpoly)
        return value, deriv
    raise ValueError(f"unknown interpolation code {code!r}")


def second_derivative(alpha: Any, c: dict[str, Any], code: str, xp: Any = np) -> Any:
    """∂²d/∂α² for the same arguments as :func:`interpolate` (``xp``: NumPy or jax.numpy).

    Used for the exact Hessian of the batched Newton fits; at the kinks of code0/code2/
    code4p (|α| = 1) it takes the outer (linear) side, 0.
    """
    if xp is np:
        alpha = np.asarray(alpha, dtype=np.float64)
    zero = 0.0 * alpha * c["up"]
    if code == "code0":
        return zero
    positive = alpha >= 0
    if code == "code1":
        log_ratio = xp.where(positive, c["log_up"], -c["log_down"])
        return c["nominal"] * xp.exp(alpha * log_ratio) * log_ratio**2
    outside = xp.abs(alpha) >= 1
    if code == "code2":
        return xp.where(outside, zero, 2.0 * c["a"] + zero)
    if code == "code4p":
        a2 = alpha * alpha
        return xp.where(outside, zero, c["a"] * (30.0 + a2 * (90.0 * a2 - 120.0)))
    if code == "code4":
        nom = c["nominal"]
        log_ratio = xp.where(positive, c["log_up"], -c["log_down"])
        expo = nom * xp.exp(xp.where(outside, alpha, 0.0 * alpha) * log_ratio)
        coef = c["coef"]
        if xp is np:
            powers = _power_table(alpha, 4)
            scale = _POWERS[2:] * (_POWERS[2:] - 1.0)
            poly2 = np.sum(powers * (coef[..., 1:] * scale), axis=-1)
        else:  # Horner: Σ_{i=2..6} i(i−1) a_i α^(i−2)
            poly2 = 0.0 * alpha
            for i in range(6, 2, -1):
                poly2 = (poly2 + i * (i - 1) * coef[..., i - 1]) * alpha
            poly2 = poly2 + 2.0 * coef[..., 1]
        return xp.where(outside, expo * log_ratio**2, nom * poly2)
    raise ValueError(f"unknown interpolation code {code!r}")
