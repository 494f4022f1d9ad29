"""Compiled projected Newton for small models (numba, a dependency of hfx).

On models with a handful of parameters a fit is a few dozen arithmetic operations per bin,
and the NumPy path spends almost all of its time dispatching array calls.  The kernels
(:mod:`hfx.optimize._kernel_impl`) run the algorithm of :mod:`hfx.optimize.newton` as one
compiled loop over the rows, reading the model's :class:`~hfx.likelihood.flat_terms.FlatTerms`
and the compiled term definitions of :mod:`hfx.likelihood.terms`.

Whether they run is decided up front by a fit plan (:mod:`hfx.optimize.plan`), never by what
a process did before: this module only says whether they can (:func:`available`,
:func:`applies`, :func:`ready`) and runs them.  An installation normally ships them compiled
ahead of time inside the package (``hatch_build.py``), and every engine runs those.  Without
them, engine "numba" compiles them at its first use in an installation (numba caches the
result on disk); engine "auto" takes them only once they are in that cache and meanwhile has
them compiled in the background (:mod:`hfx.optimize.kernel_cache`), so no call waits for the
compiler.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np

from hfx.errors import MissingExtraError
from hfx.optimize import kernel_cache
from hfx.optimize import kernel_tasks as tasks
from hfx.optimize.gauss_newton import EXACT_MIN_FREE, dense_ok

__all__ = [
    "MAX_FREE",
    "applies",
    "asimov_fits",
    "available",
    "compiled",
    "expected_data",
    "fit_one",
    "fit_values",
    "loads_at_once",
    "newton_rows",
    "ready",
    "require",
    "twice_nll",
]

_IMPL = "hfx.optimize._kernel_impl"
MAX_FREE = EXACT_MIN_FREE - 1  # where the NumPy path uses Gauss-Newton + secant too


def available() -> bool:
    """Whether numba can be imported (the kernels can be compiled).

    An installed numba that fails to import (e.g. built for another NumPy) counts as
    absent, so "auto" runs on NumPy instead of failing."""
    loaded = sys.modules.get("numba", False)
    if loaded is not False:  # imported already (None: blocked on purpose)
        return loaded is not None
    try:
        importlib.import_module("numba")
    except Exception:  # absent, or any failure to import: "not available"
        return False
    return True


def applies(model: Any) -> bool:
    """Whether the kernels can fit ``model``: a NumPy hfx model of at most MAX_FREE + 1
    parameters (fixed ones too: a row's Jacobian is dense)."""
    return (
        getattr(getattr(model, "backend", None), "name", None) == "numpy"
        and hasattr(model, "flat_terms")
        and model.config.npars <= MAX_FREE + 1
        and dense_ok(model)
    )


def _source() -> tuple[str, Path | None]:
    """Where this process would take the kernels from: "loaded" (JIT kernels imported),
    "aot" (the ahead-of-time ones, shipped in the package or in the cache, loaded now if not
    yet), "jit" (numba's JIT cache only),
    "none" (not compiled yet) or "no numba" (not installed, or blocked); with the cache
    directory where it was looked at."""
    loaded = sys.modules.get(_IMPL)
    if loaded is not None and not getattr(loaded.__spec__, "_initializing", False):
        return "loaded", None
    if kernel_cache.AOT_LOADED in sys.modules:
        return "aot", None
    if sys.modules.get("numba", False) is None or importlib.util.find_spec("numba") is None:
        return "no numba", None
    # (loaded here: the callers that find them go on to run them, and a file that does
    # not load counts as absent; the cache is looked at only without the packaged ones)
    if kernel_cache.load_packaged() is not None:
        return "aot", None
    root = kernel_cache.cache_root()
    if kernel_cache.load_cached(root) is not None:
        return "aot", root
    return ("jit" if kernel_cache.holds_kernels(root) else "none"), root


def loads_at_once() -> bool:
    """Whether running the kernels costs this process no noticeable load: they are loaded
    already, or the cache holds the ahead-of-time compiled ones (milliseconds; the JIT cache
    costs numba's import, about half a second).  Where the cache lacks those, the
    background build is started (:func:`kernel_cache.start_background_build`), so that
    later processes find them."""
    source, root = _source()
    if source == "loaded":
        return available()
    if source in ("jit", "none"):
        kernel_cache.start_background_build(root)
    return source == "aot"


def ready() -> bool:
    """Whether the kernels run without compiling first: loaded in this process, or compiled
    in the on-disk cache (:mod:`hfx.optimize.kernel_cache`) with numba installed.  Where
    they are not, a background build is started (:func:`kernel_cache.start_background_build`)
    so that a later call finds them ready; on a platform without one (Windows) this is
    :func:`available` (the first use compiles them)."""
    source, root = _source()
    if source in ("aot", "no numba"):
        return source == "aot"
    if source == "jit":
        kernel_cache.start_background_build(root)  # (the ahead-of-time module, if possible)
    elif source == "none" and kernel_cache.can_build_in_background():
        kernel_cache.start_background_build(root)
        return False
    # (loaded, in the JIT cache, or compiled at this first use where no build can run here)
    return available()


def require() -> None:
    """Raise :class:`~hfx.errors.MissingExtraError` when numba is not installed (without
    importing it where the ahead-of-time compiled kernels serve)."""
    if _source()[0] != "aot" and not available():
        raise MissingExtraError(
            "the numba engine needs numba (a dependency of hfx that is missing here); "
            "install it with `pip install numba`"
        )


def compiled() -> Any:
    """The compiled kernels, a module with ``run``: the JIT kernels where this process has
    them, else the ahead-of-time compiled ones where the cache holds them (no numba import),
    else the JIT kernels (importing them compiles or loads them, once per process)."""
    loaded = sys.modules.get(_IMPL)
    # (one that another thread is still importing is waited for by import_module)
    if loaded is not None and not getattr(loaded.__spec__, "_initializing", False):
        return loaded
    aot = kernel_cache.load_aot()
    if aot is not None:
        return aot
    require()
    return importlib.import_module(_IMPL)


# the kernel's unused arguments: empty arrays of the types it was compiled for (size 0, so
# they hold nothing; writeable, as read-only arrays are another type to numba)
_NO_INTS, _NO_FLOATS = np.empty(0, dtype=np.int64), np.empty(0)
_NO_FLAGS = np.empty(0, dtype=np.bool_)
_NO_ROWS = np.empty((0, 0))


# Every array reaches the kernel as exactly the type it was compiled for (C-contiguous, this
# dtype, this number of dimensions; a no-op for arrays that are): the JIT kernels would
# compile another version for another type, the ahead-of-time ones cannot check them.
def _rows(x: np.ndarray) -> np.ndarray:
    """``x`` as C-contiguous float64 rows [N, n]."""
    return np.ascontiguousarray(x, dtype=np.float64).reshape(-1, np.shape(x)[-1])


def _floats(x: np.ndarray) -> np.ndarray:
    """``x`` as a C-contiguous float64 vector."""
    return np.ascontiguousarray(x, dtype=np.float64).reshape(-1)


def _ints(x: np.ndarray) -> np.ndarray:
    """``x`` as a C-contiguous int64 vector."""
    return np.ascontiguousarray(x, dtype=np.int64).reshape(-1)


def twice_nll(model: Any, pars: np.ndarray, data: np.ndarray) -> np.ndarray:
    """−2 log L for each row of ``pars`` [N, npars] and ``data`` [N, ndata]."""
    pars = _rows(pars)
    out = np.empty(pars.shape[0])
    impl = compiled()
    impl.run(
        tasks.TWICE_NLL_ROWS, model.packed_terms, _rows(data), pars, _NO_INTS, _NO_FLOATS,
        _NO_FLOATS, _NO_INTS, _NO_FLOATS, _NO_FLOATS, 0, 0.0, 0.0, 0.0, 0, _NO_ROWS,
        _NO_FLAGS, out, _NO_FLOATS,
    )  # fmt: skip
    return out


def expected_data(model: Any, pars: np.ndarray) -> np.ndarray:
    """Expected main + auxiliary data at ``pars`` [npars]."""
    out = np.empty(model.config.nmaindata + model.config.nauxdata)
    impl = compiled()
    impl.run(
        tasks.EXPECTED_DATA, model.packed_terms, _NO_ROWS, _rows(pars), _NO_INTS,
        _NO_FLOATS, _NO_FLOATS, _NO_INTS, _NO_FLOATS, _NO_FLOATS, 0, 0.0, 0.0, 0.0, 0,
        _NO_ROWS, _NO_FLAGS, _NO_FLOATS, out,
    )  # fmt: skip
    return out


def newton_rows(
    model: Any,
    data: np.ndarray,
    full: np.ndarray,
    free: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    tolerance: float,
    maxiter: int,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Same contract as :func:`hfx.optimize.newton.numpy_newton_rows`, compiled
    (for 0 < free parameters ≤ :data:`MAX_FREE`)."""
    idx = np.flatnonzero(free)
    x, converged, _, niter = _fit_rows(model, data, full, idx, lo, hi, tolerance, maxiter)
    return x, converged, niter


def _fit_rows(
    model: Any,
    data: np.ndarray,
    full: np.ndarray,
    idx: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    tolerance: float,
    maxiter: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The kernel's FIT_ROWS task: the free components [N, nfree] at the end points, which
    rows converged, −2 log L there and the most iterations a row took."""
    data, full, idx, lo, hi = _rows(data), _rows(full), _ints(idx), _floats(lo), _floats(hi)
    return _run_fit_rows(model, data, full, idx, lo, hi, float(tolerance), int(maxiter))


def _run_fit_rows(
    model: Any,
    data: np.ndarray,
    full: np.ndarray,
    idx: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    tolerance: float,
    maxiter: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """:func:`_fit_rows` on arrays that are already of the kernel's types (unchecked)."""
    nrows = full.shape[0]
    x = np.empty((nrows, idx.size))
    converged = np.zeros(nrows, dtype=np.bool_)
    nll = np.empty(nrows)
    niter = compiled().run(
        tasks.FIT_ROWS, model.packed_terms, data, full, idx, lo, hi, _NO_INTS, _NO_FLOATS,
        _NO_FLOATS, 0, 0.0, tolerance, 0.0, maxiter, x, converged, nll, _NO_FLOATS,
    )  # fmt: skip
    return x, converged, nll, int(niter)


def fit_one(
    model: Any,
    data: np.ndarray,
    start: np.ndarray,
    idx: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    tolerance: float,
    maxiter: int,
) -> tuple[np.ndarray, bool, float, int]:
    """One fit of :func:`fit_values`, the lean entry of a single fit: ``data`` [1, ndata] and
    ``start`` [1, npars] as rows, ``idx`` (int64) and the bounds [nfree], all C-contiguous
    and writeable, of exactly these types (unchecked: the callers make them so).  Returns the
    free components at the end point, whether it converged, −2 log L there and the
    iterations taken."""
    x, converged, nll, niter = _run_fit_rows(model, data, start, idx, lo, hi, tolerance, maxiter)
    return x[0], bool(converged[0]), float(nll[0]), niter


def fit_values(
    model: Any,
    data: np.ndarray,
    full: np.ndarray,
    idx: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    tolerance: float,
    maxiter: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Projected Newton from each row of ``full`` [N, npars] over the free parameters ``idx``
    (int64, bounds ``lo``/``hi``) on ``data`` [N, ndata], all C-contiguous float64: the end
    points [N, npars], whether each row converged, −2 log L there (as :func:`twice_nll`) and
    the most iterations a row took.

    The lean entry for callers that run many small fits and have their arrays ready; the
    iterations are those of :func:`newton_rows`, row for row."""
    x, converged, nll, niter = _fit_rows(model, data, full, idx, lo, hi, tolerance, maxiter)
    out = full.copy()
    out[:, idx] = x
    return out, converged, nll, niter


def asimov_fits(
    model: Any,
    data: np.ndarray,
    start: np.ndarray,
    idx: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray],
    idx_cond: np.ndarray,
    bounds_cond: tuple[np.ndarray, np.ndarray],
    poi: int,
    asimov_poi: float,
    tolerance: float,
    precise: float,
    maxiter: int,
    then: float | None = None,
) -> tuple[np.ndarray, float, float, float, tuple[float, float] | None] | None:
    """The μ-independent fits of an asymptotic test in one compiled call (arrays as for
    :func:`fit_values`): (Asimov data, μ̂, −2 log L of the free fit to ``data``, −2 log L of
    the Asimov data at its generating parameters, then-values), or None where a fit did not
    converge.  With ``then``, the same call also fits the data and the Asimov data with the
    POI held at ``then`` (from ``start``, tolerance ``tolerance``): the then-values are their
    −2 log L, None if either did not converge.  See ``_kernel_impl.asimov_fits``."""
    data, start, idx, idx_cond = _floats(data), _floats(start), _ints(idx), _ints(idx_cond)
    bounds = (_floats(bounds[0]), _floats(bounds[1]))
    bounds_cond = (_floats(bounds_cond[0]), _floats(bounds_cond[1]))
    asimov = np.empty(data.size)
    out = np.empty(5)
    full = start[None, :]
    if then is not None:
        full = np.empty((2, start.size))
        full[:] = start
        full[1, poi] = then
    flags = np.zeros(2, dtype=np.bool_)
    impl = compiled()
    ok = impl.run(
        tasks.ASIMOV_FITS, model.packed_terms, data[None, :], full, idx, bounds[0],
        bounds[1], idx_cond, bounds_cond[0], bounds_cond[1], int(poi), float(asimov_poi),
        float(tolerance), float(precise), int(maxiter), _NO_ROWS, flags, out, asimov,
    )  # fmt: skip
    if not ok:
        return None
    conditional = (float(out[3]), float(out[4])) if then is not None and flags.all() else None
    return asimov, float(out[0]), float(out[1]), float(out[2]), conditional
