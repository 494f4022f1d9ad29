"""A fit problem: resolving init/bounds/fixed against the model, the objective over the free
parameters, data checks and failure diagnostics, shared by every optimizer."""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from hfx.errors import FitError
from hfx.likelihood.model import check_model_data

__all__ = [
    "CHUNK_ELEMENTS",
    "Objective",
    "check_data",
    "diagnose",
    "locate_bin",
    "poi_mask_and_init",
    "projected_gradient",
    "resolve",
    "single_threaded_blas",
    "to_numpy",
]

CHUNK_ELEMENTS = 20_000_000  # floats evaluated at once by the chunked paths (~160 MB)


def _blas_controller() -> Any:
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # optional speed-up only
        return None
    return ThreadpoolController()


_BLAS = _blas_controller()  # made once at import (a scan of the loaded libraries); never rebound


def single_threaded_blas() -> Any:
    """A context limiting BLAS to one thread while a minimiser runs (``threadpoolctl``).

    Tiny dense algebra through a threaded BLAS spends more time waking threads than computing.
    """
    if _BLAS is None:
        return contextlib.nullcontext()
    return _BLAS.limit(limits=1, user_api="blas")


def to_numpy(x: Any) -> np.ndarray:
    """A float64 NumPy view of a backend array (torch tensors are detached first)."""
    if isinstance(x, np.ndarray) and x.dtype == np.float64:
        return x
    if hasattr(x, "detach"):  # torch
        x = x.detach().cpu()
    return np.asarray(x, dtype=np.float64)


def resolve(
    model: Any, init: Any, bounds: Any, fixed: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start point [npars], bounds [npars, 2] and fixed mask [npars] with the model's defaults
    (new arrays, the caller's to change)."""
    cfg = model.config
    start = None
    if init is None and bounds is None and fixed is None:
        start = getattr(cfg, "suggested_start", None)
    if start is not None:  # (an hfx model's defaults: made and checked for shape once)
        x0, bnds, mask = (vector.copy() for vector in start)
    else:
        x0 = np.array(cfg.suggested_init() if init is None else init, dtype=np.float64)
        x0 = x0.reshape(-1)
        bnds = np.array(cfg.suggested_bounds() if bounds is None else bounds, dtype=np.float64)
        mask = np.array(cfg.suggested_fixed(), dtype=bool).reshape(-1)
        if fixed is not None:
            mask = mask | np.asarray(fixed, dtype=bool).reshape(-1)
        n = cfg.npars
        if x0.shape != (n,) or bnds.shape != (n, 2) or mask.shape != (n,):
            raise FitError(
                f"init, bounds and fixed must describe {n} parameters; got shapes "
                f"{x0.shape}, {bnds.shape}, {mask.shape}"
            )
    lo, hi = bnds[:, 0], bnds[:, 1]
    reversed_bounds = lo > hi
    if reversed_bounds.any():
        bad = int(np.argmax(reversed_bounds))
        raise FitError(f"parameter {cfg.par_names[bad]!r} has lower bound above upper bound")
    outside = (x0 < lo) | (x0 > hi)
    outside &= ~mask
    if outside.any():
        bad = int(np.argmax(outside))
        raise FitError(
            f"initial value {x0[bad]} of parameter {cfg.par_names[bad]!r} lies outside its "
            f"bounds [{bnds[bad, 0]}, {bnds[bad, 1]}]"
        )
    return x0, bnds, mask


def poi_mask_and_init(model: Any, poi_value: float, init: Any, fixed: Any) -> tuple[Any, Any]:
    """(init, fixed) of a conditional fit: the POI set to ``poi_value`` and held fixed."""
    poi = model.config.poi_index
    if poi is None:
        raise FitError(
            "fixed_poi_fit needs a model with a parameter of interest (poi_index is None)"
        )
    x0 = np.array(model.config.suggested_init() if init is None else init, dtype=np.float64)
    x0[..., poi] = float(poi_value)
    n = model.config.npars
    mask = np.zeros(n, dtype=bool) if fixed is None else np.array(fixed, dtype=bool).reshape(-1)
    if mask.shape != (n,):
        raise FitError(f"fixed must describe {n} parameters; got shape {mask.shape}")
    mask[poi] = True
    return x0, mask


class Objective:
    """−log L and gradient over the free parameters, counting evaluations.

    Non-finite values (e.g. a negative expected rate) are replaced by a value above the
    last finite one, growing with the distance from it, so line searches backtrack.
    """

    def __init__(self, model: Any, data: np.ndarray, full: np.ndarray, free: np.ndarray) -> None:
        self.model = model
        self.data = data
        self.full: np.ndarray = full.copy()
        self.free = free
        self.idx = np.flatnonzero(free)
        self.all_free = self.idx.size == full.size
        self.ncalls = 0
        self.last: tuple[np.ndarray, float, np.ndarray] | None = None

    def expand(self, x: np.ndarray) -> np.ndarray:
        """The full parameter vector with the free components set to ``x`` (a new array)."""
        pars: np.ndarray = self.full.copy()
        pars[self.idx] = x
        return pars

    def evaluate(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """Raw (−log L, gradient over the free components) at ``x``; may be non-finite."""
        self.ncalls += 1
        if self.all_free:
            pars = x
        else:
            pars = self.full
            pars[self.idx] = x
        val, grad = self.model.nll_and_grad(pars, self.data)
        grad = to_numpy(grad)
        return float(val), (grad if self.all_free else grad[self.idx])

    def __call__(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        last = self.last
        if last is not None and np.array_equal(x, last[0]):
            return last[1], last[2]
        val, grad = self.evaluate(x)
        if not (np.isfinite(val) and np.isfinite(grad).all()):
            if last is None:
                return 1e300, np.zeros_like(x)
            x_ok, f_ok, g_ok = last
            rise = 4.0 * abs(float(g_ok @ (x - x_ok))) + 1e-3 * (1.0 + abs(f_ok))
            return f_ok + rise, g_ok.copy()
        self.last = (np.array(x, dtype=np.float64), val, grad)
        return val, grad


def projected_gradient(x: np.ndarray, g: np.ndarray, bnds: np.ndarray) -> float:
    """Largest gradient component that does not push against an active bound."""
    pg = g.copy()
    pg[(x <= bnds[:, 0]) & (g > 0)] = 0.0
    pg[(x >= bnds[:, 1]) & (g < 0)] = 0.0
    return float(np.max(np.abs(pg))) if pg.size else 0.0


def locate_bin(model: Any, index: int) -> str:
    """'channel <name> bin <i>' for main-data position ``index``, or 'auxdata[<k>]'."""
    cfg = model.config
    if index >= cfg.nmaindata:
        return f"auxdata[{index - cfg.nmaindata}]"
    for channel, sl in cfg.channel_slices.items():
        if sl.start <= index < sl.stop:
            return f"channel {channel!r} bin {index - sl.start}"
    return f"bin {index}"


def check_data(model: Any, data: np.ndarray) -> None:
    """Raise :class:`~hfx.errors.ModelError` for data of the wrong length (naming both), and
    :class:`FitError` naming the first non-finite observed value."""
    cfg = getattr(model, "config", None)
    if cfg is not None and hasattr(cfg, "nmaindata") and hasattr(cfg, "nauxdata"):
        check_model_data(data, cfg.nmaindata, cfg.nauxdata)
    bad = ~np.isfinite(data)
    if bad.any():
        i = int(np.flatnonzero(bad.reshape(-1))[0]) % data.shape[-1]
        raise FitError(f"data value at {locate_bin(model, i)} is {float(data.reshape(-1)[i])}")


def diagnose(model: Any, data: np.ndarray, pars: np.ndarray) -> str:
    """Why −log L is not finite at ``pars``: the first bad expected rate, or ''."""
    if not hasattr(model, "expected_actualdata"):
        return ""
    with np.errstate(all="ignore"):
        rates = to_numpy(model.expected_actualdata(pars))
    bad = ~np.isfinite(rates) | (rates < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        return f"expected rate {rates[i]:.6g} at {locate_bin(model, i)} is not a valid Poisson mean"
    with np.errstate(all="ignore"):
        val = float(to_numpy(model.nll(pars, data)))
    if not np.isfinite(val):
        return "−log L is not finite (a constrained parameter at zero or an invalid auxdata value)"
    return ""
