"""A spey backend: HistFactory JSON through hfx's model and fits.

Installed with hfx, spey finds it through the ``spey.backend.plugins`` entry points::

    import spey
    model = spey.get_backend("hfx")(
        background_only_model=workspace_dict, signal_patch=patch_ops, analysis="...", xsection=1.0
    )
    model.exclusion_confidence_level()          # [1 − CLs]
    model.poi_upper_limit()

- ``"hfx"``: the arguments of spey-pyhf's ``"pyhf"`` backend (a background-only workspace,
  as a dict, a path or an :class:`hfx.Workspace`, and a JSON Patch adding the signal).
- ``"hfx.uncorrelated_background"``: those of ``"pyhf.uncorrelated_background"`` (signal,
  background, data and absolute background uncertainties per bin).

Beyond the two required methods, the backend gives spey the exact gradient, the Hessian,
toys and its own fits: the profiled likelihoods (observed and Asimov) are hfx fits, so spey's
asymptotic CLs and limits run on hfx's optimizer.  spey-pyhf's conventions are kept: the POI
bound is ``poi_upper_bound`` (10 by default) and, for negative signal, −min(b/s) (not below
−10); "apriori" data are the pre-fit background (the model at its initial values, POI = 0).

spey is imported only when the classes are asked for, so this module imports without it;
the classes subclass ``spey.BackendBase`` and are made once per process on first use.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hfx.errors import HfxError, MissingExtraError, ModelError
from hfx.infer.toys import sample_toys
from hfx.optimize import fit, fixed_poi_fit, hessian, make_plan
from hfx.simplemodels import uncorrelated_background_workspace
from hfx.spec.workspace import Workspace

# (and the backend classes HfxBackend, HfxUncorrelatedBackground: module attributes made on
# first use, see __getattr__)
__all__ = ["SpeyEngine"]

SPEY_REQUIRES = ">=0.2.0"
_CLASSES = ("HfxBackend", "HfxUncorrelatedBackground")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("hfx")
    except PackageNotFoundError:
        return "unknown"


class SpeyEngine:
    """hfx's side of the backend: spey's :class:`BackendBase` methods on a compiled model.

    Holds no spey object (``config`` builds spey's ``ModelConfig`` when called); the
    backend classes add spey's base class and metadata.
    """

    def __init__(self, workspace: Workspace, patches: Sequence[Any] = (), seed: Any = None):
        self.workspace = workspace
        self.model = workspace.model(patches=list(patches))
        cfg = self.model.config
        if cfg.poi_index is None:
            raise ModelError("the spey backend needs a model with a parameter of interest")
        self.poi_index: int = cfg.poi_index
        self.observed = np.asarray(workspace.data(self.model), dtype=np.float64)
        init = cfg.suggested_init()
        init[self.poi_index] = 0.0
        background = np.asarray(self.model.expected_actualdata(init), dtype=np.float64)
        init[self.poi_index] = 1.0
        signal = np.asarray(self.model.expected_actualdata(init), dtype=np.float64) - background
        self.signal = signal
        self.apriori = np.concatenate([background, cfg.auxdata])
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = background[signal != 0.0] / signal[signal != 0.0]
        self.minimum_poi = -float(np.min(ratios)) if ratios.size else -math.inf
        self.plan = make_plan(self.model)
        self.rng = np.random.default_rng(seed)
        self._asimov: dict[tuple[Any, ...], np.ndarray] = {}

    # --- data and configuration -------------------------------------------------------------
    @property
    def is_alive(self) -> bool:
        """Whether some bin has a signal (its expected count changes with the POI)."""
        return bool(np.any(self.signal > 0.0))

    def dataset(self, expected: Any = "observed", data: Any = None) -> np.ndarray:
        """``data`` (auxiliary data appended when only the main bins are given), else the
        observed data, or the pre-fit background for ``expected`` "apriori"."""
        if data is None:
            return self.apriori if str(expected) == "apriori" else self.observed
        out = np.asarray(data, dtype=np.float64).reshape(-1)
        if out.size == self.model.config.nmaindata:
            out = np.concatenate([out, self.model.config.auxdata])
        return out

    def bounds(
        self, allow_negative_signal: bool = True, poi_upper_bound: float | None = 10.0
    ) -> list[tuple[float, float]]:
        """The model's bounds with spey-pyhf's POI range."""
        bnds = [(float(lo), float(hi)) for lo, hi in self.model.config.suggested_bounds()]
        lo = max(self.minimum_poi, -10.0) if allow_negative_signal else 0.0
        hi = float(poi_upper_bound) if poi_upper_bound else bnds[self.poi_index][1]
        bnds[self.poi_index] = (lo, hi)
        return bnds

    def config(self, allow_negative_signal: bool = True, poi_upper_bound: float = 10.0) -> Any:
        """spey's ``ModelConfig``: POI index, minimum POI, inits, bounds, names, fixed."""
        model_config = importlib.import_module("spey.base").ModelConfig
        cfg = self.model.config
        return model_config(
            poi_index=self.poi_index,
            minimum_poi=self.minimum_poi,
            suggested_init=[float(v) for v in cfg.suggested_init()],
            suggested_bounds=self.bounds(allow_negative_signal, poi_upper_bound),
            parameter_names=list(cfg.par_names),
            suggested_fixed=[bool(v) for v in cfg.suggested_fixed()],
        )

    def expected_data(self, pars: Any) -> list[float]:
        """Expected main and auxiliary data at ``pars``."""
        return [float(v) for v in self.model.expected_data(np.asarray(pars, dtype=np.float64))]

    # --- likelihood, gradient, Hessian, toys ------------------------------------------------
    def get_logpdf_func(
        self, expected: Any = "observed", data: Any = None
    ) -> Callable[[Any], float]:
        """``pars ↦ log L(pars)`` on the data ``expected``/``data`` select."""
        observed = self.dataset(expected, data)
        model = self.model
        return lambda pars: float(model.logpdf(np.asarray(pars, dtype=np.float64), observed))

    def get_objective_function(
        self, expected: Any = "observed", data: Any = None, do_grad: bool = True
    ) -> Callable[[Any], Any]:
        """``pars ↦ −log L`` and, with ``do_grad``, its exact gradient."""
        observed = self.dataset(expected, data)
        model = self.model

        def objective(pars: Any) -> Any:
            nll, grad = model.nll_and_grad(np.asarray(pars, dtype=np.float64), observed)
            return (float(nll), np.asarray(grad, dtype=np.float64)) if do_grad else float(nll)

        return objective

    def get_hessian_logpdf_func(
        self, expected: Any = "observed", data: Any = None
    ) -> Callable[[Any], np.ndarray]:
        """``pars ↦`` Hessian of log L (differences of the exact gradient)."""
        observed = self.dataset(expected, data)
        model = self.model
        return lambda pars: -hessian(model, np.asarray(pars, dtype=np.float64), observed)

    def get_sampler(self, pars: Any) -> Callable[..., np.ndarray]:
        """``(n, include_auxiliary=True) ↦`` n datasets drawn at ``pars`` (the backend's
        generator, seeded by its ``seed``)."""
        pars = np.asarray(pars, dtype=np.float64)
        nmain = self.model.config.nmaindata

        def sampler(number_of_samples: int, include_auxiliary: bool = True) -> np.ndarray:
            toys = sample_toys(self.model, pars, int(number_of_samples), self.rng)
            return toys if include_auxiliary else toys[:, :nmain]

        return sampler

    # --- profiled likelihoods: hfx fits instead of spey's generic optimizer -----------------
    def _start(self, init_pars: Any, bounds: Sequence[tuple[float, float]]) -> np.ndarray:
        init = self.model.config.suggested_init() if init_pars is None else init_pars
        bnds = np.asarray(bounds, dtype=np.float64)
        return np.clip(np.asarray(init, dtype=np.float64), bnds[:, 0], bnds[:, 1])

    def _conditional(
        self, poi: float, observed: np.ndarray, init_pars: Any, par_bounds: Any, negative: bool
    ) -> tuple[float, np.ndarray]:
        bnds = list(par_bounds) if par_bounds is not None else self.bounds(negative)
        lo, hi = bnds[self.poi_index]
        if not lo <= poi <= hi:  # spey widens the POI range to hold a fixed value outside it
            bnds[self.poi_index] = (min(lo, poi), max(hi, poi))
        start = self._start(init_pars, bnds)
        result = fixed_poi_fit(
            poi, self.model, observed, init=start, bounds=bnds, plan=self.plan, uncertainties=False
        )
        return result.nll, result.bestfit

    def negative_loglikelihood(
        self,
        poi_test: Any = 1.0,
        expected: Any = "observed",
        data: Any = None,
        return_parameters: bool = False,
        init_pars: Any = None,
        par_bounds: Any = None,
        **kwargs: Any,
    ) -> Any:
        """−log L at the fixed POI ``poi_test``, profiled over the other parameters (an hfx fit)."""
        if isinstance(poi_test, Mapping):
            raise NotImplementedError("several fixed parameters: spey's own optimizer fits")
        observed = self.dataset(expected, data)
        nll, pars = self._conditional(float(poi_test), observed, init_pars, par_bounds, True)
        return (nll, pars) if return_parameters else nll

    def minimize_negative_loglikelihood(
        self,
        expected: Any = "observed",
        allow_negative_signal: bool = True,
        data: Any = None,
        init_pars: Any = None,
        par_bounds: Any = None,
        poi_indices: Sequence[int | str] | None = None,
        **kwargs: Any,
    ) -> tuple[Any, float]:
        """(μ̂, −log L) at the global minimum (an hfx fit); ``poi_indices`` asks for a
        ``{index or name: value}`` mapping instead of μ̂."""
        observed = self.dataset(expected, data)
        bnds = list(par_bounds) if par_bounds is not None else self.bounds(allow_negative_signal)
        start = self._start(init_pars, bnds)
        result = fit(
            self.model, observed, init=start, bounds=bnds, plan=self.plan, uncertainties=False
        )
        if poi_indices is None:
            return float(result.bestfit[self.poi_index]), result.nll
        names = list(self.model.config.par_names)
        values = {}
        for key in poi_indices:
            if isinstance(key, str) and key not in names:
                raise HfxError(f"no parameter {key!r}; the model has {names}")
            index = names.index(key) if isinstance(key, str) else int(key)
            values[key] = float(result.bestfit[index])
        return values, result.nll

    def asimov_data(
        self,
        expected: Any = "observed",
        test_statistics: str = "qtilde",
        init_pars: Any = None,
        par_bounds: Any = None,
    ) -> np.ndarray:
        """Expected data at the fit with the POI at 1 (``q0``) or 0 (otherwise), as spey makes
        its Asimov data; kept per backend for the repeated calls of a limit search."""
        key = (
            str(expected),
            test_statistics == "q0",
            test_statistics in ("q", "qmu"),
            None if init_pars is None else tuple(np.asarray(init_pars, dtype=float)),
            None if par_bounds is None else tuple(map(tuple, np.asarray(par_bounds, float))),
        )
        if key not in self._asimov:
            poi = 1.0 if test_statistics == "q0" else 0.0
            negative = test_statistics in ("q", "qmu")
            _, pars = self._conditional(
                poi, self.dataset(expected), init_pars, par_bounds, negative
            )
            self._asimov[key] = np.asarray(self.model.expected_data(pars), dtype=np.float64)
        return self._asimov[key]

    def asimov_negative_loglikelihood(
        self,
        poi_test: Any = 1.0,
        expected: Any = "observed",
        test_statistics: str = "qtilde",
        init_pars: Any = None,
        par_bounds: Any = None,
        **kwargs: Any,
    ) -> Any:
        """−log L on the Asimov data at the fixed POI ``poi_test``."""
        asimov = self.asimov_data(expected, test_statistics, init_pars, par_bounds)
        return self.negative_loglikelihood(
            poi_test, expected, data=asimov, init_pars=init_pars, par_bounds=par_bounds
        )

    def minimize_asimov_negative_loglikelihood(
        self,
        expected: Any = "observed",
        test_statistics: str = "qtilde",
        init_pars: Any = None,
        par_bounds: Any = None,
        poi_indices: Sequence[int | str] | None = None,
        **kwargs: Any,
    ) -> tuple[Any, float]:
        """(μ̂, −log L) at the global minimum on the Asimov data."""
        asimov = self.asimov_data(expected, test_statistics, init_pars, par_bounds)
        return self.minimize_negative_loglikelihood(
            expected,
            allow_negative_signal=test_statistics in ("q", "qmu"),
            data=asimov,
            init_pars=init_pars,
            par_bounds=par_bounds,
            poi_indices=poi_indices,
        )


def _workspace(background_only_model: Any) -> Workspace:
    if isinstance(background_only_model, Workspace):
        return background_only_model
    if isinstance(background_only_model, (str, Path)):
        return Workspace.load(background_only_model)
    if isinstance(background_only_model, Mapping):
        return Workspace(background_only_model)
    raise HfxError(
        "background_only_model must be a workspace dict, a path or an hfx.Workspace, got "
        f"{type(background_only_model).__name__}"
    )


def _patches(signal_patch: Any) -> list[Any]:
    if signal_patch is None:
        return []
    if isinstance(signal_patch, Mapping):  # one operation
        return [[dict(signal_patch)]]
    return [list(signal_patch)]


def _make_classes() -> dict[str, type]:
    try:
        backend_base: Any = importlib.import_module("spey").BackendBase
    except ImportError:
        raise MissingExtraError("the spey backend needs spey: pip install 'hfx[spey]'") from None

    metadata = {
        "version": _version(),
        "author": "hfx developers",
        "spey_requires": SPEY_REQUIRES,
        "doi": [],
        "arXiv": [],
    }

    class HfxBackend(SpeyEngine, backend_base):  # type: ignore[misc]
        """HistFactory JSON on hfx: a background-only workspace (dict, path or
        :class:`hfx.Workspace`) and a JSON Patch (list of operations) adding the signal,
        as spey-pyhf's ``"pyhf"`` backend takes them; ``seed`` seeds the toys."""

        name = "hfx"

        def __init__(
            self,
            background_only_model: Any,
            signal_patch: Any = None,
            *,
            seed: Any = None,
        ) -> None:
            super().__init__(_workspace(background_only_model), _patches(signal_patch), seed)

    class HfxUncorrelatedBackground(SpeyEngine, backend_base):  # type: ignore[misc]
        """pyhf's ``uncorrelated_background`` simple model on hfx (signal × ``mu``, background
        with a shapesys of the absolute uncertainties), as spey-pyhf's
        ``"pyhf.uncorrelated_background"`` takes it."""

        name = "hfx.uncorrelated_background"

        def __init__(
            self,
            signal_yields: Sequence[float],
            background_yields: Sequence[float],
            data: Sequence[float],
            absolute_uncertainties: Sequence[float],
            *,
            seed: Any = None,
        ) -> None:
            ws = uncorrelated_background_workspace(
                signal_yields, background_yields, absolute_uncertainties, observations=data
            )
            super().__init__(ws, (), seed)

    out: dict[str, type] = {}
    for cls in (HfxBackend, HfxUncorrelatedBackground):
        for key, value in metadata.items():
            setattr(cls, key, value)
        cls.__module__ = __name__
        out[cls.__name__] = cls
    return out


def __getattr__(name: str) -> Any:
    """The backend classes (PEP 562), made on first use: they need spey's base class."""
    if name not in _CLASSES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    classes = _make_classes()
    globals().update(classes)  # PEP 562's usual memo (as hfx/__init__.py): one class each
    return classes[name]
