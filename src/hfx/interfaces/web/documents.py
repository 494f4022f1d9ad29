"""What the web page loads: workspaces, patchsets, patches and scan records, read from
bytes with the same checks and one-line messages as the command line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hfx.errors import HfxError, SpecError
from hfx.interfaces.web.quiet import warnings_as
from hfx.spec.jsonio import parse_json

__all__ = ["Document", "check_depth", "one_line", "read_document", "workspace_summary"]

KINDS = ("workspace", "patchset", "patch", "records")


@dataclass
class Document:
    """A loaded file: its kind, its name, the hfx object and a summary for the page."""

    kind: str
    name: str
    value: Any
    summary: dict[str, Any] = field(default_factory=dict)


def check_depth(document: Any, limit: int, source: str) -> None:
    """Refuse JSON nested more than ``limit`` levels (arrays and objects)."""
    stack = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise SpecError(f"JSON nested more than {limit} levels deep", source=source)
        if isinstance(node, dict):
            stack.extend(
                (child, depth + 1) for child in node.values() if isinstance(child, (dict, list))
            )
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node if isinstance(child, (dict, list)))


def _records(text: bytes, name: str) -> Document:
    from hfx.interfaces.scan.records import _parse_lines, latest_by_name

    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"not UTF-8 text (byte {exc.start})", source=name) from None
    if not decoded.endswith("\n"):
        decoded += "\n"
    with warnings_as("error"):
        try:
            records = list(latest_by_name(_parse_lines(decoded, name)).values())
        except Warning as exc:
            raise SpecError(str(exc)) from None
    if not records:
        raise SpecError("no scan records in this file", source=name)
    return Document("records", name, records, {"points": len(records)})


def read_document(data: bytes, name: str, *, max_depth: int) -> Document:
    """Parse ``data`` (the file ``name``) and check it as what it is: a workspace, a
    patchset, a JSON Patch, or scan records (JSON lines)."""
    if name.endswith(".jsonl"):
        return _records(data, name)
    document = parse_json(data, source=name)
    check_depth(document, max_depth, name)
    if isinstance(document, dict) and "channels" in document:
        from hfx.spec.workspace import Workspace

        ws = Workspace(document, source=name)
        return Document("workspace", name, ws, workspace_summary(ws))
    if isinstance(document, dict) and "patches" in document and "metadata" in document:
        from hfx.spec.patches import PatchSet

        ps = PatchSet(document, source=name)
        summary = {
            "labels": list(ps.labels),
            "points": [{"name": p.name, "values": list(p.values)} for p in ps.patches],
            "digests": ps.digests,
        }
        return Document("patchset", name, ps, summary)
    operations = document.get("patch") if isinstance(document, dict) else document
    if isinstance(operations, list):
        from hfx.spec.validate import validate_jsonpatch

        validate_jsonpatch(operations, source=name)
        return Document("patch", name, operations, {"operations": len(operations)})
    raise SpecError(
        "not a workspace, a patchset, a JSON Patch or scan records (.jsonl)",
        source=name,
        pointer="",
    )


def workspace_summary(ws: Any) -> dict[str, Any]:
    """Channels, samples, modifiers, parameters (with bounds, inits, constraints) and
    measurements of a workspace, as the page shows them."""
    measurement = ws.get_measurement(None)
    with warnings_as("ignore"):  # (a background-only workspace lacks its POI)
        model = ws.model(measurement_name=measurement["name"])
    config = model.config
    bounds = config.suggested_bounds()
    inits = config.suggested_init()
    fixed = config.suggested_fixed()
    samples_in: dict[str, list[str]] = {c: [] for c in ws.channels}
    for channel in ws.spec["channels"]:
        samples_in[channel["name"]] = [s["name"] for s in channel["samples"]]
    parameters = []
    for name in config.par_order:
        part = config.par_slice(name)
        pset = config.param_set(name)
        parameters.append(
            {
                "name": name,
                "n": int(pset.n),
                "bounds": [[float(lo), float(hi)] for lo, hi in bounds[part]],
                "inits": [float(v) for v in inits[part]],
                "fixed": bool(all(fixed[part])),
                "constraint": pset.constraint,
            }
        )
    return {
        "channels": [
            {"name": c, "bins": int(ws.channel_nbins[c]), "samples": samples_in[c]}
            for c in ws.channels
        ],
        "samples": list(ws.samples),
        "modifiers": [{"name": n, "type": t} for n, t in ws.modifiers],
        "parameters": parameters,
        "measurements": list(ws.measurement_names),
        "poi": config.poi_name if config.poi_index is not None else None,
    }


def one_line(exc: BaseException) -> str:
    """The message the command line would print for ``exc`` (without "hfx: error: ")."""
    text = str(exc) if isinstance(exc, HfxError) else f"{type(exc).__name__}: {exc}"
    return " ".join(text.split())
