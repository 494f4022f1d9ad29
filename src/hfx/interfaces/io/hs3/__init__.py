"""HS3 (HEP Statistics Serialization Standard) <-> HistFactory JSON workspaces.

:func:`workspace_to_hs3` writes the dialect ROOT's ``RooJSONFactoryWSTool`` reads and
writes (checked with ROOT 6.40); :func:`hs3_to_workspace` reads it back, and ROOT's own
exports.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from hfx.interfaces.io.hs3.export import workspace_to_hs3
from hfx.interfaces.io.hs3.importer import hs3_to_workspace

__all__ = ["hs3_to_workspace", "read_hs3", "workspace_to_hs3", "write_hs3"]

PathLike = str | os.PathLike[str]


def read_hs3(
    path: PathLike, *, likelihood: str | None = None, poi: str | None = None
) -> dict[str, Any]:
    """Read an HS3 JSON file (``-`` for stdin) into a validated JSON workspace dict."""
    from hfx.spec.jsonio import load_json, source_name

    return hs3_to_workspace(
        load_json(path), likelihood=likelihood, poi=poi, source=source_name(path)
    )


def write_hs3(
    spec: Mapping[str, Any] | Any,
    path: PathLike,
    *,
    measurement: str | None = None,
    modifier_settings: Mapping[str, Mapping[str, str]] | None = None,
) -> None:
    """Write a workspace as an HS3 JSON file, atomically (complete or not at all)."""
    from hfx.spec.jsonio import write_json_atomic

    doc = workspace_to_hs3(spec, measurement=measurement, modifier_settings=modifier_settings)
    write_json_atomic(path, doc)
