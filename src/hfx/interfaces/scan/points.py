"""The signal points of a scan, from a PatchSet, a HEPData pallet folder or patch files.

A :class:`ScanPoint` is what a worker needs to compute one point: its name, its label
values and its JSON Patch.  :func:`collect_points` gathers them from any mix of sources and
refuses what would make a scan ambiguous (two points of one name, no points at all).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hfx.errors import PatchError
from hfx.spec.jsonio import PathLike, load_json, source_name
from hfx.spec.patches import Patch, PatchSet

__all__ = ["ScanPoint", "ScanPoints", "collect_points", "find_pallet_workspace"]


@dataclass(frozen=True)
class ScanPoint:
    """One signal hypothesis: a name, its label values and the JSON Patch that adds it."""

    name: str
    values: tuple[Any, ...]
    operations: tuple[Mapping[str, Any], ...]
    source: str = "<patch>"

    def fingerprint(self) -> str:
        """SHA-256 of the patch's operations (canonical JSON)."""
        text = json.dumps(list(self.operations), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ScanPoints:
    """The points of a scan, their label names and the patchsets they came from (whose
    digests the background must match)."""

    points: tuple[ScanPoint, ...]
    labels: tuple[str, ...]
    patchsets: tuple[PatchSet, ...] = ()


def _from_patchset(ps: PatchSet) -> list[ScanPoint]:
    source = ps.source or "<patchset>"
    return [ScanPoint(p.name, tuple(p.values), tuple(p.operations), source) for p in ps.patches]


def _is_patchset(document: Any) -> bool:
    return isinstance(document, dict) and "patches" in document and "metadata" in document


def _from_patch_file(path: PathLike, document: Any) -> ScanPoint:
    """A JSON Patch file: a bare list of operations (named after the file), or
    ``{"metadata": {"name", "values"}, "patch": [...]}`` as ``patchset extract
    --with-metadata`` writes it."""
    source = source_name(path)
    if isinstance(document, dict) and isinstance(document.get("patch"), list):
        metadata = document.get("metadata") or {}
        name = metadata.get("name") if isinstance(metadata, dict) else None
        values = metadata.get("values", []) if isinstance(metadata, dict) else []
        if not isinstance(values, list):
            raise PatchError("'values' must be a list", source=source, pointer="/metadata/values")
        return ScanPoint(
            name if isinstance(name, str) else Path(str(path)).stem,
            tuple(values),
            tuple(document["patch"]),
            source,
        )
    if isinstance(document, list):
        return ScanPoint(Path(str(path)).stem, (), tuple(document), source)
    raise PatchError(
        "not a patchset, nor a JSON Patch (a list of operations)", source=source, pointer=""
    )


def _pallet_patchsets(folder: Path) -> list[Path]:
    """The patchset files of a HEPData pallet folder (JSON files holding "patches")."""
    found = []
    for path in sorted(folder.glob("*.json")):
        if "patchset" in path.name.lower():
            found.append(path)
    if not found:
        raise PatchError(
            "no patchset in this folder (a HEPData pallet holds a '*patchset*.json' file)",
            source=str(folder),
        )
    return found


def find_pallet_workspace(folder: PathLike) -> Path:
    """The background-only workspace of a HEPData pallet folder: ``BkgOnly.json``, or its
    one JSON file that is not a patchset."""
    root = Path(folder)
    named = root / "BkgOnly.json"
    if named.is_file():
        return named
    candidates = [p for p in sorted(root.glob("*.json")) if "patchset" not in p.name.lower()]
    if len(candidates) != 1:
        found = ", ".join(p.name for p in candidates) or "none"
        raise PatchError(
            f"cannot tell the background-only workspace of this pallet (JSON files that are "
            f"not patchsets: {found}); name it on the command line",
            source=str(root),
        )
    return candidates[0]


def collect_points(sources: Iterable[PatchSet | Patch | PathLike]) -> ScanPoints:
    """The points of ``sources``: PatchSets, single patches, or files and folders (a
    patchset file, a pallet folder, JSON Patch files), in the order given."""
    points: list[ScanPoint] = []
    patchsets: list[PatchSet] = []
    labels: tuple[str, ...] | None = None
    label_source = ""

    def take_patchset(ps: PatchSet) -> None:
        nonlocal labels, label_source
        if labels is None:
            labels, label_source = ps.labels, ps.source or "<patchset>"
        elif ps.labels != labels:
            raise PatchError(
                f"labels {list(ps.labels)} differ from {list(labels)} of {label_source}: "
                "one scan takes patchsets of one parameter space",
                source=ps.source,
                pointer="/metadata/labels",
            )
        patchsets.append(ps)
        points.extend(_from_patchset(ps))

    for item in sources:
        if isinstance(item, PatchSet):
            take_patchset(item)
        elif isinstance(item, Patch):
            points.append(ScanPoint(item.name, tuple(item.values), tuple(item.operations)))
        elif Path(str(item)).is_dir():
            for path in _pallet_patchsets(Path(str(item))):
                take_patchset(PatchSet.load(path))
        else:
            document = load_json(item)
            if _is_patchset(document):
                take_patchset(PatchSet(document, source=source_name(item)))
            else:
                points.append(_from_patch_file(item, document))

    if not points:
        raise PatchError("nothing to scan: no signal points in the inputs")
    _check_unique(points)
    resolved = labels if labels is not None else _default_labels(points)
    for point in points:
        if point.values and len(point.values) != len(resolved):
            raise PatchError(
                f"point {point.name!r} has {len(point.values)} values but the scan has "
                f"{len(resolved)} labels {list(resolved)}",
                source=point.source,
            )
    return ScanPoints(tuple(points), tuple(resolved), tuple(patchsets))


def _check_unique(points: Sequence[ScanPoint]) -> None:
    seen: dict[str, ScanPoint] = {}
    for point in points:
        other = seen.get(point.name)
        if other is not None:
            where = (
                f"in {point.source}"
                if other.source == point.source
                else f"in {other.source} and {point.source}"
            )
            raise PatchError(f"two points are named {point.name!r} ({where})")
        seen[point.name] = point


def _default_labels(points: Sequence[ScanPoint]) -> tuple[str, ...]:
    width = max((len(p.values) for p in points), default=0)
    return tuple(f"value{i}" for i in range(width))
