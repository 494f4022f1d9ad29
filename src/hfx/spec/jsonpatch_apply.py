"""RFC 6902 JSON Patch application with hfx's error messages.

Kept apart from :mod:`hfx.spec.patches` so that :class:`~hfx.spec.workspace.Workspace`
(which applies patches) and :class:`~hfx.spec.patches.Patch` (which builds workspaces)
both depend on it without depending on each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jsonpatch
import jsonpointer

from hfx.errors import PatchError
from hfx.spec.jsonio import copy_json
from hfx.spec.validate import validate_jsonpatch

__all__ = ["apply_patch"]

_MAX_DETAIL = 200


def _shorten(text: str) -> str:
    """Library messages can quote whole documents; keep them one readable line."""
    text = " ".join(str(text).split())
    return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 3] + "..."


def _describe(op: Mapping[str, Any]) -> str:
    """'add /channels/0/samples/-' or 'move /a -> /b' for messages."""
    name, path = op.get("op", "?"), op.get("path", "?")
    if "from" in op:
        return f"{name} {op['from']} -> {path}"
    return f"{name} {path}"


def apply_patch(
    spec: Mapping[str, Any], ops: Sequence[Mapping[str, Any]], *, source: str | None = None
) -> dict[str, Any]:
    """Apply an RFC 6902 patch to a copy of ``spec``; PatchError names the failing op and path.

    Neither ``spec`` nor ``ops`` is modified, and the result shares no objects with them.
    """
    if isinstance(ops, (str, bytes, Mapping)) or not isinstance(ops, Sequence):
        raise PatchError(
            f"a JSON Patch must be a list of operations, not {type(ops).__name__}", source=source
        )
    validate_jsonpatch(ops, source=source)
    doc: Any = copy_json(dict(spec))
    for index, op in enumerate(ops):
        if not isinstance(op, Mapping):
            raise PatchError(
                f"patch op {index} is not an object but {type(op).__name__}", source=source
            )
        try:
            doc = jsonpatch.JsonPatch([copy_json(dict(op))]).apply(doc, in_place=True)
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
            reason = "test failed: " if isinstance(exc, jsonpatch.JsonPatchTestFailed) else ""
            raise PatchError(
                f"patch op {index} ({_describe(op)}): {reason}{_shorten(str(exc))}", source=source
            ) from None
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise PatchError(
                f"patch op {index} ({_describe(op)}): cannot apply ({_shorten(repr(exc))})",
                source=source,
            ) from None
    if not isinstance(doc, dict):
        raise PatchError(
            f"the patch turns the workspace into a {type(doc).__name__}, not an object",
            source=source,
        )
    return doc
