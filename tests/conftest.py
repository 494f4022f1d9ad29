"""Shared fixtures: paths to the real inputs in ../shared/data (never copied into the repo)."""

from __future__ import annotations

import importlib
import importlib.util
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


@pytest.fixture(scope="session", autouse=True)
def _kernels_loaded():
    """Load the compiled kernels (compiling them on a new machine) before any test, so that
    engine "auto" takes the same path in every test of a run: without this the first small
    model would start a background build and "auto" would turn from NumPy to the kernels
    somewhere in the run, whenever that build ends (likewise in the processes tests start)."""
    if importlib.util.find_spec("numba") is not None:
        impl = importlib.import_module("hfx.optimize._kernel_impl")
        if impl._CACHE_ROOT is not None:
            # and the ahead-of-time ones, which processes the tests start then load
            from hfx.optimize.kernel_build import build_aot_if_missing

            build_aot_if_missing(impl._CACHE_ROOT)
