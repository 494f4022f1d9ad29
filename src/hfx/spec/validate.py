"""Schema and semantic validation of HistFactory JSON documents (owned by the validation work)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def validate_workspace(
    spec: Mapping[str, Any], *, source: str | None = None, allow_negative: bool = False
) -> None:
    """Raise SpecError (naming ``source`` and a JSON pointer) unless ``spec`` is a valid workspace."""


def validate_patchset(spec: Mapping[str, Any], *, source: str | None = None) -> None:
    """Raise SpecError unless ``spec`` is a valid HEPData patchset document."""


def validate_jsonpatch(ops: Sequence[Any], *, source: str | None = None) -> None:
    """Raise PatchError unless ``ops`` is a valid RFC 6902 JSON Patch document."""
