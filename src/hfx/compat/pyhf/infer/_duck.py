"""Inference on models that are not hfx models: pyhf's "bring your own model" interface.

pyhf's inference only needs ``model.config`` (``npars``, ``poi_index``,
``suggested_init/bounds/fixed``), ``model.logpdf(pars, data)`` and
``model.expected_data(pars)``.  hfx's fits also want −log L with its gradient; for a model
that has none, :class:`LogpdfModel` supplies it by central differences of ``logpdf``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["LogpdfModel", "as_native"]


def _numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu()
    return np.array(x, dtype=np.float64)


class _Config:
    """The model's config, with the names and flags hfx reads filled in when missing."""

    def __init__(self, config: Any):
        self._config = config
        self.npars = int(config.npars)
        self.poi_index = config.poi_index
        self.poi_name = getattr(config, "poi_name", None)
        names = getattr(config, "par_names", None)
        self.par_names = tuple(names) if names else tuple(f"par{i}" for i in range(self.npars))

    def suggested_init(self) -> np.ndarray:
        return _numpy(self._config.suggested_init())

    def suggested_bounds(self) -> np.ndarray:
        return _numpy(self._config.suggested_bounds()).reshape(-1, 2)

    def suggested_fixed(self) -> np.ndarray:
        fixed = getattr(self._config, "suggested_fixed", None)
        if fixed is None:
            return np.zeros(self.npars, dtype=bool)
        return np.array(fixed(), dtype=bool)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._config, name)


class LogpdfModel:
    """−log L and its gradient (central differences) for a model that only has ``logpdf``."""

    step = 1e-6

    def __init__(self, pdf: Any):
        self.pdf = pdf
        self.config = _Config(pdf.config)

    def __repr__(self) -> str:
        return f"<LogpdfModel of {self.pdf!r}>"

    def _one(self, pars: np.ndarray, data: np.ndarray) -> float:
        # probes outside the physical region (a rate at or below 0) give −inf/NaN quietly;
        # hfx's fits step back from them
        with np.errstate(all="ignore"):
            value = _numpy(self.pdf.logpdf(pars, data)).reshape(-1)
        return float(value[0]) if value.size else float("nan")

    @staticmethod
    def _rows(pars: Any, data: Any) -> tuple[tuple[int, ...], np.ndarray, np.ndarray]:
        """The batch shape and the flattened (pars, data) rows, broadcast against each other."""
        pars, data = _numpy(pars), _numpy(data)
        shape = np.broadcast_shapes(pars.shape[:-1], data.shape[:-1])
        p = np.broadcast_to(pars, (*shape, pars.shape[-1])).reshape(-1, pars.shape[-1])
        d = np.broadcast_to(data, (*shape, data.shape[-1])).reshape(-1, data.shape[-1])
        return shape, p, d

    def logpdf(self, pars: Any, data: Any) -> np.ndarray:
        shape, p, d = self._rows(pars, data)
        values = np.array([self._one(pi, di) for pi, di in zip(p, d, strict=True)])
        return values.reshape(shape)

    def nll(self, pars: Any, data: Any) -> np.ndarray:
        return -self.logpdf(pars, data)

    def _grad_one(self, x: np.ndarray, data: np.ndarray, f0: float) -> np.ndarray:
        grad = np.full_like(x, np.nan)
        if not np.isfinite(f0):
            return grad
        for i in range(x.size):
            h = self.step * max(1.0, abs(x[i]))
            up, down = x.copy(), x.copy()
            up[i] += h
            down[i] -= h
            fu, fd = -self._one(up, data), -self._one(down, data)
            if np.isfinite(fu) and np.isfinite(fd):
                grad[i] = (fu - fd) / (2 * h)
            elif np.isfinite(fu):  # e.g. at a bound where the rate would turn negative
                grad[i] = (fu - f0) / h
            elif np.isfinite(fd):
                grad[i] = (f0 - fd) / h
        return grad

    def nll_and_grad(self, pars: Any, data: Any) -> tuple[np.ndarray, np.ndarray]:
        shape, p, d = self._rows(pars, data)
        values = np.array([-self._one(pi, di) for pi, di in zip(p, d, strict=True)])
        grads = np.array(
            [self._grad_one(pi, di, f) for pi, di, f in zip(p, d, values, strict=True)]
        )
        return values.reshape(shape), grads.reshape((*shape, p.shape[-1]))

    def expected_data(self, pars: Any, include_auxdata: bool = True) -> np.ndarray:
        if include_auxdata:
            return _numpy(self.pdf.expected_data(pars))
        return _numpy(self.pdf.expected_data(pars, include_auxdata=False))


def as_native(pdf: Any) -> Any:
    """The model hfx's inference should see: the hfx model behind a facade model, the
    model itself if it has ``nll_and_grad``, else a :class:`LogpdfModel` around it."""
    native = getattr(pdf, "native", None)
    if native is not None:
        return native
    if hasattr(pdf, "nll_and_grad"):
        return pdf
    return LogpdfModel(pdf)


class _FixedConfig:
    """A config whose ``suggested_fixed()`` is a given mask; everything else is the model's."""

    def __init__(self, config: Any, fixed: np.ndarray):
        self._config = config
        self._fixed = np.array(fixed, dtype=bool)

    def suggested_fixed(self) -> np.ndarray:
        fixed: np.ndarray = self._fixed.copy()
        return fixed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._config, name)


class WithFixed:
    """``model`` with another set of fixed parameters.

    pyhf's ``fixed_params`` replaces the model's suggestion (it can free a parameter the
    measurement fixes); hfx's ``fixed=`` only adds to it.  This view makes the two agree.
    """

    def __init__(self, model: Any, fixed: np.ndarray):
        self._model = model
        self.config = _FixedConfig(model.config, fixed)

    def __repr__(self) -> str:
        return f"<{self._model!r} with fixed={self.config.suggested_fixed().tolist()}>"

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)
