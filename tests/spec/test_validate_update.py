"""A patched workspace is validated against the one it was patched from: what it shares
with that one is not checked again, yet every problem is found and worded as when the
patched document is validated on its own (tests/spec/test_validate.py's cases, as patches)."""

from __future__ import annotations

import copy
import random
import warnings
from typing import Any

import jsonpointer
import pytest

from hfx.errors import HfxError
from hfx.spec import semantic
from hfx.spec.jsonpatch_apply import apply_patch_shared
from hfx.spec.validate import validate_workspace
from hfx.spec.workspace import Workspace
from tests.spec.test_validate import SCHEMA_CASES, SEMANTIC_CASES, WARNED_CASES
from tests.spec.validate_helpers import small_workspace

BKG = "/channels/0/samples/1"
_MISSING = object()


def _as_patch(edits: list[tuple[str, str, Any]]) -> list[dict[str, Any]] | None:
    ops: list[dict[str, Any]] = []
    doc = small_workspace()
    for action, pointer, value in edits:
        if action == "set":  # a replace where the place exists (an add would insert)
            missing = jsonpointer.resolve_pointer(doc, pointer, _MISSING) is _MISSING
            kind = "add" if missing else "replace"
            ops.append({"op": kind, "path": pointer, "value": copy.deepcopy(value)})
        elif action == "delete":
            ops.append({"op": "remove", "path": pointer})
        elif action == "append":
            ops.append({"op": "add", "path": pointer + "/-", "value": copy.deepcopy(value)})
        else:
            return None
    return ops


def _outcome(check: Any) -> Any:
    """(error type, message, pointer), or ("valid", warnings)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            check()
        except HfxError as exc:
            return type(exc).__name__, str(exc), exc.pointer
    return "valid", [str(w.message) for w in caught]


# more changes that relate a patched part to a kept one
RELATING_CASES = [
    # the first sample sets a channel's bin count: the kept samples no longer match it
    ("first-sample-longer", [("set", "/channels/0/samples/0/data", [5.0, 3.0, 1.0])]),
    ("new-first-sample", [("append", "/channels/1/samples", {
        "name": "x", "data": [1.0, 2.0], "modifiers": []})]),
    ("type-clash-later", [("append", "/channels/1/samples", {
        "name": "x", "data": [1.0], "modifiers": [
            {"name": "jes", "type": "lumi", "data": None}]})]),
    ("type-clash-earlier", [("set", "/channels/0/samples/0/modifiers/0/name", "uncorr")]),
    ("renamed-channels", [("set", "/channels/0/name", "CR"), ("set", "/channels/1/name", "SR")]),
    ("sample-moved-channel", [("append", "/channels/1/samples", small_workspace()["channels"][0]
                               ["samples"][1])]),
    ("duplicate-sample-name", [("append", "/channels/1/samples", {
        "name": "bkg", "data": [1.0], "modifiers": []})]),
    ("negative-yield", [("set", f"{BKG}/data/0", -1.0)]),
]  # fmt: skip


CASES = [(c[0], c[1]) for c in SCHEMA_CASES + SEMANTIC_CASES + WARNED_CASES] + RELATING_CASES


@pytest.mark.parametrize(("name", "edits"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("allow_negative", [False, True])
def test_patched_workspace_gets_the_errors_of_the_patched_document(name, edits, allow_negative):
    ops = _as_patch(edits)
    if ops is None:
        pytest.skip("an edit JSON Patch cannot express")
    base = Workspace(small_workspace(), allow_negative=allow_negative)
    try:
        patched_doc = apply_patch_shared(base._spec, ops)
    except HfxError:
        pytest.skip("the patch does not apply")

    def check(**kwargs: Any) -> Any:
        return _outcome(
            lambda: validate_workspace(
                patched_doc, source="w.json", allow_negative=allow_negative, **kwargs
            )
        )

    alone = _outcome(
        lambda: validate_workspace(
            copy.deepcopy(patched_doc), source="w.json", allow_negative=allow_negative
        )
    )
    assert check(based_on=base._spec) == alone
    alone = _outcome(lambda: validate_workspace(copy.deepcopy(patched_doc), source="w.json"))
    # and through the workspace (the patched one is checked with allow_negative=False)
    via_workspace = _outcome(lambda: base.apply_patches([ops]))
    assert via_workspace[0] == alone[0]
    if alone[0] != "valid":
        assert via_workspace[2] == alone[2]


def test_kept_samples_are_only_name_checked_and_the_answer_is_unchanged():
    rng = random.Random(3)
    base = small_workspace()
    changes = [
        ("/channels/0/samples/1/data/1", 7.0),
        ("/channels/1/samples/0/modifiers/1/name", "uncorr"),
        ("/channels/0/samples/0/data", [1.0]),
        ("/channels/0/samples/1/modifiers/0/data/0", -1.0),
        ("/channels/1/samples/0/modifiers/0/type", "lumi"),
        ("/channels/0/samples/0/modifiers/3/data/hi_data", [1.0]),
    ]
    for _ in range(40):
        ops = [
            {"op": "replace", "path": path, "value": copy.deepcopy(value)}
            for path, value in rng.sample(changes, rng.randint(1, 3))
        ]
        doc = apply_patch_shared(base, ops)
        for allow_negative in (False, True):
            alone = semantic.check_workspace(copy.deepcopy(doc), allow_negative=allow_negative)
            based = semantic.check_workspace(doc, allow_negative=allow_negative, based_on=base)
            assert based == alone, ops
