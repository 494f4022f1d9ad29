"""Pure operations on workspace specs (plain dicts in, new plain dicts out)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

JOIN_MODES = ("none", "outer", "left outer", "right outer")


def combine_specs(
    left: Mapping[str, Any], right: Mapping[str, Any], *, join: str = "none", merge_channels: bool = False
) -> dict[str, Any]:
    """Combine two workspace specs (pyhf's ``Workspace.combine`` semantics)."""
    raise NotImplementedError


def prune_spec(
    spec: Mapping[str, Any],
    *,
    channels: Iterable[str] = (),
    samples: Iterable[str] = (),
    modifiers: Iterable[str] = (),
    modifier_types: Iterable[str] = (),
    measurements: Iterable[str] = (),
) -> dict[str, Any]:
    """Remove the named channels, samples, modifiers (by name or type) and measurements."""
    raise NotImplementedError


def rename_spec(
    spec: Mapping[str, Any],
    *,
    channels: Mapping[str, str] | None = None,
    samples: Mapping[str, str] | None = None,
    modifiers: Mapping[str, str] | None = None,
    measurements: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Rename channels, samples, modifiers (and their parameter configs) and measurements."""
    raise NotImplementedError


def sort_spec(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Return the spec with channels, samples, modifiers, observations, measurements sorted."""
    raise NotImplementedError


def digest(obj: Any, algorithm: str = "sha256") -> str:
    """Hex digest of ``obj`` serialised canonically (as pyhf.utils.digest)."""
    raise NotImplementedError
