"""pyhf's ``Workspace``: a validated workspace document that is also a ``dict``.

As in pyhf the object *is* the JSON document (``ws["channels"]``, ``json.dumps(ws)``),
``model()`` applies patches to the model spec ``{"channels", "parameters"}`` of the
chosen measurement, and ``combine``/``sorted`` are class methods.  Here they also work
when called on an instance (``ws.combine(other)``, ``ws.sorted()``).  Validation and
the workspace operations are hfx's own (:mod:`hfx.spec`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hfx.compat.pyhf.exceptions import InvalidModelSpecification
from hfx.compat.pyhf.pdf import Model, plain_json
from hfx.errors import SpecError
from hfx.spec import operations
from hfx.spec.jsonio import copy_json
from hfx.spec.validate import SCHEMA_VERSION, validate_workspace
from hfx.spec.workspace import Workspace as NativeWorkspace

__all__ = ["Workspace"]


class _class_or_instance:
    """A classmethod that, called on an instance with one workspace too few, uses the instance.

    ``Workspace.combine(a, b)`` and ``a.combine(b)`` both combine ``a`` and ``b``;
    ``Workspace.sorted(ws)`` and ``ws.sorted()`` both sort ``ws``.
    """

    def __init__(self, func: Callable[..., Any], nworkspaces: int):
        self.func = func
        self.nworkspaces = nworkspaces
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.__name__ = name

    def __get__(self, instance: Any, owner: type) -> Callable[..., Any]:
        func, n = self.func, self.nworkspaces

        def bound(*args: Any, **kwargs: Any) -> Any:
            given = sum(isinstance(a, Mapping) for a in args[:n])
            if instance is not None and given < n:
                args = (instance, *args)
            return func(owner, *args, **kwargs)

        bound.__doc__ = func.__doc__
        return bound


def _names(values: Any) -> list[str]:
    return [] if values is None else list(values)


def _combine(
    cls: type[Workspace],
    left: Mapping[str, Any],
    right: Mapping[str, Any],
    join: str = "none",
    merge_channels: bool = False,
) -> Workspace:
    """The combination of two workspaces (``join``: none, outer, left outer, right outer)."""
    if join not in cls.valid_joins:
        raise ValueError(
            "Workspaces must be joined using one of the valid join operations "
            f"({list(cls.valid_joins)}); not {join}"
        )
    spec = operations.combine_specs(
        dict(left), dict(right), join=join, merge_channels=merge_channels
    )
    return cls(spec)


def _sorted(cls: type[Workspace], workspace: Mapping[str, Any]) -> Workspace:
    """A new workspace with channels, samples, modifiers, observations and measurements sorted."""
    return cls(operations.sort_spec(dict(workspace)))


class Workspace(dict[str, Any]):
    """A HistFactory workspace (channels, observations, measurements, version)."""

    valid_joins = ("none", "outer", "left outer", "right outer")

    def __init__(self, spec: Mapping[str, Any], validate: bool = True, **config_kwargs: Any):
        spec = plain_json(spec)
        self.schema = config_kwargs.pop("schema", "workspace.json")
        self.version = config_kwargs.pop("version", spec.get("version"))
        if config_kwargs:
            raise SpecError(f"Unsupported options were passed in: {list(config_kwargs)}.")
        if validate:
            try:  # pyhf accepts negative yields (they occur in real workspaces)
                validate_workspace(spec, allow_negative=True)
            except SpecError as exc:
                raise InvalidModelSpecification.from_error(exc) from None
        super().__init__(spec)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Workspace) and dict(self) == dict(other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None  # a mutable dict, like pyhf's

    def __repr__(self) -> str:
        return (
            f"<hfx.compat.pyhf.workspace.Workspace object at {id(self):#x}: "
            f"{len(self.channels)} channels, {len(self.measurement_names)} measurements>"
        )

    @property
    def native(self) -> NativeWorkspace:
        """This workspace as an hfx :class:`~hfx.spec.workspace.Workspace` (a copy)."""
        return NativeWorkspace(dict(self), validate=False)

    # --- summaries (pyhf's channel summary) ---------------------------------------------------
    @property
    def channels(self) -> list[str]:
        return sorted({c["name"] for c in self["channels"]})

    @property
    def samples(self) -> list[str]:
        return sorted({s["name"] for c in self["channels"] for s in c["samples"]})

    @property
    def modifiers(self) -> list[tuple[str, str]]:
        return sorted(
            {
                (m["name"], m["type"])
                for c in self["channels"]
                for s in c["samples"]
                for m in s["modifiers"]
            }
        )

    @property
    def parameters(self) -> list[str]:
        """Names of the parameters the modifiers declare, sorted."""
        return sorted({name for name, _ in self.modifiers})

    @property
    def channel_nbins(self) -> dict[str, int]:
        nbins = {c["name"]: len(c["samples"][0]["data"]) for c in self["channels"]}
        return {name: nbins[name] for name in self.channels}

    @property
    def channel_slices(self) -> dict[str, slice]:
        out, start = {}, 0
        for name, n in self.channel_nbins.items():
            out[name] = slice(start, start + n)
            start += n
        return out

    @property
    def measurement_names(self) -> list[str]:
        return [m["name"] for m in self.get("measurements", [])]

    @property
    def observations(self) -> dict[str, list[float]]:
        return {o["name"]: o["data"] for o in self["observations"]}

    # --- measurements, models, data ---------------------------------------------------
    def get_measurement(
        self, measurement_name: str | None = None, measurement_index: int | None = None
    ) -> dict[str, Any]:
        """The measurement named ``measurement_name``, else the one at ``measurement_index``
        (default 0)."""
        measurements: list[dict[str, Any]] = self.get("measurements", [])
        if not measurements:
            raise SpecError("no measurements have been defined", pointer="/measurements")
        if measurement_name is not None:
            for measurement in measurements:
                if measurement["name"] == measurement_name:
                    return measurement
            raise SpecError(
                f"no measurement named {measurement_name!r}; "
                f"available: {', '.join(self.measurement_names)}",
                pointer="/measurements",
            )
        index = 0 if measurement_index is None else measurement_index
        try:
            return measurements[index]
        except IndexError:
            raise SpecError(
                f"measurement index {index} is out of bounds: "
                f"{len(measurements)} measurement(s) defined",
                pointer="/measurements",
            ) from None

    def model(
        self,
        measurement_name: str | None = None,
        measurement_index: int | None = None,
        patches: Sequence[Any] | None = None,
        **config_kwargs: Any,
    ) -> Model:
        """The model of one measurement, with JSON patches applied to its model spec.

        ``poi_name`` defaults to the measurement's POI (None: no POI); other keywords go
        to :class:`~hfx.compat.pyhf.pdf.Model` (``modifier_settings``, ``batch_size``, ...).
        """
        measurement = self.get_measurement(measurement_name, measurement_index)
        if "poi_name" not in config_kwargs:
            config_kwargs["poi_name"] = measurement["config"]["poi"]
            config_kwargs["_poi_from_measurement"] = True
        modelspec: dict[str, Any] = {
            "channels": self["channels"],
            "parameters": measurement["config"]["parameters"],
        }
        # the workspace is validated already; only a patched spec needs checking again
        config_kwargs.setdefault("validate", bool(patches))
        if patches:
            from hfx.spec.patches import apply_patch

            for patch in patches:
                ops = getattr(patch, "patch", patch)
                modelspec = apply_patch(modelspec, ops, source=getattr(patch, "name", None))
        return Model(modelspec, **config_kwargs)

    def data(self, model: Any, include_auxdata: bool = True) -> list[float]:
        """Observed counts in the model's channel order, then (by default) its auxiliary data."""
        observations = self.observations
        observed: list[float] = []
        for channel in model.config.channels:
            if channel not in observations:
                raise SpecError(f"no observation for channel {channel!r}", pointer="/observations")
            observed.extend(observations[channel])
        if include_auxdata:
            observed.extend(model.config.auxdata)
        return observed

    # --- operations (each returns a new workspace) ---------------------------------------
    def prune(
        self,
        modifiers: Sequence[str] | None = None,
        modifier_types: Sequence[str] | None = None,
        samples: Sequence[str] | None = None,
        channels: Sequence[str] | None = None,
        measurements: Sequence[str] | None = None,
    ) -> Workspace:
        """A new workspace without the named modifiers, modifier types, samples, channels or
        measurements."""
        spec = operations.prune_spec(
            dict(self),
            modifiers=_names(modifiers),
            modifier_types=_names(modifier_types),
            samples=_names(samples),
            channels=_names(channels),
            measurements=_names(measurements),
        )
        return type(self)(spec)

    def rename(
        self,
        modifiers: Mapping[str, str] | None = None,
        samples: Mapping[str, str] | None = None,
        channels: Mapping[str, str] | None = None,
        measurements: Mapping[str, str] | None = None,
    ) -> Workspace:
        """A new workspace with modifiers, samples, channels or measurements renamed."""
        spec = operations.rename_spec(
            dict(self),
            modifiers=modifiers or {},
            samples=samples or {},
            channels=channels or {},
            measurements=measurements or {},
        )
        return type(self)(spec)

    combine = _class_or_instance(_combine, 2)
    sorted = _class_or_instance(_sorted, 1)

    @classmethod
    def build(
        cls, model: Model, data: Sequence[float], name: str = "measurement", validate: bool = True
    ) -> Workspace:
        """A workspace holding ``model`` (its current suggested inits, bounds and fixed flags)
        and observed main ``data``."""
        config = model.config
        parameters = []
        for pname in config.par_order:
            ps = config.param_set(pname)
            parameters.append(
                {
                    "bounds": [list(b) for b in ps.suggested_bounds],
                    "inits": list(ps.suggested_init),
                    "fixed": ps.suggested_fixed_as_bool,
                    "name": pname,
                }
            )
        observed = [float(v) for v in data]
        spec = {
            "channels": copy_json(model.spec["channels"]),
            "measurements": [
                {"name": name, "config": {"poi": config.poi_name, "parameters": parameters}}
            ],
            "observations": [
                {"name": c, "data": observed[config.channel_slices[c]]} for c in config.channels
            ],
            "version": SCHEMA_VERSION,
        }
        return cls(spec, validate=validate)
