"""Many fits at once: ``fit_batch`` / ``fixed_poi_fit_batch`` for N datasets or N starts.

Projected Newton on all rows together.  The Hessian is the Gauss-Newton (observed
Fisher) matrix of the Poisson terms, JᵀWJ with the exact Jacobian ∂ν/∂θ of the expected
counts (``Model.expected_and_jacobian``), plus the exact constraint curvature, plus a
per-row secant (PSB) estimate of the curvature Gauss-Newton leaves out; close to its
minimum a row of a model with many free parameters switches to the exact residual
curvature (``hfx.likelihood.curvature``) for quadratic convergence.  Each row has its
own active bound set, Armijo backtracking line search and convergence test (the Newton
decrement); rows that do not converge are refitted one by one with :func:`fit`, as are all
rows of models too large for dense Newton steps (``gauss_newton.dense_ok``).  On
multimodal likelihoods a row may end in a different local minimum than the scalar path.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from hfx.errors import FitError
from hfx.optimize import kernel
from hfx.optimize.api import fit
from hfx.optimize.common import resolve, single_threaded_blas, to_numpy
from hfx.optimize.gauss_newton import GaussNewton, dense_ok, rows_per_chunk

NEAR_DECREMENT = 1e-2  # Newton decrement below which a row switches to the exact Hessian


@dataclass(frozen=True)
class BatchFitResult:
    """Per-row best fits of a batched minimisation.

    ``niter`` is the number of Newton iterations of the batch; ``nfallback`` how many rows
    were refitted with the scalar L-BFGS-B :func:`~hfx.optimize.fit` (``success`` is False only for
    rows where that failed too).
    """

    bestfit: np.ndarray
    twice_nll: np.ndarray
    success: np.ndarray
    niter: int
    nfallback: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python (JSON-serialisable) view of the result."""
        return {
            "bestfit": np.asarray(self.bestfit, dtype=float).tolist(),
            "twice_nll": [float(v) for v in self.twice_nll],
            "success": [bool(v) for v in self.success],
            "niter": int(self.niter),
            "nfallback": int(self.nfallback),
        }


def _newton_steps(
    x: np.ndarray,
    g: np.ndarray,
    h: np.ndarray,
    corr: np.ndarray | None,
    lo: np.ndarray,
    hi: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Projected Newton directions [n, nfree] with Hessian h (+ corr) per row, and the held set.

    Held: on a bound with the gradient pointing out, or pushed through a bound by the
    first solve (those rows are then solved again without them).
    """
    held = ((x <= lo) & (g > 0)) | ((x >= hi) & (g < 0))
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


def _psb_update(corr: np.ndarray, s: np.ndarray, y: np.ndarray) -> None:
    """Powell-symmetric-Broyden update, in place, so that corr · s = y per row.

    corr += (r sᵀ + s rᵀ)/sᵀs − (rᵀs) s sᵀ/(sᵀs)² with r = y − corr s, written as
    u sᵀ + s uᵀ with u = (r − ½ (rᵀs/sᵀs) s)/sᵀs (one temporary matrix).
    """
    r = y - np.einsum("nij,nj->ni", corr, s)
    ss = np.einsum("ni,ni->n", s, s)
    ss = np.where(ss > 1e-300, ss, np.inf)
    rs = np.einsum("ni,ni->n", r, s)
    u = (r - (0.5 * rs / ss)[:, None] * s) / ss[:, None]
    outer = u[:, :, None] * s[:, None, :]
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
    niter = 0
    while act.size and niter < maxiter:
        niter += 1
        corr = ca
        if prob.curvature is not None and near.any():
            corr = ca.copy()
            rows = np.flatnonzero(near)
            corr[rows] = prob.residual_curvature(act[rows], xa[rows], ra[rows])
        step, held = _newton_steps(xa, ga, ha, corr, lo, hi)
        uphill = np.einsum("ni,ni->n", ga, step) >= 0
        if uphill.any():  # the correction made the model indefinite: plain Gauss-Newton
            ca[uphill] = 0.0
            step[uphill], held[uphill] = _newton_steps(
                xa[uphill], ga[uphill], ha[uphill], None, lo, hi
            )
        target = np.where(ga > 0, lo, hi)
        move = np.where(held, target - xa, step)
        decrement = -np.einsum("ni,ni->n", ga, move)
        done = decrement <= tolerance
        near = decrement < NEAR_DECREMENT
        # Armijo backtracking, per row
        t = 1.0
        pending = np.flatnonzero(~done)
        for _ in range(30):
            if not pending.size:
                break
            trial = np.clip(xa[pending] + t * move[pending], lo, hi)
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
        finished = done.copy()
        finished[pending] = True
        x[act[finished]] = xa[finished]
        converged[act[done]] = True
        if finished.any():
            keep = ~finished
            act, xa, fa, ga, ha, ja, ca, near, ra = (
                act[keep],
                xa[keep],
                fa[keep],
                ga[keep],
                ha[keep],
                ja[keep],
                ca[keep],
                near[keep],
                ra[keep],
            )
    x[act] = xa
    return niter


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
    """Projected Newton from ``full`` [N, npars] on ``data`` [N, ndata], rows in chunks so
    that Jacobians and Hessians stay within a fixed memory budget.

    Returns the free components [N, nfree], which rows converged, and the most iterations
    a chunk took.  Models too large for dense steps (``dense_ok``) are left unconverged.
    """
    small = kernel.applies(model, int(free.sum()))
    if small and kernel.ready():
        return kernel.newton_rows(model, data, full, free, lo, hi, tolerance, maxiter)
    start = time.perf_counter()
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
                niter = max(niter, _iterate(prob, xs, done, lo, hi, tolerance, maxiter))
                x[part], converged[part] = xs, done
    if small:
        kernel.record(time.perf_counter() - start)
    return x, converged, niter


def fit_batch(
    model,
    data: Any,
    *,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    tolerance: float = 1e-10,
    maxiter: int = 100,
) -> BatchFitResult:
    """Fit N datasets ``data`` [N, ndata] (or one dataset from N starts ``init`` [N, npars]).

    ``init`` None | [npars] | [N, npars]; ``bounds`` [npars, 2]; ``fixed`` [npars] mask (the
    same for all rows).  A row converges when its Newton decrement (the predicted decrease
    of −log L) is below ``tolerance``; rows that fail after ``maxiter`` iterations are
    refitted with the scalar :func:`~hfx.optimize.fit`.
    """
    cfg = model.config
    npars = cfg.npars
    init_arr = np.asarray(cfg.suggested_init() if init is None else init, dtype=np.float64)
    data = to_numpy(data)
    if data.ndim == 1:
        data = data[None, :]
    nrows = max(data.shape[0], init_arr.shape[0] if init_arr.ndim == 2 else 1)
    if data.ndim != 2 or data.shape[0] not in (1, nrows):
        raise FitError(f"data must be [N, ndata] or [ndata]; got shape {data.shape}")
    if init_arr.shape not in ((npars,), (nrows, npars)):
        raise FitError(f"init must be [{npars}] or [{nrows}, {npars}]; got {init_arr.shape}")
    _, bnds, mask = resolve(model, init_arr if init_arr.ndim == 1 else init_arr[0], bounds, fixed)
    if data.shape[-1] != cfg.nmaindata + cfg.nauxdata:
        raise FitError(
            f"data has {data.shape[-1]} values per dataset, the model expects "
            f"{cfg.nmaindata + cfg.nauxdata}"
        )
    if data.shape[0] != nrows:
        data = np.repeat(data, nrows, axis=0)
    full = np.array(np.broadcast_to(init_arr, (nrows, npars)))
    free = ~mask
    lo, hi = bnds[free, 0], bnds[free, 1]
    outside = (full[:, free] < lo) | (full[:, free] > hi)
    if outside.any():
        row, col = np.argwhere(outside)[0]
        name = cfg.par_names[np.flatnonzero(free)[col]]
        raise FitError(f"row {row}: initial value of {name!r} lies outside its bounds")

    x, converged, niter = newton_rows(model, data, full, free, lo, hi, tolerance, maxiter)
    # (models too large for dense Newton steps go to the scalar fits below, row by row)
    bestfit = full.copy()
    bestfit[:, free] = x
    success = converged.copy()
    redo = np.flatnonzero(~converged)
    for i in redo:
        try:
            res = fit(
                model,
                data[i],
                init=full[i],
                bounds=bnds,
                fixed=mask,
                optimizer="scipy",
                uncertainties=False,
            )
        except FitError:
            continue
        bestfit[i] = res.bestfit
        success[i] = True
    twice_nll = kernel.twice_nll(model, bestfit, data)
    if twice_nll is None:
        twice_nll = to_numpy(model.twice_nll(bestfit, data))
    return BatchFitResult(
        bestfit=bestfit,
        twice_nll=np.array(twice_nll, dtype=np.float64),
        success=success,
        niter=niter,
        nfallback=int(redo.size),
    )


def fixed_poi_fit_batch(
    poi_value: Any,
    model,
    data: Any,
    *,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    tolerance: float = 1e-10,
    maxiter: int = 100,
) -> BatchFitResult:
    """:func:`fit_batch` with the POI held at ``poi_value`` (a scalar or one value per row)."""
    poi = model.config.poi_index
    if poi is None:
        raise FitError(
            "fixed_poi_fit_batch needs a model with a parameter of interest (poi_index is None)"
        )
    npars = model.config.npars
    x0 = np.array(model.config.suggested_init() if init is None else init, dtype=np.float64)
    values = np.asarray(poi_value, dtype=np.float64)
    if values.ndim and x0.ndim == 1:
        x0 = np.tile(x0, (values.size, 1))
    x0[..., poi] = values
    mask = np.zeros(npars, dtype=bool) if fixed is None else np.array(fixed, dtype=bool)
    if mask.shape != (npars,):
        raise FitError(f"fixed must describe {npars} parameters; got shape {mask.shape}")
    mask[poi] = True
    return fit_batch(
        model, data, init=x0, bounds=bounds, fixed=mask, tolerance=tolerance, maxiter=maxiter
    )
