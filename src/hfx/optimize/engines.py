"""Engines: where the projected Newton iterations and the batch evaluations of a fit run.

``"numpy"`` runs the array code of :mod:`hfx.optimize.newton` on the model's backend;
``"numba"`` runs the compiled kernels (:mod:`hfx.optimize.kernel`) on the small NumPy models
they apply to, and the array code elsewhere; ``"jax"`` runs each batch of fits as one compiled
JAX program (:mod:`hfx.optimize.jax_newton`) on models of the JAX backend.  ``"auto"`` is
``"jax"`` on a JAX model, ``"numba"`` on a model the kernels apply to once they are compiled
(in this process or in the on-disk cache; until then they are compiled in the background and
``"auto"`` is ``"numpy"``: both engines take the same iterations), else ``"numpy"``.
An engine is a value chosen once per task (:func:`resolve_engine`), so the same call always
takes the same path.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hfx.errors import FitError
from hfx.optimize import jax_newton, kernel
from hfx.optimize.newton import numpy_newton_rows
from hfx.optimize.problem import to_numpy

__all__ = [
    "ENGINES",
    "KERNEL_LOAD_IN_SOLVES",
    "asimov_fits",
    "engine_for_one_task",
    "expected_data",
    "newton_rows",
    "newton_values",
    "resolve_engine",
    "twice_nll",
]

ENGINES = ("auto", "numpy", "numba", "jax")

# Loading the JIT-compiled kernels costs a process about 0.5 s (numba's own start-up, then
# the machine code from the on-disk cache; the ahead-of-time compiled ones load in
# milliseconds).  One Newton solve on a small model (a single fit, or a batch of fits solved
# together, such as an ensemble of toys) takes about 2 ms more on NumPy than compiled: a task
# of fewer solves than this finishes sooner on NumPy where only the JIT kernels are cached.
# (Measured on 2018-31_simplifiedA: `hfx cls` 0.20 s on NumPy, ~0.7 s with kernels;
# 5000 toys 0.72 s on NumPy, 1.40 s with kernels; an upper limit 0.80 s vs 1.31 s.)
KERNEL_LOAD_IN_SOLVES = 250


def resolve_engine(model: Any, engine: str = "auto") -> str:
    """The engine (``"numpy"`` or ``"numba"``) that fits of ``model`` use for ``engine``.

    ``"numba"`` without numba installed raises :class:`~hfx.errors.MissingExtraError`; on a
    model the kernels do not apply to (PyTorch, 21+ parameters) it is ``"numpy"``.  On a
    JAX model ``"auto"`` and ``"jax"`` are ``"jax"`` (``"jax"`` on another model raises
    :class:`~hfx.errors.FitError`); ``"numpy"`` runs the array code on it op by op.
    """
    if engine not in ENGINES:
        raise FitError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    on_jax = getattr(getattr(model, "backend", None), "name", None) == "jax"
    if engine == "jax" and not on_jax:
        raise FitError("engine 'jax' fits models on the JAX backend (build it with backend='jax')")
    if on_jax and engine in ("auto", "jax"):
        return "jax"
    if engine == "numpy":
        return "numpy"
    if engine == "numba":
        kernel.require()
        return "numba" if kernel.applies(model) else "numpy"
    return "numba" if kernel.applies(model) and kernel.ready() else "numpy"


def engine_for_one_task(model: Any, engine: str, solves: int) -> str:
    """The engine for a process that runs one task of about ``solves`` Newton solves (a CLI
    command; a batch of fits solved together counts once).

    ``"auto"`` is as :func:`resolve_engine` where the kernels load at once (loaded, or
    compiled ahead of time in the cache: :func:`hfx.optimize.kernel.loads_at_once`) or the
    task is long enough to repay loading the JIT kernels; else ``"numpy"`` (a CLs, a fit, a
    limit, toys with only the JIT kernels cached).  Other values as there.
    """
    short = engine == "auto" and solves < KERNEL_LOAD_IN_SOLVES
    if short and not (kernel.applies(model) and kernel.loads_at_once()):
        return resolve_engine(model, "numpy")
    return resolve_engine(model, engine)


def newton_rows(
    engine: str,
    model: Any,
    data: np.ndarray,
    full: np.ndarray,
    free: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    tolerance: float,
    maxiter: int,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Projected Newton from ``full`` [N, npars] on ``data`` [N, ndata] with the resolved
    ``engine``: the free components [N, nfree], which rows converged, the iterations taken."""
    if engine == "numba" and 0 < int(free.sum()) <= kernel.MAX_FREE:
        return kernel.newton_rows(model, data, full, free, lo, hi, tolerance, maxiter)
    if engine == "jax":
        return jax_newton.newton_rows(model, data, full, free, lo, hi, tolerance, maxiter)
    return numpy_newton_rows(model, data, full, free, lo, hi, tolerance, maxiter)


def newton_values(
    engine: str,
    model: Any,
    data: np.ndarray,
    full: np.ndarray,
    idx: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    tolerance: float,
    maxiter: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """:func:`newton_rows` for callers with their arrays ready (C-contiguous float64; ``idx``
    the free parameters, int64): the end points [N, npars], which rows converged, −2 log L
    there and the iterations taken.  The same iterations as :func:`newton_rows`, row for
    row."""
    if engine == "numba" and 0 < idx.size <= kernel.MAX_FREE:
        return kernel.fit_values(model, data, full, idx, lo, hi, tolerance, maxiter)
    free = np.zeros(full.shape[1], dtype=bool)
    free[idx] = True
    x, converged, niter = newton_rows(engine, model, data, full, free, lo, hi, tolerance, maxiter)
    out = full.copy()
    out[:, idx] = x
    return out, converged, twice_nll(engine, model, out, data), niter


def asimov_fits(
    engine: str,
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
    """The μ-independent fits of an asymptotic test (arrays as for :func:`newton_values`;
    ``idx``/``bounds`` the free parameters, ``idx_cond``/``bounds_cond`` those with the POI
    held): the free fit to ``data`` from ``start``; the fit with the POI held at
    ``asimov_poi`` (the free fit itself where it ends there, else from ``start`` with
    tolerance ``precise``), whose expected data are the Asimov data.  With ``then``, also
    the fits of the data and of the Asimov data with the POI held at ``then`` (from
    ``start``).  Returns (Asimov data, μ̂, −2 log L of the free fit, −2 log L of the Asimov
    data at its generating parameters, the two −2 log L at ``then`` or None), or None where
    one of the first fits did not converge.  One compiled call on the numba engine."""
    if engine == "numba" and idx_cond.size > 0 and idx.size <= kernel.MAX_FREE:
        return kernel.asimov_fits(
            model, data, start, idx, bounds, idx_cond, bounds_cond, poi, asimov_poi,
            tolerance, precise, maxiter, then,
        )  # fmt: skip
    pars, converged, nll, _ = newton_values(
        engine, model, data[None, :], start[None, :].copy(), idx, *bounds, tolerance, maxiter
    )
    if not converged[0]:
        return None
    generator = pars[0]
    muhat = float(generator[poi])
    if muhat != asimov_poi:
        full = start[None, :].copy()
        full[0, poi] = asimov_poi
        gen, converged, _, _ = newton_values(
            engine, model, data[None, :], full, idx_cond, *bounds_cond, precise, maxiter
        )
        if not converged[0]:
            return None
        generator = gen[0]
    asimov = expected_data(engine, model, generator)
    asimov_nll = float(twice_nll(engine, model, generator[None, :], asimov[None, :])[0])
    conditional = None
    if then is not None:
        full = np.empty((2, start.size))
        full[:] = start
        full[:, poi] = then
        rows = np.stack([data, asimov])
        _, converged, values, _ = newton_values(
            engine, model, rows, full, idx_cond, *bounds_cond, tolerance, maxiter
        )
        if converged.all():
            conditional = (float(values[0]), float(values[1]))
    return asimov, muhat, float(nll[0]), asimov_nll, conditional


def twice_nll(engine: str, model: Any, pars: np.ndarray, data: np.ndarray) -> np.ndarray:
    """−2 log L per row of ``pars`` [N, npars] and ``data`` [N, ndata]."""
    if engine == "numba":
        return kernel.twice_nll(model, pars, data)
    if engine == "jax":
        return jax_newton.twice_nll(model, pars, data)
    return np.array(-2.0 * to_numpy(model.logpdf(pars, data)), dtype=np.float64)


def expected_data(engine: str, model: Any, pars: np.ndarray) -> np.ndarray:
    """Expected main + auxiliary data at ``pars`` [npars]."""
    if engine == "numba":
        return kernel.expected_data(model, pars)
    if engine == "jax":
        return jax_newton.expected_data(model, pars)
    return np.array(to_numpy(model.expected_data(pars)), dtype=np.float64)
