"""Schema and semantic validation of HistFactory JSON documents.

Validation runs in two steps.  The JSON Schema files in ``schemas/1.0.0`` (shipped as
package data) check the structure; a failure is reported as ONE :class:`SpecError`, the
most relevant schema error, reworded for people and located by a JSON pointer.  Once the
structure is known to be right, :mod:`hfx.spec.semantic` checks what a schema cannot say
(bin counts, unique names, finite numbers, ...).

jsonschema itself walks a document at roughly 25 microseconds per node, seconds for a
large workspace.  So each schema is also compiled once into plain Python checks (the
keywords our schema files use, nothing more): generated source that only answers "valid
or not", and closures that answer "where" once the answer is "not".  jsonschema then runs
only on the smallest array element that holds the first problem, to phrase the error.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache, cached_property, lru_cache
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from hfx.errors import HfxWarning, PatchError, SpecError
from hfx.spec import semantic
from hfx.spec.schema_checks import (
    Check,
    Invalid,
    Predicate,
    Unsupported,
    compile_predicate,
    compile_schema,
    compile_update_predicate,
)
from hfx.spec.semantic import MODIFIER_TYPES, count, json_pointer

if TYPE_CHECKING:  # jsonschema (60 ms to import) is needed only to phrase an error
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError
    from referencing import Registry

__all__ = [
    "SCHEMA_NAMES",
    "SCHEMA_VERSION",
    "describe",
    "explain",
    "load_schema",
    "locate_schema_problem",
    "schema_problem",
    "schema_validator",
    "validate_jsonpatch",
    "validate_measurement",
    "validate_model_spec",
    "validate_patchset",
    "validate_workspace",
]

SCHEMA_VERSION = "1.0.0"
SCHEMA_NAMES = ("defs", "workspace", "model", "measurement", "patchset", "jsonpatch")
_PATCH_OPS = ("add", "remove", "replace", "move", "copy", "test")


# --- loading and caching the schemas ------------------------------------------------------
# The caches below memoise pure functions of the schema files shipped with hfx: a process's
# history never changes a result.  Building them afresh costs 3-10 ms per document
# validated (10-40% of loading a 1 MB workspace, more per patch applied), so they stay
# module-level (tests/test_architecture.py allows exactly these names).
@cache
def _schema_documents() -> dict[str, dict[str, Any]]:
    folder = resources.files("hfx.spec").joinpath("schemas").joinpath(SCHEMA_VERSION)
    return {
        name: json.loads(folder.joinpath(f"{name}.json").read_text(encoding="utf-8"))
        for name in SCHEMA_NAMES
    }


def load_schema(name: str) -> dict[str, Any]:
    """The JSON Schema document ``name`` (e.g. ``"workspace"``) as a fresh dict."""
    if name.endswith(".json"):
        name = name[: -len(".json")]
    if name not in SCHEMA_NAMES:
        raise ValueError(f"no schema named {name!r} (known: {', '.join(SCHEMA_NAMES)})")
    doc: dict[str, Any] = json.loads(json.dumps(_schema_documents()[name]))
    return doc


@cache
def _registry() -> Registry:
    from referencing import Registry, Resource

    pairs = [(doc["$id"], Resource.from_contents(doc)) for doc in _schema_documents().values()]
    return Registry().with_resources(pairs).crawl()


@cache
def schema_validator(name: str) -> Draft202012Validator:
    """A compiled (cached) validator for schema ``name``; ``$ref`` resolves between files."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema(name), registry=_registry())


# --- public entry points -----------------------------------------------------------------
def validate_workspace(
    spec: Mapping[str, Any],
    *,
    source: str | None = None,
    allow_negative: bool = False,
    based_on: Mapping[str, Any] | None = None,
) -> None:
    """Raise SpecError (naming ``source`` and a JSON pointer) unless ``spec`` is a valid workspace.

    Negative nominal sample yields are rejected unless ``allow_negative`` is true.
    ``based_on`` is a workspace spec that passed this validation (with ``allow_negative``
    false, or as now) and never changed since, which ``spec`` was made from by
    copy-on-write (a patch): what ``spec`` shares with it is not checked again, except
    where it relates to the changed parts.  The outcome is the same as without it.
    """
    spec = _plain(spec)
    if based_on is not None:
        based_on = _plain(based_on)
    if based_on is None or not _fits_update("workspace", spec, based_on):
        _check_schema("workspace", spec, source, SpecError)
    _run_semantic(
        semantic.check_workspace,
        spec,
        source,
        SpecError,
        allow_negative=allow_negative,
        based_on=based_on,
    )
    for pointer, message in semantic.workspace_notes(spec):
        where = f"{source}: " if source else ""
        warnings.warn(f"{where}{pointer}: {message}", HfxWarning, stacklevel=3)


def validate_model_spec(
    spec: Mapping[str, Any], *, source: str | None = None, allow_negative: bool = False
) -> None:
    """Raise SpecError unless ``spec`` is a valid model spec (``channels`` + ``parameters``)."""
    spec = _plain(spec)
    _check_schema("model", spec, source, SpecError)
    _run_semantic(semantic.check_model, spec, source, SpecError, allow_negative=allow_negative)


def validate_measurement(measurement: Mapping[str, Any], *, source: str | None = None) -> None:
    """Raise SpecError unless ``measurement`` is one valid measurement object."""
    measurement = _plain(measurement)
    _check_schema("measurement", measurement, source, SpecError)
    _run_semantic(semantic.check_measurement, measurement, source, SpecError)


def validate_patchset(spec: Mapping[str, Any], *, source: str | None = None) -> None:
    """Raise SpecError unless ``spec`` is a valid HEPData patchset document."""
    spec = _plain(spec)
    _check_schema("patchset", spec, source, SpecError)
    _run_semantic(semantic.check_patchset, spec, source, SpecError)


def validate_jsonpatch(ops: Sequence[Any], *, source: str | None = None) -> None:
    """Raise PatchError unless ``ops`` is a valid RFC 6902 JSON Patch document."""
    ops = _plain(ops)
    _check_schema("jsonpatch", ops, source, PatchError)
    _run_semantic(semantic.check_jsonpatch, ops, source, PatchError)


# --- plumbing ----------------------------------------------------------------------------
def _plain(doc: Any) -> Any:
    """A top-level mapping or sequence as the dict or list that JSON Schema expects."""
    if type(doc) is dict or type(doc) is list:  # (the usual case, without ABC checks)
        return doc
    if isinstance(doc, Mapping) and not isinstance(doc, dict):
        return dict(doc)
    if isinstance(doc, Sequence) and not isinstance(doc, (list, str, bytes)):
        return list(doc)
    return doc


def _fits_update(name: str, instance: Any, based_on: Any) -> bool:
    """True if ``instance`` fits, judged by the parts it does not share with ``based_on``."""
    fast = _fast_checker(name)
    return fast is not None and fast.update(instance, based_on)


def _check_schema(name: str, instance: Any, source: str | None, kind: type[SpecError]) -> None:
    problem = schema_problem(name, instance)
    if problem is not None:
        message, pointer = problem
        raise kind(message, source=source, pointer=pointer)


def schema_problem(name: str, instance: Any) -> tuple[str, str] | None:
    """(message, pointer) of the first schema violation in ``instance``, or None if it fits.

    The generated yes/no check answers for a valid document; for an invalid one the
    compiled closures find the first failing array element and jsonschema phrases the most
    relevant error inside that element.  Should any two of them ever disagree, the whole
    document goes through jsonschema, which has the last word.
    """
    fast = _fast_checker(name)
    if fast is not None:
        if fast.ok(instance):
            return None
        located = _locate(fast, name, instance)
        if located is not None:
            scope_loc, scope_path = located
            sub = instance
            for part in scope_path:
                sub = sub[part]
            found = _best_error(_ref_validator(scope_loc), sub, scope_path)
            if found is not None:
                return found
    return _best_error(schema_validator(name), instance, [])


def locate_schema_problem(name: str, instance: Any) -> tuple[str, list[Any]] | None:
    """(schema URI, instance path) of the smallest array element holding the first violation
    found by the compiled check; None when the compiled check passes."""
    fast = _fast_checker(name)
    if fast is None:
        raise ValueError(f"schema {name!r} could not be compiled")
    return None if fast.ok(instance) else _locate(fast, name, instance)


def _locate(fast: FastChecks, name: str, instance: Any) -> tuple[str, list[Any]] | None:
    try:
        fast.check(instance)
    except Invalid as exc:
        path = exc.parts[::-1]
        if exc.scope is None:
            return _schema_documents()[name]["$id"], []
        return exc.scope[0], path[: len(path) - exc.scope[1]]
    return None


def _best_error(
    validator: Draft202012Validator, instance: Any, prefix: list[Any]
) -> tuple[str, str] | None:
    from jsonschema.exceptions import best_match

    errors = list(validator.iter_errors(instance))
    best = best_match(errors)
    return None if best is None else explain(best, errors, prefix=prefix)


def _run_semantic(
    check: Any, instance: Any, source: str | None, kind: type[SpecError], **options: Any
) -> None:
    problem = check(instance, **options)
    if problem is not None:
        pointer, message = problem
        raise kind(message, source=source, pointer=pointer)


# --- turning a jsonschema error into one readable line -----------------------------------
_TYPE_WORDS = MappingProxyType(
    {
        "array": "an array",
        "boolean": "true or false",
        "integer": "an integer",
        "null": "null",
        "number": "a number",
        "object": "an object",
        "string": "a string",
    }
)


def describe(value: Any) -> str:
    """A short description of a JSON value for messages: ``'abc'``, ``3``, ``an object``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57] + "...")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an empty array" if not value else f"an array of {count(len(value), 'item')}"
    return type(value).__name__


def _quoted(names: Iterable[Any]) -> str:
    return ", ".join(repr(n) for n in names)


def explain(
    error: ValidationError, siblings: Sequence[ValidationError] = (), *, prefix: Sequence[Any] = ()
) -> tuple[str, str]:
    """(message, JSON pointer) for one schema error; ``siblings`` may refine the message.

    ``prefix`` is the path of the validated instance inside the whole document.
    """
    here = list(error.absolute_path)
    path = [*prefix, *here]
    pointer = json_pointer(path)
    kind = error.validator
    value: Any = error.validator_value
    instance: Any = error.instance
    same_place = [e for e in siblings if list(e.absolute_path) == here]

    if kind == "type":
        wanted = [value] if isinstance(value, str) else list(value)
        expected = " or ".join(_TYPE_WORDS.get(w, w) for w in wanted)
        if wanted == ["null"] and path[-1:] == ["data"] and "modifiers" in path:
            expected += " (this modifier type takes no data)"
        return f"expected {expected}, got {describe(instance)}", pointer
    if kind == "required":
        missing = [k for k in value if k not in instance]
        extra = _extra_keys(same_place)
        msg = (
            f"missing required key {_quoted(missing)}"
            if len(missing) == 1
            else (f"missing required keys {_quoted(missing)}")
        )
        if extra:
            msg += f" (found unexpected key {_quoted(extra)})"
        return msg, pointer
    if kind == "additionalProperties":
        extra = _extra_keys([error])
        allowed = sorted(_properties(error))
        noun = "key" if len(extra) == 1 else "keys"
        msg = f"unexpected {noun} {_quoted(extra)}"
        if allowed:
            msg += f" (allowed: {', '.join(allowed)})"
        if len(extra) == 1:
            pointer = json_pointer([*path, extra[0]])
        return msg, pointer
    if kind == "enum":
        if path and path[-1] == "type" and "modifiers" in path:
            return (
                f"unknown modifier type {describe(instance)} (valid: {', '.join(MODIFIER_TYPES)})",
                pointer,
            )
        if path and path[-1] == "op":
            return (
                f"unknown JSON Patch op {describe(instance)} (valid: {', '.join(_PATCH_OPS)})",
                pointer,
            )
        options = ", ".join(describe(v) for v in value)
        return f"expected one of {options}, got {describe(instance)}", pointer
    if kind == "const":
        if path == ["version"]:
            return (
                f"unsupported version {describe(instance)} (hfx reads version {value!r})",
                pointer,
            )
        return f"expected {describe(value)}, got {describe(instance)}", pointer
    if kind == "minItems":
        noun = "item" if value == 1 else "items"
        return f"expected at least {value} {noun}, got {describe(instance)}", pointer
    if kind == "maxItems":
        return f"expected at most {value} items, got {describe(instance)}", pointer
    if kind == "minProperties":
        return f"expected at least {value} entry, got an empty object", pointer
    if kind == "minLength":
        return f"expected a non-empty string, got {describe(instance)}", pointer
    if kind == "pattern" and "propertyNames" in error.schema_path:
        return f"key {instance!r} is not allowed here (keys must match {value!r})", pointer
    if kind == "pattern":
        if "~" in value:
            return (
                f"{describe(instance)} is not a JSON pointer (expected '' or '/a/b/0')",
                pointer,
            )
        if "0-9a-fA-F" in value:
            return f"expected a hexadecimal digest, got {describe(instance)}", pointer
        return f"{describe(instance)} does not match the pattern {value!r}", pointer
    return error.message, pointer


def _properties(error: ValidationError) -> Mapping[str, Any]:
    """The ``properties`` of the object schema that ``error`` comes from."""
    schema = error.schema
    return schema.get("properties", {}) if isinstance(schema, Mapping) else {}


def _extra_keys(errors: Sequence[ValidationError]) -> list[str]:
    for err in errors:
        if err.validator == "additionalProperties" and isinstance(err.instance, Mapping):
            allowed = _properties(err)
            return [k for k in err.instance if k not in allowed]
    return []


class FastChecks:
    """One schema's compiled checks: ``ok`` answers yes or no, ``check`` locates a problem,
    ``update(new, old)`` answers for a copy-on-write change of a valid ``old``."""

    def __init__(self, doc: dict[str, Any], lookup: Callable[[str], Any]) -> None:
        self._doc = doc
        self._lookup = lookup
        self.ok: Predicate = compile_predicate(doc, lookup)  # Unsupported: no fast checks

    @cached_property
    def check(self) -> Check:
        return compile_schema(self._doc, self._lookup)

    @cached_property
    def update(self) -> Callable[[Any, Any], bool]:
        return compile_update_predicate(self._doc, self._lookup)


@cache
def _fast_checker(name: str) -> FastChecks | None:
    def lookup(target: str) -> Any:
        return _registry().resolver().lookup(target).contents

    try:
        return FastChecks(_schema_documents()[name], lookup)
    except Unsupported:
        return None


@lru_cache(maxsize=256)
def _ref_validator(location: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator({"$ref": location}, registry=_registry())
