"""Patches given as file paths to ``Workspace.apply_patches`` and ``Workspace.model``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import hfx
from hfx.errors import PatchError, SpecError
from tests.conftest import ATLAS_WS
from tests.spec.test_operations import needs_atlas

NAMES = ["2018-14_Comb_bkgonly", "2018-31_simplifiedA"]


@needs_atlas
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("as_path", [str, Path])
def test_a_patch_file_gives_the_model_of_its_parsed_operations(name, as_path):
    ws = hfx.load(ATLAS_WS / f"{name}.json")
    patch_file = ATLAS_WS / f"{name}.signal.json"
    ops = json.loads(patch_file.read_text())
    from_list = ws.model(patches=[ops])
    from_file = ws.model(patches=[as_path(patch_file)])
    assert from_file.config.par_names == from_list.config.par_names
    assert from_file.config.poi_name == from_list.config.poi_name
    data = np.asarray(ws.data(from_list))
    assert np.array_equal(np.asarray(ws.data(from_file)), data)
    init = from_list.config.suggested_init()
    assert from_file.nll(init, data) == from_list.nll(init, data)
    assert ws.apply_patches([as_path(patch_file)]) == ws.apply_patches([ops])
    # one path on its own is one patch, not a list of one-letter file names
    assert ws.apply_patches(as_path(patch_file)) == ws.apply_patches([ops])


@needs_atlas
def test_patch_file_values_are_not_shared_between_workspaces(tmp_path):
    name = "2018-31_simplifiedA"
    ws = hfx.load(ATLAS_WS / f"{name}.json")
    before = ws.spec
    patch_file = ATLAS_WS / f"{name}.signal.json"
    first = ws.apply_patches([patch_file])
    second = ws.apply_patches([patch_file])
    assert first == second
    assert ws.spec == before  # the base workspace is untouched
    # the samples the patch added are distinct objects in the two results
    added = [
        (c["name"], s["name"])
        for c in first._spec["channels"]
        for s in c["samples"]
        if s["name"] not in {t["name"] for d in before["channels"] for t in d["samples"]}
    ]
    assert added
    for c1, c2 in zip(first._spec["channels"], second._spec["channels"], strict=True):
        for s1, s2 in zip(c1["samples"], c2["samples"], strict=True):
            if (c1["name"], s1["name"]) in added:
                assert s1 is not s2


@needs_atlas
def test_patch_file_with_metadata_wrapper(tmp_path):
    name = "2018-31_simplifiedA"
    ops = json.loads((ATLAS_WS / f"{name}.signal.json").read_text())
    wrapped = tmp_path / "extracted.json"
    wrapped.write_text(json.dumps({"metadata": {"name": "x", "values": [1]}, "patch": ops}))
    ws = hfx.load(ATLAS_WS / f"{name}.json")
    assert ws.apply_patches([wrapped]) == ws.apply_patches([ops])


@needs_atlas
@pytest.mark.parametrize(
    ("text", "error", "says"),
    [
        (None, SpecError, "no such file"),  # (no file written)
        ('{"op": "add"}', PatchError, "list of operations"),
        ('[{"op": "add", "path": "/channels/7/samples/-", "value": {}}]', PatchError, "patch op 0"),
        ('[{"op": "add",', SpecError, ""),
    ],
)
def test_patch_file_errors_name_the_file(tmp_path, text, error, says):
    ws = hfx.load(ATLAS_WS / "2018-31_simplifiedA.json")
    path = tmp_path / "patch.json"
    if text is not None:
        path.write_text(text)
    for use in (lambda: ws.model(patches=[path]), lambda: ws.apply_patches([path])):
        with pytest.raises(error) as err:
            use()
        assert err.value.source == str(path)
        assert says in str(err.value)
