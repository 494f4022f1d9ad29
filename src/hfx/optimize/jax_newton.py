"""Projected Newton as one compiled JAX program (the ``"jax"`` engine).

A batch of fits (rows: datasets, starting points, bounds) runs as one XLA computation: a
``lax.while_loop`` of the iterations of :mod:`hfx.optimize.newton` on −log L with its exact
gradient from JAX's autodiff.  The curvature is the same as there: Gauss-Newton's (JᵀWJ of
the Poisson terms with the model's analytic Jacobian of the expected counts, plus the exact
constraint curvature) plus a per-row secant (PSB) estimate of what Gauss-Newton leaves out,
dropped for a row where it would not descend; and, on models with at least
``EXACT_MIN_FREE`` free parameters, the exact Hessian for each row close to its minimum
(Gauss-Newton plus the analytic residual curvature of :mod:`hfx.likelihood.curvature`).
Following the same path as the NumPy engine matters on
multimodal likelihoods: different paths end in different local minima.  Steps are projected
onto the bounds with per-row held sets, as there.  The line search is Armijo's: the full
step of every row first, and where an active row's fails, all the step lengths 1, 1/2, ...,
1/2^15 of each row at once.  Each row stops when its Newton decrement is below the tolerance
(converged) or when no step length decreases −log L (not converged; the callers refit such
rows).  A batch whose last few rows are slow leaves them to NumPy's Newton, so they do not
keep the whole batch iterating.

Parameters that are not free are pinned by equal bounds, so the free fit and every
conditional fit of a model share one program.  Rows are padded to a power of two, so a model
compiles once per size class.  The compiled program is kept on the model object, and JAX's
persistent cache (set up by the JAX backend) keeps it on disk for the next process.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from hfx.likelihood.backends import jax_cache_dir
from hfx.likelihood.curvature import MAX_DENSE_ELEMENTS, ResidualCurvature
from hfx.likelihood.terms import (
    gauss_curvature,
    poisson_curvature,
    poisson_residual,
    rate_constraint_curvature,
)
from hfx.optimize.gauss_newton import EXACT_MIN_FREE
from hfx.optimize.newton import NEAR_DECREMENT, psb_term

__all__ = ["LINE_SEARCH_STEPS", "expected_data", "newton_rows", "rows_per_call", "twice_nll"]

LINE_SEARCH_STEPS = 16
# after SLOW_AFTER iterations the compiled loop stops once at most 1/SLOW_FRACTION of its
# rows are still iterating; NumPy's Newton continues those from where they are
SLOW_AFTER = 8
SLOW_FRACTION = 4
MAX_ROWS_PER_CALL = 1024
_CALL_BYTES = 2**28  # Hessians and line-search trials of one call stay within ~256 MB


def rows_per_call(npars: int, nentries: int = 0, nbins: int = 0) -> int:
    """Rows per compiled call: bounded by the memory of the [rows, npars, npars] Hessians
    and secant matrices, the [rows, nbins, npars] Jacobians, and the dense
    [rows, 6, nentries, npars] matrices of the residual curvature."""
    npars = max(npars, 1)
    per_row = 8 * npars * (5 * npars + LINE_SEARCH_STEPS + 6 * nentries + 2 * nbins)
    return max(1, min(MAX_ROWS_PER_CALL, _CALL_BYTES // per_row))


def _padded_size(n: int) -> int:
    return 1 << max(0, (n - 1).bit_length())


def _pad(array: np.ndarray, size: int) -> np.ndarray:
    if array.shape[0] == size:
        return array
    extra = np.repeat(array[-1:], size - array.shape[0], axis=0)
    return np.concatenate([array, extra])


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
    """Projected Newton from ``full`` [N, npars] on ``data`` [N, ndata] in compiled JAX
    (arguments and returns as :func:`hfx.optimize.newton.numpy_newton_rows`)."""
    nrows, npars = full.shape
    if not free.any():
        return full[:, free].copy(), np.ones(nrows, dtype=bool), 0
    full = np.asarray(full, dtype=np.float64)
    lower, upper = full.copy(), full.copy()
    lower[:, free] = lo
    upper[:, free] = hi
    data = np.asarray(data, dtype=np.float64)
    out = full.copy()
    converged = np.zeros(nrows, dtype=bool)
    niter = 0
    per_call = rows_per_call(npars, model.arrays.nentries, model.config.nmaindata)
    step = 1 << (per_call.bit_length() - 1)  # a power of two: no padding
    for first in range(0, nrows, step):
        part = slice(first, min(nrows, first + step))
        count = part.stop - part.start
        size = _padded_size(count)
        x, done, iterations = _solver(model, size, data.shape[1])(
            _pad(full[part], size),
            _pad(data[part], size),
            _pad(lower[part], size),
            _pad(upper[part], size),
            np.float64(tolerance),
            np.int32(min(int(maxiter), 2**31 - 1)),
        )
        out[part] = np.asarray(x)[:count]
        converged[part] = np.asarray(done)[:count]
        niter = max(niter, int(iterations))
    left = np.flatnonzero(~converged)
    if left.size and niter < maxiter:  # rows the compiled loop left: NumPy goes on from there
        from hfx.optimize.newton import numpy_newton_rows

        x, done, more = numpy_newton_rows(
            model.to("numpy"), data[left], out[left], free, lo, hi, tolerance, maxiter - niter
        )
        out[np.ix_(left, np.flatnonzero(free))] = x
        converged[left] = done
        niter += more
    return out[:, free], converged, niter


def twice_nll(model: Any, pars: np.ndarray, data: np.ndarray) -> np.ndarray:
    """−2 log L per row of ``pars`` [N, npars] and ``data`` [N, ndata], compiled."""
    pars = np.asarray(pars, dtype=np.float64)
    data = np.asarray(data, dtype=np.float64)
    size = _padded_size(pars.shape[0])
    shapes = ((size, pars.shape[1]), (size, data.shape[1]))
    values = _exported(model, "twice_nll", shapes, ("f64", "f64"))(
        _pad(pars, size), _pad(data, size)
    )
    return np.array(values, dtype=np.float64)[: pars.shape[0]]


def expected_data(model: Any, pars: np.ndarray) -> np.ndarray:
    """Expected main + auxiliary data at ``pars`` [npars], compiled."""
    return np.array(_compiled(model, "expected_data")(pars), dtype=np.float64)


def _compiled(model: Any, name: str) -> Any:
    """The compiled function ``name`` of ``model``, made once per model object."""
    cache = model.__dict__.setdefault("jax_compiled", {})
    function = cache.get(name)
    if function is None:
        function = cache[name] = _BUILDERS[name](model)
    return function


def _solver(model: Any, rows: int, ndata: int) -> Any:
    """The compiled batch solver of ``model`` for ``rows`` rows (see :func:`_exported`)."""
    npars = model.config.npars
    shapes = ((rows, npars), (rows, ndata), (rows, npars), (rows, npars), (), ())
    return _exported(model, "newton", shapes, ("f64",) * 5 + ("i32",))


def _exported(
    model: Any, name: str, shapes: tuple[tuple[int, ...], ...], dtypes: tuple[str, ...]
) -> Any:
    """The compiled function ``name`` of ``model`` for arguments of ``shapes``, made once per
    model object and shapes; exported to the user cache folder (``jax.export``), so that a
    later process skips tracing it and, with JAX's persistent cache, compiling it."""
    cache = model.__dict__.setdefault("jax_exported", {})
    key = (name, shapes)
    function = cache.get(key)
    if function is None:
        function = cache[key] = _load_or_export(model, name, shapes, dtypes)
    return function


def _load_or_export(
    model: Any, name: str, shapes: tuple[tuple[int, ...], ...], dtypes: tuple[str, ...]
) -> Any:
    import jax
    import jax.numpy as jnp

    run = _compiled(model, name)
    try:
        from jax import export
        from jax._src.export import serialization  # noqa: F401  (needs flatbuffers)
    except ImportError:
        return run
    folder = jax_cache_dir("hfx-exported")  # beside JAX's compilation cache
    tag = "-".join("x".join(map(str, shape)) or "s" for shape in shapes)
    path = None if folder is None else folder / f"{name}-{_model_key(model)}-{tag}.bin"
    if path is not None and path.is_file():
        try:
            return jax.jit(export.deserialize(bytearray(path.read_bytes())).call)
        except Exception:
            pass
    kinds = {"f64": jnp.float64, "i32": jnp.int32}
    struct: Any = jax.ShapeDtypeStruct  # (untyped in jax)
    exported = export.export(run)(
        *(struct(shape, kinds[dtype]) for shape, dtype in zip(shapes, dtypes, strict=True))
    )
    if path is not None:
        _write_atomically(path, bytes(exported.serialize()))
    return jax.jit(exported.call)


def _model_key(model: Any) -> str:
    """Digest of the model's compiled arrays and configuration and of the code that turns
    them into the solver (this module and the likelihood package)."""
    digest = hashlib.sha256(pickle.dumps((model.arrays, model.config), protocol=4))
    for source in sorted(Path(__file__).resolve().parents[1].joinpath("likelihood").glob("*.py")):
        digest.update(source.read_bytes())
    digest.update(Path(__file__).read_bytes())
    import jax

    digest.update(jax.__version__.encode())
    return digest.hexdigest()[:32]


def _write_atomically(path: Path, blob: bytes) -> None:
    try:
        handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            out.write(blob)
        os.replace(tmp, path)
    except OSError:
        return


def _build_twice_nll(model: Any) -> Any:
    import jax

    model.prepare_arrays()
    return jax.jit(lambda pars, data: -2.0 * model.logpdf(pars, data))


def _build_expected_data(model: Any) -> Any:
    import jax

    model.prepare_arrays()
    return jax.jit(lambda pars: model.expected_data(pars))


def _build(model: Any) -> Any:
    import jax
    import jax.numpy as jnp
    from jax import lax

    model.prepare_arrays()  # before any trace: the model's arrays must not be made inside one
    nbins = model.config.nmaindata
    steps = 0.5 ** jnp.arange(LINE_SEARCH_STEPS, dtype=jnp.float64)

    def nll(x: Any, d: Any) -> Any:
        return -model.logpdf(x, d)

    gradient = jax.grad(nll)
    arrays = model.arrays
    npars = model.config.npars
    g_par, p_par = arrays.gauss_par, arrays.pois_par
    p_aux = arrays.pois_aux + nbins
    gauss_weight = jnp.asarray(gauss_curvature(arrays.gauss_sigma))
    # the analytic residual curvature needs dense [entry, parameter] matrices
    residual_curvature: Any = (
        ResidualCurvature(model) if arrays.nentries * npars <= MAX_DENSE_ELEMENTS else None
    )

    def gauss_newton(x: Any, d: Any) -> tuple[Any, Any, Any]:
        """[rows, npars, npars] JᵀWJ of the Poisson terms (W = n/ν², the exact analytic
        Jacobian J) plus the constraints' curvature; and J and the residuals r = 1 − n/ν."""
        n = d[:, :nbins]
        nu, jac = model.expected_and_jacobian(x)
        h = jnp.einsum("rbp,rb,rbq->rpq", jac, poisson_curvature(jnp, n, nu), jac)
        diag = jnp.zeros(x.shape, dtype=x.dtype).at[:, g_par].add(gauss_weight)
        diag = diag.at[:, p_par].add(rate_constraint_curvature(x[:, p_par], d[:, p_aux]))
        h = h + diag[:, :, None] * jnp.eye(npars, dtype=x.dtype)
        r = poisson_residual(jnp, n, nu)
        return h, jac, jnp.where(jnp.isfinite(r), r, 0.0)

    def correction(x: Any, r: Any, secant: Any, near: Any) -> Any:
        """The curvature Gauss-Newton leaves out: exact (Σ_b r_b ∂²ν_b) for the ``near``
        rows, computed only when some row is near; the secant estimate elsewhere."""
        if residual_curvature is None:  # too large for the dense products (as in NumPy)
            return secant
        exact = lax.cond(
            jnp.any(near), lambda: residual_curvature(x, r), lambda: jnp.zeros_like(secant)
        )
        return jnp.where(near[:, None, None], exact, secant)

    def solve(h: Any, g: Any, held: Any, fallback: bool) -> Any:
        """−H⁻¹g with the held components removed (H scaled to unit diagonal); with
        ``fallback``, a scaled gradient step where that would not descend."""
        pair = held[:, None] | held[None, :]
        h = jnp.where(pair, 0.0, h) + jnp.diag(held.astype(h.dtype))
        g = jnp.where(held, 0.0, g)
        diag = jnp.diagonal(h)
        scale = 1.0 / jnp.sqrt(jnp.where(diag > 0, diag, 1.0))
        hs = h * scale[:, None] * scale[None, :] + 1e-12 * jnp.eye(g.size)
        step = -jnp.linalg.solve(hs, g * scale) * scale
        if fallback:  # H singular or indefinite
            descends = jnp.all(jnp.isfinite(step)) & (jnp.dot(step, g) < 0)
            step = jnp.where(descends, step, -g * scale * scale)
        return jnp.where(held, 0.0, step)

    def held_step(x: Any, g: Any, h: Any, lo: Any, hi: Any, fallback: bool) -> tuple[Any, Any]:
        """Projected Newton step and held set (:func:`hfx.optimize.newton.newton_directions`)."""
        held = ((x <= lo) & (g > 0)) | ((x >= hi) & (g < 0)) | (lo == hi)
        step = solve(h, g, held, fallback)
        out = (((x + step < lo) & (g > 0)) | ((x + step > hi) & (g < 0))) & ~held
        again = jnp.any(out)
        held = jnp.where(again, held | out, held)
        return jnp.where(again, solve(h, g, held, fallback), step), held

    def corrected_step(x: Any, g: Any, h: Any, corr: Any, lo: Any, hi: Any) -> tuple[Any, ...]:
        step, held = held_step(x, g, h + corr, lo, hi, False)
        uphill = ~(jnp.all(jnp.isfinite(step)) & (jnp.dot(g, step) < 0))
        return step, held, uphill

    def plain_step(x: Any, g: Any, h: Any, lo: Any, hi: Any) -> tuple[Any, Any]:
        return held_step(x, g, h, lo, hi, True)

    rows_gradient = jax.vmap(gradient)
    rows_corrected = jax.vmap(corrected_step)
    rows_plain = jax.vmap(plain_step)

    def rows_direction(
        x: Any, d: Any, lo: Any, hi: Any, h: Any, corr: Any, active: Any
    ) -> tuple[Any, Any, Any, Any]:
        """Gradient, projected Newton move with curvature ``h + corr`` (Gauss-Newton's
        ``h`` alone for the rows where that would not descend), its decrement, and which
        rows dropped ``corr``."""
        g = rows_gradient(x, d)
        step, held, uphill = rows_corrected(x, g, h, corr, lo, hi)
        uphill = uphill & active

        def replan() -> tuple[Any, Any]:
            plain, plain_held = rows_plain(x, g, h, lo, hi)
            return (
                jnp.where(uphill[:, None], plain, step),
                jnp.where(uphill[:, None], plain_held, held),
            )

        step, held = lax.cond(jnp.any(uphill), replan, lambda: (step, held))
        move = jnp.where(held, jnp.where(g > 0, lo, hi) - x, step)
        return g, move, -jnp.einsum("rp,rp->r", g, move), uphill

    def finite(value: Any) -> Any:
        return jnp.where(jnp.isfinite(value), value, jnp.inf)

    def row_search(
        x: Any, f: Any, d: Any, lo: Any, hi: Any, g: Any, move: Any, lengths: Any
    ) -> tuple[Any, ...]:
        """Armijo's test on the step ``lengths``: the first that passes, or ``x``."""
        trials = jnp.clip(x[None, :] + lengths[:, None] * move[None, :], lo, hi)
        values = finite(jax.vmap(nll, in_axes=(0, None))(trials, d))
        descent = (trials - x[None, :]) @ g
        good = values <= f + 1e-4 * jnp.minimum(descent, 0.0) + 1e-12 * jnp.abs(f)
        first = jnp.argmax(good)
        found = jnp.any(good)
        return jnp.where(found, trials[first], x), jnp.where(found, values[first], f), found

    rows_search = jax.vmap(row_search, in_axes=(0, 0, 0, 0, 0, 0, 0, None))

    def rows_step(
        x: Any, f: Any, d: Any, lo: Any, hi: Any, h: Any, corr: Any, active: Any
    ) -> tuple[Any, ...]:
        """One Newton step of every row: the full step where it passes Armijo's test for
        every active row (one −log L per row), else the search over all step lengths."""
        g, move, decrement, uphill = rows_direction(x, d, lo, hi, h, corr, active)
        full = rows_search(x, f, d, lo, hi, g, move, steps[:1])
        every = jnp.all(full[2] | ~active)
        x_new, f_new, found = lax.cond(
            every, lambda: full, lambda: rows_search(x, f, d, lo, hi, g, move, steps)
        )
        return x_new, f_new, decrement, found, uphill

    rows_nll = jax.vmap(nll)

    def run(x: Any, d: Any, lo: Any, hi: Any, tolerance: Any, maxiter: Any) -> tuple[Any, ...]:
        f = finite(rows_nll(x, d))
        failed = ~jnp.isfinite(f)
        done = jnp.zeros_like(failed)
        last = jnp.full(f.shape, jnp.inf)  # the Newton decrement of the last iteration
        rows = x.shape[0]
        # the secant estimate of the curvature Gauss-Newton leaves out, per row, and the
        # point, Jacobian and whether each row stepped in the last iteration (to update it)
        secant = jnp.zeros((rows, npars, npars), dtype=x.dtype)
        jac0 = jnp.zeros((rows, nbins, npars), dtype=x.dtype)
        moved = jnp.zeros(rows, dtype=bool)
        # rows with few free parameters keep Gauss-Newton + secant to the end (as in NumPy)
        exact_rows = jnp.sum(lo < hi, axis=1) >= EXACT_MIN_FREE

        def more(state: tuple[Any, ...]) -> Any:
            done, failed, iteration = state[2], state[3], state[-1]
            active = jnp.sum(~done & ~failed)
            # a few slow rows do not hold the whole batch: they go on in NumPy
            few_left = (iteration >= SLOW_AFTER) & (active * SLOW_FRACTION <= done.size)
            return (iteration < maxiter) & (active > 0) & ~few_left

        def iterate(state: tuple[Any, ...]) -> tuple[Any, ...]:
            x, f, done, failed, last, secant, x_old, jac_old, moved, iteration = state
            active = ~done & ~failed
            h, jac, r = gauss_newton(x, d)
            # the secant maps each accepted step to the change of Jᵀr it caused (as in
            # hfx.optimize.newton: Dennis-Gay-Welsch with PSB updates)
            y = jnp.einsum("rbp,rb->rp", jac - jac_old, r)
            outer = psb_term(jnp, secant, x - x_old, y)
            updated = secant + outer + outer.transpose(0, 2, 1)
            secant = jnp.where(moved[:, None, None], updated, secant)
            # Gauss-Newton + secant far from the minimum; the exact Hessian for the rows
            # close to it (decrement below NEAR_DECREMENT), for quadratic convergence
            near = active & (last < NEAR_DECREMENT) & exact_rows
            corr = correction(x, r, secant, near)
            x_new, f_new, decrement, found, uphill = rows_step(x, f, d, lo, hi, h, corr, active)
            finished = active & (decrement <= tolerance)
            stepped = active & ~finished & found
            return (
                jnp.where(stepped[:, None], x_new, x),
                jnp.where(stepped, f_new, f),
                done | finished,
                failed | (active & ~finished & ~found),
                jnp.where(active, decrement, last),
                jnp.where((active & uphill)[:, None, None], 0.0, secant),
                x,
                jac,
                stepped,
                iteration + 1,
            )

        state = (x, f, done, failed, last, secant, x, jac0, moved, jnp.int32(0))
        x, _, done, *_, iterations = lax.while_loop(more, iterate, state)
        return x, done, iterations

    return jax.jit(run)


_BUILDERS = MappingProxyType(
    {"newton": _build, "twice_nll": _build_twice_nll, "expected_data": _build_expected_data}
)
