"""Pieces every optimizer shares: resolving init/bounds/fixed, the objective over the free
parameters, the Hessian from the exact gradient, covariance and failure diagnostics."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from hfx.errors import FitError
from hfx.optimize.result import FitResult, zero_matrix


def to_numpy(x: Any) -> np.ndarray:
    """A float64 NumPy view of a backend array (torch tensors are detached first)."""
    if isinstance(x, np.ndarray) and x.dtype == np.float64:
        return x
    if hasattr(x, "detach"):  # torch
        x = x.detach().cpu()
    return np.asarray(x, dtype=np.float64)


def resolve(model, init: Any, bounds: Any, fixed: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Start point [npars], bounds [npars, 2] and fixed mask [npars] with the model's defaults."""
    cfg = model.config
    n = cfg.npars
    x0 = np.array(cfg.suggested_init() if init is None else init, dtype=np.float64).reshape(-1)
    bnds = np.array(cfg.suggested_bounds() if bounds is None else bounds, dtype=np.float64)
    mask = np.array(cfg.suggested_fixed(), dtype=bool).reshape(-1)
    if fixed is not None:
        mask = mask | np.asarray(fixed, dtype=bool).reshape(-1)
    if x0.shape != (n,) or bnds.shape != (n, 2) or mask.shape != (n,):
        raise FitError(
            f"init, bounds and fixed must describe {n} parameters; got shapes "
            f"{x0.shape}, {bnds.shape}, {mask.shape}"
        )
    if np.any(bnds[:, 0] > bnds[:, 1]):
        bad = int(np.argmax(bnds[:, 0] > bnds[:, 1]))
        raise FitError(f"parameter {cfg.par_names[bad]!r} has lower bound above upper bound")
    free = ~mask
    outside = free & ((x0 < bnds[:, 0]) | (x0 > bnds[:, 1]))
    if np.any(outside):
        bad = int(np.argmax(outside))
        raise FitError(
            f"initial value {x0[bad]} of parameter {cfg.par_names[bad]!r} lies outside its "
            f"bounds [{bnds[bad, 0]}, {bnds[bad, 1]}]"
        )
    return x0, bnds, mask


def poi_mask_and_init(model, poi_value: float, init: Any, fixed: Any) -> tuple[Any, Any]:
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

    def __init__(self, model, data: np.ndarray, full: np.ndarray, free: np.ndarray):
        self.model = model
        self.data = data
        self.full = full.copy()
        self.free = free
        self.idx = np.flatnonzero(free)
        self.all_free = self.idx.size == full.size
        self.ncalls = 0
        self.last: tuple[np.ndarray, float, np.ndarray] | None = None

    def expand(self, x: np.ndarray) -> np.ndarray:
        """The full parameter vector with the free components set to ``x`` (a new array)."""
        pars = self.full.copy()
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


@dataclass
class Minimum:
    """What one optimizer run found (over the free parameters)."""

    x: np.ndarray
    fun: float
    converged: bool
    message: str
    coarse: bool = False  # stopped on a loose criterion (Minuit's EDM): polish the minimum


def projected_gradient(x: np.ndarray, g: np.ndarray, bnds: np.ndarray) -> float:
    """Largest gradient component that does not push against an active bound."""
    pg = g.copy()
    pg[(x <= bnds[:, 0]) & (g > 0)] = 0.0
    pg[(x >= bnds[:, 1]) & (g < 0)] = 0.0
    return float(np.max(np.abs(pg))) if pg.size else 0.0


CHUNK_ELEMENTS = 20_000_000  # floats evaluated at once by the chunked paths (~160 MB)


def hessian(
    model,
    pars: Any,
    data: Any,
    free: Any = None,
    bounds: Any = None,
    *,
    gradient: Callable[[np.ndarray], np.ndarray] | None = None,
) -> np.ndarray:
    """Hessian of −log L over the ``free`` components of ``pars`` from differences of the gradient.

    Central differences where both neighbours lie inside ``bounds``; second-order one-sided
    differences at a bound.  All stencil points go through one batched gradient call:
    ``model.nll_and_grad``, or ``gradient(points [m, npars]) -> [m, nfree]`` when given.
    Returns a symmetric [nfree, nfree] matrix.
    """
    pars = np.asarray(pars, dtype=np.float64)
    n = pars.size
    free = np.ones(n, dtype=bool) if free is None else np.asarray(free, dtype=bool)
    bnds = np.tile([-np.inf, np.inf], (n, 1)) if bounds is None else np.asarray(bounds, dtype=float)
    idx = np.flatnonzero(free)
    if idx.size == 0:
        return np.zeros((0, 0))
    h = 1e-5 * np.maximum(1.0, np.abs(pars[idx]))
    lo_ok = pars[idx] - h >= bnds[idx, 0]
    hi_ok = pars[idx] + h <= bnds[idx, 1]
    central = ((-1.0, 1.0), (-0.5, 0.5))
    forward = ((0.0, 1.0, 2.0), (-1.5, 2.0, -0.5))
    backward = ((0.0, -1.0, -2.0), (1.5, -2.0, 0.5))
    stencils = [
        central if lo and hi else (forward if hi else backward)
        for lo, hi in zip(lo_ok, hi_ok, strict=True)
    ]
    npoints = sum(len(s[0]) for s in stencils)
    points = np.tile(pars, (npoints, 1))
    row = 0
    for k, (offs, _) in enumerate(stencils):
        points[row : row + len(offs), idx[k]] += np.asarray(offs) * h[k]
        row += len(offs)
    if gradient is None:
        # bounded memory: each point's gradient works on arrays of the model's entries
        per_point = max(1, 4 * getattr(getattr(model, "arrays", None), "nentries", 1) * 8)
        chunk = max(1, CHUNK_ELEMENTS // per_point)
        grads = np.concatenate(
            [
                to_numpy(model.nll_and_grad(points[i : i + chunk], data)[1])[:, idx]
                for i in range(0, npoints, chunk)
            ]
        )
    else:
        grads = gradient(points)
    hess = np.empty((idx.size, idx.size))
    row = 0
    for k, (offs, weights) in enumerate(stencils):
        hess[k] = np.asarray(weights) @ grads[row : row + len(offs)] / h[k]
        row += len(offs)
    return 0.5 * (hess + hess.T)


def make_positive_definite(hess: np.ndarray) -> tuple[np.ndarray, bool]:
    """Shift the diagonal of a non-positive-definite Hessian, as Minuit's MnPosDef does.

    Works on the diagonally scaled matrix; returns the (possibly) corrected matrix and
    whether a correction was needed (e.g. a POI on its bound where the likelihood is flat).
    """
    diag = np.diag(hess).copy()
    changed = bool(np.any(diag <= 0))
    diag = np.where(diag > 0, diag, 1.0)
    h = hess.copy()
    h[np.diag_indices_from(h)] = diag
    scale = 1.0 / np.sqrt(diag)
    eig = np.linalg.eigvalsh(h * np.outer(scale, scale))
    pmin, pmax = float(eig[0]), float(eig[-1])
    if pmin > 1e-6 * max(pmax, 1.0):
        return h, changed
    h[np.diag_indices_from(h)] = diag * (1.0 + 1e-3 * pmax - pmin)
    return h, True


def covariance(hess: np.ndarray) -> tuple[np.ndarray, bool]:
    """Inverse of the (positive-definite-corrected) Hessian and whether it was corrected."""
    hess, corrected = make_positive_definite(hess)
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        cov = np.linalg.pinv(hess)
    return 0.5 * (cov + cov.T), corrected


_CONTROLLER: list[Any] = []


def single_threaded_blas() -> Any:
    """Limit BLAS to one thread while a minimiser runs, when ``threadpoolctl`` is installed.

    Tiny dense algebra through a threaded BLAS spends more time waking threads than
    computing.  The library scan is done once; later calls only switch the limit.
    """
    if not _CONTROLLER:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # optional speed-up only
            _CONTROLLER.append(None)
        else:
            _CONTROLLER.append(ThreadpoolController())
    ctrl = _CONTROLLER[0]
    if ctrl is None:
        return contextlib.nullcontext()
    return ctrl.limit(limits=1, user_api="blas")


def locate_bin(model, index: int) -> str:
    """'channel <name> bin <i>' for main-data position ``index``, or 'auxdata[<k>]'."""
    cfg = model.config
    if index >= cfg.nmaindata:
        return f"auxdata[{index - cfg.nmaindata}]"
    for channel, sl in cfg.channel_slices.items():
        if sl.start <= index < sl.stop:
            return f"channel {channel!r} bin {index - sl.start}"
    return f"bin {index}"


def check_data(model, data: np.ndarray) -> None:
    """Raise :class:`FitError` naming the first non-finite or negative observed value."""
    bad = ~np.isfinite(data)
    if bad.any():
        i = int(np.flatnonzero(bad.reshape(-1))[0]) % data.shape[-1]
        raise FitError(f"data value at {locate_bin(model, i)} is {float(data.reshape(-1)[i])}")


def diagnose(model, data: np.ndarray, pars: np.ndarray) -> str:
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


def _fast_gradient(model, data: np.ndarray, full: np.ndarray, free: np.ndarray):
    """Gradient over the free components for many points from the exact Jacobian, or None.

    Several times faster per point than a batched ``nll_and_grad`` on large models.
    """
    from hfx.optimize import gauss_newton  # imports this module

    if not gauss_newton.newton_ok(model):
        return None
    problem = gauss_newton.GaussNewton(
        model, data[None, :], full[None, :].copy(), free, exact=False
    )
    idx = np.flatnonzero(free)
    chunk = gauss_newton.rows_per_chunk(model)

    def gradient(points: np.ndarray) -> np.ndarray:
        out = []
        for i in range(0, points.shape[0], chunk):
            part = points[i : i + chunk]
            rows = np.zeros(part.shape[0], dtype=int)
            out.append(problem.evaluate(rows, part[:, idx])[1])
        return np.concatenate(out)

    return gradient


def _polish_hessian(model, data, pars, free, bnds, gradient) -> np.ndarray:
    """The exact analytic Hessian where the model allows it, else differences of the gradient."""
    from hfx.optimize import gauss_newton  # imports this module

    exact = gauss_newton.exact_hessian(model, data, pars, free)
    if exact is not None:
        return 0.5 * (exact + exact.T)
    return hessian(model, pars, data, free, bnds, gradient=gradient)


def _newton_polish(model, data, obj, x, fun, free, bnds, maxiter: int = 3):
    """Projected Newton steps with the exact-gradient Hessian from a (nearly) converged ``x``.

    Parameters on a bound, or that a step would push through one against a gradient
    pointing outwards, are held at that bound.  Returns (x, fun, Hessian at x, whether x moved).
    """
    fbnds = bnds[free]
    lo, hi = fbnds[:, 0], fbnds[:, 1]
    refined = False
    from hfx.optimize import gauss_newton  # imports this module

    exact = gauss_newton.exact_ok(model)  # else differences of the (fast) gradient
    gradient = None if exact else _fast_gradient(model, data, obj.full, free)
    hess = _polish_hessian(model, data, obj.expand(x), free, bnds, gradient)
    for _ in range(maxiter):
        _, g = obj(x)
        held = ((x <= lo) & (g > 0)) | ((x >= hi) & (g < 0))
        step = np.zeros_like(x)
        for _ in range(2):  # second pass: also hold what the first step pushed out
            keep = np.flatnonzero(~held)
            try:
                step[keep] = -np.linalg.solve(hess[np.ix_(keep, keep)], g[keep])
            except np.linalg.LinAlgError:
                return x, fun, hess, refined
            step[held] = 0.0
            out = ((x + step < lo) & (g > 0)) | ((x + step > hi) & (g < 0))
            if not out.any():
                break
            held |= out
        target = np.where(held & (g > 0), lo, np.where(held & (g < 0), hi, x))
        base = np.where(held, target, x)
        decrement = -float(g[~held] @ step[~held]) + float(g @ (base - x))
        if not decrement > 1e-7:  # −log L within ~5e-8 of the minimum: nothing to refine
            break
        for t in (1.0, 0.5, 0.25, 0.125):
            x_new = np.clip(base + t * step, lo, hi)
            f_new, _ = obj(x_new)
            if f_new < fun:
                break
        else:
            break
        x, fun, refined = x_new, f_new, True
        hess = _polish_hessian(model, data, obj.expand(x), free, bnds, gradient)
        obj.ncalls += 1
    return x, fun, hess, refined


def _batched_polish(model, obj, x, fun, bnds, mask) -> tuple[np.ndarray, float, bool]:
    """Newton iterations (exact Jacobian, analytic curvature) from a coarse minimum ``x``.

    Much cheaper than :func:`_newton_polish`'s finite-difference Hessian; models without
    the Jacobian, or too large for dense steps, keep ``x``.  Returns (x, fun, moved).
    """
    from hfx.optimize.newton_fit import NewtonOptimizer  # imports this module

    if not NewtonOptimizer.applies(model):
        return x, fun, False
    found = NewtonOptimizer(maxiter=20).minimize(obj, x, bnds[~mask])
    if not (found.converged and found.fun < fun):
        return x, fun, False
    return found.x, found.fun, True


def build_result(
    model,
    data: np.ndarray,
    obj: Objective,
    best: Minimum,
    bnds: np.ndarray,
    mask: np.ndarray,
    uncertainties: bool,
) -> FitResult:
    """Assemble a :class:`FitResult`, with Hessian-based uncertainties when asked for.

    With uncertainties, or from an optimizer with a coarse stopping rule (Minuit's EDM),
    a minimum that is still measurably off first gets Newton steps with the exact-gradient
    Hessian, so neither the minimum nor the covariance depends on the stopping rule.
    """
    x, fun = best.x, best.fun
    n = obj.full.size
    msg = best.message
    free = ~mask
    if uncertainties and obj.idx.size:
        idx = obj.idx
        cov = np.zeros((n, n))
        x, fun, hess, refined = _newton_polish(model, data, obj, x, fun, free, bnds)
        if refined:
            msg += "; refined by Newton steps"
        cov_free, corrected = covariance(hess)
        cov[np.ix_(idx, idx)] = cov_free
        if corrected:
            msg += "; Hessian not positive definite, diagonal shifted (uncertainties approximate)"
        obj.ncalls += 1
        sigma = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        with np.errstate(divide="ignore", invalid="ignore"):
            outer = np.outer(sigma, sigma)
            corr = np.where(outer > 0, cov / outer, 0.0)
        diag = np.flatnonzero(sigma > 0)
        corr[diag, diag] = 1.0
    else:
        if obj.idx.size and best.coarse:
            x, fun, refined = _batched_polish(model, obj, x, fun, bnds, mask)
            if refined:
                msg += "; refined by Newton steps"
        sigma = np.zeros(n)
        cov = corr = zero_matrix(n)
    bestfit = obj.expand(x)
    return FitResult(
        bestfit=bestfit,
        uncertainties=sigma,
        covariance=cov,
        correlation=corr,
        twice_nll=2.0 * fun,
        success=True,
        message=msg,
        nfev=obj.ncalls,
        ngrad=obj.ncalls,
        par_names=tuple(model.config.par_names),
        fixed=mask,
    )
