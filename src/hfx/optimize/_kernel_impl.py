"""The numba-compiled kernels behind :mod:`hfx.optimize.kernel` (imported only with numba).

One row at a time: expected counts and their Jacobian from the flat term tables
(:mod:`hfx.likelihood.flat_terms`), −log L over the free parameters with gradient and
Gauss-Newton Hessian from the compiled term definitions of :mod:`hfx.likelihood.terms`, and
the projected Newton iteration of :mod:`hfx.optimize.newton` written out for a single row.
Python calls one function, :func:`run` (the ``probe_`` functions exist for the tests).
Importing this module compiles the kernels (or reads them from numba's on-disk cache) and
runs them once on a one-bin model, so an import is a complete load.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any, TypeVar, cast

import numpy as np
from numba import njit

from hfx.likelihood import terms
from hfx.likelihood.flat_terms import COEF as _COEF
from hfx.likelihood.flat_terms import DOWN as _DOWN
from hfx.likelihood.flat_terms import FLOAT_TABLES, INT_TABLES, FlatTerms, pack_flat_terms
from hfx.likelihood.flat_terms import LOG_DOWN as _LOG_DOWN
from hfx.likelihood.flat_terms import LOG_UP as _LOG_UP
from hfx.likelihood.flat_terms import NCONST as _NCONST
from hfx.likelihood.flat_terms import NOM as _NOM
from hfx.likelihood.flat_terms import UP as _UP
from hfx.likelihood.flat_terms import A as _A
from hfx.likelihood.flat_terms import B as _B
from hfx.likelihood.flat_terms import S as _S
from hfx.optimize import kernel_cache
from hfx.optimize.kernel_tasks import ASIMOV_FITS, EXPECTED_DATA, FIT_ROWS, TWICE_NLL_ROWS

# the on-disk cache: hfx's own per-user directory, or none where it cannot be written
_CACHE_ROOT = kernel_cache.prepare()
_CACHE = _CACHE_ROOT is not None
# every kernel is compiled with these options (cached on disk, NumPy error semantics, GIL released)
_jit = njit(cache=_CACHE, error_model="numpy", nogil=True)
_F = TypeVar("_F", bound=Callable[..., Any])


def _inner(fn: _F) -> _F:
    """Compile a helper called only from compiled code: as ``_jit``, without the wrappers
    that make it callable from Python (less to compile on the first use)."""
    options = cast(Any, {"no_cpython_wrapper": True, "no_cfunc_wrapper": True})  # (not in stubs)
    return cast(_F, njit(fn, cache=_CACHE, error_model="numpy", nogil=True, **options))


def _inlined(fn: _F) -> _F:
    """A helper with one call site, inlined there by numba (not compiled on its own): each
    separately compiled layer above the Newton iteration makes LLVM optimise all the code
    below it once more (about a second per layer)."""
    return cast(_F, njit(fn, inline="always", error_model="numpy", nogil=True))


# the likelihood's terms (hfx.likelihood.terms), compiled from their one definition
_poisson_nll = _inner(terms.poisson_nll_scalar)
_poisson_residual = _inner(terms.poisson_residual_scalar)
_poisson_curvature = _inner(terms.poisson_curvature_scalar)
_gauss_nll = _inner(terms.gauss_nll)
_gauss_gradient = _inner(terms.gauss_gradient)
_gauss_curvature = _inner(terms.gauss_curvature)
_rate_gradient = _inner(terms.rate_constraint_gradient)
_rate_curvature = _inner(terms.rate_constraint_curvature)


@_inner
def interp(code: int, alpha: float, consts: np.ndarray, v: int) -> tuple[float, float]:
    """(d(α), d'(α)) of variation ``v`` of the constant table ``consts`` (codes as in
    interpolation.py).  (A row index, not a row: a row view costs reference counting.)"""
    if code == 0:
        slope = consts[v, _UP] if alpha >= 0.0 else consts[v, _DOWN]
        return alpha * slope, slope
    if code == 1:
        log_ratio = consts[v, _LOG_UP] if alpha >= 0.0 else -consts[v, _LOG_DOWN]
        value = consts[v, _NOM] * math.exp(alpha * log_ratio)
        return value - consts[v, _NOM], value * log_ratio
    if code == 2:
        a, b = consts[v, _A], consts[v, _B]
        if alpha > 1.0:
            return consts[v, _UP] + (b + 2.0 * a) * (alpha - 1.0), b + 2.0 * a
        if alpha < -1.0:
            return -consts[v, _DOWN] + (b - 2.0 * a) * (alpha + 1.0), b - 2.0 * a
        return (a * alpha + b) * alpha, 2.0 * a * alpha + b
    if code == 5:  # code4p
        if abs(alpha) > 1.0:
            slope = consts[v, _UP] if alpha >= 0.0 else consts[v, _DOWN]
            return alpha * slope, slope
        s, a = consts[v, _S], consts[v, _A]
        a2 = alpha * alpha
        value = alpha * s + a2 * a * (15.0 + a2 * (3.0 * a2 - 10.0))
        return value, s + alpha * a * (30.0 + a2 * (18.0 * a2 - 40.0))
    # code4
    nom = consts[v, _NOM]
    if abs(alpha) >= 1.0:
        log_ratio = consts[v, _LOG_UP] if alpha >= 0.0 else -consts[v, _LOG_DOWN]
        expo = nom * math.exp(alpha * log_ratio)
        return expo - nom, expo * log_ratio
    poly = 0.0
    dpoly = 0.0
    for i in range(6, 0, -1):
        poly = (poly + consts[v, _COEF + i - 1]) * alpha
    for i in range(6, 1, -1):
        dpoly = (dpoly + i * consts[v, _COEF + i - 1]) * alpha
    dpoly += consts[v, _COEF]
    return nom * poly, nom * dpoly


# Where each table lies in a packed tuple (nbins, ns_code, hs_code, ints, floats, consts,
# ends) of :func:`~hfx.likelihood.flat_terms.pack_flat_terms`: integer table ``i`` of
# INT_TABLES is ``ints[ends[i - 1]:ends[i]]`` (from 0 for the first), then come the float
# tables' ends in ``floats`` (nominal, gauss_sigma, pois_tau) and the number of normsys rows
# of ``consts`` (the histosys rows follow them).  The kernels read the tables in place at
# these offsets instead of through 21 views: every array a compiled function receives costs
# an atomic reference count on entry and exit, which dominated small models' fits.
_MULT_PTR, _MULT_PAR, _MULT_VAR = (
    INT_TABLES.index(n) for n in ("mult_ptr", "mult_par", "mult_var")
)
_NS_PAR, _HS_PAR, _HS_ENTRY = (INT_TABLES.index(n) for n in ("ns_par", "hs_par", "hs_entry"))
_HS_VAR, _HS_CLAMP = INT_TABLES.index("hs_var"), INT_TABLES.index("hs_clamp")
_GAUSS_PAR, _GAUSS_AUX = INT_TABLES.index("gauss_par"), INT_TABLES.index("gauss_aux")
_POIS_PAR, _POIS_AUX = INT_TABLES.index("pois_par"), INT_TABLES.index("pois_aux")
_NOMINAL_END = len(INT_TABLES)
_NS_ROWS = len(INT_TABLES) + len(FLOAT_TABLES)
if INT_TABLES[0] != "entry_bin" or FLOAT_TABLES != ("nominal", "gauss_sigma", "pois_tau"):
    raise ImportError("the kernels read entry_bin first and these float tables in this order")


@_inner
def work_size(t: tuple[Any, ...]) -> int:
    """Scratch values :func:`evaluate` needs for the packed terms ``t``
    (:func:`expected_and_jacobian`'s, then one per bin)."""
    ends = t[6]
    nv = ends[_NS_PAR] - ends[_NS_PAR - 1]
    nw = ends[_HS_PAR] - ends[_HS_PAR - 1]
    size: int = 2 * nv + 2 * nw + 3 * ends[_NOMINAL_END] + t[0]
    return size


@_inner
def expected_and_jacobian(
    t: tuple[Any, ...], x: np.ndarray, nu: np.ndarray, jac: np.ndarray, work: np.ndarray
) -> None:
    """Expected counts ν [nb] and ∂ν/∂θ [nb, npars] of the packed terms ``t`` at full
    parameters ``x``, in place; an empty ``jac`` (0 rows) asks for the counts only; ``work``
    is scratch space of at least :func:`work_size` values.  (One signature for every caller:
    a literal flag argument would compile the function twice.)"""
    # The intermediate vectors live in ``work`` at fixed offsets: in compiled code,
    # allocating a vector costs reference counting, which dominated small models' fits.
    ns_code, hs_code, ints, floats, consts, ends = t[1], t[2], t[3], t[4], t[5], t[6]
    mult_ptr, mult_par, mult_var = ends[_MULT_PTR - 1], ends[_MULT_PAR - 1], ends[_MULT_VAR - 1]
    ns_par, hs_par = ends[_NS_PAR - 1], ends[_HS_PAR - 1]
    hs_entry, hs_var, hs_clamp = ends[_HS_ENTRY - 1], ends[_HS_VAR - 1], ends[_HS_CLAMP - 1]
    nv, nw = ends[_NS_PAR] - ns_par, ends[_HS_PAR] - hs_par
    nt, ne = ends[_HS_ENTRY] - hs_entry, ends[_NOMINAL_END]
    hs_row = ends[_NS_ROWS]  # (the first histosys row of consts)
    # work: κ [nv], κ' [nv], histosys shift [nw] and its derivative [nw], the entries'
    # base yields [ne], whether each is kept (1) or clamped at zero (0) [ne], their factors
    dkappa = nv
    shift = 2 * nv
    dshift = shift + nw
    base = dshift + nw
    keep = base + ne
    factor = keep + ne
    for v in range(nv):
        d, dd = interp(ns_code, x[ints[ns_par + v]], consts, v)
        work[v] = 1.0 + d
        work[dkappa + v] = dd
    for w in range(nw):
        work[shift + w], work[dshift + w] = interp(hs_code, x[ints[hs_par + w]], consts, hs_row + w)
    for e in range(ne):
        work[base + e] = floats[e]  # (the nominal yields come first in floats)
    for q in range(nt):
        work[base + ints[hs_entry + q]] += work[shift + ints[hs_var + q]]
    # a sample's interpolated yield is clamped at zero (Model._base), where its histosys
    # parameters no longer move it
    for e in range(ne):
        if work[base + e] >= 0.0 or not ints[hs_clamp + e]:
            work[keep + e] = 1.0
        else:
            work[keep + e] = 0.0
            work[base + e] = 0.0
    for b in range(nu.size):
        nu[b] = 0.0
    if jac.shape[0] == 0:
        for e in range(ne):
            prod = 1.0
            for m in range(ints[mult_ptr + e], ints[mult_ptr + e + 1]):
                var = ints[mult_var + m]
                prod *= x[ints[mult_par + m]] if var < 0 else work[var]
            nu[ints[e]] += prod * work[base + e]  # (entry_bin is the first integer table)
        return
    for b in range(jac.shape[0]):
        for p in range(jac.shape[1]):
            jac[b, p] = 0.0
    for e in range(ne):
        first, last = ints[mult_ptr + e], ints[mult_ptr + e + 1]
        prod = 1.0
        for m in range(first, last):
            var = ints[mult_var + m]
            prod *= x[ints[mult_par + m]] if var < 0 else work[var]
        work[factor + e] = prod
        b = ints[e]
        yield_e = work[base + e]
        nu[b] += prod * yield_e
        for m in range(first, last):
            others = 1.0
            for m2 in range(first, last):
                if m2 != m:
                    var = ints[mult_var + m2]
                    others *= x[ints[mult_par + m2]] if var < 0 else work[var]
            var = ints[mult_var + m]
            deriv = 1.0 if var < 0 else work[dkappa + var]
            jac[b, ints[mult_par + m]] += yield_e * others * deriv
    for q in range(nt):
        e = ints[hs_entry + q]
        if work[keep + e] != 0.0:
            w = ints[hs_var + q]
            jac[ints[e], ints[hs_par + w]] += work[factor + e] * work[dshift + w]


@_inner
def evaluate(
    t: tuple[Any, ...],
    x: np.ndarray,
    d: np.ndarray,
    idx: np.ndarray,
    pos: np.ndarray,
    nu: np.ndarray,
    jac: np.ndarray,
    res: np.ndarray,
    g: np.ndarray,
    h: np.ndarray,
    work: np.ndarray,
) -> float:
    """−log L (up to a constant) of the packed terms ``t`` at full parameters ``x`` for the
    data row ``d``; fills the gradient ``g`` and Gauss-Newton Hessian ``h`` over the free
    parameters ``idx`` (``pos`` maps a parameter to its free position or −1), ``res`` =
    1 − n/ν and ``jac``; ``work`` is scratch space of :func:`work_size` values.

    Returns +inf where a rate is negative or anything is not finite."""
    expected_and_jacobian(t, x, nu, jac, work)
    nb = nu.size
    nf = idx.size
    f = 0.0
    bad = False
    weights = work.size - nb  # (the bins' weights follow the expected counts' scratch)
    for b in range(nb):
        v = nu[b]
        n = d[b]
        if v < 0.0 or not math.isfinite(v):
            bad = True
        f += _poisson_nll(n, v)
        res[b] = _poisson_residual(n, v)
        work[weights + b] = _poisson_curvature(n, v)
    for i in range(nf):
        p = idx[i]
        acc = 0.0
        for b in range(nb):
            acc += res[b] * jac[b, p]
        g[i] = acc
        for j in range(i + 1):
            q = idx[j]
            acc = 0.0
            for b in range(nb):
                acc += work[weights + b] * jac[b, p] * jac[b, q]
            h[i, j] = acc
            h[j, i] = acc
    ints, floats, ends = t[3], t[4], t[6]
    gauss_par, gauss_aux = ends[_GAUSS_PAR - 1], ends[_GAUSS_AUX - 1]
    gauss_sigma = ends[_NOMINAL_END]
    for c in range(ends[_GAUSS_PAR] - gauss_par):
        i = pos[ints[gauss_par + c]]
        if i >= 0:
            theta = x[ints[gauss_par + c]]
            aux = d[ints[gauss_aux + c]]
            sigma = floats[gauss_sigma + c]
            f += _gauss_nll(theta, aux, sigma)
            g[i] += _gauss_gradient(theta, aux, sigma)
            h[i, i] += _gauss_curvature(sigma)
    pois_par, pois_aux = ends[_POIS_PAR - 1], ends[_POIS_AUX - 1]
    pois_tau = ends[_NOMINAL_END + 1]
    for c in range(ends[_POIS_PAR] - pois_par):
        i = pos[ints[pois_par + c]]
        if i >= 0:
            theta = x[ints[pois_par + c]]
            aux = d[ints[pois_aux + c]]
            tau = floats[pois_tau + c]
            f += _poisson_nll(aux, theta * tau)
            g[i] += _rate_gradient(theta, aux, tau)
            h[i, i] += _rate_curvature(theta, aux)
    if not math.isfinite(f):
        bad = True
    for i in range(nf):
        if not math.isfinite(g[i]):
            bad = True
    return math.inf if bad else f


@_inlined
def symmetric_eigen(w: np.ndarray, v: np.ndarray) -> None:
    """Cyclic Jacobi rotations: ``w`` (symmetric) becomes diagonal (the eigenvalues), ``v``
    the eigenvectors as columns.  Loops only: numba's LAPACK bindings cost seconds to compile."""
    n = w.shape[0]
    for i in range(n):
        for j in range(n):
            v[i, j] = 1.0 if i == j else 0.0
    for _ in range(100):
        off = 0.0
        diag = 0.0
        for i in range(n):
            diag += w[i, i] * w[i, i]
            for j in range(i + 1, n):
                off += w[i, j] * w[i, j]
        if off <= 1e-32 * diag or off == 0.0:
            return
        for p in range(n):
            for q in range(p + 1, n):
                apq = w[p, q]
                if abs(apq) < 1e-300:
                    continue
                theta = (w[q, q] - w[p, p]) / (2.0 * apq)
                if abs(theta) > 1e150:
                    t = 0.5 / theta
                else:
                    t = 1.0 / (abs(theta) + math.sqrt(theta * theta + 1.0))
                    if theta < 0.0:
                        t = -t
                c = 1.0 / math.sqrt(t * t + 1.0)
                s = t * c
                for r in range(n):
                    wrp, wrq = w[r, p], w[r, q]
                    w[r, p] = c * wrp - s * wrq
                    w[r, q] = s * wrp + c * wrq
                for r in range(n):
                    wpr, wqr = w[p, r], w[q, r]
                    w[p, r] = c * wpr - s * wqr
                    w[q, r] = s * wpr + c * wqr
                for r in range(n):
                    vrp, vrq = v[r, p], v[r, q]
                    v[r, p] = c * vrp - s * vrq
                    v[r, q] = s * vrp + c * vrq


# rows of the scratch space ``mats`` and ``vecs`` that :func:`solve_held` and
# :func:`_secant_update` use (indexed in place: a row view would cost reference counting)
_SYSTEM, _LU = 0, 1
_RHS, _SCALE, _SOLUTION = 0, 1, 2
_STEP, _CHANGE, _MISS, _UPDATE = 0, 1, 2, 3


@_inner
def solve_held(
    a: np.ndarray,
    g: np.ndarray,
    held: np.ndarray,
    out: np.ndarray,
    mats: np.ndarray,
    vecs: np.ndarray,
) -> None:
    """out = −A⁻¹g with held components removed (A scaled to unit diagonal first);
    a singular system gets its eigenvalues clamped, as in batched._solve.  ``mats``
    [2, n, n] and ``vecs`` [≥ 3, n] are scratch space (the system and its LU factors; the
    right-hand side, the scales and the solution)."""
    n = g.size
    for i in range(n):
        for j in range(n):
            mats[_SYSTEM, i, j] = a[i, j]
    for i in range(n):
        vecs[_RHS, i] = 0.0 if held[i] else g[i]
        for j in range(n):
            if held[i] or held[j]:
                mats[_SYSTEM, i, j] = 0.0
        if held[i]:
            mats[_SYSTEM, i, i] = 1.0
    for i in range(n):
        vecs[_SCALE, i] = 1.0 / math.sqrt(mats[_SYSTEM, i, i]) if mats[_SYSTEM, i, i] > 0.0 else 1.0
    for i in range(n):
        for j in range(n):
            mats[_SYSTEM, i, j] *= vecs[_SCALE, i] * vecs[_SCALE, j]
        mats[_SYSTEM, i, i] += 1e-12
        vecs[_RHS, i] *= vecs[_SCALE, i]
    for i in range(n):
        vecs[_SOLUTION, i] = vecs[_RHS, i]
        for j in range(n):
            mats[_LU, i, j] = mats[_SYSTEM, i, j]
    singular = False
    # Gaussian elimination with partial pivoting
    for col in range(n):
        piv = col
        for r in range(col + 1, n):
            if abs(mats[_LU, r, col]) > abs(mats[_LU, piv, col]):
                piv = r
        if mats[_LU, piv, col] == 0.0:
            singular = True
            break
        if piv != col:
            for j in range(n):
                mats[_LU, col, j], mats[_LU, piv, j] = mats[_LU, piv, j], mats[_LU, col, j]
            vecs[_SOLUTION, col], vecs[_SOLUTION, piv] = vecs[_SOLUTION, piv], vecs[_SOLUTION, col]
        for r in range(col + 1, n):
            factor = mats[_LU, r, col] / mats[_LU, col, col]
            if factor != 0.0:
                for j in range(col, n):
                    mats[_LU, r, j] -= factor * mats[_LU, col, j]
                vecs[_SOLUTION, r] -= factor * vecs[_SOLUTION, col]
    if not singular:
        for i in range(n - 1, -1, -1):
            acc = vecs[_SOLUTION, i]
            for j in range(i + 1, n):
                acc -= mats[_LU, i, j] * vecs[_SOLUTION, j]
            vecs[_SOLUTION, i] = acc / mats[_LU, i, i]
    else:
        w = mats[_SYSTEM].copy()
        v = np.empty((n, n))
        symmetric_eigen(w, v)
        biggest = 0.0
        for i in range(n):
            biggest = max(biggest, abs(w[i, i]))
        floor = 1e-8 * biggest + 1e-300
        proj = np.empty(n)
        for i in range(n):
            acc = 0.0
            for r in range(n):
                acc += v[r, i] * vecs[_RHS, r]
            proj[i] = acc / max(w[i, i], floor)
        for r in range(n):
            acc = 0.0
            for i in range(n):
                acc += v[r, i] * proj[i]
            vecs[_SOLUTION, r] = acc
    for i in range(n):
        out[i] = 0.0 if held[i] else -vecs[_SCALE, i] * vecs[_SOLUTION, i]


@_inner
def newton_step(
    xf: np.ndarray,
    g: np.ndarray,
    a: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    step: np.ndarray,
    held: np.ndarray,
    mats: np.ndarray,
    vecs: np.ndarray,
) -> None:
    """Projected Newton direction with Hessian ``a``: fills ``step`` and ``held``
    (``mats`` and ``vecs``: :func:`solve_held`'s scratch space)."""
    n = xf.size
    for i in range(n):
        held[i] = (xf[i] <= lo[i] and g[i] > 0.0) or (xf[i] >= hi[i] and g[i] < 0.0)
    solve_held(a, g, held, step, mats, vecs)
    again = False
    for i in range(n):
        if not held[i]:
            t = xf[i] + step[i]
            if (t < lo[i] and g[i] > 0.0) or (t > hi[i] and g[i] < 0.0):
                held[i] = True
                again = True
    if again:
        solve_held(a, g, held, step, mats, vecs)


@_inner
def fit_one(
    t: tuple[Any, ...],
    d: np.ndarray,
    x: np.ndarray,
    idx: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    tolerance: float,
    maxiter: int,
) -> tuple[bool, int, float]:
    """Projected Newton from the full parameters ``x`` (moved in place to the end point)
    over the free parameters ``idx`` on the data row ``d``: (converged, iterations,
    −2 log L at the end point as :func:`twice_nll_at`)."""
    npars = x.size
    nf = idx.size
    nb = t[0]
    pos = np.empty(npars, dtype=np.int64)
    for i in range(npars):
        pos[i] = -1
    for i in range(nf):
        pos[idx[i]] = i
    nu = np.empty(nb)
    jac, jac_new = np.empty((nb, npars)), np.empty((nb, npars))
    res, res_new = np.empty(nb), np.empty(nb)
    g, g_new = np.empty(nf), np.empty(nf)
    h, h_new = np.empty((nf, nf)), np.empty((nf, nf))
    secant = np.zeros((nf, nf))
    hc = np.empty((nf, nf))
    step = np.empty(nf)
    held = np.empty(nf, dtype=np.bool_)
    xf = np.empty(nf)
    trial = np.empty(nf)
    move = np.empty(nf)
    x_new = np.empty(npars)
    mats = np.empty((2, nf, nf))  # (scratch space of the steps and updates)
    vecs = np.empty((4, nf))
    converged = False
    it = 0
    work = np.empty(work_size(t))
    f = evaluate(t, x, d, idx, pos, nu, jac, res, g, h, work)
    if not math.isfinite(f):
        return False, 0, twice_nll_at(t, x, d, nu)
    while it < maxiter:
        it += 1
        for i in range(nf):
            xf[i] = x[idx[i]]
        for i in range(nf):
            for j in range(nf):
                hc[i, j] = h[i, j] + secant[i, j]
        newton_step(xf, g, hc, lo, hi, step, held, mats, vecs)
        slope = 0.0
        for i in range(nf):
            slope += g[i] * step[i]
        if slope >= 0.0:  # the correction made the model indefinite: plain Gauss-Newton
            secant[:, :] = 0.0
            newton_step(xf, g, h, lo, hi, step, held, mats, vecs)
        decrement = 0.0
        for i in range(nf):
            if held[i]:
                move[i] = (lo[i] if g[i] > 0.0 else hi[i]) - xf[i]
            else:
                move[i] = step[i]
            decrement -= g[i] * move[i]
        if decrement <= tolerance:
            converged = True
            break
        length = 1.0
        accepted = False
        for _ in range(30):
            descent = 0.0
            for i in range(nf):
                trial[i] = min(max(xf[i] + length * move[i], lo[i]), hi[i])
                descent += g[i] * (trial[i] - xf[i])
            for i in range(npars):  # (loops, not slice copies: those compile a shape-error path)
                x_new[i] = x[i]
            for i in range(nf):
                x_new[idx[i]] = trial[i]
            f_new = evaluate(t, x_new, d, idx, pos, nu, jac_new, res_new, g_new, h_new, work)
            if f_new <= f + 1e-4 * min(descent, 0.0) + 1e-12 * abs(f):
                accepted = True
                break
            length *= 0.5
        if not accepted:  # line search failed: the row stops here (refitted by the caller)
            break
        _secant_update(secant, trial, xf, jac, jac_new, res_new, idx, vecs)
        for i in range(npars):
            x[i] = x_new[i]
        f = f_new
        jac, jac_new = jac_new, jac
        res, res_new = res_new, res
        g, g_new = g_new, g
        h, h_new = h_new, h
    return converged, it, twice_nll_at(t, x, d, nu)


@_inlined
def fit_rows(
    t: tuple[Any, ...],
    data: np.ndarray,
    full: np.ndarray,
    idx: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    tolerance: float,
    maxiter: int,
    xout: np.ndarray,
    converged: np.ndarray,
    nll: np.ndarray,
) -> int:
    """Projected Newton (:func:`fit_one`) on every row of ``full`` [N, npars] with data
    ``data`` [N, ndata]; writes the free components to ``xout``, the convergence flags and
    −2 log L at the end point to ``nll``; returns the most iterations a row took."""
    nrows, npars = full.shape
    x = np.empty(npars)
    most = 0
    for row in range(nrows):
        for i in range(npars):
            x[i] = full[row, i]
        done, it, value = fit_one(t, data[row], x, idx, lo, hi, tolerance, maxiter)
        converged[row] = done
        nll[row] = value
        most = max(most, it)
        for i in range(idx.size):
            xout[row, i] = x[idx[i]]
    return most


@_inlined
def asimov_fits(
    t: tuple[Any, ...],
    data: np.ndarray,
    start: np.ndarray,
    idx: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    idx_cond: np.ndarray,
    lo_cond: np.ndarray,
    hi_cond: np.ndarray,
    poi: int,
    asimov_poi: float,
    tolerance: float,
    precise: float,
    maxiter: int,
    asimov: np.ndarray,
    out: np.ndarray,
) -> bool:
    """The μ-independent fits of an asymptotic test, as :class:`hfx.infer.asymptotic.
    AsymptoticCalculator` makes them: the free fit to ``data`` from ``start`` (tolerance
    ``tolerance``), the fit with the POI held at ``asimov_poi`` (the free fit itself where it
    ends there, else from ``start``, tolerance ``precise``) and the expected data there,
    written to ``asimov``.  ``out`` gets (μ̂, −2 log L of the free fit, −2 log L of the
    Asimov data at its generating parameters).  False where a fit did not converge."""
    x = np.empty(start.size)
    for i in range(start.size):
        x[i] = start[i]
    done, _, free_nll = fit_one(t, data, x, idx, lo, hi, tolerance, maxiter)
    if not done:
        return False
    muhat = x[poi]
    if muhat != asimov_poi:
        for i in range(start.size):
            x[i] = start[i]
        x[poi] = asimov_poi
        done, _, _ = fit_one(t, data, x, idx_cond, lo_cond, hi_cond, precise, maxiter)
        if not done:
            return False
    expected_data_into(t, x, asimov)
    out[0] = muhat
    out[1] = free_nll
    out[2] = twice_nll_at(t, x, asimov, np.empty(t[0]))
    return True


@_inlined
def _secant_update(
    secant: np.ndarray,
    trial: np.ndarray,
    xf: np.ndarray,
    jac: np.ndarray,
    jac_new: np.ndarray,
    res_new: np.ndarray,
    idx: np.ndarray,
    vecs: np.ndarray,
) -> None:
    """PSB update so that secant · s = (J₊ − J)ᵀ r₊ for the step s = trial − xf
    (``vecs`` [4, nf]: scratch space)."""
    nf = idx.size
    nb = res_new.size
    for i in range(nf):
        vecs[_STEP, i] = trial[i] - xf[i]
    for i in range(nf):
        p = idx[i]
        acc = 0.0
        for b in range(nb):
            acc += (jac_new[b, p] - jac[b, p]) * res_new[b]
        vecs[_CHANGE, i] = acc
    for i in range(nf):
        vecs[_MISS, i] = vecs[_CHANGE, i]
    for i in range(nf):
        for j in range(nf):
            vecs[_MISS, i] -= secant[i, j] * vecs[_STEP, j]
    ss = 0.0
    rs = 0.0
    for i in range(nf):
        ss += vecs[_STEP, i] * vecs[_STEP, i]
        rs += vecs[_MISS, i] * vecs[_STEP, i]
    if not ss > 1e-300:
        ss = math.inf
    for i in range(nf):
        vecs[_UPDATE, i] = (vecs[_MISS, i] - (0.5 * rs / ss) * vecs[_STEP, i]) / ss
    for i in range(nf):
        for j in range(nf):
            secant[i, j] += vecs[_UPDATE, i] * vecs[_STEP, j] + vecs[_STEP, i] * vecs[_UPDATE, j]


@_inner
def twice_nll_at(t: tuple[Any, ...], x: np.ndarray, d: np.ndarray, nu: np.ndarray) -> float:
    """−2 log L with every constant (as Model.twice_nll) of the packed terms ``t`` at ``x``
    for the data row ``d`` (``nu`` is scratch space for the expected counts)."""
    nb = t[0]
    expected_and_jacobian(t, x, nu, np.empty((0, 0)), np.empty(work_size(t)))
    nll = 0.0
    for b in range(nb):
        n = d[b]
        nll += _poisson_nll(n, nu[b]) + math.lgamma(n + 1.0)
    ints, floats, ends = t[3], t[4], t[6]
    gauss_par, gauss_aux = ends[_GAUSS_PAR - 1], ends[_GAUSS_AUX - 1]
    gauss_sigma = ends[_NOMINAL_END]
    for c in range(ends[_GAUSS_PAR] - gauss_par):
        sigma = floats[gauss_sigma + c]
        nll += _gauss_nll(x[ints[gauss_par + c]], d[ints[gauss_aux + c]], sigma)
        nll += math.log(sigma) + 0.5 * math.log(2.0 * math.pi)
    pois_par, pois_aux = ends[_POIS_PAR - 1], ends[_POIS_AUX - 1]
    pois_tau = ends[_NOMINAL_END + 1]
    for c in range(ends[_POIS_PAR] - pois_par):
        aux = d[ints[pois_aux + c]]
        lam = x[ints[pois_par + c]] * floats[pois_tau + c]
        nll += _poisson_nll(aux, lam) + math.lgamma(aux + 1.0)
    return 2.0 * nll


@_inlined
def twice_nll_rows(t: tuple[Any, ...], pars: np.ndarray, data: np.ndarray, out: np.ndarray) -> None:
    """−2 log L with every constant (as Model.twice_nll) for each row of ``pars`` and ``data``."""
    nu = np.empty(t[0])
    for row in range(pars.shape[0]):
        out[row] = twice_nll_at(t, pars[row], data[row], nu)


@_inner
def expected_data_into(t: tuple[Any, ...], x: np.ndarray, out: np.ndarray) -> None:
    """Expected main counts followed by the expected auxiliary data (the model's order)."""
    nb = t[0]
    nu = np.empty(nb)
    expected_and_jacobian(t, x, nu, np.empty((0, 0)), np.empty(work_size(t)))
    for b in range(nb):
        out[b] = nu[b]
    ints, floats, ends = t[3], t[4], t[6]
    gauss_par, gauss_aux = ends[_GAUSS_PAR - 1], ends[_GAUSS_AUX - 1]
    for c in range(ends[_GAUSS_PAR] - gauss_par):
        out[ints[gauss_aux + c]] = x[ints[gauss_par + c]]
    pois_par, pois_aux = ends[_POIS_PAR - 1], ends[_POIS_AUX - 1]
    pois_tau = ends[_NOMINAL_END + 1]
    for c in range(ends[_POIS_PAR] - pois_par):
        out[ints[pois_aux + c]] = x[ints[pois_par + c]] * floats[pois_tau + c]


@_jit
def run(
    task: int,
    terms: tuple[Any, ...],
    data: np.ndarray,
    full: np.ndarray,
    idx: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    idx_cond: np.ndarray,
    lo_cond: np.ndarray,
    hi_cond: np.ndarray,
    poi: int,
    asimov_poi: float,
    tolerance: float,
    precise: float,
    maxiter: int,
    xout: np.ndarray,
    flags: np.ndarray,
    values: np.ndarray,
    vector: np.ndarray,
) -> int:
    """The one kernel callable from Python (every such entry point costs about 1.5 s of
    compilation, as numba optimises everything it calls once more); ``task`` says which:

    - FIT_ROWS: :func:`fit_rows` (``data``, ``full`` [N, ...]; ``xout``, ``flags`` = converged,
      ``values`` = −2 log L); returns the most iterations;
    - ASIMOV_FITS: :func:`asimov_fits` on ``data[0]`` from ``full[0]`` (``vector`` = the
      Asimov data, ``values`` = its three numbers); returns 1, or 0 where a fit failed.
      With a second row in ``full``, then the fits from it (the POI held) to the data and
      to the Asimov data: ``flags`` = converged, ``values[3:5]`` = −2 log L;
    - TWICE_NLL_ROWS: −2 log L at each row of ``full`` with ``data`` into ``values``;
    - EXPECTED_DATA: the expected data at ``full[0]`` into ``vector``.

    ``terms`` are the FlatTerms packed by :func:`~hfx.likelihood.flat_terms.pack_flat_terms`
    (a plain tuple of few arrays: each array argument costs a conversion per call, and
    each array a compiled function receives a reference count), read in place by every
    function below."""
    t = terms
    if task == FIT_ROWS:
        return fit_rows(t, data, full, idx, lo, hi, tolerance, maxiter, xout, flags, values)
    if task == ASIMOV_FITS:
        ok = asimov_fits(
            t, data[0], full[0], idx, lo, hi, idx_cond, lo_cond, hi_cond, poi, asimov_poi,
            tolerance, precise, maxiter, vector, values,
        )  # fmt: skip
        if ok and full.shape[0] > 1:  # then both conditional fits from full[1] as well
            x = np.empty(full.shape[1])
            for j in range(2):
                for i in range(x.size):
                    x[i] = full[1, i]
                d = data[0] if j == 0 else vector
                done, _, value = fit_one(t, d, x, idx_cond, lo_cond, hi_cond, tolerance, maxiter)
                flags[j] = done
                values[3 + j] = value
        return 1 if ok else 0
    if task == TWICE_NLL_ROWS:
        twice_nll_rows(t, full, data, values)
        return 0
    expected_data_into(t, full[0], vector)
    return 0


@_jit
def probe_expected_and_jacobian(
    t: tuple[Any, ...], x: np.ndarray, nu: np.ndarray, jac: np.ndarray
) -> None:
    """:func:`expected_and_jacobian` of the packed terms ``t``, callable from Python."""
    expected_and_jacobian(t, x, nu, jac, np.empty(work_size(t)))


@_jit
def probe_evaluate(
    t: tuple[Any, ...],
    x: np.ndarray,
    d: np.ndarray,
    idx: np.ndarray,
    pos: np.ndarray,
    nu: np.ndarray,
    jac: np.ndarray,
    res: np.ndarray,
    g: np.ndarray,
    h: np.ndarray,
) -> float:
    """:func:`evaluate` of the packed terms ``t``, callable from Python."""
    out: float = evaluate(t, x, d, idx, pos, nu, jac, res, g, h, np.empty(work_size(t)))
    return out


def _warm_up() -> None:
    """Compile (or read from numba's cache) the kernel by running each task on a one-bin
    model, with the argument types :mod:`hfx.optimize.kernel` passes."""
    one, none = np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int64)
    consts = np.zeros((0, _NCONST))
    k = FlatTerms(
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
        hs_clamp=np.zeros(1, dtype=np.int64),
        gauss_par=none,
        gauss_aux=none,
        gauss_sigma=np.zeros(0),
        pois_par=none,
        pois_aux=none,
        pois_tau=np.zeros(0),
    )
    x, lo, hi = np.ones((1, 1)), np.zeros(1), np.full(1, 10.0)
    for task in (FIT_ROWS, ASIMOV_FITS, TWICE_NLL_ROWS, EXPECTED_DATA):
        run(task, pack_flat_terms(k), x, x, one, lo, hi, none, np.empty(0), np.empty(0), 0, 1.0,
            1e-10, 1e-10, 10, np.empty((1, 1)), np.zeros(2, dtype=np.bool_), np.empty(5),
            np.empty(1))  # fmt: skip


if _CACHE_ROOT is None or not kernel_cache.holds_kernels(_CACHE_ROOT):
    # (a warning-level log record: shown on stderr unless logging is configured otherwise)
    logging.getLogger("hfx.optimize").warning(
        "hfx: compiling the numba kernels for small models, about 10 s (%s)",
        "once per machine: later processes load them" if _CACHE else "no writable cache directory",
    )
_warm_up()
