"""Issue 18 (1): zero nominals, zero uncertainties and zero data on real workspaces give a
finite CLs in [0, 1] or one HfxError, never a NaN (bounded: a few seconds per example)."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import hfx  # noqa: E402

ATLAS = Path(__file__).resolve().parents[3] / "shared" / "data" / "workspaces" / "atlas"
NAMES = ("2018-31_simplifiedA", "2018-14_Comb_bkgonly")
pytestmark = pytest.mark.skipif(
    not all((ATLAS / f"{n}.json").exists() for n in NAMES), reason="shared workspaces absent"
)

_CACHE: dict[str, tuple[dict, list]] = {}


def _load(name: str) -> tuple[dict, list]:
    if name not in _CACHE:
        spec = json.loads((ATLAS / f"{name}.json").read_text())
        patch = json.loads((ATLAS / f"{name}.signal.json").read_text())
        _CACHE[name] = (spec, patch)
    return _CACHE[name]


def _mutate(spec: dict, draw) -> dict:
    spec = copy.deepcopy(spec)
    channel = draw(st.sampled_from(spec["channels"]))
    sample = draw(st.sampled_from(channel["samples"]))
    nbins = len(sample["data"])
    kind = draw(st.sampled_from(["nominal", "modifier", "data", "staterror"]))
    if kind == "nominal":
        i = draw(st.integers(0, nbins - 1))
        sample["data"][i] = 0.0
    elif kind == "staterror":
        sample["modifiers"].append(
            {"name": f"staterror_{channel['name']}", "type": "staterror", "data": [0.0] * nbins}
        )
        sample["data"] = [0.0] * nbins
    elif kind == "data":
        for obs in spec["observations"]:
            if obs["name"] == channel["name"] or draw(st.booleans()):
                obs["data"] = [0.0] * len(obs["data"])
    elif sample["modifiers"]:
        mod = draw(st.sampled_from(sample["modifiers"]))
        if mod["type"] in ("staterror", "shapesys"):
            mod["data"] = [0.0] * nbins
        elif mod["type"] == "normsys":
            mod["data"] = {"hi": 1.0, "lo": 1.0}
        elif mod["type"] == "histosys":
            mod["data"] = {"hi_data": list(sample["data"]), "lo_data": list(sample["data"])}
    return spec


@st.composite
def mutated(draw):
    name = draw(st.sampled_from(NAMES))
    spec, patch = _load(name)
    return _mutate(spec, draw), patch


@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated())
def test_cls_is_finite_or_one_error(case):
    spec, patch = case
    try:
        ws = hfx.Workspace(spec)
        model = ws.model(patches=[patch])
        result = hfx.hypotest(model, ws.data(model), 1.0)
    except hfx.HfxError as exc:
        assert "\n" not in str(exc)
        return
    for value in (result.cls, *result.cls_expected):
        assert math.isfinite(value) and 0.0 <= value <= 1.0
