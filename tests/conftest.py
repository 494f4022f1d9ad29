"""Shared fixtures: paths to the real inputs in ../shared/data (never copied into the repo)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
ATLAS_WS = SHARED / "workspaces" / "atlas"
ATLAS_REF = SHARED / "reference" / "atlas"
ATLAS_NAMES = (
    sorted(p.name[: -len(".json")] for p in ATLAS_REF.glob("*.json")) if ATLAS_REF.is_dir() else []
)


def needs_shared():
    return pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data not present")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared/data not present")
    return SHARED


def load_atlas(name: str) -> tuple[dict, list, dict]:
    """(workspace spec, signal patch ops, reference values) for one shared ATLAS workspace."""
    ws = json.loads((ATLAS_WS / f"{name}.json").read_text())
    patch = json.loads((ATLAS_WS / f"{name}.signal.json").read_text())
    ref = json.loads((ATLAS_REF / f"{name}.json").read_text())
    return ws, patch, ref
