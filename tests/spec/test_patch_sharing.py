"""Copy-on-write patching (what Workspace.apply_patches uses): the same results and errors
as apply_patch, while the patched spec never changes and no object of the ops is kept."""

from __future__ import annotations

import copy
import random
from collections import OrderedDict
from typing import Any

import jsonpatch
import jsonpointer
import pytest

from hfx.errors import PatchError
from hfx.spec.jsonpatch_apply import _describe, _shorten, apply_patch, apply_patch_shared
from hfx.spec.workspace import Workspace
from tests.spec.validate_helpers import small_workspace, walk

VALUES: list[Any] = [1.5, "x", None, [2.0, 3.0], {"name": "n", "data": [1.0]}, {"a": {"b": []}}]


def _pointer(path: tuple[Any, ...]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _random_ops(rng: random.Random, doc: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """Operations on paths of ``doc``: existing ones, ones past an array's end, missing keys."""
    paths = [path for path, _ in walk(doc)]
    ops: list[dict[str, Any]] = []
    for _ in range(n):
        path = rng.choice(paths)
        where = rng.choice(["same", "same", "end", "missing", "index"])
        if where == "end":
            path = (*path, "-")
        elif where == "missing":
            path = (*path, "nope")
        elif where == "index":
            path = (*path, rng.choice([0, 1, 5, "01", "-1"]))
        kind = rng.choice(["add", "add", "replace", "remove", "copy", "move", "test"])
        op: dict[str, Any] = {"op": kind, "path": _pointer(path)}
        if kind in ("add", "replace", "test"):
            op["value"] = copy.deepcopy(rng.choice(VALUES))
        if kind in ("copy", "move"):
            op["from"] = _pointer(rng.choice(paths))
            if op["path"].startswith(op["from"] + "/"):
                op["from"] = "/version"
        ops.append(op)
    return ops


def _container(node: Any) -> bool:
    return isinstance(node, (dict, list))


def _outcome(apply: Any, spec: dict[str, Any], ops: list[dict[str, Any]]) -> Any:
    try:
        return apply(spec, ops, source="p.json")
    except PatchError as exc:
        return ("PatchError", str(exc), exc.pointer)


def _by_jsonpatch(spec: dict[str, Any], ops: list[dict[str, Any]], source: str) -> Any:
    """What apply_patch did before its shortcuts: every operation through jsonpatch."""
    doc: Any = copy.deepcopy(spec)
    for index, op in enumerate(ops):
        try:
            doc = jsonpatch.JsonPatch([copy.deepcopy(op)]).apply(doc, in_place=True)
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
            reason = "test failed: " if isinstance(exc, jsonpatch.JsonPatchTestFailed) else ""
            message = f"patch op {index} ({_describe(op)}): {reason}{_shorten(str(exc))}"
            return ("PatchError", f"{source}: {message}", None)
    if not isinstance(doc, dict):
        message = f"the patch turns the workspace into a {type(doc).__name__}, not an object"
        return ("PatchError", f"{source}: {message}", None)
    return doc


@pytest.mark.parametrize("seed", range(60))
def test_shared_patching_agrees_with_copying_and_changes_nothing(seed):
    rng = random.Random(seed)
    spec = small_workspace()
    saved = copy.deepcopy(spec)
    for length in (1, 2, 3, 6):
        ops = _random_ops(rng, spec, length)
        ops_saved = copy.deepcopy(ops)
        expected = _outcome(apply_patch, spec, ops)
        got = _outcome(apply_patch_shared, spec, ops)
        assert got == expected, ops
        assert got == _by_jsonpatch(spec, ops, "p.json"), ops
        assert spec == saved, ops  # the source is never changed ...
        assert ops == ops_saved, ops
        if isinstance(got, dict):  # ... and no object of the ops ends up in the result
            op_ids = {id(node) for op in ops for _, node in walk(op) if _container(node)}
            assert not op_ids & {id(node) for _, node in walk(got) if _container(node)}, ops
            # a second patch on the result (as with several patches) changes neither
            got_saved = copy.deepcopy(got)
            more = _random_ops(rng, got, 2)
            assert _outcome(apply_patch_shared, got, more) == _outcome(apply_patch, got, more)
            assert got == got_saved, more
            assert spec == saved, more


def test_shared_patching_copies_only_the_changed_path():
    spec = small_workspace()
    ops = [{"op": "add", "path": "/channels/0/samples/-", "value": {"name": "s", "data": []}}]
    out = apply_patch_shared(spec, ops)
    assert out["channels"] is not spec["channels"]
    assert out["channels"][0] is not spec["channels"][0]
    assert out["channels"][1] is spec["channels"][1]
    assert out["channels"][0]["samples"][0] is spec["channels"][0]["samples"][0]
    assert out["observations"] is spec["observations"]
    assert len(spec["channels"][0]["samples"]) == 2


def test_shared_patching_copies_containers_other_than_dicts_and_lists():
    spec = small_workspace()
    spec["channels"] = tuple(spec["channels"])
    spec["channels"][0]["samples"][0] = OrderedDict(spec["channels"][0]["samples"][0])
    saved = copy.deepcopy(spec)
    for ops in (
        [{"op": "replace", "path": "/channels/0/name", "value": "other"}],
        [{"op": "add", "path": "/channels/0/samples/0/extra", "value": 1}],
        [{"op": "move", "from": "/version", "path": "/v"}],
    ):
        assert _outcome(apply_patch_shared, spec, ops) == _outcome(apply_patch, spec, ops)
        assert spec == saved


def test_patched_workspace_leaves_the_original_alone():
    ws = Workspace(small_workspace())
    before = ws.spec
    ops = [
        {"op": "replace", "path": "/channels/0/samples/0/data/0", "value": 6.0},
        {"op": "remove", "path": "/channels/0/samples/1/modifiers/0"},
        {"op": "add", "path": "/measurements/0/config/parameters/-", "value": {"name": "x"}},
    ]
    patched = ws.apply_patches([ops])
    assert ws.spec == before
    assert patched.spec == apply_patch(before, ops)
    assert patched.spec["channels"][0]["samples"][0]["data"][0] == 6.0
