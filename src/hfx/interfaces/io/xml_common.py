"""Attribute parsing and messages shared by the HistFactory XML reader's parts."""

from __future__ import annotations

import warnings
from collections.abc import Iterable

from hfx.errors import HfxWarning, SpecError
from hfx.interfaces.io.safe_xml import XmlNode

__all__ = [
    "SPEC_VERSION",
    "check_attributes",
    "fail",
    "get_bool",
    "get_float",
    "get_name",
    "get_text",
    "warn",
]

SPEC_VERSION = "1.0.0"


def fail(source: str, node: XmlNode | None, message: str) -> SpecError:
    """A :class:`SpecError` naming the file and (when given) the element and its line."""
    where = f"{node.describe()}: " if node is not None else ""
    return SpecError(f"{where}{message}", source=source)


def warn(source: str, node: XmlNode | None, message: str) -> None:
    """Emit an :class:`HfxWarning` naming the file and (when given) the element."""
    where = f"{node.describe()}: " if node is not None else ""
    warnings.warn(f"{source}: {where}{message}", HfxWarning, stacklevel=3)


def check_attributes(source: str, node: XmlNode, allowed: Iterable[str]) -> None:
    """Warn about attributes HistFactory does not define for this element (they are ignored)."""
    unknown = sorted(set(node.attrib) - set(allowed))
    if unknown:
        warn(source, node, f"ignoring unknown attribute(s) {', '.join(unknown)}")


def get_text(source: str, node: XmlNode, attr: str, default: str | None = None) -> str:
    """A string attribute; missing without a default is an error."""
    value = node.attrib.get(attr, default)
    if value is None:
        raise fail(source, node, f"missing attribute {attr}")
    return value


def get_name(source: str, node: XmlNode) -> str:
    """The required, non-empty ``Name`` attribute."""
    name = node.attrib.get("Name", "").strip()
    if not name:
        raise fail(source, node, "missing or empty attribute Name")
    return name


def get_float(source: str, node: XmlNode, attr: str, default: float | None = None) -> float:
    """A number attribute (``1.``, ``.3``, ``1e-2`` all parse); missing needs a default."""
    raw = node.attrib.get(attr)
    if raw is None:
        if default is None:
            raise fail(source, node, f"missing attribute {attr}")
        return default
    try:
        return float(raw)
    except ValueError:
        raise fail(source, node, f"attribute {attr}={raw!r} is not a number") from None


def get_bool(source: str, node: XmlNode, attr: str, default: bool) -> bool:
    """A ``True``/``False`` attribute (HistFactory also accepts ``true``/``false``)."""
    raw = node.attrib.get(attr)
    if raw is None:
        return default
    if raw in ("True", "true"):
        return True
    if raw in ("False", "false"):
        return False
    raise fail(source, node, f"attribute {attr}={raw!r} must be True or False")
