"""pyhf's ``Model`` and ``model.config`` on top of a compiled hfx model.

:class:`Model` takes a bare model spec (``{"channels": [...], "parameters": [...]}``),
compiles it once with hfx and answers pyhf's calls with pyhf's shapes and types:
``logpdf`` gives an array of shape (1,) for one parameter point (one value per point
for a batch), ``config.suggested_init()`` a list, ``config.suggested_bounds()`` a list of
(low, high) tuples, and so on.  The hfx model is ``model.native`` for code that wants
the native API (fits, gradients, other backends).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from hfx._names import did_you_mean
from hfx.compat.pyhf.backend import current_tensorlib
from hfx.compat.pyhf.exceptions import (
    InvalidModelSpecification,
    InvalidPdfData,
    InvalidPdfParameters,
)
from hfx.compat.pyhf.paramsets import constrained_by_normal, paramset, view
from hfx.errors import ModelError, SpecError
from hfx.likelihood.model import Model as NativeModel
from hfx.likelihood.model import ModelConfig as NativeConfig
from hfx.likelihood.model import check_data_shape, check_pars_shape
from hfx.simplemodels import model_workspace
from hfx.spec.jsonio import copy_json
from hfx.spec.semantic import MODIFIER_TYPES
from hfx.spec.validate import validate_model_spec

__all__ = ["Model"]

_DEFAULT_MODIFIER_SETTINGS = MappingProxyType(
    {
        "normsys": MappingProxyType({"interpcode": "code4"}),
        "histosys": MappingProxyType({"interpcode": "code4p"}),
    }
)


def _unclamped(settings: Mapping[str, Any]) -> dict[str, Any]:
    """``settings`` for the native model, as pyhf computes: sample yields are not clamped at
    zero (hfx's default clamps them, as ROOT does) unless the settings say otherwise."""
    if not isinstance(settings, Mapping):
        return settings  # not a mapping after all: the native model reports the error
    out = {k: dict(v) if isinstance(v, Mapping) else v for k, v in settings.items()}
    histosys = out.get("histosys")
    if isinstance(histosys, dict):
        histosys.setdefault("positive_definite", False)
    elif "histosys" not in out:
        out["histosys"] = {"interpcode": "code0", "positive_definite": False}
    return out


# Parameter configs that may name no modifier without being an error in hfx either.
_LUMI = "lumi"


class _ModelConfig:
    """``model.config``: parameters, channels and samples under pyhf's names."""

    def __init__(self, native: NativeConfig, modifier_settings: Mapping[str, Any]):
        self._native = native
        self.modifier_settings = copy_json(dict(modifier_settings))
        # The parameter sets handed out by param_set(): as in pyhf, they are the config's own,
        # so that `param_set("mu").suggested_fixed = [True]` changes suggested_fixed().
        self._param_sets: dict[str, paramset] = {}

    def __repr__(self) -> str:
        return f"<pyhf-compatible config of {self._native.npars} parameters, poi={self.poi_name!r}>"

    # --- sizes and names ------------------------------------------------------------
    @property
    def npars(self) -> int:
        return int(self._native.npars)

    @property
    def par_order(self) -> list[str]:
        return list(self._native.par_order)

    @property
    def par_names(self) -> list[str]:
        """One label per vector component: ``name`` for scalars, ``name[i]`` otherwise."""
        return list(self._native.par_names)

    @property
    def parameters(self) -> list[str]:
        return sorted(self._native.par_order)

    def par_slice(self, name: str) -> slice:
        return self._native.par_slice(name)

    def param_set(self, name: str) -> paramset:
        found = self._param_sets.get(name)
        if found is None:
            found = self._param_sets[name] = view(self._native.param_set(name))
        return found

    def _suggested(self, native: Any, attribute: str, convert: Any) -> list[Any]:
        """The native suggestions, with those of the parameter sets a user may have changed."""
        out = [convert(v) for v in native]
        for name, pset in self._param_sets.items():
            values = list(getattr(pset, attribute))
            part = self.par_slice(name)
            if len(values) != part.stop - part.start:
                raise ModelError(
                    f"param_set({name!r}).{attribute} has {len(values)} entries; the parameter "
                    f"has {part.stop - part.start}"
                )
            out[part] = [convert(v) for v in values]
        return out

    @property
    def par_map(self) -> dict[str, dict[str, Any]]:
        return {
            name: {"slice": self.par_slice(name), "paramset": self.param_set(name)}
            for name in self._native.par_order
        }

    @property
    def channels(self) -> list[str]:
        return list(self._native.channels)

    @property
    def samples(self) -> list[str]:
        return list(self._native.samples)

    @property
    def modifiers(self) -> list[tuple[str, str]]:
        return [(name, kind) for name, kind in self._native.modifiers]

    @property
    def channel_nbins(self) -> dict[str, int]:
        return {c: int(n) for c, n in self._native.channel_nbins.items()}

    @property
    def channel_slices(self) -> dict[str, slice]:
        return dict(self._native.channel_slices)

    @property
    def nmaindata(self) -> int:
        return int(self._native.nmaindata)

    @property
    def nauxdata(self) -> int:
        return int(self._native.nauxdata)

    # --- parameter of interest --------------------------------------------------------
    @property
    def poi_name(self) -> str | None:
        return self._native.poi_name

    @property
    def poi_index(self) -> int | None:
        return self._native.poi_index

    def set_poi(self, name: str | None) -> None:
        """Make ``name`` the parameter of interest (None: no POI)."""
        if name is not None:
            if name not in self._native.par_order:
                raise ModelError(
                    f"the parameter of interest {name!r} is not a parameter of the model; "
                    + did_you_mean(name, self._native.par_order)
                )
            sl = self.par_slice(name)
            if sl.stop - sl.start != 1:
                raise ModelError(f"the parameter of interest {name!r} must be a scalar")
        self._native.poi_name = name

    # --- suggestions and auxiliary data --------------------------------------------------
    def suggested_init(self) -> list[float]:
        return self._suggested(self._native.suggested_init(), "suggested_init", float)

    def suggested_bounds(self) -> list[tuple[float, float]]:
        def pair(bound: Any) -> tuple[float, float]:
            low, high = bound
            return (float(low), float(high))

        return self._suggested(self._native.suggested_bounds(), "suggested_bounds", pair)

    def suggested_fixed(self) -> list[bool]:
        return self._suggested(self._native.suggested_fixed(), "suggested_fixed", bool)

    @property
    def auxdata(self) -> list[float]:
        return [float(v) for v in self._native.auxdata]

    @property
    def auxdata_order(self) -> list[str]:
        """Names of the constrained parameter sets, in the order of their auxiliary data."""
        return [name for name in self._native.par_order if self._native.param_set(name).constraint]


class _MainModel:
    """``model.main_model``: the Poisson terms of the observed bins."""

    def __init__(self, model: Model):
        self._model = model

    def expected_data(self, pars: Any, return_by_sample: bool = False) -> Any:
        """Expected counts per bin, or per sample and bin ([nsamples, nbins], samples sorted)."""
        native = self._model.native
        if return_by_sample:
            return native.expected_by_sample(pars)
        return native.expected_actualdata(pars)

    def logpdf(self, maindata: Any, pars: Any) -> Any:
        return self._model.mainlogpdf(maindata, pars)


class _ConstraintModel:
    """``model.constraint_model``: the constraint terms of the auxiliary data."""

    def __init__(self, model: Model):
        self._model = model

    def logpdf(self, auxdata: Any, pars: Any) -> Any:
        return self._model.constraint_logpdf(auxdata, pars)


def _known_parameter_configs(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The spec's parameter configs that name a modifier of the model.

    pyhf ignores a config for a parameter the model does not have; hfx proper rejects
    it, so the facade drops such configs before compiling.
    """
    names = {
        modifier["name"]
        for channel in spec["channels"]
        for sample in channel["samples"]
        for modifier in sample["modifiers"]
    }
    return [
        cfg for cfg in spec.get("parameters", []) if cfg["name"] in names or cfg["name"] == _LUMI
    ]


def plain_json(obj: Any) -> Any:
    """A copy of JSON-like data with arrays (pyhf accepts tensors in a spec) made lists."""
    if isinstance(obj, Mapping):
        return {key: plain_json(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain_json(value) for value in obj]
    tolist = getattr(obj, "tolist", None)
    return tolist() if tolist is not None else obj


def _check_modifier_types(spec: Mapping[str, Any]) -> None:
    """The one check a model needs even unvalidated: every modifier type is known."""
    for c, channel in enumerate(spec.get("channels", ())):
        for s, sample in enumerate(channel.get("samples", ())):
            for m, modifier in enumerate(sample.get("modifiers", ())):
                if modifier.get("type") not in MODIFIER_TYPES:
                    raise SpecError(
                        f"unknown modifier type {modifier.get('type')!r} "
                        f"(valid: {', '.join(MODIFIER_TYPES)})",
                        pointer=f"/channels/{c}/samples/{s}/modifiers/{m}/type",
                    )


class Model:
    """A HistFactory model from a bare spec, with pyhf's constructor and methods.

    ``poi_name`` defaults to ``"mu"`` as in pyhf (``None`` or ``""`` for no POI);
    ``modifier_settings`` picks interpolation codes.  ``backend`` (an hfx extension)
    selects the array backend, NumPy by default.  ``modifier_set``, ``clip_sample_data``
    and ``clip_bin_data`` are not supported.
    """

    def __init__(
        self,
        spec: Mapping[str, Any],
        modifier_set: Any = None,
        batch_size: int | None = None,
        validate: bool = True,
        clip_sample_data: float | None = None,
        clip_bin_data: float | None = None,
        **config_kwargs: Any,
    ):
        if modifier_set is not None:
            raise ModelError("hfx.compat.pyhf.Model: custom modifier sets are not supported")
        if clip_sample_data is not None or clip_bin_data is not None:
            raise ModelError(
                "hfx.compat.pyhf.Model: clip_sample_data/clip_bin_data are not supported"
            )
        self.batch_size = batch_size
        self.schema = config_kwargs.pop("schema", "model.json")
        self.version = config_kwargs.pop("version", None)
        poi_name = config_kwargs.pop("poi_name", "mu")
        # set by Workspace.model when the POI is the measurement's: a published
        # background-only workspace names a POI its signal patch adds, which hfx warns about
        poi_from_measurement = config_kwargs.pop("_poi_from_measurement", False)
        modifier_settings = config_kwargs.pop("modifier_settings", None)
        backend = config_kwargs.pop("backend", None) or current_tensorlib().name
        if config_kwargs:
            raise ModelError(f"Unsupported options were passed in: {list(config_kwargs)}.")
        self.spec = plain_json(spec)
        try:
            if validate:
                validate_model_spec(self.spec, allow_negative=True)
            else:
                _check_modifier_types(self.spec)
        except SpecError as exc:
            raise InvalidModelSpecification.from_error(exc) from None
        poi_name = poi_name or None
        if poi_name is not None and not poi_from_measurement:
            declared = {
                modifier["name"]
                for channel in self.spec["channels"]
                for sample in channel["samples"]
                for modifier in sample["modifiers"]
            }
            if poi_name not in declared:
                raise ModelError(
                    f"the parameter of interest {poi_name!r} is not a parameter of the model; "
                    "pass poi_name=None for a model without one"
                )
        bare = {
            "channels": self.spec["channels"],
            "parameters": _known_parameter_configs(self.spec),
        }
        settings = _DEFAULT_MODIFIER_SETTINGS if modifier_settings is None else modifier_settings
        if isinstance(settings, Mapping):
            settings = {k: dict(v) if isinstance(v, Mapping) else v for k, v in settings.items()}
        try:
            workspace = model_workspace(bare, poi_name=poi_name, validate=False)
            self.native: NativeModel = workspace.model(
                modifier_settings=_unclamped(settings), backend=backend, poi_name=poi_name
            )
        except SpecError as exc:
            raise InvalidModelSpecification.from_error(exc) from None
        self._config = _ModelConfig(self.native.config, settings)
        self.main_model = _MainModel(self)
        self.constraint_model = _ConstraintModel(self)

    @property
    def config(self) -> _ModelConfig:
        return self._config

    def __repr__(self) -> str:
        return f"<hfx.compat.pyhf.Model wrapping {self.native!r}>"

    # --- evaluation ---------------------------------------------------------------------
    @staticmethod
    def _per_point(value: Any) -> Any:
        """pyhf returns one value per parameter point: shape (1,) for a single point."""
        return value.reshape((1,)) if value.ndim == 0 else value

    def logpdf(self, pars: Any, data: Any) -> Any:
        """log L(pars | data): shape (1,) for one point, (batch,) for pars [batch, npars]."""
        native = self.native
        pars, data = native.backend.asarray(pars), native.backend.asarray(data)
        try:
            check_pars_shape(pars, native.config.npars)
        except ModelError as exc:
            raise InvalidPdfParameters(exc.message) from None
        try:
            ndata = native.config.nmaindata + native.config.nauxdata
            check_data_shape(data, ndata, "main and auxiliary data")
        except ModelError as exc:
            raise InvalidPdfData(exc.message) from None
        return self._per_point(native.logpdf(pars, data))

    def pdf(self, pars: Any, data: Any) -> Any:
        """L(pars | data), the exponential of :meth:`logpdf`."""
        return self.native.backend.xp.exp(self.logpdf(pars, data))

    def expected_data(self, pars: Any, include_auxdata: bool = True) -> Any:
        return self.native.expected_data(pars, include_auxdata=include_auxdata)

    def make_pdf(self, pars: Any) -> Any:
        """pyhf's ``make_pdf``: the distribution of the data (main, then auxiliary) at
        ``pars``, with ``log_prob``, ``expected_data`` and ``sample``."""
        import numpy as np

        from hfx.compat.pyhf import probability

        config = self.config
        pars = np.asarray(pars, dtype=np.float64)
        main = probability.Independent(probability.Poisson(self.expected_actualdata(pars)))
        aux = np.asarray(self.expected_auxdata(pars), dtype=np.float64)
        normal_at: list[int] = []
        poisson_at: list[int] = []
        sigmas: list[float] = []
        at = 0
        for name in config.auxdata_order:
            pset = config.param_set(name)
            count = len(pset.suggested_init)
            where = list(range(at, at + count))
            if isinstance(pset, constrained_by_normal):
                normal_at += where
                sigmas += list(pset.sigmas)
            else:
                poisson_at += where
            at += count
        nmain = config.nmaindata
        pdfs = [
            main,
            probability.Independent(probability.Normal(aux[normal_at], sigmas)),
            probability.Independent(probability.Poisson(aux[poisson_at])),
        ]
        blocks = [
            np.arange(nmain),
            nmain + np.asarray(normal_at, dtype=np.int64),
            nmain + np.asarray(poisson_at, dtype=np.int64),
        ]
        return probability.Simultaneous(pdfs, blocks=blocks)

    def expected_actualdata(self, pars: Any) -> Any:
        return self.native.expected_actualdata(pars)

    def expected_auxdata(self, pars: Any) -> Any:
        return self.native.expected_auxdata(pars)

    def mainlogpdf(self, maindata: Any, pars: Any) -> Any:
        """Sum of the Poisson terms of the observed bins (0-d for one point, as in pyhf)."""
        native = self.native
        B = native.backend
        observed = B.asarray(maindata)
        rates = native.expected_actualdata(pars)
        terms = B.xlogy(observed, rates) - rates - B.lgamma(observed + 1.0)
        return B.xp.sum(terms, -1)

    def constraint_logpdf(self, auxdata: Any, pars: Any) -> Any:
        """Sum of the constraint terms for auxiliary data ``auxdata``."""
        native = self.native
        B = native.backend
        aux = B.asarray(auxdata)
        pars = B.asarray(pars)
        # with zero observed counts the Poisson main terms are exactly −Σν
        zeros = B.full((*aux.shape[:-1], native.config.nmaindata), 0.0)
        total = native.logpdf(pars, B.concat([zeros, aux]))
        rates = native.expected_actualdata(pars)
        return total + B.xp.sum(rates, -1)
