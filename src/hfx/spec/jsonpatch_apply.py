"""RFC 6902 JSON Patch application with hfx's error messages.

Kept apart from :mod:`hfx.spec.patches` so that :class:`~hfx.spec.workspace.Workspace`
(which applies patches) and :class:`~hfx.spec.patches.Patch` (which builds workspaces)
both depend on it without depending on each other.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

import jsonpatch
import jsonpointer

from hfx.errors import PatchError
from hfx.spec.jsonio import copy_json
from hfx.spec.validate import validate_jsonpatch

__all__ = ["apply_patch", "apply_patch_shared"]

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
    return _apply(spec, ops, source, shared=False)


def apply_patch_shared(
    spec: Mapping[str, Any],
    ops: Sequence[Mapping[str, Any]],
    *,
    source: str | None = None,
    owned_ops: bool = False,
) -> dict[str, Any]:
    """:func:`apply_patch` for a ``spec`` that nothing ever changes (a Workspace's).

    Copy-on-write: only the containers on the paths the operations change are copied; the
    result shares every other object with ``spec`` (so it must never be changed in place
    either).  ``spec`` is not modified, and the result shares no objects with ``ops``,
    unless ``owned_ops``: the caller made ``ops`` (e.g. parsed them from a file) and keeps
    no reference, so their values go into the result as they are, not copied.
    """
    return _apply(spec, ops, source, shared=True, copy_values=not owned_ops)


def _apply(
    spec: Mapping[str, Any],
    ops: Sequence[Mapping[str, Any]],
    source: str | None,
    shared: bool,
    copy_values: bool = True,
) -> dict[str, Any]:
    if type(ops) is not list and (
        isinstance(ops, (str, bytes, Mapping)) or not isinstance(ops, Sequence)
    ):
        raise PatchError(
            f"a JSON Patch must be a list of operations, not {type(ops).__name__}", source=source
        )
    validate_jsonpatch(ops, source=source)
    doc: Any = dict(spec) if shared else copy_json(dict(spec))
    # ids of the containers this call made (None: all of them), which may change in place
    owned: set[int] | None = {id(doc)} if shared else None
    for index, op in enumerate(ops):
        if type(op) is not dict and not isinstance(op, Mapping):
            raise PatchError(
                f"patch op {index} is not an object but {type(op).__name__}", source=source
            )
        if owned is not None:
            if _apply_plain(doc, op, owned, copy_values):
                continue
            doc, owned = _own_path(doc, op, owned)
        if _apply_plain(doc, op, None, copy_values):
            continue
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
        if owned is not None and op.get("path") == "" and op.get("op") in ("add", "replace"):
            owned = None  # the new document is the operation's (fresh) value
    if not isinstance(doc, dict):
        raise PatchError(
            f"the patch turns the workspace into a {type(doc).__name__}, not an object",
            source=source,
        )
    return doc


_SCALARS = (str, int, float, bool, type(None))
_BAD_ESCAPE = re.compile("~[^01]|~$")


def _array_index(part: str) -> int | None:
    """``part`` as an array index written as RFC 6901 writes one, else None."""
    if part.isascii() and part.isdigit() and (part == "0" or part[0] != "0"):
        return int(part)
    return None


def _plain_op(op: Mapping[str, Any]) -> tuple[str, list[str], str] | None:
    """(kind, parent names, last name) of an add, replace or remove (with its value where it
    needs one) at a pointer below the root that jsonpatch accepts, the names unescaped; None
    for any other operation."""
    kind = op.get("op")
    path = op.get("path")
    if kind not in ("add", "replace", "remove") or not isinstance(path, str):
        return None
    if kind != "remove" and "value" not in op:
        return None
    if not path.startswith("/"):
        return None  # the whole document
    parts = path[1:].split("/")
    if "~" in path:  # ~1 and ~0 stand for "/" and "~"; other escapes jsonpatch refuses
        if _BAD_ESCAPE.search(path):
            return None
        parts = [p.replace("~1", "/").replace("~0", "~") for p in parts]
    *parents, last = parts
    return kind, parents, last


def _apply_at(
    node: Any, kind: str, last: str, op: Mapping[str, Any], copy_values: bool = True
) -> bool:
    """Apply the add, replace or remove ``op`` to the member ``last`` of its parent ``node``
    in place, as jsonpatch would; False (nothing done) wherever jsonpatch would refuse.
    The value goes in as a copy, or as it is without ``copy_values``."""
    value = copy_json if copy_values else _itself
    if type(node) is dict:
        if kind != "add" and last not in node:
            return False
        if kind == "remove":
            del node[last]
        else:
            node[last] = value(op["value"])
        return True
    if type(node) is not list:
        return False
    if kind == "add" and last == "-":
        node.append(value(op["value"]))
        return True
    index = _array_index(last)
    if index is None or index > len(node) - (kind != "add"):
        return False
    if kind == "remove":
        del node[index]
    elif kind == "add":
        node.insert(index, value(op["value"]))
    else:
        node[index] = value(op["value"])
    return True


def _itself(value: Any) -> Any:
    return value


def _apply_plain(
    doc: Any, op: Mapping[str, Any], owned: set[int] | None = None, copy_values: bool = True
) -> bool:
    """Apply ``op`` in place if it is an add, replace or remove whose target resolves
    through plain dicts and lists, as jsonpatch would; False (nothing changed) for any other
    operation, or wherever jsonpatch would refuse, which it then does with its message.

    With ``owned`` (copy-on-write, :func:`apply_patch_shared`) the walk also copies each
    container on the path that is not in ``owned`` (as :func:`_own_path` does), adding the
    copies' ids; where it then returns False those copies were made in vain, which is
    harmless."""
    plain = _plain_op(op)
    if plain is None:
        return False
    kind, parents, last = plain
    node: Any = doc
    for part in parents:
        if type(node) is dict:
            if part not in node:
                return False
            key: Any = part
        elif type(node) is list:
            key = _array_index(part)
            if key is None or key >= len(node):
                return False
        else:
            return False
        child = node[key]
        if owned is not None and id(child) not in owned:
            if type(child) is not dict and type(child) is not list:
                return False
            child = child.copy()
            node[key] = child
            owned.add(id(child))
        node = child
    return _apply_at(node, kind, last, op, copy_values)


def _own_path(doc: Any, op: Mapping[str, Any], owned: set[int]) -> tuple[Any, set[int] | None]:
    """Copy the containers that ``op`` changes, from the root down, unless this call made
    them already; returns the document and the ids of its owned containers (None: all).

    The walk resolves at least every step that jsonpointer resolves (more is harmless: a
    container copied in vain); where the document holds containers other than dicts and
    lists (possible only in an unvalidated spec), the whole document is copied instead.
    """
    kind = op.get("op")
    path = op.get("path")
    if kind == "test" or not isinstance(path, str):
        return doc, owned  # nothing changes (or jsonpatch refuses the operation)
    if kind == "move":  # its target is resolved after the removal: copy everything
        return copy_json(doc), None
    parts = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
    node = doc
    for part in parts[:-1]:  # the last part names the member that changes, in its parent
        key: Any
        if isinstance(node, dict):
            if part not in node:
                return doc, owned  # jsonpatch finds no target
            key = part
        elif isinstance(node, list):
            try:
                key = int(part)
            except ValueError:
                return doc, owned
            if not 0 <= key < len(node):
                return doc, owned
        elif isinstance(node, _SCALARS):
            return doc, owned
        else:
            return copy_json(doc), None
        child = node[key]
        if isinstance(child, (dict, list)) and id(child) not in owned:
            child = child.copy() if type(child) in (dict, list) else copy.copy(child)
            node[key] = child
            owned.add(id(child))
        node = child
    if not isinstance(node, (dict, list, *_SCALARS)):
        return copy_json(doc), None
    return doc, owned
