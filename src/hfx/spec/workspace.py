"""The immutable :class:`Workspace`: a validated HistFactory JSON 1.0.0 document."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from hfx.errors import ModelError, PatchError, SpecError
from hfx.spec import operations
from hfx.spec.jsonio import PathLike, copy_json, load_json, source_name
from hfx.spec.validate import validate_workspace

if TYPE_CHECKING:
    from hfx.likelihood.model import Model

__all__ = ["Workspace"]

_UNSET: Any = object()


class Workspace:
    """A HistFactory workspace: channels, samples, modifiers, observations, measurements.

    The spec is validated (schema and semantics) on construction and never changes;
    every operation returns a new workspace.
    """

    def __init__(
        self,
        spec: Mapping[str, Any],
        *,
        source: str | None = None,
        validate: bool = True,
        allow_negative: bool = False,
    ):
        self._take(spec, source, validate, allow_negative, owned=False)

    @classmethod
    def _adopt(
        cls,
        spec: dict[str, Any],
        *,
        source: str | None = None,
        validate: bool = True,
        allow_negative: bool = False,
        based_on: Workspace | None = None,
    ) -> Workspace:
        """A workspace that takes ``spec`` over without copying it (the caller made it and
        keeps no reference, e.g. freshly parsed or patched).  ``based_on``: the workspace
        whose spec ``spec`` shares objects with (copy-on-write); when that one was
        validated as strictly, what is shared is not checked again."""
        ws = cls.__new__(cls)
        base = None
        # what based_on shares counts as checked if it passed a check as strict as this one
        if (
            based_on is not None
            and getattr(based_on, "_checked", False)  # (False in one pickled by older hfx)
            and (allow_negative or not based_on._allow_negative)
        ):
            base = based_on._spec
        ws._take(spec, source, validate, allow_negative, owned=True, based_on=base)
        return ws

    def _take(
        self,
        spec: Any,
        source: str | None,
        validate: bool,
        allow_negative: bool,
        owned: bool,
        based_on: dict[str, Any] | None = None,
    ) -> None:
        """Check and store ``spec`` (a copy unless ``owned``)."""
        if type(spec) is not dict and not isinstance(spec, Mapping):
            raise SpecError("a workspace must be a JSON object", source=source, pointer="")
        if validate:
            validate_workspace(
                spec, source=source, allow_negative=allow_negative, based_on=based_on
            )
        self._spec = spec if owned and isinstance(spec, dict) else copy_json(dict(spec))
        self._checked = validate  # the spec passed validate_workspace (with allow_negative)
        self._allow_negative = allow_negative
        self.source = source

    @classmethod
    def load(cls, path: PathLike, **kwargs: Any) -> Workspace:
        """Read and validate a workspace JSON file (``-`` reads stdin)."""
        return cls._adopt(load_json(path), source=source_name(path), **kwargs)

    # --- read access -----------------------------------------------------------------
    @property
    def spec(self) -> dict[str, Any]:
        """A deep copy of the workspace document."""
        return copy_json(self._spec)

    def to_dict(self) -> dict[str, Any]:
        """The workspace document as plain JSON-compatible data (a copy)."""
        return self.spec

    def __getitem__(self, key: str) -> Any:
        return copy_json(self._spec[key])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Workspace) and self._spec == other._spec

    def __hash__(self) -> int:
        return hash(self.digest())

    def __repr__(self) -> str:
        return (
            f"<Workspace {len(self.channels)} channels, {len(self.samples)} samples, "
            f"{len(self.modifiers)} modifiers, {len(self.measurement_names)} measurements>"
        )

    @property
    def version(self) -> str | None:
        return self._spec.get("version")

    @cached_property
    def channels(self) -> tuple[str, ...]:
        """Channel names, sorted."""
        return tuple(sorted(c["name"] for c in self._spec["channels"]))

    @cached_property
    def channel_nbins(self) -> dict[str, int]:
        """Number of bins of each channel."""
        return {c["name"]: len(c["samples"][0]["data"]) for c in self._spec["channels"]}

    @cached_property
    def samples(self) -> tuple[str, ...]:
        """Sample names over all channels, sorted and unique."""
        return tuple(sorted({s["name"] for c in self._spec["channels"] for s in c["samples"]}))

    @cached_property
    def modifiers(self) -> tuple[tuple[str, str], ...]:
        """Unique (modifier name, modifier type) pairs, sorted."""
        return tuple(
            sorted(
                {
                    (m["name"], m["type"])
                    for c in self._spec["channels"]
                    for s in c["samples"]
                    for m in s["modifiers"]
                }
            )
        )

    @cached_property
    def parameters(self) -> tuple[str, ...]:
        """Names of the parameters the modifiers declare, sorted."""
        return tuple(sorted({name for name, _ in self.modifiers}))

    @cached_property
    def measurement_names(self) -> tuple[str, ...]:
        return tuple(m["name"] for m in self._spec["measurements"])

    @cached_property
    def observations(self) -> dict[str, list[float]]:
        """Observed counts of each channel."""
        return {o["name"]: list(o["data"]) for o in self._spec["observations"]}

    def get_measurement(self, name: str | None = None) -> dict[str, Any]:
        """The named measurement, or the first one when ``name`` is None."""
        return copy_json(self._measurement(name))

    def _measurement(self, name: str | None) -> dict[str, Any]:
        """:meth:`get_measurement` without the copy: the spec's own object, never to be
        changed (model compilation only reads it)."""
        measurements: list[dict[str, Any]] = self._spec["measurements"]
        if not measurements:
            raise SpecError(
                "workspace has no measurement", source=self.source, pointer="/measurements"
            )
        if name is None:
            return measurements[0]
        for meas in measurements:
            if meas["name"] == name:
                return meas
        raise SpecError(
            f"no measurement named {name!r}; available: {', '.join(self.measurement_names)}",
            source=self.source,
            pointer="/measurements",
        )

    # --- models and data -------------------------------------------------------------
    def model(
        self,
        measurement_name: str | None = None,
        patches: Sequence[Any] = (),
        modifier_settings: Mapping[str, Mapping[str, str]] | None = None,
        backend: Any = "numpy",
        *,
        poi_name: str | None = _UNSET,
    ) -> Model:
        """Compile this workspace (plus optional JSON patches, as :meth:`apply_patches`
        takes them) into a :class:`Model`.

        ``poi_name`` defaults to the measurement's POI; pass ``None`` for a model without one.
        """
        from hfx.likelihood.build import compile_model

        workspace = self.apply_patches(patches) if patches else self
        measurement = workspace._measurement(measurement_name)
        _check_normsys_logs(workspace, modifier_settings)
        return compile_model(
            workspace,
            measurement,
            modifier_settings=modifier_settings,
            backend=backend,
            poi_name=measurement["config"].get("poi") if poi_name is _UNSET else poi_name,
        )

    def data(self, model: Model, include_auxdata: bool = True) -> list[float]:
        """Observed counts in the model's channel order, followed by its auxiliary data."""
        observed: list[float] = []
        for channel in model.config.channels:
            if channel not in self.observations:
                raise SpecError(
                    f"no observation for channel {channel!r}",
                    source=self.source,
                    pointer="/observations",
                )
            observed.extend(self.observations[channel])
        if include_auxdata:
            observed.extend(model.config.auxdata)
        return observed

    def apply_patches(self, patches: Iterable[Any]) -> Workspace:
        """Apply JSON patches in order: lists of operations, objects with ``.patch`` (a
        :class:`~hfx.Patch`), or paths of JSON Patch files (errors then name the file)."""
        if isinstance(patches, (str, os.PathLike)):
            patches = [patches]  # one file's path, not a list of one-letter paths
        # (each file read when its turn comes: a failing patch leaves later files unread)
        return self._patched(map(_named_operations, patches), self.source)

    def _patched(
        self, patches: Iterable[tuple[str | None, Any, bool]], source: str | None
    ) -> Workspace:
        """This workspace with ``(name, operations, owned)`` patches applied in order, named
        ``source``.  Copy-on-write: the spec never changes, so the result shares what the
        patches leave alone, and only what they change is checked again.  ``owned``: the
        operations are the caller's to give away (parsed from a file), not copied."""
        from hfx.spec.jsonpatch_apply import apply_patch_shared

        spec = self._spec
        for name, ops, owned in patches:
            spec = apply_patch_shared(spec, ops, source=name, owned_ops=owned)
        if spec is self._spec:
            return self
        return Workspace._adopt(spec, source=source, based_on=self)

    # --- operations ------------------------------------------------------------------
    def combine(
        self, other: Workspace, join: str = "none", merge_channels: bool = False
    ) -> Workspace:
        """Combine with another workspace; ``join`` is none, outer, left outer or right outer."""
        return Workspace(
            operations.combine_specs(
                self._spec, other._spec, join=join, merge_channels=merge_channels
            )
        )

    def prune(
        self,
        channels: Iterable[str] = (),
        samples: Iterable[str] = (),
        modifiers: Iterable[str] = (),
        modifier_types: Iterable[str] = (),
        measurements: Iterable[str] = (),
    ) -> Workspace:
        """A new workspace without the named channels, samples, modifiers or measurements."""
        return Workspace(
            operations.prune_spec(
                self._spec,
                channels=channels,
                samples=samples,
                modifiers=modifiers,
                modifier_types=modifier_types,
                measurements=measurements,
            )
        )

    def rename(
        self,
        channels: Mapping[str, str] | None = None,
        samples: Mapping[str, str] | None = None,
        modifiers: Mapping[str, str] | None = None,
        measurements: Mapping[str, str] | None = None,
    ) -> Workspace:
        """A new workspace with channels, samples, modifiers or measurements renamed."""
        return Workspace(
            operations.rename_spec(
                self._spec,
                channels=channels,
                samples=samples,
                modifiers=modifiers,
                measurements=measurements,
            )
        )

    def sorted(self) -> Workspace:
        """A new workspace with every list sorted by name (a canonical form)."""
        return Workspace(operations.sort_spec(self._spec), source=self.source, validate=False)

    def digest(self, algorithm: str = "sha256") -> str:
        """Hex digest of the canonical JSON form of this workspace."""
        return operations.digest(self._spec, algorithm=algorithm)


def _named_operations(patch: Any) -> tuple[str | None, Any, bool]:
    """(name for errors, operations, whether they are owned) of one patch as
    :meth:`Workspace.apply_patches` takes it."""
    if isinstance(patch, (str, os.PathLike)):
        return (*load_patch_file(patch), True)
    return getattr(patch, "name", None), getattr(patch, "patch", patch), False


def load_patch_file(path: PathLike) -> tuple[str, Any]:
    """The name of a JSON Patch file (``-``: stdin) and its operations: the file holds a
    list of operations, or ``{"patch": [...]}`` as ``hfx patchset extract --with-metadata``
    writes one."""
    source = source_name(path)
    document = load_json(path)
    if type(document) is dict and "patch" in document:
        document = document["patch"]
    if type(document) is not list:
        raise PatchError(
            "a patch file must hold a JSON Patch (a list of operations)", source=source, pointer=""
        )
    return source, document


def _check_normsys_logs(workspace: Workspace, modifier_settings: Any) -> None:
    """With an exponential normsys interpolation (code1, code4: the defaults) the factors hi
    and lo enter through their logarithms, so both must be > 0; else the model would give
    NaN at every parameter point (and NumPy warnings while it is built)."""
    code = "code4"  # the default; settings that do not name normsys give code1
    if modifier_settings is not None:
        entry = (
            modifier_settings.get("normsys", {}) if isinstance(modifier_settings, Mapping) else {}
        )
        raw = entry.get("interpcode", "code1") if isinstance(entry, Mapping) else entry
        code = "code" + str(raw).strip().lower().removeprefix("code")
    if code not in ("code1", "code4"):
        return  # code0, code2 (linear, quadratic) take 0 factors; unknown codes fail later
    channels = workspace._spec["channels"]
    if all(
        mod["data"]["hi"] > 0 and mod["data"]["lo"] > 0
        for channel in channels
        for sample in channel["samples"]
        for mod in sample["modifiers"]
        if mod["type"] == "normsys"
    ):
        return
    for ci, channel in enumerate(channels):
        for si, sample in enumerate(channel["samples"]):
            for mi, mod in enumerate(sample["modifiers"]):
                if mod["type"] != "normsys":
                    continue
                hi, lo = mod["data"]["hi"], mod["data"]["lo"]
                if hi > 0 and lo > 0:
                    continue
                raise ModelError(
                    f"normsys modifier {mod['name']!r} of sample {sample['name']!r} in channel "
                    f"{channel['name']!r} has hi = {hi!r} and lo = {lo!r}, but the {code} "
                    "interpolation takes their logarithm: both must be > 0 (or choose code0 "
                    "or code2 with modifier_settings)",
                    source=workspace.source,
                    pointer=f"/channels/{ci}/samples/{si}/modifiers/{mi}/data",
                )
