"""Compiled projected Newton for small models (optional: the ``fast`` extra, numba).

On models with a handful of parameters a fit is a few dozen arithmetic operations per
bin, and the NumPy path spends almost all of its time dispatching array calls.  This
module runs the algorithm of :mod:`hfx.optimize.batched` (Gauss-Newton Hessian with a
per-row PSB secant correction, projected steps with per-row held sets, Armijo
backtracking, the Newton decrement as convergence test) as one compiled loop over the
rows, with the expected counts, their exact Jacobian, −log L, gradient and Hessian in
scalar code.  :func:`applies` says when it applies: NumPy models with fewer than
:data:`~hfx.optimize.gauss_newton.EXACT_MIN_FREE` free parameters (where the NumPy path
needs no exact curvature either) and numba installed.  Rows it does not converge go to
the scalar fits, as in the NumPy path.

Loading the kernels costs about half a second per process (importing numba and its
on-disk cache), and compiling them about 15 s once per installation, while a small fit on
the NumPy path takes milliseconds.  So a process first fits on NumPy and switches to the
kernels once its small fits have taken :data:`LOAD_AFTER` seconds (then loading has at
most doubled what the process spent; a single ``hfx cls`` never pays it).  :func:`load`
switches at once, e.g. before a benchmark or a long scan.
"""

from __future__ import annotations

import importlib.util
import time
from typing import Any, NamedTuple

import numpy as np

from hfx.likelihood.interpolation import prepare
from hfx.optimize.gauss_newton import EXACT_MIN_FREE, dense_ok

ENABLED = importlib.util.find_spec("numba") is not None
"""Whether the compiled path may be used (tests set it False to compare with NumPy)."""

MAX_FREE = EXACT_MIN_FREE - 1  # where the NumPy path uses Gauss-Newton + secant too
LOAD_AFTER = 0.5
"""Seconds of small-model fits on the NumPy path after which the kernels are loaded."""

_CODE_IDS = {"code0": 0, "code1": 1, "code2": 2, "code4": 4, "code4p": 5}
# columns of the per-variation constant table (read by _kernel_impl too)
_NOM, _UP, _DOWN, _LOG_UP, _LOG_DOWN, _A, _B, _S, _COEF = range(9)
_NCONST = _COEF + 6

_impl: Any = None  # the compiled module (hfx.optimize._kernel_impl), once loaded
_spent = 0.0  # seconds of small-model NumPy fits so far in this process
load_seconds: float | None = None
"""How long :func:`load` took in this process (None before)."""


class KernelArrays(NamedTuple):
    """A model's term tables in the flat form the compiled kernels read."""

    nbins: int
    nominal: np.ndarray  # [E]
    entry_bin: np.ndarray  # [E]
    mult_ptr: np.ndarray  # [E + 1]: entry e owns multiplicative terms ptr[e]:ptr[e + 1]
    mult_par: np.ndarray  # parameter of each multiplicative term
    mult_var: np.ndarray  # its normsys variation, −1 for a linear factor
    ns_code: int
    ns_par: np.ndarray  # [V] parameter of each normsys variation
    ns_consts: np.ndarray  # [V, _NCONST]
    hs_code: int
    hs_par: np.ndarray  # [W] parameter of each histosys variation
    hs_consts: np.ndarray  # [W, _NCONST]
    hs_entry: np.ndarray  # [T] entry of each histosys term
    hs_var: np.ndarray  # [T] its variation
    gauss_par: np.ndarray
    gauss_aux: np.ndarray  # position in the full data vector
    gauss_weight: np.ndarray  # 1/σ²
    pois_par: np.ndarray
    pois_aux: np.ndarray
    pois_tau: np.ndarray


def _constants(code: str, nominal: Any, high: Any, low: Any) -> np.ndarray:
    """Interpolation constants per variation as one table (columns _NOM … _COEF + 5)."""
    c = prepare(code, nominal, high, low)
    out = np.zeros((c.nominal.size, _NCONST))
    out[:, _NOM], out[:, _UP], out[:, _DOWN] = c.nominal, c.up, c.down
    for name, col in (("log_up", _LOG_UP), ("log_down", _LOG_DOWN), ("a", _A), ("b", _B)):
        if name in c.extra:
            out[:, col] = c.extra[name]
    if "s" in c.extra:
        out[:, _S] = c.extra["s"]
    if "coef" in c.extra:
        out[:, _COEF:] = c.extra["coef"]
    return out


def kernel_arrays(model) -> KernelArrays:
    """The model's :class:`KernelArrays` (built once, kept on the model)."""
    cached = model.__dict__.get("_kernel_arrays")
    if cached is not None:
        return cached
    a = model.arrays
    t = a.terms
    ints = lambda v: np.ascontiguousarray(v, dtype=np.int64)  # noqa: E731
    entry = np.concatenate([t.linear.entry, t.normsys.entry])
    par = np.concatenate([t.linear.par, t.normsys.par])
    var = np.concatenate([np.full(t.linear.size, -1), t.normsys.source])
    order = np.argsort(entry, kind="stable")
    ptr = np.zeros(a.nentries + 1, dtype=np.int64)
    np.cumsum(np.bincount(entry, minlength=a.nentries), out=ptr[1:])
    codes = a.codes
    arrays = KernelArrays(
        nbins=int(a.nbins),
        nominal=np.ascontiguousarray(a.nominal, dtype=np.float64),
        entry_bin=ints(a.entry_bin),
        mult_ptr=ptr,
        mult_par=ints(par[order]),
        mult_var=ints(var[order]),
        ns_code=_CODE_IDS[codes["normsys"]],
        ns_par=ints(t.normsys.var_par),
        ns_consts=_constants(codes["normsys"], t.normsys.nominal, t.normsys.high, t.normsys.low),
        hs_code=_CODE_IDS[codes["histosys"]],
        hs_par=ints(t.histosys.var_par),
        hs_consts=_constants(
            codes["histosys"], t.histosys.nominal, t.histosys.high, t.histosys.low
        ),
        hs_entry=ints(t.histosys.entry),
        hs_var=ints(t.histosys.source),
        gauss_par=ints(a.gauss_par),
        gauss_aux=ints(a.gauss_aux + a.nbins),
        gauss_weight=np.ascontiguousarray(1.0 / a.gauss_sigma**2, dtype=np.float64),
        pois_par=ints(a.pois_par),
        pois_aux=ints(a.pois_aux + a.nbins),
        pois_tau=np.ascontiguousarray(a.pois_tau, dtype=np.float64),
    )
    model.__dict__["_kernel_arrays"] = arrays
    return arrays


def applies(model, nfree: int) -> bool:
    """Whether fits of ``model`` with ``nfree`` free parameters can run in the kernels."""
    return (
        ENABLED
        and 0 < nfree <= MAX_FREE
        and getattr(getattr(model, "backend", None), "name", None) == "numpy"
        and hasattr(model, "arrays")
        and model.config.npars <= MAX_FREE + 1  # fixed ones too: a row's Jacobian is dense
        and dense_ok(model)
    )


def ready() -> bool:
    """Whether the kernels are loaded, loading them once enough time went into small fits."""
    if _impl is None and ENABLED and _spent >= LOAD_AFTER:
        load()
    return _impl is not None


def record(seconds: float) -> None:
    """Account ``seconds`` of a small-model fit made on the NumPy path."""
    global _spent
    _spent += seconds


def load() -> bool:
    """Load (compiling on first use in this installation) the kernels now; False without numba."""
    global _impl
    if _impl is None and ENABLED:
        from hfx.optimize import _kernel_impl

        _warm_up(_kernel_impl)
        _impl = _kernel_impl
    return _impl is not None


def twice_nll(model, pars: np.ndarray, data: np.ndarray) -> np.ndarray | None:
    """−2 log L for each row of ``pars`` [N, npars] and ``data`` [N, ndata] on the loaded
    kernels; None where they are not loaded or do not apply (use the model's then)."""
    if _impl is None or not applies(model, 1):
        return None
    pars = np.ascontiguousarray(pars, dtype=np.float64)
    out = np.empty(pars.shape[0])
    _impl.twice_nll_rows(
        kernel_arrays(model), pars, np.ascontiguousarray(data, dtype=np.float64), out
    )
    return out


def expected_data(model, pars: np.ndarray) -> np.ndarray | None:
    """Expected main + auxiliary data at ``pars`` [npars] on the loaded kernels, or None
    (as :func:`twice_nll`)."""
    if _impl is None or not applies(model, 1):
        return None
    out = np.empty(model.config.nmaindata + model.config.nauxdata)
    _impl.expected_data_row(kernel_arrays(model), np.ascontiguousarray(pars, dtype=np.float64), out)
    return out


def _warm_up(impl: Any) -> None:
    """Compile (or read from the cache) the kernels on a one-bin model, timed for the record."""
    global load_seconds
    start = time.perf_counter()
    one, none = np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    consts = np.zeros((0, _NCONST))
    k = KernelArrays(
        nbins=1,
        nominal=np.ones(1),
        entry_bin=one,
        mult_ptr=np.array([0, 1]),
        mult_par=one,
        mult_var=np.array([-1]),
        ns_code=0,
        ns_par=none,
        ns_consts=consts,
        hs_code=0,
        hs_par=none,
        hs_consts=consts,
        hs_entry=none,
        hs_var=none,
        gauss_par=none,
        gauss_aux=none,
        gauss_weight=np.zeros(0),
        pois_par=none,
        pois_aux=none,
        pois_tau=np.zeros(0),
    )
    x, bounds = np.ones((1, 1)), (np.zeros(1), np.full(1, 10.0))
    flags = np.zeros(1, dtype=np.bool_)
    impl.fit_rows(k, x, x, one, *bounds, 1e-10, 10, np.empty((1, 1)), flags)
    impl.twice_nll_rows(k, x, x, np.empty(1))
    impl.expected_data_row(k, x[0], np.empty(1))
    load_seconds = time.perf_counter() - start


def newton_rows(
    model,
    data: np.ndarray,
    full: np.ndarray,
    free: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    tolerance: float,
    maxiter: int,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Same contract as :func:`hfx.optimize.batched.newton_rows`, compiled (after :func:`ready`)."""
    nrows = full.shape[0]
    idx = np.flatnonzero(free).astype(np.int64)
    x = np.empty((nrows, idx.size))
    converged = np.zeros(nrows, dtype=np.bool_)
    niter = _impl.fit_rows(
        kernel_arrays(model),
        np.ascontiguousarray(data, dtype=np.float64),
        np.ascontiguousarray(full, dtype=np.float64),
        idx,
        np.ascontiguousarray(lo, dtype=np.float64),
        np.ascontiguousarray(hi, dtype=np.float64),
        float(tolerance),
        int(maxiter),
        x,
        converged,
    )
    return x, converged, int(niter)
