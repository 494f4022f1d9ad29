"""JSON Patch application and HEPData PatchSets.

A :class:`PatchSet` is the HEPData format for signal grids: one background-only
workspace (identified by its digests) plus many named JSON patches, each labelled by a
tuple of values (e.g. two masses).  ``PatchSet[...]`` looks a patch up by name or by
values; ``apply`` checks the digests first, so a patch never lands on the wrong workspace.
"""

from __future__ import annotations

import copy
import difflib
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hfx.errors import PatchError, SpecError
from hfx.spec import operations
from hfx.spec.jsonio import PathLike, load_json, source_name
from hfx.spec.jsonpatch_apply import apply_patch
from hfx.spec.validate import validate_patchset
from hfx.spec.workspace import Workspace

__all__ = ["Patch", "PatchSet", "apply_patch"]

_REL_TOL = 1e-12


def _values_match(a: Sequence[Any], b: Sequence[Any]) -> bool:
    """Equal lengths and element-wise equal (numbers to a relative tolerance of 1e-12)."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        x_num = isinstance(x, (int, float)) and not isinstance(x, bool)
        y_num = isinstance(y, (int, float)) and not isinstance(y, bool)
        if x_num and y_num:
            if not math.isclose(x, y, rel_tol=_REL_TOL, abs_tol=0.0):
                return False
        elif x_num or y_num or x != y:
            return False
    return True


@dataclass(frozen=True)
class Patch:
    """One named patch of a :class:`PatchSet`: its label values and its JSON Patch."""

    name: str
    values: tuple[Any, ...]
    metadata: dict[str, Any] = field(default_factory=dict)
    operations: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Patch:
        """Build from a patchset entry ``{"metadata": {"name", "values"}, "patch": [...]}``."""
        metadata = copy.deepcopy(dict(doc["metadata"]))
        return cls(
            name=metadata["name"],
            values=tuple(metadata["values"]),
            metadata=metadata,
            operations=copy.deepcopy(list(doc["patch"])),
        )

    @property
    def patch(self) -> list[dict[str, Any]]:
        """The JSON Patch operations (a copy)."""
        return copy.deepcopy(self.operations)

    def to_dict(self) -> dict[str, Any]:
        return {"metadata": copy.deepcopy(self.metadata), "patch": self.patch}

    def apply(self, workspace: Workspace | Mapping[str, Any]) -> Workspace:
        """A new workspace: ``workspace`` (a Workspace or a spec) with this patch applied."""
        if isinstance(workspace, Workspace):
            return workspace.apply_patches([self])
        return Workspace._adopt(apply_patch(workspace, self.operations, source=self.name))

    def __hash__(self) -> int:
        return hash((self.name, self.values))

    def __repr__(self) -> str:
        return f"<Patch {self.name!r} values={self.values!r} ({len(self.operations)} ops)>"


class PatchSet:
    """A HEPData patchset: metadata (labels, digests, references) and named patches."""

    def __init__(self, spec: Mapping[str, Any], *, source: str | None = None):
        if not isinstance(spec, Mapping):
            raise PatchError("a patchset must be a JSON object", source=source, pointer="")
        try:
            validate_patchset(spec, source=source)
        except PatchError:
            raise
        except SpecError as exc:  # every PatchSet problem is a PatchError
            raise PatchError(exc.message, source=exc.source, pointer=exc.pointer) from None
        self.source = source
        self._spec = copy.deepcopy(dict(spec))
        labels = self._spec["metadata"]["labels"]
        self._patches = tuple(Patch.from_dict(entry) for entry in self._spec["patches"])
        self._by_name: dict[str, Patch] = {}
        self._by_values: dict[tuple[Any, ...], Patch] = {}
        # validate_patchset checks these too; repeated here because lookups rely on them
        for index, patch in enumerate(self._patches):
            pointer = f"/patches/{index}/metadata"
            if len(patch.values) != len(labels):
                problem = (
                    f"patch {patch.name!r} has {len(patch.values)} values but the patchset "
                    f"has {len(labels)} labels",
                    f"{pointer}/values",
                )
            elif patch.name in self._by_name:
                problem = (f"two patches are named {patch.name!r}", f"{pointer}/name")
            elif patch.values in self._by_values:
                other = self._by_values[patch.values].name
                problem = (
                    f"patches {other!r} and {patch.name!r} have the same values",
                    f"{pointer}/values",
                )
            else:
                self._by_name[patch.name] = patch
                self._by_values[patch.values] = patch
                continue
            raise PatchError(problem[0], source=source, pointer=problem[1])

    @classmethod
    def load(cls, path: PathLike) -> PatchSet:
        """Read and check a patchset JSON file (``-`` reads stdin)."""
        return cls(load_json(path), source=source_name(path))

    # --- metadata --------------------------------------------------------------------
    @property
    def metadata(self) -> dict[str, Any]:
        return copy.deepcopy(self._spec["metadata"])

    @property
    def name(self) -> str | None:
        """The optional ``metadata.name`` (not required by the schema)."""
        name: str | None = self._spec["metadata"].get("name")
        return name

    @property
    def description(self) -> str | None:
        description: str | None = self._spec["metadata"].get("description")
        return description

    @property
    def digests(self) -> dict[str, str]:
        """Digests of the workspace the patches apply to, by hash algorithm."""
        return dict(self._spec["metadata"].get("digests") or {})

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self._spec["metadata"]["labels"])

    @property
    def references(self) -> dict[str, str]:
        return dict(self._spec["metadata"].get("references") or {})

    @property
    def version(self) -> str | None:
        return self._spec.get("version")

    @property
    def patches(self) -> tuple[Patch, ...]:
        return self._patches

    def to_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self._spec)

    # --- lookup ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._patches)

    def __iter__(self) -> Iterator[Patch]:
        return iter(self._patches)

    def __repr__(self) -> str:
        return f"<PatchSet {len(self)} patches, labels={list(self.labels)}>"

    def __getitem__(self, key: str | Sequence[Any]) -> Patch:
        """The patch named ``key`` (a str), or whose values match ``key`` (a tuple/list)."""
        if isinstance(key, str):
            patch = self._by_name.get(key)
            if patch is not None:
                return patch
            close = difflib.get_close_matches(key, list(self._by_name), n=5)
            hint = f"; close names: {', '.join(map(repr, close))}" if close else ""
            raise PatchError(f"No patch associated with the name {key!r}{hint}", source=self.source)
        if isinstance(key, (tuple, list)):
            try:
                exact = self._by_values.get(tuple(key))
            except TypeError:  # unhashable element: no patch can match it
                exact = None
            if exact is not None:
                return exact
            for patch in self._patches:
                if _values_match(patch.values, key):
                    return patch
            raise PatchError(
                f"no patch with values {tuple(key)!r} for labels {list(self.labels)}"
                + self._nearest_hint(key),
                source=self.source,
            )
        raise PatchError(
            f"look patches up by name (str) or by values (tuple), not {type(key).__name__}",
            source=self.source,
        )

    def _nearest_hint(self, key: Sequence[Any]) -> str:
        def distance(values: Sequence[Any]) -> float:
            total = 0.0
            for x, y in zip(values, key, strict=True):
                if isinstance(x, (int, float)) and isinstance(y, (int, float)):
                    total += abs(x - y) / max(abs(x), abs(y), 1.0)
                else:
                    total += 0.0 if x == y else 1.0
            return total

        same_length = [p for p in self._patches if len(p.values) == len(key)]
        nearest = sorted(same_length, key=lambda p: distance(p.values))[:5]
        if not nearest:
            return ""
        return "; closest: " + ", ".join(f"{p.name} {p.values!r}" for p in nearest)

    # --- verification and application --------------------------------------------------
    def verify(self, workspace: Workspace | Mapping[str, Any]) -> None:
        """Raise PatchError unless ``workspace`` has every digest this patchset records."""
        for algorithm, expected in self.digests.items():
            try:
                if isinstance(workspace, Mapping):
                    actual = operations.digest(workspace, algorithm=algorithm)
                else:
                    actual = workspace.digest(algorithm)
            except PatchError:
                raise
            except SpecError as exc:
                raise PatchError(
                    f"cannot verify digest {algorithm!r}: {exc}", source=self.source
                ) from None
            if actual != expected:
                raise PatchError(
                    f"workspace digest mismatch for {algorithm}: expected {expected}, got {actual}"
                    " (is this the workspace the patchset was made for?)",
                    source=self.source,
                    pointer="/metadata/digests",
                )

    def apply(
        self, workspace: Workspace | Mapping[str, Any], key: str | Sequence[Any]
    ) -> Workspace:
        """Verify ``workspace`` against the digests, then apply the patch ``key`` to it."""
        patch = self[key]
        self.verify(workspace)
        return patch.apply(workspace)
