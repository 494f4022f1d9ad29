"""JSON Patch application and PatchSets, on the shared ATLAS workspaces and small specs."""

from __future__ import annotations

import copy
import json

import pytest

from hfx.errors import PatchError, SpecError
from hfx.spec.patches import Patch, PatchSet, apply_patch
from hfx.spec.workspace import Workspace
from tests.conftest import ATLAS_WS
from tests.spec.test_operations import ATLAS, EXAMPLE, PYHF_DIGESTS, needs_atlas

# pyhf 0.7.6: pyhf.utils.digest of 2018-31_simplifiedA.json, and of it with its signal patch
SIMPLIFIED_SHA256 = "12ef61a1bb88ca4f8e414dedcccf55ab98b1e32a6230a8e3acfb52a603778367"
SIMPLIFIED_MD5 = "b61343734c5c5050b85e759b8d3aa089"
SIMPLIFIED_SIGNAL_SHA256 = "f8fb16606e3ee03cde70aeeb91452987dc2de42a15d74c7cadf54fa5c915ebf7"


def atlas(name: str) -> tuple[dict, list]:
    spec = json.loads((ATLAS_WS / f"{name}.json").read_text())
    ops = json.loads((ATLAS_WS / f"{name}.signal.json").read_text())
    return spec, ops


def patchset_doc(name: str, **digests: str) -> dict:
    """A one-patch patchset (labels ['mass']) wrapping the workspace's .signal.json patch."""
    _, ops = atlas(name)
    return {
        "metadata": {
            "name": name,
            "description": f"signal for {name}",
            "digests": digests or {"sha256": PYHF_DIGESTS[name]["sha256"]},
            "labels": ["mass"],
            "references": {"hepdata": "ins0000000"},
        },
        "patches": [{"metadata": {"name": "signal_300", "values": [300]}, "patch": ops}],
        "version": "1.0.0",
    }


def grid_doc() -> dict:
    """A two-label patchset on the small docs example (digests of EXAMPLE)."""
    entries = []
    for m1, m2 in [(100, 50.5), (200, 0.1 + 0.2), (300, 0.0)]:
        ops = [{"op": "replace", "path": "/channels/0/samples/0/data", "value": [m1 / 10, m2]}]
        name = f"sig_{m1}_{int(m2)}"
        entries.append({"metadata": {"name": name, "values": [m1, m2]}, "patch": ops})
    return {
        "metadata": {
            "description": "grid",
            "digests": {"sha256": Workspace(EXAMPLE).digest()},
            "labels": ["m1", "m2"],
            "references": {"hepdata": "ins0000000"},
        },
        "patches": entries,
        "version": "1.0.0",
    }


# --- apply_patch -------------------------------------------------------------------------
@needs_atlas
@pytest.mark.parametrize("name", ATLAS)
def test_every_atlas_signal_patch_adds_a_signal_sample(name):
    spec, ops = atlas(name)
    before = copy.deepcopy((spec, ops))
    patched = apply_patch(spec, ops, source=f"{name}.signal.json")
    assert (spec, ops) == before  # inputs untouched
    assert "signal" in Workspace(patched).samples
    assert "signal" not in Workspace(spec).samples
    assert Workspace(patched).digest() == PYHF_DIGESTS[name]["signal"]
    assert Workspace(spec).apply_patches([ops]).digest() == PYHF_DIGESTS[name]["signal"]
    # the result shares nothing with the patch document
    patched["channels"][0]["samples"][-1]["name"] = "changed"
    assert ops == before[1]


@pytest.mark.parametrize(
    ("ops", "pattern"),
    [
        (
            [{"op": "add", "path": "/channels/9/samples/-", "value": {}}],
            r"patch op 0 \(add /channels/9/samples/-\): .*out of bounds",
        ),
        (
            [
                {"op": "test", "path": "/version", "value": "1.0.0"},
                {"op": "remove", "path": "/nothing"},
            ],
            r"patch op 1 \(remove /nothing\)",
        ),
        ([{"op": "test", "path": "/version", "value": "2"}], r"patch op 0 \(test /version\): test"),
        ([{"op": "move", "from": "/zz", "path": "/b"}], r"patch op 0 \(move /zz -> /b\)"),
        ({"op": "add", "path": "/a", "value": 1}, r"list of operations"),
        ([{"op": "add", "path": "", "value": [1]}], r"not an object"),
    ],
)
def test_apply_patch_errors_name_op_and_path(ops, pattern):
    with pytest.raises(PatchError, match=pattern) as info:
        apply_patch(EXAMPLE, ops, source="sig.json")
    assert info.value.source == "sig.json"
    assert str(info.value).startswith("sig.json: ")
    assert len(str(info.value)) < 400  # never quotes the whole workspace


@pytest.mark.parametrize(
    ("ops", "pointer", "pattern"),
    [
        ([{"op": "frobnicate", "path": "/a"}], "/0/op", "frobnicate"),
        (
            [{"op": "test", "path": "/version", "value": "1.0.0"}, {"op": "add", "path": "/a"}],
            "/1",
            "value",
        ),
        ([{"op": "add", "path": "channels", "value": 1}], "/0/path", "channels"),
        (["not an op"], "/0", "object"),
        ([{"op": "move", "from": "/a", "path": "/a/b"}], "/0/from", "own child"),
    ],
)
def test_malformed_ops_are_rejected_before_applying(ops, pointer, pattern):
    with pytest.raises(PatchError, match=pattern) as info:
        apply_patch(EXAMPLE, ops, source="sig.json")
    assert info.value.pointer == pointer
    assert info.value.source == "sig.json"


def test_apply_patch_on_root_and_purity():
    spec = copy.deepcopy(EXAMPLE)
    out = apply_patch(
        spec, [{"op": "replace", "path": "/observations/0/data", "value": [1.0, 2.0]}]
    )
    assert out["observations"][0]["data"] == [1.0, 2.0]
    assert spec == EXAMPLE
    assert apply_patch(spec, []) == EXAMPLE


# --- PatchSet ----------------------------------------------------------------------------
@needs_atlas
@pytest.mark.parametrize("name", ATLAS)
def test_atlas_patchset_apply(name):
    spec, _ = atlas(name)
    ps = PatchSet(patchset_doc(name), source=f"{name}.patchset.json")
    assert len(ps) == 1
    assert ps.labels == ("mass",)
    assert ps.name == name
    result = ps.apply(Workspace(spec), "signal_300")
    assert isinstance(result, Workspace)
    assert "signal" in result.samples
    assert result.digest() == PYHF_DIGESTS[name]["signal"]
    assert ps.apply(spec, (300,)) == result  # a plain spec works too


@needs_atlas
def test_patchset_properties_and_load(tmp_path):
    doc = patchset_doc("2018-31_simplifiedA", sha256=SIMPLIFIED_SHA256, md5=SIMPLIFIED_MD5)
    path = tmp_path / "ps.json"
    path.write_text(json.dumps(doc))
    ps = PatchSet.load(path)
    assert ps.source == str(path)
    assert ps.description == "signal for 2018-31_simplifiedA"
    assert ps.digests == {"sha256": SIMPLIFIED_SHA256, "md5": SIMPLIFIED_MD5}
    assert ps.references == {"hepdata": "ins0000000"}
    assert ps.version == "1.0.0"
    assert [p.name for p in ps] == ["signal_300"]
    assert ps.patches[0] is ps["signal_300"]
    assert ps.to_dict() == doc
    ws = Workspace.load(ATLAS_WS / "2018-31_simplifiedA.json")
    ps.verify(ws)
    assert ps.apply(ws, [300.0]).digest() == SIMPLIFIED_SIGNAL_SHA256


def test_patch_lookup_by_name_and_values():
    ps = PatchSet(grid_doc())
    assert len(ps) == 3
    first = ps["sig_100_50"]
    assert ps[(100, 50.5)] is first
    assert ps[[100.0, 50.5]] is first
    assert ps[(200, 0.3)] is ps["sig_200_0"]  # 0.1 + 0.2 within 1e-12 relative
    assert ps[(300, 0.0)].name == "sig_300_0"
    with pytest.raises(PatchError, match="no patch with values"):
        ps[(200, 0.3 + 1e-9)]
    with pytest.raises(PatchError, match="close names: 'sig_100_50'"):
        ps["sig_100_51"]
    with pytest.raises(PatchError, match=r"closest: sig_300_0"):
        ps[(299, 0.0)]
    with pytest.raises(PatchError, match="by name"):
        ps[100]
    with pytest.raises(PatchError):
        ps[(100,)]


def test_patch_objects():
    ps = PatchSet(grid_doc())
    patch = ps["sig_100_50"]
    assert patch.values == (100, 50.5)
    assert patch.metadata == {"name": "sig_100_50", "values": [100, 50.5]}
    assert patch.patch == patch.operations
    assert patch.patch is not patch.operations
    assert patch == Patch.from_dict(grid_doc()["patches"][0])
    assert patch != ps["sig_200_0"]
    assert hash(patch) == hash(Patch.from_dict(grid_doc()["patches"][0]))
    with pytest.raises(AttributeError):
        patch.name = "other"
    out = patch.apply(Workspace(EXAMPLE))
    assert out.spec["channels"][0]["samples"][0]["data"] == [10.0, 50.5]
    assert patch.apply(EXAMPLE) == out
    assert Workspace(EXAMPLE).apply_patches([patch]) == out
    assert Workspace(EXAMPLE).model  # the workspace API is still there


def test_verify_digest_mismatch_names_algorithm_and_digests():
    doc = grid_doc()
    other = copy.deepcopy(EXAMPLE)
    other["observations"][0]["data"] = [51.0, 60.0]
    ps = PatchSet(doc, source="grid.json")
    ps.verify(Workspace(EXAMPLE))
    actual = Workspace(other).digest()
    with pytest.raises(
        PatchError, match=f"sha256: expected {doc['metadata']['digests']['sha256']}, got {actual}"
    ):
        ps.apply(Workspace(other), "sig_100_50")

    doc["metadata"]["digests"]["md5"] = "0" * 32
    with pytest.raises(PatchError, match=r"md5: expected 0{32}, got "):
        PatchSet(doc).verify(EXAMPLE)
    doc["metadata"]["digests"] = {"whirlpool9": "ab"}
    with pytest.raises(PatchError, match="whirlpool9"):
        PatchSet(doc).verify(EXAMPLE)


VALUES_MISMATCH = (
    lambda d: d["patches"][1]["metadata"].update(values=[1]),
    "/patches/1/metadata/values",
)
NAME_TWICE = (
    lambda d: d["patches"][2]["metadata"].update(name="sig_100_50"),
    "/patches/2/metadata/name",
)
VALUES_TWICE = (
    lambda d: d["patches"][2]["metadata"].update(values=[100, 50.5]),
    "/patches/2/metadata/values",
)


@pytest.mark.parametrize(
    ("edit", "pointer"),
    [
        VALUES_MISMATCH,
        NAME_TWICE,
        VALUES_TWICE,
        (lambda d: d.pop("metadata"), ""),
        (lambda d: d["metadata"].pop("labels"), "/metadata"),
        (lambda d: d.update(patches={}), "/patches"),
        (lambda d: d["patches"].append(3), "/patches/3"),
        (lambda d: d["patches"][0]["metadata"].pop("name"), "/patches/0/metadata"),
    ],
)
def test_inconsistent_patchsets_raise_patch_error_with_pointer(edit, pointer):
    doc = grid_doc()
    edit(doc)
    with pytest.raises(PatchError) as info:
        PatchSet(doc, source="grid.json")
    assert info.value.pointer == pointer
    assert info.value.source == "grid.json"


@pytest.mark.parametrize(
    ("edit", "pattern"),
    [
        (VALUES_MISMATCH, "'sig_200_0' has 1 values but the patchset has 2 labels"),
        (NAME_TWICE, "two patches are named 'sig_100_50'"),
        (VALUES_TWICE, "'sig_100_50' and 'sig_300_0' have the same values"),
    ],
)
def test_patchset_consistency_without_the_validator(monkeypatch, edit, pattern):
    """PatchSet's own checks hold even if schema/semantic validation is bypassed."""
    monkeypatch.setattr("hfx.spec.patches.validate_patchset", lambda spec, source=None: None)
    doc = grid_doc()
    edit[0](doc)
    with pytest.raises(PatchError, match=pattern) as info:
        PatchSet(doc, source="grid.json")
    assert info.value.pointer == edit[1]


def test_patchset_must_be_an_object_and_errors_are_spec_errors():
    with pytest.raises(SpecError):
        PatchSet([], source="x.json")
    assert issubclass(PatchError, SpecError)


def test_patchset_does_not_keep_references_to_input():
    doc = grid_doc()
    ps = PatchSet(doc)
    doc["patches"][0]["patch"][0]["value"] = [0.0, 0.0]
    doc["metadata"]["labels"].append("m3")
    assert ps.labels == ("m1", "m2")
    assert ps["sig_100_50"].operations[0]["value"] == [10.0, 50.5]
