"""Projected Newton, the algorithm, once: directions with per-row held bound sets, the PSB secant
correction, and the iterations with Armijo backtracking on many rows at once.

The Hessian is the Gauss-Newton (observed Fisher) matrix of the Poisson terms, JᵀWJ with the
exact Jacobian ∂ν/∂θ of the expected counts, plus the exact constraint curvature, plus a
per-row secant (PSB) estimate of the curvature Gauss-Newton leaves out; close to its minimum
a row of a model with many free parameters switches to the exact residual curvature
(:mod:`hfx.likelihood.curvature`) for quadratic convergence.  Each row has its own active
bound set, line search and convergence test (the Newton decrement).  The compiled kernels
(:mod:`hfx.optimize.kernel`) run the same iterations in scalar code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hfx.optimize.gauss_newton import GaussNewton, dense_ok, rows_per_chunk
from hfx.optimize.problem import single_threaded_blas

__all__ = ["NEAR_DECREMENT", "newton_directions", "numpy_newton_rows", "psb_term"]

NEAR_DECREMENT = 1e-2  # Newton decrement below which a row switches to the exact Hessian
# A row whose decrement is below STALL_DECREMENT but has not halved in STALL_ITERATIONS
# iterations is zig-zagging across a kink of −log L: it stops unconverged (and the callers
# refit it with L-BFGS-B) instead of running to maxiter
STALL_ITERATIONS = 10
STALL_DECREMENT = 1e-5


def newton_directions(
    x: np.ndarray,
    g: np.ndarray,
    h: np.ndarray,
    corr: np.ndarray | None,
    lo: np.ndarray,
    hi: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Projected Newton directions [n, nfree] with Hessian h (+ corr) per row, and the held set.

    Held: on a bound with the gradient pointing out, pinned (``lo == hi``), or pushed
    through a bound by the first solve (those rows are then solved again without them).
    ``lo``/``hi`` are [nfree] or per row [n, nfree].
    """
    held = ((x <= lo) & (g > 0)) | ((x >= hi) & (g < 0)) | (lo == hi)
    step = _solve(h + corr if corr is not None else h.copy(), g, held)
    out = (((x + step < lo) & (g > 0)) | ((x + step > hi) & (g < 0))) & ~held
    again = np.flatnonzero(out.any(axis=1))
    if again.size:
        held[again] |= out[again]
        sub = h[again] + corr[again] if corr is not None else h[again]
        step[again] = _solve(sub, g[again], held[again])
    return step, held


def _solve(h: np.ndarray, g: np.ndarray, held: np.ndarray) -> np.ndarray:
    """−H⁻¹g per row with held components removed; ``h`` is overwritten (scaled in place)."""
    n = h.shape[-1]
    diag_idx = np.arange(n)
    rows = np.flatnonzero(held.any(axis=1))
    if rows.size:
        m = held[rows]
        sub = h[rows]
        sub[m[:, :, None] | m[:, None, :]] = 0.0
        sub[:, diag_idx, diag_idx] += m
        h[rows] = sub
        g = np.where(held, 0.0, g)
    diag = h[:, diag_idx, diag_idx]
    scale = 1.0 / np.sqrt(np.where(diag > 0, diag, 1.0))
    h *= scale[:, :, None]
    h *= scale[:, None, :]
    h[:, diag_idx, diag_idx] += 1e-12
    rhs = g * scale
    try:
        step = np.linalg.solve(h, rhs[..., None])[..., 0]
    except np.linalg.LinAlgError:
        # a singular row: clamp its eigenvalues (all rows, only on this rare path)
        w, v = np.linalg.eigh(h)
        w = np.maximum(w, 1e-8 * np.max(np.abs(w), axis=1, keepdims=True) + 1e-300)
        step = np.einsum("nij,nj->ni", v, np.einsum("nji,nj->ni", v, rhs) / w)
    step *= -scale
    step[held] = 0.0
    return step


def psb_term(xp: Any, corr: Any, s: Any, y: Any) -> Any:
    """u sᵀ per row of the Powell-symmetric-Broyden update that makes corr · s = y:
    corr + u sᵀ + s uᵀ, i.e. corr + (r sᵀ + s rᵀ)/sᵀs − (rᵀs) s sᵀ/(sᵀs)² with r = y − corr s
    and u = (r − ½ (rᵀs/sᵀs) s)/sᵀs.  ``xp`` is NumPy or jax.numpy (the JAX engine's loop)."""
    r = y - xp.einsum("nij,nj->ni", corr, s)
    ss = xp.einsum("ni,ni->n", s, s)
    ss = xp.where(ss > 1e-300, ss, xp.inf)
    rs = xp.einsum("ni,ni->n", r, s)
    u = (r - (0.5 * rs / ss)[:, None] * s) / ss[:, None]
    return u[:, :, None] * s[:, None, :]


def _psb_update(corr: np.ndarray, s: np.ndarray, y: np.ndarray) -> None:
    """The PSB update of :func:`psb_term`, in place (one temporary matrix)."""
    outer = psb_term(np, corr, s, y)
    corr += outer
    corr += outer.transpose(0, 2, 1)


def _iterate(
    prob: GaussNewton,
    x: np.ndarray,
    converged: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    tolerance: float,
    maxiter: int,
) -> int:
    """Newton iterations on all rows; updates ``x`` and ``converged`` in place.

    State is kept for the active rows only and compacted as rows finish.  The Hessian is
    Gauss-Newton plus a per-row secant correction for the curvature it leaves out
    (Dennis-Gay-Welsch: the correction maps a step s to (J₊ − J)ᵀ r₊, updated with PSB).
    """
    # bounds per row ([N, nfree]: e.g. one component pinned per row with lo == hi) or shared
    lo_rows, hi_rows = np.broadcast_to(lo, x.shape), np.broadcast_to(hi, x.shape)
    per_row = lo.ndim == 2 or hi.ndim == 2
    act = np.arange(x.shape[0])
    xa = x.copy()
    fa, ga, ha = prob.evaluate(act, xa)
    ja = prob.last_jac
    ok = np.isfinite(fa)
    act, xa, fa, ga, ha, ja = act[ok], xa[ok], fa[ok], ga[ok], ha[ok], ja[ok]
    ra = prob.last_res[ok]
    ca = np.zeros_like(ha)  # secant estimate of the curvature Gauss-Newton leaves out
    # rows close to their minimum use the exact curvature instead (far from it the exact
    # Hessian is often indefinite and Gauss-Newton + secant makes better progress)
    near = np.zeros(act.size, dtype=bool)
    # rows that zig-zag at their minimum (a kink, e.g. a yield clamped at zero): the smallest
    # decrement seen and the iterations since it last halved
    lowest = np.full(act.size, np.inf)
    stalled = np.zeros(act.size, dtype=np.int64)
    niter = 0
    while act.size and niter < maxiter:
        niter += 1
        if per_row:
            lo, hi = lo_rows[act], hi_rows[act]
        corr = ca
        if prob.curvature is not None and near.any():
            corr = ca.copy()
            rows = np.flatnonzero(near)
            corr[rows] = prob.residual_curvature(act[rows], xa[rows], ra[rows])
        step, held = newton_directions(xa, ga, ha, corr, lo, hi)
        uphill = np.einsum("ni,ni->n", ga, step) >= 0
        if uphill.any():  # the correction made the model indefinite: plain Gauss-Newton
            ca[uphill] = 0.0
            step[uphill], held[uphill] = newton_directions(
                xa[uphill],
                ga[uphill],
                ha[uphill],
                None,
                lo[uphill] if per_row else lo,
                hi[uphill] if per_row else hi,
            )
        target = np.where(ga > 0, lo, hi)
        move = np.where(held, target - xa, step)
        decrement = -np.einsum("ni,ni->n", ga, move)
        done = decrement <= tolerance
        improved = decrement < 0.5 * lowest
        lowest = np.where(improved, decrement, lowest)
        stalled = np.where(improved, 0, stalled + 1)
        stuck = (stalled >= STALL_ITERATIONS) & (decrement < STALL_DECREMENT) & ~done
        near = decrement < NEAR_DECREMENT
        # Armijo backtracking, per row
        t = 1.0
        pending = np.flatnonzero(~done)
        for _ in range(30):
            if not pending.size:
                break
            lo_p, hi_p = (lo[pending], hi[pending]) if per_row else (lo, hi)
            trial = np.clip(xa[pending] + t * move[pending], lo_p, hi_p)
            f_new, g_new, h_new = prob.evaluate(act[pending], trial)
            descent = np.einsum("ni,ni->n", ga[pending], trial - xa[pending])
            f_old = fa[pending]
            good = f_new <= f_old + 1e-4 * np.minimum(descent, 0.0) + 1e-12 * np.abs(f_old)
            if good.any():
                rows = pending[good]
                j_new, r_new = prob.last_jac[good], prob.last_res[good]
                y = np.einsum("nbp,nb->np", j_new - ja[rows], r_new)
                secant = ca[rows]
                _psb_update(secant, trial[good] - xa[rows], y)
                ca[rows] = secant
                ra[rows] = r_new
                xa[rows], fa[rows], ga[rows], ha[rows], ja[rows] = (
                    trial[good],
                    f_new[good],
                    g_new[good],
                    h_new[good],
                    j_new,
                )
            pending = pending[~good]
            t *= 0.5
        # rows whose line search failed stop here (and are refitted one by one)
        finished = done | stuck
        finished[pending] = True
        x[act[finished]] = xa[finished]
        converged[act[done]] = True
        if finished.any():
            keep = ~finished
            act, xa, fa, ga, ha, ja, ca, near, ra, lowest, stalled = (
                act[keep],
                xa[keep],
                fa[keep],
                ga[keep],
                ha[keep],
                ja[keep],
                ca[keep],
                near[keep],
                ra[keep],
                lowest[keep],
                stalled[keep],
            )
    x[act] = xa
    return niter


def numpy_newton_rows(
    model: Any,
    data: np.ndarray,
    full: np.ndarray,
    free: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    tolerance: float,
    maxiter: int,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Projected Newton from ``full`` [N, npars] on ``data`` [N, ndata], rows in chunks so
    that Jacobians and Hessians stay within a fixed memory budget.

    ``lo``/``hi``: bounds of the free components, [nfree] or per row [N, nfree].  Returns the
    free components [N, nfree], which rows converged, and the most iterations a chunk took.
    Models too large for dense steps (``dense_ok``) are left unconverged.
    """
    nrows = full.shape[0]
    x = full[:, free].copy()
    converged = np.zeros(nrows, dtype=bool)
    niter = 0
    if not free.any():
        converged[:] = True
    elif dense_ok(model):
        step = rows_per_chunk(model)
        with single_threaded_blas():
            for lo_row in range(0, nrows, step):
                part = slice(lo_row, lo_row + step)
                prob = GaussNewton(model, data[part], full[part], free)
                xs, done = x[part].copy(), converged[part].copy()
                lo_part = lo[part] if lo.ndim == 2 else lo
                hi_part = hi[part] if hi.ndim == 2 else hi
                niter = max(niter, _iterate(prob, xs, done, lo_part, hi_part, tolerance, maxiter))
                x[part], converged[part] = xs, done
    return x, converged, niter
