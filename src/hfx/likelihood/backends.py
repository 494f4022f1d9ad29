"""Array backends: the few array operations the likelihood needs, for NumPy, JAX and PyTorch.

A backend is a value bound to a model when it is compiled; there is no global backend
state.  Each backend turns the compiled NumPy index arrays into its own arrays once
(:meth:`Backend.asarray`) and evaluates with them afterwards.
"""

from __future__ import annotations

import importlib
import math
import os
import sys
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from hfx.errors import BackendError, MissingExtraError

Array = Any

BACKEND_NAMES = ("numpy", "jax", "torch")


class SegmentIndex:
    """Precomputed structure to sum values[..., T] into segments[..., S] by integer ids."""

    # the ids as a backend array, cached by JaxBackend / TorchBackend on first use
    _jax_ids: Any
    _torch_ids: Any

    def __init__(self, ids: np.ndarray, num_segments: int):
        ids = np.asarray(ids, dtype=np.int64)
        self.ids = ids
        self.num_segments = int(num_segments)
        self.order = np.argsort(ids, kind="stable")
        sorted_ids = ids[self.order]
        self.is_sorted = bool(np.all(self.order == np.arange(ids.size)))
        present, starts = np.unique(sorted_ids, return_index=True)
        self.present = present
        self.starts = starts
        self.all_present = present.size == self.num_segments


class Backend:
    """Interface of an array backend (see :class:`NumpyBackend` for the reference one)."""

    name: str = "abstract"
    #: The backend's array module (``numpy``, ``jax.numpy`` or ``torch``); set by each backend.
    xp: Any
    #: The backend's float64 dtype; set by each backend.
    float64: Any

    def asarray(self, x: Any, dtype: Any = None) -> Array:
        raise NotImplementedError

    def index(self, x: np.ndarray) -> Array:
        """An integer index array usable for gathers on this backend."""
        raise NotImplementedError

    def to_numpy(self, x: Array) -> np.ndarray:
        raise NotImplementedError

    def segment_sum(self, values: Array, seg: SegmentIndex) -> Array:
        """Sum ``values[..., T]`` into ``[..., seg.num_segments]`` by the segment ids."""
        raise NotImplementedError

    def scatter_into(self, base: Array, positions: np.ndarray, values: Array) -> Array:
        """``base`` with ``values`` at ``positions`` of its last axis (may reuse ``base``)."""
        raise NotImplementedError

    def full(self, shape: tuple[int, ...], value: float) -> Array:
        raise NotImplementedError

    def cumprod(self, x: Array) -> Array:
        """Cumulative product along the last axis."""
        raise NotImplementedError

    def flip(self, x: Array) -> Array:
        """Reverse the last axis."""
        raise NotImplementedError

    def prod(self, x: Array) -> Array:
        """Product along the last axis."""
        raise NotImplementedError

    def lgamma(self, x: Array) -> Array:
        raise NotImplementedError

    def xlogy(self, x: Array, y: Array) -> Array:
        raise NotImplementedError

    def broadcast_shapes(self, *shapes: tuple[int, ...]) -> tuple[int, ...]:
        raise NotImplementedError

    def concat(self, arrays: list[Any]) -> Array:
        """Concatenate along the last axis."""
        raise NotImplementedError

    def stack_last(self, arrays: list[Any]) -> Array:
        """Stack along a new last axis."""
        raise NotImplementedError


class NumpyBackend(Backend):
    """The default backend: plain NumPy and SciPy."""

    name = "numpy"
    float64 = np.float64

    def __init__(self) -> None:
        self.xp = np

    def asarray(self, x: Any, dtype: Any = np.float64) -> np.ndarray:
        return np.asarray(x, dtype=dtype)

    def index(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, dtype=np.intp)

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.asarray(x)

    def segment_sum(self, values: np.ndarray, seg: SegmentIndex) -> np.ndarray:
        if values.shape[-1] == 0:
            return np.zeros((*values.shape[:-1], seg.num_segments))
        ordered = values if seg.is_sorted else values[..., seg.order]
        summed = np.add.reduceat(ordered, seg.starts, axis=-1)
        if seg.all_present:
            return summed
        out = np.zeros((*values.shape[:-1], seg.num_segments))
        out[..., seg.present] = summed
        return out

    def scatter_into(
        self, base: np.ndarray, positions: np.ndarray, values: np.ndarray
    ) -> np.ndarray:
        base[..., positions] = values
        return base

    def full(self, shape: tuple[int, ...], value: float) -> np.ndarray:
        return np.full(shape, value)

    def cumprod(self, x: np.ndarray) -> np.ndarray:
        return np.cumprod(x, axis=-1)

    def flip(self, x: np.ndarray) -> np.ndarray:
        return x[..., ::-1]

    def prod(self, x: np.ndarray) -> Any:  # a NumPy scalar for a 1-d x
        return np.prod(x, axis=-1)

    def lgamma(self, x: np.ndarray) -> np.ndarray:
        # math.lgamma per element: no scipy.special import (0.2 s) for a few hundred bins
        arr = np.asarray(x, dtype=np.float64)
        values = [math.lgamma(v) for v in arr.ravel().tolist()]
        return np.array(values, dtype=np.float64).reshape(arr.shape)

    def xlogy(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """x · log y, 0 where x = 0 (unless y is NaN), as scipy.special.xlogy."""
        x, y = np.asarray(x), np.asarray(y)
        with np.errstate(divide="ignore", invalid="ignore"):
            out: np.ndarray = x * np.log(y)
        zero = x == 0
        if zero.any():
            out = np.where(zero & ~np.isnan(y), 0.0, out)
        return out

    def broadcast_shapes(self, *shapes: tuple[int, ...]) -> tuple[int, ...]:
        return np.broadcast_shapes(*shapes)

    def concat(self, arrays: list[Any]) -> Any:
        return np.concatenate(arrays, axis=-1)

    def stack_last(self, arrays: list[Any]) -> Any:
        return np.stack(arrays, axis=-1)


def user_cache_dir() -> Path:
    """hfx's per-user cache folder: $HFX_CACHE_DIR, else the platform's user cache folder
    (``~/.cache/hfx`` on Linux).  Nothing is created here."""
    explicit = os.environ.get("HFX_CACHE_DIR")
    if explicit:
        return Path(explicit)
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        base = Path(local) if local else Path.home() / "AppData" / "Local"
        return base / "hfx" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "hfx"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "hfx"


def jax_cache_dir(*parts: str) -> Path | None:
    """The folder ``user_cache_dir()/jax/<parts>``, made if missing, where hfx keeps what
    JAX compiled; None when ``HFX_JAX_CACHE=0`` or when it cannot be made or written (no
    cache then, never an error)."""
    if os.environ.get("HFX_JAX_CACHE", "1").lower() in ("0", "off", "no", "false"):
        return None
    folder = user_cache_dir().joinpath("jax", *parts)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return folder if os.access(folder, os.W_OK) else None


def _use_compilation_cache(jax: Any) -> None:
    """JAX's persistent compilation cache in :func:`jax_cache_dir`, so that a second
    process loads compiled fits from disk instead of compiling them again.  Left alone when
    the user has configured a cache."""
    if jax.config.jax_compilation_cache_dir:
        return
    folder = jax_cache_dir()
    if folder is None:
        return
    jax.config.update("jax_compilation_cache_dir", str(folder))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


class JaxBackend(NumpyBackend):
    """JAX backend (float64 enabled); differentiable and jit-compatible."""

    name = "jax"

    def __init__(self) -> None:
        jax = _import_extra("jax", "jax")
        jax.config.update("jax_enable_x64", True)
        _use_compilation_cache(jax)
        import jax.numpy as jnp
        import jax.scipy.special as jsp

        self.jax = jax
        self.xp = jnp
        self._jsp = jsp
        self.float64 = jnp.float64

    def asarray(self, x: Any, dtype: Any = None) -> Any:
        return self.xp.asarray(x, dtype=self.xp.float64 if dtype is None else dtype)

    def index(self, x: np.ndarray) -> Any:
        return self.xp.asarray(np.asarray(x, dtype=np.int64))

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.asarray(x)

    def segment_sum(self, values: Any, seg: SegmentIndex) -> Any:
        ids = getattr(seg, "_jax_ids", None)
        if ids is None:
            if isinstance(values, self.jax.core.Tracer):  # a constant of the trace, not kept
                ids = seg.ids
            else:
                ids = seg._jax_ids = self.xp.asarray(seg.ids)
        moved = self.xp.moveaxis(values, -1, 0)
        summed = self.jax.ops.segment_sum(moved, ids, num_segments=seg.num_segments)
        return self.xp.moveaxis(summed, 0, -1)

    def scatter_into(self, base: Any, positions: np.ndarray, values: Any) -> Any:
        return base.at[..., positions].set(values)

    def full(self, shape: tuple[int, ...], value: float) -> Any:
        return self.xp.full(shape, value, dtype=self.xp.float64)

    def cumprod(self, x: Any) -> Any:
        return self.xp.cumprod(x, axis=-1)

    def flip(self, x: Any) -> Any:
        return self.xp.flip(x, axis=-1)

    def prod(self, x: Any) -> Any:
        return self.xp.prod(x, axis=-1)

    def lgamma(self, x: Any) -> Any:
        return self._jsp.gammaln(x)

    def xlogy(self, x: Any, y: Any) -> Any:
        return self._jsp.xlogy(x, y)

    def concat(self, arrays: list[Any]) -> Any:
        return self.xp.concatenate(arrays, axis=-1)

    def stack_last(self, arrays: list[Any]) -> Any:
        return self.xp.stack(arrays, axis=-1)


class TorchBackend(NumpyBackend):
    """PyTorch backend in float64 (CPU unless a device is given)."""

    name = "torch"

    def __init__(self, device: str | None = None) -> None:
        torch = _import_extra("torch", "torch")
        self.torch = torch
        self.xp = torch
        self.device = torch.device(device) if device else torch.device("cpu")
        self.float64 = torch.float64

    def asarray(self, x: Any, dtype: Any = None) -> Any:
        dtype = self.torch.float64 if dtype is None else dtype
        if isinstance(x, self.torch.Tensor):
            return x.to(device=self.device, dtype=dtype)
        return self.torch.as_tensor(np.asarray(x), dtype=dtype, device=self.device)

    def index(self, x: np.ndarray) -> Any:
        return self.torch.as_tensor(np.asarray(x, dtype=np.int64), device=self.device)

    def to_numpy(self, x: Any) -> np.ndarray:
        if isinstance(x, self.torch.Tensor):
            out: np.ndarray = x.detach().cpu().numpy()
            return out
        return np.asarray(x)

    def segment_sum(self, values: Any, seg: SegmentIndex) -> Any:
        ids = getattr(seg, "_torch_ids", None)
        if ids is None or ids.device != self.device:
            ids = self.index(seg.ids)
            seg._torch_ids = ids
        out = self.torch.zeros(
            (*values.shape[:-1], seg.num_segments), dtype=values.dtype, device=values.device
        )
        return out.index_add(values.dim() - 1, ids, values)

    def scatter_into(self, base: Any, positions: np.ndarray, values: Any) -> Any:
        base = base.clone()
        base[..., self.index(positions)] = values
        return base

    def full(self, shape: tuple[int, ...], value: float) -> Any:
        return self.torch.full(shape, value, dtype=self.torch.float64, device=self.device)

    def cumprod(self, x: Any) -> Any:
        return self.torch.cumprod(x, dim=-1)

    def flip(self, x: Any) -> Any:
        return self.torch.flip(x, dims=(-1,))

    def prod(self, x: Any) -> Any:
        return self.torch.prod(x, dim=-1)

    def lgamma(self, x: Any) -> Any:
        return self.torch.lgamma(x)

    def xlogy(self, x: Any, y: Any) -> Any:
        return self.torch.special.xlogy(x, y)

    def broadcast_shapes(self, *shapes: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(self.torch.broadcast_shapes(*shapes))

    def concat(self, arrays: list[Any]) -> Any:
        return self.torch.cat(arrays, dim=-1)

    def stack_last(self, arrays: list[Any]) -> Any:
        return self.torch.stack(arrays, dim=-1)


def _import_extra(module: str, extra: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(
            f"the {module!r} backend needs the optional dependency; install it with "
            f"`pip install 'hfx[{extra}]'`"
        ) from None


_BACKEND_CLASSES: MappingProxyType[str, type[Backend]] = MappingProxyType(
    {"numpy": NumpyBackend, "jax": JaxBackend, "torch": TorchBackend}
)


def get_backend(backend: str | Backend = "numpy") -> Backend:
    """Resolve a backend name (numpy, jax, torch) or instance to a :class:`Backend`.

    A name gives a new instance (backends hold no state beyond their array module).
    """
    if isinstance(backend, Backend):
        return backend
    if not isinstance(backend, str) or backend.lower() not in BACKEND_NAMES:
        raise BackendError(f"unknown backend {backend!r}; choose one of {', '.join(BACKEND_NAMES)}")
    return _BACKEND_CLASSES[backend.lower()]()
