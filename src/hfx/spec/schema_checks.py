"""Plain-Python yes/no checks compiled from our JSON Schema files.

jsonschema walks a document at roughly 25 microseconds per node; a large workspace takes
seconds.  :func:`compile_schema` turns a schema (only the keywords our schema files use)
into nested closures that answer "valid or not, and where" at a fraction of that cost.
An unknown keyword raises :class:`Unsupported`, and the caller falls back to jsonschema.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sized
from types import MappingProxyType
from typing import Any
from urllib.parse import urldefrag, urljoin

__all__ = ["Check", "Invalid", "Unsupported", "compile_schema"]


class _Memo(dict[str, "Check"]):
    """Compiled checks by schema location, plus the resolver of ``$ref`` targets."""

    def __init__(self, lookup: Callable[[str], Any]) -> None:
        super().__init__()
        self.lookup = lookup


def compile_schema(doc: dict[str, Any], lookup: Callable[[str], Any]) -> Check:
    """A check for ``doc``; ``lookup(uri)`` returns the schema a ``$ref`` points to.

    The check raises :class:`Invalid` (carrying the failing path) or returns None.
    """
    return _compile(doc, doc["$id"] + "#", _Memo(lookup))


class Invalid(Exception):
    """Raised by compiled checks; gathers the failing path on the way out (innermost first).

    ``scope`` is set by the innermost array loop the failure passes through: the schema
    location of that array's items, and how many path parts lie below the element.
    """

    def __init__(self, *parts: Any) -> None:
        self.parts: list[Any] = list(parts)
        self.scope: tuple[str, int] | None = None


class Unsupported(Exception):
    """A schema keyword the compiler does not know; jsonschema alone is used then."""


Check = Callable[[Any], None]
_IGNORED = frozenset({"$schema", "$id", "$defs", "$comment", "title", "description", "then"})
_OBJECT_WORDS = frozenset({"required", "properties", "additionalProperties", "propertyNames"})
_SIZES: Mapping[str, tuple[type[Sized], int]] = MappingProxyType(
    {
        "minItems": (list, 1),
        "maxItems": (list, -1),
        "minLength": (str, 1),
        "minProperties": (dict, 1),
    }
)
_IS_TYPE: Mapping[str, Callable[[Any], bool]] = MappingProxyType(
    {
        "array": lambda x: isinstance(x, list),
        "boolean": lambda x: isinstance(x, bool),
        "null": lambda x: x is None,
        "number": lambda x: isinstance(x, (int, float)) and not isinstance(x, bool),
        "object": lambda x: isinstance(x, dict),
        "string": lambda x: isinstance(x, str),
    }
)


def _is_number(x: Any) -> bool:
    return type(x) is float or type(x) is int or _IS_TYPE["number"](x)


def _all(checks: list[Check]) -> Check:
    if len(checks) == 1:
        return checks[0]

    def check(x: Any) -> None:
        for each in checks:
            each(x)

    return check


def _compile(schema: Any, loc: str, memo: _Memo) -> Check:
    """Compile ``schema`` found at URI ``loc`` (``base#pointer``) into a raising check.

    Handles the keywords our schema files use; any other raises _Unsupported.
    """
    if isinstance(schema, bool):
        return (lambda x: None) if schema else _reject
    known = _IGNORED | _OBJECT_WORDS | _SIZES.keys()
    known |= {"$ref", "type", "enum", "const", "pattern", "items", "allOf", "if"}
    if not set(schema) <= known:
        raise Unsupported(", ".join(sorted(set(schema) - known)))
    checks: list[Check] = []
    if "$ref" in schema:
        checks.append(_ref(urljoin(urldefrag(loc).url, schema["$ref"]), memo))
    kinds = schema.get("type")
    if kinds is not None and kinds != "object":
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not set(kinds) <= _IS_TYPE.keys():
            raise Unsupported(f"type {kinds}")
        tests = [_IS_TYPE[k] for k in kinds]
        checks.append(_test(tests[0] if len(tests) == 1 else lambda x: any(t(x) for t in tests)))
    if "enum" in schema or "const" in schema:
        values = schema["enum"] if "enum" in schema else [schema["const"]]
        if any(v is not None and not isinstance(v, str) for v in values):
            raise Unsupported("enum/const values other than strings and null")
        strings, null_ok = frozenset(v for v in values if v is not None), None in values
        checks.append(
            _test(lambda x: x in strings if isinstance(x, str) else null_ok and x is None)
        )
    if "pattern" in schema:
        search = re.compile(schema["pattern"]).search
        checks.append(_test(lambda x: not isinstance(x, str) or search(x) is not None))
    for word, (kind, sign) in _SIZES.items():
        if word in schema:
            checks.append(_size(kind, sign, schema[word]))
    if kinds == "object" or _OBJECT_WORDS & schema.keys():
        checks.append(_object(schema, loc, memo, strict=kinds == "object"))
    if "items" in schema:
        checks.append(_items(schema["items"], f"{loc}/items", memo))
    if "allOf" in schema:
        branches = schema["allOf"]
        dispatch = _discriminated(branches, loc, memo)
        if dispatch is None:
            dispatch = _all([_compile(s, f"{loc}/allOf/{i}", memo) for i, s in enumerate(branches)])
        checks.append(dispatch)
    if "if" in schema:
        checks.append(_conditional(schema, loc, memo))
    return _all(checks) if checks else (lambda x: None)


def _reject(x: Any) -> None:
    raise Invalid


def _test(ok: Callable[[Any], bool]) -> Check:
    def check(x: Any) -> None:
        if not ok(x):
            raise Invalid

    return check


def _size(kind: type[Sized], sign: int, bound: int) -> Check:
    return _test(lambda x: not isinstance(x, kind) or sign * (len(x) - bound) >= 0)


def _ref(target: str, memo: _Memo) -> Check:
    target = target if "#" in target else target + "#"
    if target not in memo:
        cell: list[Check] = []
        memo[target] = lambda x: cell[0](x)  # stands in while a recursive schema compiles
        cell.append(_compile(memo.lookup(target), target, memo))
        memo[target] = cell[0]
    return memo[target]


def _object(schema: Any, loc: str, memo: _Memo, *, strict: bool) -> Check:
    """type object, required, properties, additionalProperties, propertyNames: one pass."""
    required = tuple(schema.get("required", ()))
    props = {
        k: _compile(s, f"{loc}/properties/{k}", memo)
        for k, s in schema.get("properties", {}).items()
    }
    extra = schema.get("additionalProperties", True)
    other = None if extra is True else _compile(extra, f"{loc}/additionalProperties", memo)
    names = schema.get("propertyNames")
    name_check = None if names is None else _compile(names, f"{loc}/propertyNames", memo)

    def check(x: Any) -> None:
        if not isinstance(x, dict):
            if strict:
                raise Invalid
            return
        for key in required:
            if key not in x:
                raise Invalid
        for key, value in x.items():
            if name_check is not None:
                name_check(key)
            sub = props.get(key, other)
            if sub is not None:
                try:
                    sub(value)
                except Invalid as exc:
                    exc.parts.append(key)
                    raise

    return check


def _items(schema: Any, loc: str, memo: _Memo) -> Check:
    if schema == {"type": "number"}:  # the common case, in one tight loop

        def check_numbers(x: Any) -> None:
            if isinstance(x, list) and not all(map(_is_number, x)):
                exc = Invalid(next(i for i, v in enumerate(x) if not _is_number(v)))
                exc.scope = (loc, 0)
                raise exc

        return check_numbers
    sub = _compile(schema, loc, memo)

    def check(x: Any) -> None:
        if isinstance(x, list):
            for i, item in enumerate(x):
                try:
                    sub(item)
                except Invalid as exc:
                    if exc.scope is None:
                        exc.scope = (loc, len(exc.parts))
                    exc.parts.append(i)
                    raise

    return check


def _conditional(schema: Any, loc: str, memo: _Memo) -> Check:
    condition = _compile(schema["if"], f"{loc}/if", memo)
    then = _compile(schema.get("then", True), f"{loc}/then", memo)
    otherwise = _compile(schema.get("else", True), f"{loc}/else", memo)

    def check(x: Any) -> None:
        try:
            condition(x)
        except Invalid:
            otherwise(x)
        else:
            then(x)

    return check


def _discriminated(branches: list[Any], loc: str, memo: _Memo) -> Check | None:
    """One dict lookup for ``allOf: [{if: {required: [k], properties: {k: {const: v}}}, then}]``."""
    key, table = None, {}
    for i, branch in enumerate(branches):
        cond: Any = branch.get("if") if isinstance(branch, dict) else None
        if not (isinstance(cond, dict) and set(branch) == {"if", "then"}):
            return None
        required: Any = cond.get("required")
        props: Any = cond.get("properties")
        if set(cond) != {"required", "properties"} or len(required) != 1 or len(props) != 1:
            return None
        k = required[0]
        value = props.get(k, {}).get("const")
        if props.get(k) != {"const": value} or not isinstance(value, str) or key not in (None, k):
            return None
        key = k
        table[value] = _compile(branch["then"], f"{loc}/allOf/{i}/then", memo)

    def check(x: Any) -> None:
        value = x.get(key) if isinstance(x, dict) else None
        then = table.get(value) if isinstance(value, str) else None
        if then is not None:
            then(x)

    return check
