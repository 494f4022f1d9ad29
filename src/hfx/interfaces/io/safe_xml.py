"""A small, safe XML reader for HistFactory configuration files.

The parser is the standard library's expat, driven directly: no DTD is ever loaded, no
network or file is touched while parsing, and a document that declares any entity
(general or parameter, internal or external) is refused at the declaration, before
anything could be expanded.  That rules out external-entity reads and entity-expansion
bombs ("billion laughs").  Comments and processing instructions are skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers import expat

from hfx.errors import SpecError

__all__ = ["MAX_XML_BYTES", "XmlNode", "parse_xml_bytes", "parse_xml_file"]

# HistFactory files are a few kB; this bounds memory for a wrong file given by mistake.
MAX_XML_BYTES = 64 * 1024 * 1024


@dataclass
class XmlNode:
    """One XML element: tag, attributes, text, child elements and its line in the file."""

    tag: str
    attrib: dict[str, str]
    line: int
    children: list[XmlNode] = field(default_factory=list)
    text: str = ""

    def find_all(self, tag: str) -> list[XmlNode]:
        """The direct children with this tag, in document order."""
        return [child for child in self.children if child.tag == tag]

    def describe(self) -> str:
        """``<Tag Name='x'> (line N)``, for messages."""
        name = self.attrib.get("Name")
        label = f"<{self.tag} Name={name!r}>" if name is not None else f"<{self.tag}>"
        return f"{label} (line {self.line})"


class _Builder:
    def __init__(self, source: str):
        self.source = source
        self.stack: list[XmlNode] = []
        self.root: XmlNode | None = None
        self.parser = expat.ParserCreate()
        p = self.parser
        p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        p.StartElementHandler = self.start
        p.EndElementHandler = self.end
        p.CharacterDataHandler = self.chars
        p.EntityDeclHandler = self.refuse_entity
        p.UnparsedEntityDeclHandler = self.refuse_unparsed
        p.ExternalEntityRefHandler = self.refuse_external
        p.ordered_attributes = False

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        node = XmlNode(tag, dict(attrib), self.parser.CurrentLineNumber)
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)

    def end(self, tag: str) -> None:
        node = self.stack.pop()
        node.text = node.text.strip()

    def chars(self, data: str) -> None:
        if self.stack:
            self.stack[-1].text += data

    def _refuse(self, what: str) -> None:
        raise SpecError(
            f"line {self.parser.CurrentLineNumber}: {what}; HistFactory files need none and "
            "hfx refuses them (they can read other files or expand without bound)",
            source=self.source,
        )

    def refuse_entity(self, name: str, is_parameter: bool, *_: Any) -> None:
        kind = "parameter entity" if is_parameter else "entity"
        self._refuse(f"the document declares the {kind} {name!r}")

    def refuse_unparsed(self, name: str, *_: Any) -> None:
        self._refuse(f"the document declares the unparsed entity {name!r}")

    def refuse_external(self, *_: Any) -> int:
        self._refuse("the document refers to an external entity")
        return 0


def parse_xml_bytes(data: bytes, *, source: str) -> XmlNode:
    """Parse XML ``data`` into an :class:`XmlNode` tree; errors name ``source`` and the line."""
    if len(data) > MAX_XML_BYTES:
        raise SpecError(f"larger than {MAX_XML_BYTES} bytes; not a HistFactory file", source=source)
    builder = _Builder(source)
    try:
        builder.parser.Parse(data, True)
    except expat.ExpatError as exc:
        message = expat.errors.messages.get(exc.code, str(exc))
        raise SpecError(
            f"malformed XML at line {exc.lineno}, column {exc.offset + 1}: {message}",
            source=source,
        ) from None
    if builder.root is None:  # pragma: no cover - expat reports "no element found" first
        raise SpecError("no XML element found", source=source)
    return builder.root


def parse_xml_file(path: Path, *, source: str | None = None) -> XmlNode:
    """Read and parse the XML file at ``path``."""
    name = source or str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SpecError("no such file", source=name) from None
    except IsADirectoryError:
        raise SpecError("is a directory, expected an XML file", source=name) from None
    except OSError as exc:
        raise SpecError(f"cannot read file: {exc.strerror}", source=name) from None
    return parse_xml_bytes(data, source=name)
