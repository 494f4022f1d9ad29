"""A fit plan: which algorithm and engine every fit of a task uses, decided once, up front.

``optimizer`` None (or ``"auto"``) means projected Newton with the exact Jacobian where the
model has it (a batch of fits as one batched computation), with L-BFGS-B as the fallback;
``"scipy"``, ``"minuit"`` or an optimizer instance run that optimizer for each fit.
``engine`` (:mod:`hfx.optimize.engines`) says where the Newton iterations run.  The plan is a
value: the CLI, the library and the inference functions build it from their arguments, and
nothing a process did earlier changes it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from hfx.errors import FitError
from hfx.optimize import engines, kernel
from hfx.optimize.gauss_newton import newton_ok, supports
from hfx.optimize.minuit_fit import MinuitOptimizer
from hfx.optimize.newton_fit import NewtonOptimizer
from hfx.optimize.scipy_fit import ScipyOptimizer

__all__ = [
    "OPTIMIZER_NAMES",
    "FitPlan",
    "Optimizer",
    "default_plan_runs_kernels",
    "get_optimizer",
    "make_plan",
]

Optimizer = ScipyOptimizer | MinuitOptimizer
OPTIMIZER_NAMES = ("auto", "scipy", "minuit")


def get_optimizer(spec: Any = None) -> Optimizer | None:
    """None for None or ``"auto"`` (the default path), else an optimizer from ``"scipy"``,
    ``"minuit"`` or an optimizer instance."""
    if spec is None:
        return None
    if isinstance(spec, str):
        key = spec.lower()
        if key == "auto":
            return None
        if key == "scipy":
            return ScipyOptimizer()
        if key == "minuit":
            return MinuitOptimizer()
        raise FitError(f"unknown optimizer {spec!r}; choose one of {', '.join(OPTIMIZER_NAMES)}")
    if hasattr(spec, "minimize") and hasattr(spec, "with_strategy"):
        return spec  # type: ignore[no-any-return]
    raise FitError(
        f"optimizer must be None, one of {', '.join(OPTIMIZER_NAMES)} or an optimizer "
        f"instance (ScipyOptimizer, MinuitOptimizer), not {type(spec).__name__}"
    )


class FitPlan(NamedTuple):
    """How the fits of one model run (an immutable value: a named tuple, the quickest such
    object to make, as every fit of a small model makes one).

    ``engine``: the resolved engine ("numpy" or "numba"); ``optimizer``: None for the default
    path, else the optimizer every fit uses; ``newton``: whether the model takes dense Newton
    steps (exact Jacobian, moderate size).
    """

    engine: str
    optimizer: Optimizer | None
    newton: bool

    @property
    def batched(self) -> bool:
        """Whether several fits run as one batched Newton computation."""
        return self.optimizer is None and self.newton

    def first_attempt(self) -> NewtonOptimizer | None:
        """The optimizer a single default fit tries first (projected Newton), or None."""
        return NewtonOptimizer(engine=self.engine) if self.batched else None

    def newton_values(
        self,
        model: Any,
        data: np.ndarray,
        full: np.ndarray,
        idx: np.ndarray,
        lo: np.ndarray,
        hi: np.ndarray,
        tolerance: float,
        maxiter: int = 100,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """Projected Newton on each row (the iterations of :func:`~hfx.optimize.fit_batch`,
        without its checks, result object or L-BFGS-B refits): the end points [N, npars],
        which rows converged, −2 log L there and the iterations taken.  For callers that
        run many small fits on arrays they prepared (:func:`hfx.optimize.engines.newton_values`)."""
        return engines.newton_values(
            self.engine, model, data, full, idx, lo, hi, tolerance, maxiter
        )

    def asimov_fits(
        self,
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
        maxiter: int = 100,
        then: float | None = None,
    ) -> tuple[np.ndarray, float, float, float, tuple[float, float] | None] | None:
        """The μ-independent fits of an asymptotic test, and optionally the two at a first
        μ (:func:`hfx.optimize.engines.asimov_fits`)."""
        return engines.asimov_fits(
            self.engine, model, data, start, idx, bounds, idx_cond, bounds_cond, poi,
            asimov_poi, tolerance, precise, maxiter, then,
        )  # fmt: skip

    def twice_nll(self, model: Any, pars: np.ndarray, data: np.ndarray) -> np.ndarray:
        """−2 log L per row of ``pars`` [N, npars] and ``data`` [N, ndata]."""
        return engines.twice_nll(self.engine, model, pars, data)

    def expected_data(self, model: Any, pars: np.ndarray) -> np.ndarray:
        """Expected main + auxiliary data at ``pars`` [npars]."""
        return engines.expected_data(self.engine, model, pars)


def default_plan_runs_kernels(model: Any) -> bool:
    """Whether ``make_plan(model)`` (engine "auto", no optimizer) fits on the compiled
    kernels by batched Newton (``plan.batched and plan.engine == "numba"``), decided
    without making the plan: the kernels apply to the model (a NumPy model, so not on
    JAX, of a dense size), it has the exact Jacobian, and the kernels are ready.  (A
    single default fit of a small model asks this first: making the plan costs more.)"""
    return kernel.applies(model) and supports(model) and kernel.ready()


def make_plan(model: Any, *, engine: str = "auto", optimizer: Any = None) -> FitPlan:
    """The plan for fits of ``model`` with ``engine`` ("auto" | "numpy" | "numba") and
    ``optimizer`` (None/"auto" | "scipy" | "minuit" | an instance)."""
    return FitPlan(
        engine=engines.resolve_engine(model, engine),
        optimizer=get_optimizer(optimizer),
        newton=newton_ok(model),
    )
