"""Small hand-written documents and pointer-based editing for the spec validation tests."""

from __future__ import annotations

import copy
from typing import Any


def small_workspace() -> dict[str, Any]:
    """Two channels using all seven modifier types (normsys and histosys share 'jes')."""
    return {
        "channels": [
            {
                "name": "SR",
                "samples": [
                    {
                        "name": "signal",
                        "data": [5.0, 3.0],
                        "modifiers": [
                            {"name": "mu", "type": "normfactor", "data": None},
                            {"name": "lumi", "type": "lumi", "data": None},
                            {"name": "jes", "type": "normsys", "data": {"hi": 1.1, "lo": 0.9}},
                            {
                                "name": "jes",
                                "type": "histosys",
                                "data": {"hi_data": [5.5, 3.2], "lo_data": [4.5, 2.8]},
                            },
                        ],
                    },
                    {
                        "name": "bkg",
                        "data": [50.0, 52.0],
                        "modifiers": [
                            {"name": "uncorr", "type": "shapesys", "data": [3.0, 7.0]},
                            {"name": "staterror_SR", "type": "staterror", "data": [1.0, 1.5]},
                            {"name": "lumi", "type": "lumi", "data": None},
                        ],
                    },
                ],
            },
            {
                "name": "CR",
                "samples": [
                    {
                        "name": "bkg",
                        "data": [100.0],
                        "modifiers": [
                            {"name": "shape_cr", "type": "shapefactor", "data": None},
                            {"name": "staterror_CR", "type": "staterror", "data": [2.0]},
                        ],
                    }
                ],
            },
        ],
        "observations": [
            {"name": "SR", "data": [53.0, 55.0]},
            {"name": "CR", "data": [101.0]},
        ],
        "measurements": [
            {
                "name": "meas",
                "config": {
                    "poi": "mu",
                    "parameters": [
                        {
                            "name": "lumi",
                            "auxdata": [1.0],
                            "sigmas": [0.02],
                            "bounds": [[0.9, 1.1]],
                            "inits": [1.0],
                        },
                        {"name": "mu", "bounds": [[0.0, 10.0]], "inits": [1.0], "fixed": False},
                    ],
                },
            }
        ],
        "version": "1.0.0",
    }


def signal_patch() -> list[dict[str, Any]]:
    return [
        {
            "op": "add",
            "path": "/channels/1/samples/-",
            "value": {
                "name": "signal",
                "data": [0.5],
                "modifiers": [{"name": "mu", "type": "normfactor", "data": None}],
            },
        },
        {"op": "replace", "path": "/measurements/0/config/poi", "value": "mu"},
    ]


def small_patchset() -> dict[str, Any]:
    return {
        "metadata": {
            "name": "toy",
            "description": "two signal points",
            "digests": {"sha256": "0123456789abcdef" * 4},
            "labels": ["m1", "m2"],
            "references": {"hepdata": "ins0000000"},
        },
        "patches": [
            {"metadata": {"name": "p_100_10", "values": [100, 10]}, "patch": signal_patch()},
            {"metadata": {"name": "p_200_10", "values": [200, 10]}, "patch": signal_patch()},
        ],
        "version": "1.0.0",
    }


def _split(pointer: str) -> list[Any]:
    parts: list[Any] = []
    for raw in pointer.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        parts.append(int(part) if part.isdigit() else part)
    return parts


def _parent(doc: Any, pointer: str) -> tuple[Any, Any]:
    *head, last = _split(pointer)
    for part in head:
        doc = doc[part]
    return doc, last


def edited(doc: Any, *edits: tuple[str, str, Any]) -> Any:
    """A copy of ``doc`` with edits ``(op, pointer, value)``; op is set, delete or append."""
    doc = copy.deepcopy(doc)
    for op, pointer, value in edits:
        parent, key = _parent(doc, pointer)
        if op == "set":
            parent[key] = value
        elif op == "delete":
            del parent[key]
        elif op == "append":
            parent[key].append(value)
        elif op == "rename":
            parent[value] = parent.pop(key)
        else:
            raise ValueError(op)
    return doc


def walk(doc: Any, path: tuple[Any, ...] = ()):
    """Yield (path, value) for every node of a JSON document, root first."""
    yield path, doc
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from walk(value, (*path, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from walk(value, (*path, i))
