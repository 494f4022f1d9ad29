"""pyhf's optimizer objects, ``scipy_optimizer`` and ``minuit_optimizer``, as plain values.

Hand one to an inference call (``pyhf.infer.mle.fit(data, model, optimizer=opt)``, also
``hypotest``, ``upper_limit``, the calculators and test statistics) or make it the default
for later calls with ``pyhf.set_backend("numpy", opt)``.  Each maps onto an hfx optimizer
(:mod:`hfx.optimize`): ``scipy_optimizer`` onto hfx's L-BFGS-B fit with the exact
gradient, ``minuit_optimizer`` onto iminuit's MIGRAD (``pip install 'hfx[minuit]'``).
"""

from __future__ import annotations

from typing import Any

from hfx.errors import HfxError

__all__ = ["minuit_optimizer", "scipy_optimizer"]

# Options every optimizer accepts per fit, as pyhf's minimize(**kwargs) does.
_PER_FIT = ("maxiter", "tolerance", "verbose")


class _Optimizer:
    """Settings of one optimizer; :meth:`to_native` builds the matching hfx optimizer."""

    name = ""
    _options: tuple[str, ...] = ()

    def __init__(self, **kwargs: Any):
        self.maxiter = int(kwargs.pop("maxiter", 100000))
        self.verbose = int(kwargs.pop("verbose", 0))
        for key in self._options:
            setattr(self, key, kwargs.pop(key, getattr(type(self), f"_default_{key}")))
        if kwargs:
            raise HfxError(
                f"{self.name}_optimizer: unsupported options: {sorted(kwargs)} "
                f"(accepted: {sorted(('maxiter', 'verbose', *self._options))})"
            )

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={getattr(self, k)!r}" for k in ("maxiter", *self._options))
        return f"<hfx.compat.pyhf.optimize.{self.name}_optimizer {settings}>"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    __hash__ = None  # type: ignore[assignment]

    def with_options(self, **options: Any) -> _Optimizer:
        """A copy with per-fit options (``maxiter``, ``tolerance``, ...) replaced."""
        allowed = (*_PER_FIT, *self._options)
        unknown = sorted(set(options) - set(allowed))
        if unknown:
            raise HfxError(
                f"Unsupported options were passed in: {unknown} "
                f"(the {self.name} optimizer accepts {sorted(set(allowed))})"
            )
        settings = {k: getattr(self, k) for k in ("maxiter", "verbose", *self._options)}
        settings.update(options)
        return type(self)(**settings)

    def to_native(self) -> Any:
        raise NotImplementedError


class scipy_optimizer(_Optimizer):  # pyhf's name
    """SciPy minimisation (hfx: L-BFGS-B with the exact gradient).

    ``tolerance`` is the convergence tolerance (None: hfx's default); pyhf's
    ``solver_options`` are accepted for SciPy options hfx can pass on (``maxiter``).
    """

    name = "scipy"
    _options = ("tolerance", "solver_options")
    tolerance: float | None  # each option is set per instance by _Optimizer.__init__
    solver_options: dict[str, Any]
    _default_tolerance = None
    _default_solver_options: dict[str, Any] = {}  # noqa: RUF012  # copied per instance

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self.solver_options = dict(self.solver_options or {})

    def to_native(self) -> Any:
        from hfx.optimize import ScipyOptimizer

        options = dict(self.solver_options)
        maxiter = int(options.pop("maxiter", self.maxiter))
        if options:
            raise HfxError(f"scipy_optimizer: unsupported solver_options {sorted(options)}")
        kwargs: dict[str, Any] = {"maxiter": maxiter}
        if self.tolerance is not None:
            kwargs["tolerance"] = float(self.tolerance)
        return ScipyOptimizer(**kwargs)


class minuit_optimizer(_Optimizer):  # pyhf's name
    """iminuit's MIGRAD, with pyhf's settings: ``strategy`` (None: 0 with an exact gradient),
    ``tolerance`` (0.1), ``steps`` (1000), ``maxiter`` (the call limit); ``errordef`` is
    accepted for pyhf's 2NLL objective (hfx's scale is fixed)."""

    name = "minuit"
    _options = ("errordef", "steps", "strategy", "tolerance")
    errordef: float  # each option is set per instance by _Optimizer.__init__
    steps: int
    strategy: int | None
    tolerance: float
    _default_errordef = 1
    _default_steps = 1000
    _default_strategy = None
    _default_tolerance = 0.1

    def to_native(self) -> Any:
        from hfx.optimize import MinuitOptimizer

        # hfx minimises −log L with errordef 0.5, the same as pyhf's 2NLL with errordef 1
        return MinuitOptimizer(
            strategy=self.strategy,
            tolerance=float(self.tolerance),
            ncall=int(self.maxiter),
            steps=int(self.steps),
        )
