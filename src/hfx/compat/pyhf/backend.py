"""pyhf's ``set_backend``/``get_backend``/``tensorlib`` for ported scripts.

The facade computes with NumPy (float64) by default, as pyhf does.  ``set_backend("jax")``
makes models built afterwards use hfx's JAX backend and ``pyhf.tensorlib`` the JAX helpers;
``set_backend(..., optimizer)`` sets the default optimizer of later inference calls made
without ``optimizer=``.  PyTorch and TensorFlow are not routed (hfx has a PyTorch backend
for models built with hfx directly).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hfx.compat.pyhf.optimize import _Optimizer, minuit_optimizer, scipy_optimizer
from hfx.errors import BackendError

__all__ = ["get_backend", "jax_backend", "numpy_backend", "set_backend", "tensorlib"]


class numpy_backend:  # pyhf's name
    """The tensor helpers pyhf scripts call on ``pyhf.tensorlib``, on NumPy and SciPy, with
    pyhf's names and argument orders."""

    name = "numpy"
    xp: Any = np  # the array module the helpers compute with

    @staticmethod
    def special() -> Any:
        """The module with erf, erfinv, ndtr, gammaln and xlogy."""
        import scipy.special

        return scipy.special

    def __init__(self, precision: str = "64b", poisson_from_normal: bool = False):
        self.precision = precision.decode("utf-8") if isinstance(precision, bytes) else precision
        self.poisson_from_normal = poisson_from_normal

    def astensor(self, tensor_in: Any, dtype: str = "float") -> Any:
        dtypes = {"float": np.float64, "int": np.int64, "bool": np.bool_}
        return self.xp.asarray(tensor_in, dtype=dtypes[dtype])

    def tolist(self, tensor_in: Any) -> Any:
        return tensor_in.tolist() if hasattr(tensor_in, "tolist") else list(tensor_in)

    def to_numpy(self, tensor_in: Any) -> np.ndarray:
        return np.asarray(tensor_in)

    def shape(self, tensor: Any) -> tuple[int, ...]:
        return tuple(self.xp.shape(tensor))

    # --- building and reshaping ----------------------------------------------------------
    def ones(self, shape: Any, dtype: str = "float") -> Any:
        return self.xp.ones(shape, dtype=self.astensor(0, dtype).dtype)

    def zeros(self, shape: Any, dtype: str = "float") -> Any:
        return self.xp.zeros(shape, dtype=self.astensor(0, dtype).dtype)

    def reshape(self, tensor: Any, newshape: Any) -> Any:
        return self.xp.reshape(tensor, newshape)

    def ravel(self, tensor: Any) -> Any:
        return self.xp.ravel(tensor)

    def concatenate(self, sequence: Any, axis: int = 0) -> Any:
        return self.xp.concatenate(sequence, axis=axis)

    def stack(self, sequence: Any, axis: int = 0) -> Any:
        return self.xp.stack(sequence, axis=axis)

    def tile(self, tensor_in: Any, repeats: Any) -> Any:
        return self.xp.tile(tensor_in, repeats)

    def where(self, mask: Any, tensor_in_1: Any, tensor_in_2: Any) -> Any:
        return self.xp.where(mask, tensor_in_1, tensor_in_2)

    def clip(self, tensor_in: Any, min_value: Any, max_value: Any) -> Any:
        return self.xp.clip(tensor_in, min_value, max_value)

    def gather(self, tensor: Any, indices: Any) -> Any:
        return self.xp.asarray(tensor)[indices]

    def boolean_mask(self, tensor: Any, mask: Any) -> Any:
        return self.xp.asarray(tensor)[self.xp.asarray(mask, dtype=bool)]

    def isfinite(self, tensor: Any) -> Any:
        return self.xp.isfinite(tensor)

    # --- arithmetic -------------------------------------------------------------------------
    def sum(self, tensor_in: Any, axis: Any = None) -> Any:
        return self.xp.sum(tensor_in, axis=axis)

    def product(self, tensor_in: Any, axis: Any = None) -> Any:
        return self.xp.prod(tensor_in, axis=axis)

    def abs(self, tensor: Any) -> Any:
        return self.xp.abs(tensor)

    def sqrt(self, tensor_in: Any) -> Any:
        return self.xp.sqrt(tensor_in)

    def exp(self, tensor_in: Any) -> Any:
        return self.xp.exp(tensor_in)

    def log(self, tensor_in: Any) -> Any:
        return self.xp.log(tensor_in)

    def power(self, tensor_in_1: Any, tensor_in_2: Any) -> Any:
        return self.xp.power(tensor_in_1, tensor_in_2)

    def divide(self, tensor_in_1: Any, tensor_in_2: Any) -> Any:
        return self.xp.divide(tensor_in_1, tensor_in_2)

    def einsum(self, subscripts: str, *operands: Any) -> Any:
        return self.xp.einsum(subscripts, *operands)

    def percentile(
        self, tensor_in: Any, q: Any, axis: Any = None, interpolation: str = "linear"
    ) -> Any:
        method: Any = interpolation  # (numpy checks the name)
        return self.xp.percentile(
            self.xp.asarray(tensor_in, dtype=float), q, axis=axis, method=method
        )

    def conditional(self, predicate: Any, true_callable: Any, false_callable: Any) -> Any:
        return true_callable() if predicate else false_callable()

    # --- distributions -------------------------------------------------------------------------
    def erf(self, tensor_in: Any) -> Any:
        return self.special().erf(tensor_in)

    def erfinv(self, tensor_in: Any) -> Any:
        return self.special().erfinv(tensor_in)

    def normal_logpdf(self, x: Any, mu: Any, sigma: Any) -> Any:
        x, mu, sigma = self.xp.asarray(x), self.xp.asarray(mu), self.xp.asarray(sigma)
        return (
            -0.5 * ((x - mu) / sigma) ** 2 - self.xp.log(sigma) - 0.5 * self.xp.log(2 * self.xp.pi)
        )

    def normal(self, x: Any, mu: Any, sigma: Any) -> Any:
        return self.xp.exp(self.normal_logpdf(x, mu, sigma))

    def normal_cdf(self, x: Any, mu: Any = 0.0, sigma: Any = 1.0) -> Any:
        return self.special().ndtr((self.xp.asarray(x) - mu) / sigma)

    def poisson_logpdf(self, n: Any, lam: Any) -> Any:
        """log of the continuous Poisson density n ln λ − λ − ln Γ(n + 1) (pyhf's)."""
        special = self.special()
        n, lam = self.xp.asarray(n, dtype=float), self.xp.asarray(lam, dtype=float)
        return special.xlogy(n, lam) - lam - special.gammaln(n + 1.0)

    def poisson(self, n: Any, lam: Any) -> Any:
        return self.xp.exp(self.poisson_logpdf(n, lam))

    def __repr__(self) -> str:
        return "<hfx.compat.pyhf numpy backend (64b)>"


class jax_backend(numpy_backend):  # pyhf's name
    """The same helpers on JAX (float64): ``set_backend("jax")`` makes this ``tensorlib``,
    and models built afterwards compute with hfx's JAX backend."""

    name = "jax"

    def __init__(self, precision: str = "64b", **options: Any):
        super().__init__(precision=precision)
        from hfx.likelihood.backends import get_backend as native_backend

        self.xp = native_backend("jax").xp  # imports jax, float64 enabled (or MissingExtra)
        self.options = options

    @staticmethod
    def special() -> Any:
        import jax.scipy.special

        return jax.scipy.special

    def tolist(self, tensor_in: Any) -> Any:
        return np.asarray(tensor_in).tolist()

    def __repr__(self) -> str:
        return "<hfx.compat.pyhf jax backend (64b)>"


tensorlib = numpy_backend()  # the NumPy helpers; pyhf.tensorlib follows set_backend

# The facade's one piece of process state, and on purpose: pyhf's ``set_backend`` is global
# by contract, and ported scripts rely on it.  It holds the default optimizer of inference
# calls made later without ``optimizer=`` and the tensorlib (NumPy or JAX) of models built
# later; models and results already made are not affected.  Written by set_backend, read by
# get_backend, current_tensorlib and default_optimizer, nowhere else
# (tests/test_architecture.py allows exactly this name).
_state: dict[str, Any] = {"optimizer": scipy_optimizer(), "tensorlib": tensorlib}


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
    """pyhf's ``set_backend``: the array backend of models built later, and the default
    optimizer of later inference calls.

    ``backend`` is ``"numpy"`` or ``"jax"`` (or a backend object of those names) at 64-bit
    precision; after ``"jax"``, ``pyhf.tensorlib`` computes with JAX and new models use
    hfx's JAX backend (extra ``jax``).  ``custom_optimizer`` is ``"scipy"``, ``"minuit"`` or
    an optimizer object (None: scipy, as in pyhf).  ``default`` is accepted.  Models and
    results made earlier are not affected.
    """
    del default
    name = backend.decode("utf-8") if isinstance(backend, bytes) else backend
    name = name.lower() if isinstance(name, str) else getattr(name, "name", None)
    if isinstance(precision, bytes):
        precision = precision.decode("utf-8")
    wanted = precision or getattr(backend, "precision", None) or "64b"
    if str(wanted).lower() != "64b":
        raise BackendError(f"hfx.compat.pyhf computes in 64-bit precision, not {wanted!r}")
    lib: numpy_backend
    if name in ("numpy", "np"):
        lib = backend if type(backend) is numpy_backend else tensorlib
    elif name == "jax":
        lib = backend if isinstance(backend, jax_backend) else jax_backend()
    else:
        raise BackendError(
            f"hfx.compat.pyhf computes with NumPy or JAX, not {backend!r} "
            "(pytorch: build the model with hfx directly, backend='torch')"
        )
    _state["optimizer"] = (
        scipy_optimizer() if custom_optimizer is None else _as_optimizer(custom_optimizer)
    )
    _state["tensorlib"] = lib


def get_backend(default: bool = False) -> tuple[numpy_backend, _Optimizer]:
    """``(tensorlib, optimizer)``: the array helpers and the default optimizer now (with
    ``default=True``: NumPy and scipy, pyhf's defaults)."""
    if default:
        return tensorlib, scipy_optimizer()
    return _state["tensorlib"], _state["optimizer"]


def current_tensorlib() -> numpy_backend:
    """``pyhf.tensorlib``: the helpers of the backend set last (NumPy by default)."""
    lib: numpy_backend = _state["tensorlib"]
    return lib


def default_optimizer() -> _Optimizer:
    """The optimizer inference calls use when they are given none."""
    optimizer: _Optimizer = _state["optimizer"]
    return optimizer
