"""The terms of −log L, defined once: Poisson main terms, Gaussian and Poisson constraints.

Every evaluation path (the model's log-likelihood and gradient, the Gauss-Newton fits)
takes its values and derivatives from here, so a term is written in one place.  Each term
comes as its −log value without the part that depends on the data alone (``*_nll``), that
constant (``poisson_constant``), and its first and second derivatives.  ``B`` is an array
backend (:mod:`hfx.likelihood.backends`); functions without it use operators only and work on
any array type.

The numba kernels (:mod:`hfx.optimize.kernel`) evaluate the same terms in scalar code; their
tests compare them with these definitions.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "gauss_curvature",
    "gauss_gradient",
    "gauss_nll",
    "poisson_constant",
    "poisson_curvature",
    "poisson_curvature_scalar",
    "poisson_nll",
    "poisson_nll_scalar",
    "poisson_residual",
    "poisson_residual_scalar",
    "rate_constraint_curvature",
    "rate_constraint_gradient",
]


def poisson_nll(B: Any, n: Any, nu: Any) -> Any:
    """ν − n log ν per bin (−log Pois(n | ν) without log n!); 0 · log 0 counts as 0."""
    return nu - B.xlogy(n, nu)


def poisson_constant(B: Any, n: Any) -> Any:
    """log n! per bin, continuous in n (lgamma(n + 1))."""
    return B.lgamma(n + 1.0)


def poisson_residual(xp: Any, n: Any, nu: Any) -> Any:
    """∂(ν − n log ν)/∂ν = 1 − n/ν per bin; exactly 1 where n = 0, whatever ν."""
    safe = xp.where(n == 0, 1.0 + 0.0 * nu, nu)
    return 1.0 - xp.where(n == 0, 0.0 * nu, n / safe)


def poisson_curvature(xp: Any, n: Any, nu: Any) -> Any:
    """∂²(ν − n log ν)/∂ν² = n/ν² per bin (the Gauss-Newton weight); 0 where n = 0."""
    safe = xp.where(n == 0, 1.0 + 0.0 * nu, nu)
    return xp.where(n == 0, 0.0 * nu, n / safe) / safe


def gauss_nll(theta: Any, aux: Any, sigma: Any) -> Any:
    """½ ((a − θ)/σ)² per Gaussian constraint (without log σ√(2π))."""
    z = (aux - theta) / sigma
    return 0.5 * (z * z)


def gauss_gradient(theta: Any, aux: Any, sigma: Any) -> Any:
    """∂/∂θ of :func:`gauss_nll`: (θ − a)/σ²."""
    return (theta - aux) / sigma**2


def gauss_curvature(sigma: Any) -> Any:
    """∂²/∂θ² of :func:`gauss_nll`: 1/σ²."""
    return 1.0 / sigma**2


def rate_constraint_gradient(theta: Any, aux: Any, tau: Any) -> Any:
    """∂/∂θ of the Poisson constraint −log Pois(a | θτ) (:func:`poisson_nll` at ν = θτ): τ − a/θ."""
    return tau - aux / theta


def rate_constraint_curvature(theta: Any, aux: Any) -> Any:
    """∂²/∂θ² of the Poisson constraint: a/θ²."""
    return aux / (theta * theta)


# Scalar forms of the Poisson term for compiled code (numba compiles these and the
# operator-only functions above; tests check them against the array forms).
def poisson_nll_scalar(n: float, nu: float) -> float:
    """:func:`poisson_nll` for one bin."""
    return nu - n * math.log(nu) if n != 0.0 else nu


def poisson_residual_scalar(n: float, nu: float) -> float:
    """:func:`poisson_residual` for one bin."""
    return 1.0 - n / nu if n != 0.0 else 1.0


def poisson_curvature_scalar(n: float, nu: float) -> float:
    """:func:`poisson_curvature` for one bin."""
    return n / nu / nu if n != 0.0 else 0.0
