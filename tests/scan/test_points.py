"""Where scan points come from: patchsets, pallet folders, patch files; what is refused."""

from __future__ import annotations

import copy
import json

import pytest

import hfx
from hfx.errors import PatchError
from hfx.interfaces.scan.points import collect_points, find_pallet_workspace

from .conftest import BKG, patchset_spec, signal_patch


def test_points_of_a_patchset_file_keep_its_order_labels_and_patches(grid_files):
    _, ps_file = grid_files
    collected = collect_points([ps_file])
    spec = patchset_spec()
    assert collected.labels == ("m1", "m2")
    assert [p.name for p in collected.points] == [e["metadata"]["name"] for e in spec["patches"]]
    assert collected.points[0].values == (300, 0)
    assert list(collected.points[0].operations) == spec["patches"][0]["patch"]
    assert len(collected.patchsets) == 1


def test_a_pallet_folder_gives_its_patchsets_and_its_background(grid_files):
    bkg, ps_file = grid_files
    folder = ps_file.parent
    assert find_pallet_workspace(folder) == bkg
    assert len(collect_points([folder]).points) == len(patchset_spec()["patches"])


def test_patch_files_bare_or_with_metadata(tmp_path):
    bare = tmp_path / "sig_a.json"
    bare.write_text(json.dumps(signal_patch(400, 0)))
    named = tmp_path / "b.json"
    named.write_text(
        json.dumps(
            {"metadata": {"name": "sig_b", "values": [500, 100]}, "patch": signal_patch(500, 100)}
        )
    )
    collected = collect_points([bare, named])
    assert [(p.name, p.values) for p in collected.points] == [("sig_a", ()), ("sig_b", (500, 100))]
    assert collected.labels == ("value0", "value1")


def test_duplicate_names_across_sources_are_refused(grid_files, tmp_path):
    _, ps_file = grid_files
    again = tmp_path / "again.json"
    again.write_text(ps_file.read_text())
    with pytest.raises(PatchError, match="two points are named 'p_300_0'"):
        collect_points([ps_file, again])


def test_duplicate_names_inside_a_patchset_are_refused(tmp_path):
    spec = patchset_spec()
    spec["patches"][1]["metadata"]["name"] = spec["patches"][0]["metadata"]["name"]
    path = tmp_path / "ps.json"
    path.write_text(json.dumps(spec))
    with pytest.raises(PatchError, match="p_300_0") as info:
        collect_points([path])
    assert "ps.json" in str(info.value)


def test_values_and_labels_of_different_length_are_refused(tmp_path):
    spec = patchset_spec()
    spec["patches"][2]["metadata"]["values"] = [400]
    path = tmp_path / "ps.json"
    path.write_text(json.dumps(spec))
    with pytest.raises(PatchError, match=r"p_400_0.* has 1 value, but the patchset has 2 labels"):
        collect_points([path])


def test_patchsets_of_different_labels_are_refused(tmp_path):
    other = patchset_spec()
    other["metadata"]["labels"] = ["mass", "width"]
    for entry in other["patches"]:
        entry["metadata"]["name"] += "_other"
    with pytest.raises(PatchError, match="labels"):
        collect_points([hfx.PatchSet(patchset_spec()), hfx.PatchSet(other)])


def test_an_empty_patchset_or_no_input_is_refused(tmp_path):
    spec = patchset_spec()
    spec["patches"] = []
    path = tmp_path / "empty.json"
    path.write_text(json.dumps(spec))
    with pytest.raises(PatchError) as info:
        collect_points([path])
    assert "empty.json" in str(info.value) or "no signal points" in str(info.value)
    with pytest.raises(PatchError, match="no signal points"):
        collect_points([])


def test_a_folder_without_a_patchset_is_refused(tmp_path):
    (tmp_path / "BkgOnly.json").write_text(json.dumps(copy.deepcopy(BKG)))
    with pytest.raises(PatchError, match="no patchset in this folder"):
        collect_points([tmp_path])
