"""JSON Patch application and HEPData PatchSets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def apply_patch(
    spec: Mapping[str, Any], ops: Sequence[Mapping[str, Any]], *, source: str | None = None
) -> dict[str, Any]:
    """Apply an RFC 6902 patch to a copy of ``spec``; PatchError names the failing op and path."""
    raise NotImplementedError
