"""Plain-Python yes/no checks compiled from our JSON Schema files.

jsonschema walks a document at roughly 25 microseconds per node; a large workspace takes
seconds.  :func:`compile_schema` turns a schema (only the keywords our schema files use)
into nested closures that answer "valid or not, and where" at a fraction of that cost;
:func:`compile_predicate` writes the same checks out as Python source, which answers
only "valid or not", several times faster again.  An unknown keyword raises
:class:`Unsupported`, and the caller falls back to jsonschema.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sized
from types import MappingProxyType
from typing import Any
from urllib.parse import urldefrag, urljoin

__all__ = [
    "Check",
    "Invalid",
    "Predicate",
    "Unsupported",
    "compile_predicate",
    "compile_schema",
    "compile_update_predicate",
]


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
_KNOWN = _IGNORED | _OBJECT_WORDS | frozenset(_SIZES)
_KNOWN |= frozenset({"$ref", "type", "enum", "const", "pattern", "items", "allOf", "if"})
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
    _require_known(schema)
    checks: list[Check] = []
    if "$ref" in schema:
        checks.append(_ref(_ref_target(loc, schema["$ref"]), memo))
    kinds = schema.get("type")
    if kinds is not None and kinds != "object":
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not set(kinds) <= _IS_TYPE.keys():
            raise Unsupported(f"type {kinds}")
        tests = [_IS_TYPE[k] for k in kinds]
        checks.append(_test(tests[0] if len(tests) == 1 else lambda x: any(t(x) for t in tests)))
    if "enum" in schema or "const" in schema:
        strings, null_ok = _enum_values(schema)
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


def _require_known(schema: Mapping[str, Any]) -> None:
    if not set(schema) <= _KNOWN:
        raise Unsupported(", ".join(sorted(set(schema) - _KNOWN)))


def _ref_target(loc: str, ref: str) -> str:
    """The memo key (``uri#pointer``) of ``$ref`` ``ref`` met in the schema at ``loc``."""
    target = urljoin(urldefrag(loc).url, ref)
    return target if "#" in target else target + "#"


def _enum_values(schema: Mapping[str, Any]) -> tuple[frozenset[str], bool]:
    """The strings an ``enum``/``const`` allows, and whether it allows null."""
    values = schema["enum"] if "enum" in schema else [schema["const"]]
    if any(v is not None and not isinstance(v, str) for v in values):
        raise Unsupported("enum/const values other than strings and null")
    return frozenset(v for v in values if v is not None), None in values


def _ref(target: str, memo: _Memo) -> Check:
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


def _discriminator(branches: list[Any], loc: str) -> tuple[str, dict[str, tuple[Any, str]]] | None:
    """For ``allOf: [{if: {required: [k], properties: {k: {const: v}}}, then}]``: the key
    ``k`` and, by value ``v``, the ``then`` schema and its location; else None."""
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
        table[value] = (branch["then"], f"{loc}/allOf/{i}/then")
    return None if key is None else (key, table)


def _discriminated(branches: list[Any], loc: str, memo: _Memo) -> Check | None:
    """One dict lookup for ``allOf: [{if: {required: [k], properties: {k: {const: v}}}, then}]``."""
    found = _discriminator(branches, loc)
    if found is None:
        return None
    key, thens = found
    table = {value: _compile(then, where, memo) for value, (then, where) in thens.items()}

    def check(x: Any) -> None:
        value = x.get(key) if isinstance(x, dict) else None
        then = table.get(value) if isinstance(value, str) else None
        if then is not None:
            then(x)

    return check


# --- generated yes/no checks ------------------------------------------------------------
# The closures above call a function per keyword and per node (about a microsecond a node).
# For the common answer, "valid", :func:`compile_predicate` writes the same checks out as
# Python source instead: one function per schema, with ``$ref`` targets, property and item
# checks inlined, so a node costs a few bytecodes.  It answers only yes or no; where it
# says no, the closures find the place.

Predicate = Callable[[Any], bool]

_TYPE_SOURCE: Mapping[str, str] = MappingProxyType(
    {
        "array": "isinstance({0}, list)",
        "boolean": "isinstance({0}, bool)",
        "null": "{0} is None",
        "number": "(type({0}) is float or type({0}) is int or _IS_NUMBER({0}))",
        "object": "isinstance({0}, dict)",
        "string": "isinstance({0}, str)",
    }
)
# a size keyword's Python type: its name in source, its JSON Schema type
_SIZE_SOURCE: Mapping[type[Sized], tuple[str, str]] = MappingProxyType(
    {list: ("list", "array"), str: ("str", "string"), dict: ("dict", "object")}
)
_INLINE_DEPTH = 12  # $ref targets inlined into one another at most this deep; then called


def compile_predicate(doc: dict[str, Any], lookup: Callable[[str], Any]) -> Predicate:
    """A function telling whether an instance is valid against ``doc``; it answers exactly
    as the check of :func:`compile_schema` (True where that one returns, False where it
    raises :class:`Invalid`), but generated as Python source, several times faster."""
    found: Predicate = _Writer(lookup).build(doc, doc["$id"] + "#", twin=False)
    return found


def compile_update_predicate(
    doc: dict[str, Any], lookup: Callable[[str], Any]
) -> Callable[[Any, Any], bool]:
    """``ok(new, old)``: whether ``new`` is valid against ``doc``, given that ``old`` is.

    It answers as the predicate of :func:`compile_predicate` does for ``new``, but skips
    every part of ``new`` that *is* (the same object as) the part of ``old`` at the same
    place and under the same subschema; so a copy-on-write patch of a valid document is
    checked in the time its changes take.  ``old`` must be valid and unchanged since it
    was found so: sharing objects says nothing about a document changed in place.
    """
    found: Callable[[Any, Any], bool] = _Writer(lookup).build(doc, doc["$id"] + "#", twin=True)
    return found


class _Writer:
    """Writes the Python source of a predicate; each ``emit`` adds statements that
    ``return False`` when a variable fails a schema.

    With ``old`` (the name of a variable holding the value at the same place of a valid
    document, or ``_NONE``), the statements skip what ``old`` shares: each property value
    and array item is checked only when it is not the very object found there in ``old``.
    """

    def __init__(self, lookup: Callable[[str], Any]) -> None:
        self.lookup = lookup
        self.names: dict[str, Any] = {"_IS_NUMBER": _IS_TYPE["number"], "_NONE": _NONE}
        self.functions: list[list[str]] = []
        self.by_target: dict[str, str] = {}
        self.count = 0

    def build(self, schema: Any, loc: str, *, twin: bool) -> Any:
        if twin:
            name = self.fresh("_update")
            lines = [f"def {name}(x, o):", "    if x is o: return True"]
            self.functions.append(lines)
            self.emit(schema, loc, "x", lines, 1, (loc,), old="o")
            lines.append("    return True")
        else:
            name = self.function(schema, loc)
        source = "\n".join("\n".join(lines) for lines in self.functions) + "\n"
        namespace = dict(self.names)
        exec(compile(source, f"<hfx schema checks for {loc}>", "exec"), namespace)
        return namespace[name]

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def value(self, value: Any) -> str:
        """Source text for ``value``: a literal for strings and integers, else a name."""
        if type(value) is str or type(value) is int:
            return repr(value)
        name = self.fresh("_C")
        self.names[name] = value
        return name

    def function(self, schema: Any, loc: str) -> str:
        """A new top-level predicate for ``schema`` at ``loc``; returns its name."""
        name = self.fresh("_check")
        self.by_target.setdefault(loc, name)
        lines = [f"def {name}(x):"]
        self.functions.append(lines)
        self.emit(schema, loc, "x", lines, 1, (loc,))
        lines.append("    return True")
        return name

    def emit(
        self,
        schema: Any,
        loc: str,
        var: str,
        out: list[str],
        depth: int,
        stack: tuple[str, ...],
        known: str | None = None,
        old: str | None = None,
    ) -> str | None:
        """Statements (indented ``depth`` levels) that return False when ``var`` fails.

        ``known`` is the JSON type ``var`` is known to have; returns the type known after.
        """
        pad = "    " * depth
        if isinstance(schema, bool):
            if not schema:
                out.append(f"{pad}return False")
            return known
        _require_known(schema)
        if "$ref" in schema:
            target = _ref_target(loc, schema["$ref"])
            if target in stack or len(stack) >= _INLINE_DEPTH:
                name = self.by_target.get(target) or self.function(self.lookup(target), target)
                out.append(f"{pad}if not {name}({var}): return False")
            else:
                target_schema = self.lookup(target)
                stack = (*stack, target)
                known = self.emit(target_schema, target, var, out, depth, stack, known, old)
        kinds = schema.get("type")
        if kinds is not None and kinds != "object":
            kinds = [kinds] if isinstance(kinds, str) else kinds
            if not set(kinds) <= _IS_TYPE.keys():
                raise Unsupported(f"type {kinds}")
            if known is None or known not in kinds:
                test = " or ".join(_TYPE_SOURCE[k].format(var) for k in kinds)
                out.append(f"{pad}if not ({test}): return False")
                known = kinds[0] if len(kinds) == 1 else None
        if "enum" in schema or "const" in schema:
            strings, null_ok = _enum_values(schema)
            allowed = self.value(strings)
            other = f"{var} is None" if null_ok else "False"
            out.append(
                f"{pad}if not (({var} in {allowed}) if isinstance({var}, str) else {other}):"
                " return False"
            )
        if "pattern" in schema:
            search = self.value(re.compile(schema["pattern"]).search)
            guard = "" if known == "string" else f"isinstance({var}, str) and "
            out.append(f"{pad}if {guard}{search}({var}) is None: return False")
        for word, (kind, sign) in _SIZES.items():
            if word in schema:
                bound = self.value(schema[word])
                typename, json_type = _SIZE_SOURCE[kind]
                guard = "" if known == json_type else f"isinstance({var}, {typename}) and "
                wrong = f"len({var}) < {bound}" if sign > 0 else f"len({var}) > {bound}"
                out.append(f"{pad}if {guard}{wrong}: return False")
        if kinds == "object" or _OBJECT_WORDS & schema.keys():
            if kinds == "object" or known == "object":
                if known != "object":
                    out.append(f"{pad}if not isinstance({var}, dict): return False")
                    known = "object"
                self.emit_object(schema, loc, var, out, depth, stack, old)
            else:
                body: list[str] = []
                self.emit_object(schema, loc, var, body, depth + 1, stack, old)
                if body:
                    out.append(f"{pad}if isinstance({var}, dict):")
                    out.extend(body)
        if "items" in schema:
            self.emit_items(schema["items"], f"{loc}/items", var, out, depth, stack, known, old)
        if "allOf" in schema:
            branches = schema["allOf"]
            found = _discriminator(branches, loc)
            if found is None:
                for i, branch in enumerate(branches):
                    where = f"{loc}/allOf/{i}"
                    known = self.emit(branch, where, var, out, depth, stack, known, old)
            else:
                self.emit_dispatch(found, var, out, depth, stack, known, old)
        if "if" in schema:  # (either branch checks the whole value: which one old took is unknown)
            condition = self.function(schema["if"], f"{loc}/if")
            then: list[str] = []
            otherwise: list[str] = []
            self.emit(schema.get("then", True), f"{loc}/then", var, then, depth + 1, stack, known)
            self.emit(
                schema.get("else", True), f"{loc}/else", var, otherwise, depth + 1, stack, known
            )
            if then or otherwise:
                out.append(f"{pad}if {condition}({var}):")
                out.extend(then or [f"{pad}    pass"])
                if otherwise:
                    out.append(f"{pad}else:")
                    out.extend(otherwise)
        return known

    def emit_object(
        self,
        schema: Any,
        loc: str,
        var: str,
        out: list[str],
        depth: int,
        stack: tuple[str, ...],
        old: str | None,
    ) -> None:
        """required, properties, additionalProperties, propertyNames of a known dict."""
        pad = "    " * depth
        required = list(schema.get("required", ()))
        if required:
            missing = " or ".join(f"{self.value(k)} not in {var}" for k in required)
            out.append(f"{pad}if {missing}: return False")
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        names = schema.get("propertyNames")
        declared = self.value(frozenset(props))
        if names is not None:
            key = self.fresh("k")
            body: list[str] = []
            self.emit(names, f"{loc}/propertyNames", key, body, depth + 1, stack)
            if body:
                out.append(f"{pad}for {key} in {var}:")
                out.extend(body)
        if extra is False and set(props) == set(required):  # keys present: count them
            out.append(f"{pad}if len({var}) != {len(props)}: return False")
        elif extra is False:
            out.append(f"{pad}if not {var}.keys() <= {declared}: return False")
        elif extra is not True:
            key, value = self.fresh("k"), self.fresh("v")
            body = []
            self.emit(extra, f"{loc}/additionalProperties", value, body, depth + 2, stack)
            if body:
                out.append(f"{pad}for {key}, {value} in {var}.items():")
                out.append(f"{pad}    if {key} not in {declared}:")
                out.extend(body)
        for k, sub in props.items():
            value = self.fresh("v")
            sure = k in required  # present: checked above
            inner = depth + (0 if sure else 1)
            body = []
            counterpart = None if old is None else self.fresh("o")
            if counterpart is None:
                self.emit(sub, f"{loc}/properties/{k}", value, body, inner, stack)
            else:
                self.emit(
                    sub, f"{loc}/properties/{k}", value, body, inner + 1, stack, None, counterpart
                )
            if not body:
                continue
            name = self.value(k)
            ipad = "    " * inner
            if not sure:
                out.append(f"{pad}if {name} in {var}:")
            out.append(f"{ipad}{value} = {var}[{name}]")
            if counterpart is not None:
                out.append(
                    f"{ipad}{counterpart} = {old}.get({name}, _NONE)"
                    f" if isinstance({old}, dict) else _NONE"
                )
                out.append(f"{ipad}if {value} is not {counterpart}:")
            out.extend(body)

    def emit_items(
        self,
        schema: Any,
        loc: str,
        var: str,
        out: list[str],
        depth: int,
        stack: tuple[str, ...],
        known: str | None,
        old: str | None,
    ) -> None:
        pad = "    " * depth
        guard = "" if known == "array" else f"isinstance({var}, list) and "
        item = self.fresh("e")
        body: list[str] = []
        inner = depth + (1 if guard else 0)
        ipad = "    " * inner
        if schema == {"type": "number"}:  # the common case, without a type switch per item
            test = _TYPE_SOURCE["number"].format(item)
            body.append(f"{ipad}    if not {test}: return False")
            old = None  # numbers: nothing to skip
        elif old is None:
            self.emit(schema, loc, item, body, inner + 1, stack)
        else:
            counterpart = self.fresh("o")
            self.emit(schema, loc, item, body, inner + 3, stack, None, counterpart)
        if not body:
            return
        if guard:
            out.append(f"{pad}if isinstance({var}, list):")
        if old is None:
            out.append(f"{ipad}for {item} in {var}:")
            out.extend(body)
            return
        # items of old at the same index, or (when the lengths differ) anywhere in old
        aligned, olds, index = self.fresh("same"), self.fresh("olds"), self.fresh("i")
        out.append(f"{ipad}{aligned} = isinstance({old}, list) and len({old}) == len({var})")
        out.append(
            f"{ipad}{olds} = {{id(y) for y in {old}}}"
            f" if isinstance({old}, list) and not {aligned} else ()"
        )
        out.append(f"{ipad}for {index}, {item} in enumerate({var}):")
        out.append(f"{ipad}    {counterpart} = {old}[{index}] if {aligned} else _NONE")
        out.append(f"{ipad}    if {item} is not {counterpart} and id({item}) not in {olds}:")
        # an item with no counterpart in old is new throughout: the plain check, which
        # does not look for shared parts, answers the same sooner
        plain = self.function(schema, loc)
        out.append(f"{ipad}        if {counterpart} is _NONE:")
        out.append(f"{ipad}            if not {plain}({item}): return False")
        out.append(f"{ipad}        else:")
        out.extend(body)

    def emit_dispatch(
        self,
        found: tuple[str, dict[str, tuple[Any, str]]],
        var: str,
        out: list[str],
        depth: int,
        stack: tuple[str, ...],
        known: str | None,
        old: str | None,
    ) -> None:
        """``allOf`` of if-const-then branches: the one ``then`` the key's value selects."""
        key, thens = found
        name = self.value(key)
        # old's parts count only where old took the same branch
        counterpart = None if old is None else self.fresh("o")
        branches = []
        for value, (then, where) in thens.items():
            body: list[str] = []
            self.emit(then, where, var, body, depth + 2, stack, known, counterpart)
            if body:
                branches.append((value, body))
        if not branches:
            return
        pad = "    " * depth
        chosen = self.fresh("t")
        getter = f"{var}.get({name})"
        if known == "object":
            out.append(f"{pad}{chosen} = {getter}")
        else:
            out.append(f"{pad}{chosen} = {getter} if isinstance({var}, dict) else None")
        if counterpart is not None:
            out.append(
                f"{pad}{counterpart} = {old} if isinstance({old}, dict)"
                f" and {old}.get({name}) == {chosen} else _NONE"
            )
        out.append(f"{pad}if isinstance({chosen}, str):")
        for i, (value, body) in enumerate(branches):
            word = "if" if i == 0 else "elif"
            out.append(f"{pad}    {word} {chosen} == {self.value(value)}:")
            out.extend(body)


class _NoneSuch:
    """The counterpart of a value that ``old`` does not have (the same object as nothing)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<none such>"


_NONE = _NoneSuch()
