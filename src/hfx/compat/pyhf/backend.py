"""pyhf's ``set_backend``/``get_backend``/``tensorlib`` for ported scripts.

The facade computes with NumPy (float64) and returns NumPy arrays, as pyhf's default
backend does.  ``set_backend("numpy", optimizer)`` is accepted so that pyhf scripts run
unchanged; its only effect is the default optimizer of *later* inference calls made
without ``optimizer=``.  Other array backends are chosen per model in hfx
(``Model(spec, backend="jax")``), not globally, so naming one here is an error.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hfx.compat.pyhf.optimize import _Optimizer, minuit_optimizer, scipy_optimizer
from hfx.errors import BackendError

__all__ = ["get_backend", "set_backend", "tensorlib"]


class numpy_backend:  # pyhf's name
    """The tensor helpers pyhf scripts call on ``pyhf.tensorlib``, on NumPy and SciPy, with
    pyhf's names and argument orders."""

    name = "numpy"

    def __init__(self, precision: str = "64b", poisson_from_normal: bool = False):
        self.precision = precision.decode("utf-8") if isinstance(precision, bytes) else precision
        self.poisson_from_normal = poisson_from_normal

    def astensor(self, tensor_in: Any, dtype: str = "float") -> np.ndarray:
        dtypes = {"float": np.float64, "int": np.int64, "bool": np.bool_}
        return np.asarray(tensor_in, dtype=dtypes[dtype])

    def tolist(self, tensor_in: Any) -> Any:
        return tensor_in.tolist() if hasattr(tensor_in, "tolist") else list(tensor_in)

    def to_numpy(self, tensor_in: Any) -> np.ndarray:
        return np.asarray(tensor_in)

    def shape(self, tensor: Any) -> tuple[int, ...]:
        return tuple(np.shape(tensor))

    # --- building and reshaping ----------------------------------------------------------
    def ones(self, shape: Any, dtype: str = "float") -> Any:
        return np.ones(shape, dtype=self.astensor(0, dtype).dtype)

    def zeros(self, shape: Any, dtype: str = "float") -> Any:
        return np.zeros(shape, dtype=self.astensor(0, dtype).dtype)

    def reshape(self, tensor: Any, newshape: Any) -> Any:
        return np.reshape(tensor, newshape)

    def ravel(self, tensor: Any) -> Any:
        return np.ravel(tensor)

    def concatenate(self, sequence: Any, axis: int = 0) -> Any:
        return np.concatenate(sequence, axis=axis)

    def stack(self, sequence: Any, axis: int = 0) -> Any:
        return np.stack(sequence, axis=axis)

    def tile(self, tensor_in: Any, repeats: Any) -> Any:
        return np.tile(tensor_in, repeats)

    def where(self, mask: Any, tensor_in_1: Any, tensor_in_2: Any) -> Any:
        return np.where(mask, tensor_in_1, tensor_in_2)

    def clip(self, tensor_in: Any, min_value: Any, max_value: Any) -> Any:
        return np.clip(tensor_in, min_value, max_value)

    def gather(self, tensor: Any, indices: Any) -> Any:
        return np.asarray(tensor)[indices]

    def boolean_mask(self, tensor: Any, mask: Any) -> Any:
        return np.asarray(tensor)[np.asarray(mask, dtype=bool)]

    def isfinite(self, tensor: Any) -> Any:
        return np.isfinite(tensor)

    # --- arithmetic -------------------------------------------------------------------------
    def sum(self, tensor_in: Any, axis: Any = None) -> Any:
        return np.sum(tensor_in, axis=axis)

    def product(self, tensor_in: Any, axis: Any = None) -> Any:
        return np.prod(tensor_in, axis=axis)

    def abs(self, tensor: Any) -> Any:
        return np.abs(tensor)

    def sqrt(self, tensor_in: Any) -> Any:
        return np.sqrt(tensor_in)

    def exp(self, tensor_in: Any) -> Any:
        return np.exp(tensor_in)

    def log(self, tensor_in: Any) -> Any:
        return np.log(tensor_in)

    def power(self, tensor_in_1: Any, tensor_in_2: Any) -> Any:
        return np.power(tensor_in_1, tensor_in_2)

    def divide(self, tensor_in_1: Any, tensor_in_2: Any) -> Any:
        return np.divide(tensor_in_1, tensor_in_2)

    def einsum(self, subscripts: str, *operands: Any) -> Any:
        return np.einsum(subscripts, *operands)

    def percentile(
        self, tensor_in: Any, q: Any, axis: Any = None, interpolation: str = "linear"
    ) -> Any:
        method: Any = interpolation  # (numpy checks the name)
        return np.percentile(np.asarray(tensor_in, dtype=float), q, axis=axis, method=method)

    def conditional(self, predicate: Any, true_callable: Any, false_callable: Any) -> Any:
        return true_callable() if predicate else false_callable()

    # --- distributions -------------------------------------------------------------------------
    def erf(self, tensor_in: Any) -> Any:
        from scipy.special import erf

        return erf(tensor_in)

    def erfinv(self, tensor_in: Any) -> Any:
        from scipy.special import erfinv

        return erfinv(tensor_in)

    def normal_logpdf(self, x: Any, mu: Any, sigma: Any) -> Any:
        x, mu, sigma = np.asarray(x), np.asarray(mu), np.asarray(sigma)
        return -0.5 * ((x - mu) / sigma) ** 2 - np.log(sigma) - 0.5 * np.log(2 * np.pi)

    def normal(self, x: Any, mu: Any, sigma: Any) -> Any:
        return np.exp(self.normal_logpdf(x, mu, sigma))

    def normal_cdf(self, x: Any, mu: Any = 0.0, sigma: Any = 1.0) -> Any:
        from scipy.special import ndtr

        return ndtr((np.asarray(x) - mu) / sigma)

    def poisson_logpdf(self, n: Any, lam: Any) -> Any:
        """log of the continuous Poisson density n ln λ − λ − ln Γ(n + 1) (pyhf's)."""
        from scipy.special import gammaln, xlogy

        n, lam = np.asarray(n, dtype=float), np.asarray(lam, dtype=float)
        return xlogy(n, lam) - lam - gammaln(n + 1.0)

    def poisson(self, n: Any, lam: Any) -> Any:
        return np.exp(self.poisson_logpdf(n, lam))

    def __repr__(self) -> str:
        return "<hfx.compat.pyhf numpy backend (64b)>"


tensorlib = numpy_backend()

# The facade's one piece of process state, and on purpose: pyhf's ``set_backend`` is global
# by contract, and ported scripts rely on it.  It holds only the default optimizer of
# inference calls made later without ``optimizer=``; models and results already made are
# not affected.  Written by set_backend, read by get_backend and default_optimizer, nowhere
# else (tests/test_architecture.py allows exactly this name).
_state: dict[str, _Optimizer] = {"optimizer": scipy_optimizer()}


def _as_optimizer(spec: Any) -> _Optimizer:
    if isinstance(spec, bytes):
        spec = spec.decode("utf-8")
    if isinstance(spec, str):
        known = {"scipy": scipy_optimizer, "minuit": minuit_optimizer}
        try:
            return known[spec.lower()]()
        except KeyError:
            raise BackendError(
                f"The optimizer provided is not supported: {spec}. "
                "Select from one of the supported optimizers: scipy, minuit"
            ) from None
    if isinstance(spec, _Optimizer):
        return spec
    raise BackendError(
        f"unsupported optimizer {spec!r}: use 'scipy', 'minuit' or "
        "hfx.compat.pyhf.optimize.scipy_optimizer()/minuit_optimizer()"
    )


def set_backend(
    backend: Any,
    custom_optimizer: Any = None,
    precision: str | bytes | None = None,
    default: bool = False,
) -> None:
    """Accept pyhf's call; set the default optimizer of later inference calls.

    ``backend`` must be NumPy (``"numpy"`` or ``tensorlib``) at 64-bit precision;
    ``custom_optimizer`` is ``"scipy"``, ``"minuit"`` or an optimizer object (None:
    scipy, as in pyhf).  Models and results made earlier are not affected.
    """
    name = backend.decode("utf-8") if isinstance(backend, bytes) else backend
    name = name.lower() if isinstance(name, str) else getattr(name, "name", None)
    if name not in ("numpy", "np"):
        raise BackendError(
            f"hfx.compat.pyhf works with NumPy only, not {backend!r}; build a model on "
            "another backend with hfx directly (ws.model(..., backend='jax'))"
        )
    if isinstance(precision, bytes):
        precision = precision.decode("utf-8")
    if precision is not None and precision.lower() != "64b":
        raise BackendError(f"hfx.compat.pyhf computes in 64-bit precision, not {precision!r}")
    _state["optimizer"] = (
        scipy_optimizer() if custom_optimizer is None else _as_optimizer(custom_optimizer)
    )


def get_backend(default: bool = False) -> tuple[numpy_backend, _Optimizer]:
    """``(tensorlib, optimizer)``: the NumPy helpers and the current default optimizer."""
    return tensorlib, (scipy_optimizer() if default else _state["optimizer"])


def default_optimizer() -> _Optimizer:
    """The optimizer inference calls use when they are given none."""
    return _state["optimizer"]
