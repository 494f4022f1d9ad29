"""Pure operations on workspace specs (plain dicts in, new plain dicts out).

The semantics follow pyhf 0.7.6 (``Workspace.combine``, ``prune``, ``rename``,
``sorted`` and ``pyhf.utils.digest``) so that digests of the results agree.  Where pyhf
would quietly produce an invalid document (a rename that duplicates a name, a prune that
empties a list), these functions raise :class:`~hfx.errors.SpecError` instead.  No input
is ever modified: results are built from deep copies.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from functools import wraps
from typing import Any, TypeVar

from hfx.errors import SpecArgumentError, SpecError

_log = logging.getLogger("hfx.spec")

__all__ = ["JOIN_MODES", "combine_specs", "digest", "prune_spec", "rename_spec", "sort_spec"]

JOIN_MODES = ("none", "outer", "left outer", "right outer")

_JOIN_LIST = ", ".join(repr(mode) for mode in JOIN_MODES)


_F = TypeVar("_F", bound=Callable[..., Any])


# --- small helpers -------------------------------------------------------------------
def _malformed_as_spec_error(func: _F) -> _F:
    """Turn a KeyError/TypeError from a malformed (unvalidated) spec into a SpecError."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (KeyError, TypeError, AttributeError, IndexError) as exc:
            detail = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
            raise SpecError(f"malformed workspace spec ({detail})") from None

    return wrapper  # type: ignore[return-value]


def _items(spec: Mapping[str, Any], key: str, what: str = "workspace") -> list[Any]:
    """``spec[key]`` as a list, or a SpecError naming the missing/ill-typed key."""
    value = spec.get(key) if isinstance(spec, Mapping) else None
    if not isinstance(value, list):
        raise SpecError(f"{what} has no {key!r} list", pointer=f"/{key}")
    return value


def _close(name: str, candidates: Iterable[str]) -> str:
    """A '; did you mean ...' hint for ``name`` among ``candidates`` (empty when none)."""
    matches = difflib.get_close_matches(name, sorted(set(candidates)), n=3)
    return f"; did you mean {', '.join(repr(m) for m in matches)}?" if matches else ""


def _names(values: Iterable[str] | str | None) -> list[str]:
    """Normalise a name argument: None -> [], a single string -> [it], else a list."""
    if values is None:
        return []
    if isinstance(values, str):
        return [values]
    return list(values)


def _duplicates(names: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    repeated: set[str] = set()
    for name in names:
        (repeated if name in seen else seen).add(name)
    return sorted(repeated)


def _all_samples(spec: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
    for channel in spec["channels"]:
        yield from channel["samples"]


def _all_modifiers(spec: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
    for sample in _all_samples(spec):
        yield from sample["modifiers"]


def _parameter_configs(spec: Mapping[str, Any]) -> Iterable[list[dict[str, Any]]]:
    for measurement in spec["measurements"]:
        yield measurement["config"]["parameters"]


def _require_known(kind: str, wanted: Iterable[str], known: Iterable[str], verb: str) -> None:
    known = set(known)
    for name in wanted:
        if name not in known:
            raise SpecError(
                f"cannot {verb} {kind} {name!r}: no {kind} of that name in this workspace"
                + _close(name, known)
            )


# --- combine ---------------------------------------------------------------------------
def _join_by_name(
    join: str, left: list[Any], right: list[Any], merge_key: str | None = None
) -> list[Any]:
    """Join two lists of named objects.

    The primary side (right for 'right outer', left otherwise) is kept as is; an item of
    the other side is appended when: join is 'none' (duplicates are reported later);
    join is 'outer' and no identical item exists on the primary side; join is a one-sided
    outer join and the primary side has no item of that name.  With ``merge_key`` a
    same-named item is merged instead: its ``merge_key`` lists are joined by name with the
    primary side taking precedence.
    """
    primary, secondary = (right, left) if join == "right outer" else (left, right)
    joined = copy.deepcopy(primary)
    first_index: dict[str, int] = {}
    same_name: dict[str, list[Any]] = {}
    for position, item in enumerate(primary):
        first_index.setdefault(item["name"], position)
        same_name.setdefault(item["name"], []).append(item)
    for item in secondary:
        name = item["name"]
        if merge_key is not None and name in first_index:
            target = joined[first_index[name]]
            target[merge_key] = _join_by_name("left outer", target[merge_key], item[merge_key])
            continue
        if join == "none":
            keep = True
        elif join == "outer":
            keep = item not in same_name.get(name, ())
        else:
            keep = name not in first_index
        if keep:
            joined.append(copy.deepcopy(item))
    return joined


def _check_joined(kind: str, join: str, items: list[Any]) -> None:
    repeated = _duplicates(item["name"] for item in items)
    if not repeated:
        return
    if join == "none":
        raise SpecError(
            f"both workspaces have {kind} named {', '.join(map(repr, repeated))}; "
            f"rename or prune one side, or use another join ({_JOIN_LIST})"
        )
    raise SpecError(
        f"both workspaces have {kind} named {', '.join(map(repr, repeated))} with different "
        f"content; 'outer' join needs them identical (or try 'left outer' / 'right outer')"
    )


def _merge_measurements(measurements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Outer join: fold same-named measurements into one (same POI, compatible configs)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for measurement in measurements:
        groups.setdefault(measurement["name"], []).append(measurement)
    merged = []
    for name, group in groups.items():
        if len(group) == 1:
            merged.append(group[0])
            continue
        poi = group[0]["config"]["poi"]
        pois = {m["config"]["poi"] for m in group}
        if len(pois) > 1:
            raise SpecError(
                f"both workspaces have measurement {name!r} with different POIs "
                f"({', '.join(sorted(map(repr, pois)))}); 'outer' join needs them equal"
            )
        parameters = group[0]["config"]["parameters"]
        for other in group[1:]:
            parameters = _join_by_name("outer", parameters, other["config"]["parameters"])
        conflicting = _duplicates(p["name"] for p in parameters)
        if conflicting:
            raise SpecError(
                f"both workspaces have measurement {name!r} with different configs for "
                f"parameters {', '.join(map(repr, conflicting))}; 'outer' join needs them equal"
            )
        merged.append({"name": name, "config": {"poi": poi, "parameters": parameters}})
    return merged


@_malformed_as_spec_error
def combine_specs(
    left: Mapping[str, Any],
    right: Mapping[str, Any],
    *,
    join: str = "none",
    merge_channels: bool = False,
) -> dict[str, Any]:
    """Combine two workspace specs (pyhf's ``Workspace.combine`` semantics).

    ``join`` decides what happens to channels, observations and measurements of the same
    name: 'none' rejects them; 'outer' keeps one copy of identical items, rejects
    differing channels/observations and merges same-named measurements (equal POI,
    parameter configs joined by name); 'left outer' / 'right outer' keep that side's item.
    ``merge_channels`` (not with 'none') merges same-named channels sample by sample,
    the preferred side's samples winning.  Versions must be equal.
    """
    if join not in JOIN_MODES:
        raise SpecArgumentError(f"unknown join mode {join!r}; valid join modes: {_JOIN_LIST}")
    if merge_channels and join == "none":
        raise SpecArgumentError(
            "merge_channels needs join 'outer', 'left outer' or 'right outer', not 'none'"
        )
    if join in ("left outer", "right outer"):
        _log.warning(
            "combining workspaces using an unsafe join operation (%r): of two same-named "
            "channels, observations or measurements, one side's is kept unchecked",
            join,
        )
    versions = (left.get("version"), right.get("version"))
    if versions[0] != versions[1]:
        raise SpecError(
            f"cannot combine workspaces of different versions: {versions[0]!r} != {versions[1]!r}"
        )
    channels = _join_by_name(
        join,
        _items(left, "channels"),
        _items(right, "channels"),
        merge_key="samples" if merge_channels else None,
    )
    _check_joined("channels", join, channels)
    observations = _join_by_name(join, _items(left, "observations"), _items(right, "observations"))
    _check_joined("observations", join, observations)
    measurements = _join_by_name(join, _items(left, "measurements"), _items(right, "measurements"))
    if join == "outer":
        measurements = _merge_measurements(measurements)
    _check_joined("measurements", join, measurements)
    return {
        "channels": channels,
        "measurements": measurements,
        "observations": observations,
        "version": versions[0],
    }


# --- prune -------------------------------------------------------------------------------
@_malformed_as_spec_error
def prune_spec(
    spec: Mapping[str, Any],
    *,
    channels: Iterable[str] = (),
    samples: Iterable[str] = (),
    modifiers: Iterable[str] = (),
    modifier_types: Iterable[str] = (),
    measurements: Iterable[str] = (),
) -> dict[str, Any]:
    """Remove the named channels, samples, modifiers (by name or type) and measurements.

    Pruned channels take their observations with them; pruned modifier names take their
    parameter configs with them (pruning by type keeps configs, as pyhf does; the POI is
    never changed).  Every name must exist; a prune that leaves no channel, a channel
    without samples, or no measurement is a SpecError.
    """
    out = copy.deepcopy(dict(spec))
    drop_mods = set(_names(modifiers))
    drop_types = set(_names(modifier_types))
    drop_samples = set(_names(samples))
    drop_channels = set(_names(channels))
    drop_meas = set(_names(measurements))

    for key in ("channels", "observations", "measurements"):
        _items(out, key)
    _require_known("modifier", _names(modifiers), (m["name"] for m in _all_modifiers(out)), "prune")
    _require_known(
        "modifier type", _names(modifier_types), (m["type"] for m in _all_modifiers(out)), "prune"
    )
    _require_known("sample", _names(samples), (s["name"] for s in _all_samples(out)), "prune")
    _require_known("channel", _names(channels), (c["name"] for c in out["channels"]), "prune")
    _require_known(
        "measurement", _names(measurements), (m["name"] for m in out["measurements"]), "prune"
    )

    out["channels"] = [c for c in out["channels"] if c["name"] not in drop_channels]
    out["observations"] = [o for o in out["observations"] if o["name"] not in drop_channels]
    out["measurements"] = [m for m in out["measurements"] if m["name"] not in drop_meas]
    for channel in out["channels"]:
        channel["samples"] = [s for s in channel["samples"] if s["name"] not in drop_samples]
        if not channel["samples"]:
            raise SpecError(f"pruning would leave channel {channel['name']!r} without samples")
        for sample in channel["samples"]:
            sample["modifiers"] = [
                m
                for m in sample["modifiers"]
                if m["name"] not in drop_mods and m["type"] not in drop_types
            ]
    if drop_mods:
        for measurement in out["measurements"]:
            config = measurement["config"]
            config["parameters"] = [p for p in config["parameters"] if p["name"] not in drop_mods]
    for key in ("channels", "measurements"):
        if not out[key]:
            raise SpecError(f"pruning would leave the workspace without {key}", pointer=f"/{key}")
    return out


# --- rename ------------------------------------------------------------------------------
@_malformed_as_spec_error
def rename_spec(
    spec: Mapping[str, Any],
    *,
    channels: Mapping[str, str] | None = None,
    samples: Mapping[str, str] | None = None,
    modifiers: Mapping[str, str] | None = None,
    measurements: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Rename channels, samples, modifiers (and their parameter configs) and measurements.

    Renames are applied simultaneously (``{'a': 'b', 'b': 'a'}`` swaps).  Renaming a
    modifier also renames its parameter configs and the POI; renaming a channel also
    renames its observation.  Two modifiers may be renamed onto one name (that correlates
    them), but a rename that gives two channels, two samples of one channel, two
    measurements or two parameter configs of one measurement the same name is a SpecError.
    """
    out = copy.deepcopy(dict(spec))
    chan_map = dict(channels or {})
    sample_map = dict(samples or {})
    mod_map = dict(modifiers or {})
    meas_map = dict(measurements or {})
    for key in ("channels", "observations", "measurements"):
        _items(out, key)
    _require_known("modifier", mod_map, (m["name"] for m in _all_modifiers(out)), "rename")
    _require_known("sample", sample_map, (s["name"] for s in _all_samples(out)), "rename")
    _require_known("channel", chan_map, (c["name"] for c in out["channels"]), "rename")
    _require_known("measurement", meas_map, (m["name"] for m in out["measurements"]), "rename")

    for channel in out["channels"]:
        channel["name"] = chan_map.get(channel["name"], channel["name"])
        for sample in channel["samples"]:
            sample["name"] = sample_map.get(sample["name"], sample["name"])
            for modifier in sample["modifiers"]:
                modifier["name"] = mod_map.get(modifier["name"], modifier["name"])
        _reject_duplicates(
            f"samples in channel {channel['name']!r}", (s["name"] for s in channel["samples"])
        )
    for observation in out["observations"]:
        observation["name"] = chan_map.get(observation["name"], observation["name"])
    for measurement in out["measurements"]:
        measurement["name"] = meas_map.get(measurement["name"], measurement["name"])
        config = measurement["config"]
        if "poi" in config:
            config["poi"] = mod_map.get(config["poi"], config["poi"])
        for parameter in config.get("parameters", ()):
            parameter["name"] = mod_map.get(parameter["name"], parameter["name"])
        _reject_duplicates(
            f"parameter configs in measurement {measurement['name']!r}",
            (p["name"] for p in config.get("parameters", ())),
        )
    _reject_duplicates("channels", (c["name"] for c in out["channels"]))
    _reject_duplicates("observations", (o["name"] for o in out["observations"]))
    _reject_duplicates("measurements", (m["name"] for m in out["measurements"]))
    return out


def _reject_duplicates(what: str, names: Iterable[str]) -> None:
    repeated = _duplicates(names)
    if repeated:
        raise SpecError(f"renaming would give two {what} the name {', '.join(map(repr, repeated))}")


# --- sort and digest ---------------------------------------------------------------------
def _by_name(item: Mapping[str, Any]) -> str:
    name: str = item["name"]
    return name


@_malformed_as_spec_error
def sort_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Return the spec with channels, samples, modifiers, observations, measurements sorted.

    Channels, samples, observations, measurements and parameter configs are sorted by
    name; modifiers by (name, type).  Other keys are kept unchanged.
    """
    out = copy.deepcopy(dict(spec))
    channels = out.get("channels", [])
    channels.sort(key=_by_name)
    for channel in channels:
        channel["samples"].sort(key=_by_name)
        for sample in channel["samples"]:
            sample["modifiers"].sort(key=lambda m: (m["name"], m["type"]))
    out.get("observations", []).sort(key=_by_name)
    measurements = out.get("measurements", [])
    measurements.sort(key=_by_name)
    for measurement in measurements:
        measurement["config"].get("parameters", []).sort(key=_by_name)
    return out


def _jsonable(obj: Any) -> Any:
    for attr in ("to_dict", "tolist"):
        convert = getattr(obj, attr, None)
        if convert is not None:
            return convert()
    raise TypeError(f"cannot serialise {type(obj).__name__} as JSON")


def digest(obj: Any, algorithm: str = "sha256") -> str:
    """Hex digest of ``obj`` serialised canonically (as pyhf.utils.digest).

    The canonical form is ``json.dumps(obj, sort_keys=True, ensure_ascii=False)`` (default
    separators) encoded as UTF-8.  Objects with ``to_dict()`` (a Workspace) and NumPy
    values are converted first.
    """
    if not isinstance(algorithm, str) or algorithm.lower().startswith("shake"):
        raise SpecError(
            f"unsupported hash algorithm {algorithm!r}; use one of "
            f"{', '.join(sorted(a for a in hashlib.algorithms_guaranteed if 'shake' not in a))}"
        )
    try:
        hasher = hashlib.new(algorithm)
    except (ValueError, TypeError):
        raise SpecError(
            f"unknown hash algorithm {algorithm!r}; use one of "
            f"{', '.join(sorted(a for a in hashlib.algorithms_guaranteed if 'shake' not in a))}"
        ) from None
    if not isinstance(obj, (Mapping, list, tuple)) and hasattr(obj, "to_dict"):
        obj = obj.to_dict()
    try:
        text = json.dumps(obj, sort_keys=True, ensure_ascii=False, default=_jsonable)
    except (TypeError, ValueError) as exc:
        raise SpecError(f"cannot compute a digest: {exc}") from None
    hasher.update(text.encode("utf-8"))
    return hasher.hexdigest()
