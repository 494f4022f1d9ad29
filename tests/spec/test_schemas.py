"""The schema files: well-formed, shipped as package data, and agreed with by the fast checks.

hfx answers "valid?" with checks compiled from the schema files and asks jsonschema only
to phrase an error.  The sweep below mutates small documents node by node and demands
that both give the same verdict, and that a located problem is one jsonschema reports.
"""

from __future__ import annotations

import copy
import json
from importlib import resources

import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from hfx.spec import validate as v
from hfx.spec.schema_checks import Invalid
from hfx.spec.semantic import MODIFIER_TYPES
from tests.conftest import ATLAS_WS
from tests.spec.validate_helpers import signal_patch, small_patchset, small_workspace, walk

SCHEMA_DIR = resources.files("hfx.spec").joinpath("schemas", "1.0.0")
FILES = sorted(p.name for p in SCHEMA_DIR.iterdir() if p.name.endswith(".json"))


def test_the_six_schema_files_are_package_resources():
    assert sorted(f"{name}.json" for name in v.SCHEMA_NAMES) == FILES


@pytest.mark.parametrize("filename", FILES)
def test_schema_file_is_a_valid_draft_2020_12_schema(filename):
    doc = json.loads(SCHEMA_DIR.joinpath(filename).read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(doc)
    assert doc["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert doc["$id"] == f"https://hfx.invalid/schemas/1.0.0/{filename}"


@pytest.mark.parametrize("name", v.SCHEMA_NAMES)
def test_every_schema_compiles_to_fast_checks(name):
    assert v._fast_checker(name) is not None


def test_load_schema_returns_a_copy():
    doc = v.load_schema("workspace.json")
    doc["title"] = "changed"
    assert v.load_schema("workspace")["title"] != "changed"
    with pytest.raises(ValueError, match="no schema named 'nope'"):
        v.load_schema("nope")


def test_references_between_files_resolve_without_network():
    assert v.schema_validator("workspace").is_valid(small_workspace())
    assert v.schema_validator("patchset").is_valid(small_patchset())
    assert v.schema_validator("jsonpatch").is_valid(signal_patch())
    assert v.schema_validator("measurement").is_valid(small_workspace()["measurements"][0])
    assert v.schema_validator("model").is_valid({"channels": small_workspace()["channels"]})


@pytest.mark.skipif(not ATLAS_WS.is_dir(), reason="../shared/data not present")
@pytest.mark.parametrize(
    "name", ["2018-14_Comb_bkgonly", "2018-31_simplifiedA", "2018-31_BkgOnlyA"]
)
def test_jsonschema_itself_accepts_real_workspaces(name):
    spec = json.loads((ATLAS_WS / f"{name}.json").read_text())
    assert v.schema_validator("workspace").is_valid(spec)


# --- fast checks agree with jsonschema ---------------------------------------------------
REPLACEMENTS = ["x", 1.5, None, True, [], {"a": 1}, [1.0], [[1.0, 2.0]]]


def _mutants(doc):
    """Documents that differ from ``doc`` in one place: a replaced, removed or added node."""
    for path, value in walk(doc):
        if not path:
            continue
        last = path[-1]
        swaps = list(REPLACEMENTS)
        if last == "type":
            swaps += list(MODIFIER_TYPES)
        if last == "op":
            swaps += ["add", "remove", "replace", "move", "copy", "test"]
        if last == "path" or last == "from":
            swaps += ["", "/a~1b", "a/b", "/~2"]
        for swap in swaps:
            if swap != value:
                yield path, "set", swap
        yield path, "delete", None
        if isinstance(value, dict):
            yield path, "add-key", None
        if isinstance(value, list):
            yield path, "append", None


def _apply(doc, path, action, swap):
    doc = copy.deepcopy(doc)
    *head, last = path
    parent = doc
    for part in head:
        parent = parent[part]
    if action == "set":
        parent[last] = swap
    elif action == "delete":
        del parent[last]
    elif action == "add-key":
        parent[last]["unexpected"] = 1
    else:
        parent[last].append(parent[last][0] if parent[last] else "x")
    return doc


def _tiny_workspace():
    """One bin, one sample, one modifier of each type: every schema branch, few nodes."""
    modifiers = [
        {"name": "mu", "type": "normfactor", "data": None},
        {"name": "lumi", "type": "lumi", "data": None},
        {"name": "a", "type": "normsys", "data": {"hi": 1.1, "lo": 0.9}},
        {"name": "a", "type": "histosys", "data": {"hi_data": [2.0], "lo_data": [1.0]}},
        {"name": "s", "type": "shapesys", "data": [0.5]},
        {"name": "e", "type": "staterror", "data": [0.5]},
        {"name": "f", "type": "shapefactor", "data": None},
    ]
    sample = {"name": "bkg", "data": [1.5], "modifiers": modifiers}
    config = {"poi": "mu", "parameters": [{"name": "mu", "bounds": [[0.0, 5.0]], "fixed": False}]}
    return {
        "channels": [{"name": "SR", "samples": [sample]}],
        "observations": [{"name": "SR", "data": [2.0]}],
        "measurements": [{"name": "m", "config": config}],
        "version": "1.0.0",
    }


def _tiny_patchset():
    doc = small_patchset()
    doc["patches"][0]["patch"] = [{"op": "copy", "from": "/a", "path": "/b"}]
    del doc["patches"][1]
    return doc


@pytest.mark.parametrize(
    ("name", "doc"),
    [
        ("workspace", _tiny_workspace()),
        ("patchset", _tiny_patchset()),
        ("jsonpatch", [*signal_patch(), {"op": "move", "from": "/a", "path": "/b"}]),
        ("measurement", small_workspace()["measurements"][0]),
    ],
    ids=["workspace", "patchset", "jsonpatch", "measurement"],
)
def test_fast_checks_agree_with_jsonschema_on_single_mutations(name, doc):
    full = v.schema_validator(name)
    checked = invalid = 0
    for path, action, swap in _mutants(doc):
        mutant = _apply(doc, path, action, swap)
        expected_valid = full.is_valid(mutant)
        located = v.locate_schema_problem(name, mutant)
        assert (located is None) == expected_valid, (path, action, swap)
        # the generated yes/no check and the locating closures give the same verdict
        fast = v._fast_checker(name)
        assert fast is not None
        assert fast.ok(mutant) == expected_valid, (path, action, swap)
        try:
            fast.check(mutant)
        except Invalid:
            assert not expected_valid, (path, action, swap)
        else:
            assert expected_valid, (path, action, swap)
        checked += 1
        if located is None:
            continue
        invalid += 1
        # the element the fast checks point at really holds a jsonschema error ...
        scope_loc, scope_path = located
        sub = mutant
        for part in scope_path:
            sub = sub[part]
        errors = list(v._ref_validator(scope_loc).iter_errors(sub))
        assert errors, (path, action, swap)
        # ... and the error reported is about the mutated node, its parent or a sibling
        message, pointer = v.explain(best_match(errors), errors, prefix=scope_path)
        mutated = "".join(f"/{p}" for p in path)
        parent = "".join(f"/{p}" for p in path[:-1])
        assert (mutated + "/").startswith(pointer + "/") or pointer.startswith(parent + "/"), (
            path,
            action,
            swap,
            pointer,
            message,
        )
    assert checked > 200 and invalid > 100


class _Str(str):
    pass


class _Float(float):
    pass


# Python values no JSON parser makes, but a Workspace built from Python data may hold
ODD_VALUES = [
    (1.0,),
    _Float(2.0),
    _Str("histosys"),
    False,
    0,
    10**400,
    float("nan"),
    {1: "a"},
    [True],
    [1, 2.5, _Float(3.0)],
    [1.0, None],
    ["x"],
]


@pytest.mark.parametrize(
    ("name", "doc"),
    [
        ("workspace", _tiny_workspace()),
        ("patchset", _tiny_patchset()),
        ("jsonpatch", [*signal_patch(), {"op": "move", "from": "/a", "path": "/b"}]),
    ],
    ids=["workspace", "patchset", "jsonpatch"],
)
def test_generated_checks_agree_with_the_closures_on_python_values(name, doc):
    fast = v._fast_checker(name)
    assert fast is not None
    for path, _ in walk(doc):
        if not path:
            continue
        for swap in ODD_VALUES:
            mutant = _apply(doc, path, "set", swap)
            try:
                fast.check(mutant)
            except Invalid:
                valid = False
            else:
                valid = True
            assert fast.ok(mutant) == valid, (path, swap)


def _apply_shared(doc, path, action, swap):
    """Like _apply, but copy-on-write: only the containers on ``path`` are copied, so the
    mutant shares every other object with ``doc`` (as a patched workspace does)."""
    doc = copy.copy(doc)
    parent = doc
    for part in path[:-1]:
        parent[part] = copy.copy(parent[part])
        parent = parent[part]
    last = path[-1]
    if action == "set":
        parent[last] = swap
    elif action == "delete":
        del parent[last]
    elif action == "add-key":
        parent[last] = copy.copy(parent[last])
        parent[last]["unexpected"] = 1
    else:
        parent[last] = copy.copy(parent[last])
        parent[last].append(parent[last][0] if parent[last] else "x")
    return doc


@pytest.mark.parametrize(
    ("name", "doc"),
    [
        ("workspace", _tiny_workspace()),
        ("workspace", small_workspace()),
        ("patchset", _tiny_patchset()),
        ("jsonpatch", [*signal_patch(), {"op": "move", "from": "/a", "path": "/b"}]),
        ("measurement", small_workspace()["measurements"][0]),
    ],
    ids=["tiny-workspace", "small-workspace", "patchset", "jsonpatch", "measurement"],
)
def test_update_checks_agree_on_copy_on_write_mutants(name, doc):
    """A change is judged by its changed parts alone, with the verdict of the full check;
    a value kept under a different subschema (a modifier's data when its type changes) is
    checked again."""
    fast = v._fast_checker(name)
    assert fast is not None and fast.ok(doc)
    saved = copy.deepcopy(doc)
    checked = invalid = 0
    for path, action, swap in _mutants(doc):
        mutant = _apply_shared(doc, path, action, swap)
        expected = fast.ok(mutant)
        assert fast.update(mutant, doc) == expected, (path, action, swap)
        checked += 1
        invalid += not expected
        for odd in ODD_VALUES if action == "set" else ():
            mutant = _apply_shared(doc, path, "set", odd)
            assert fast.update(mutant, doc) == fast.ok(mutant), (path, odd)
    assert doc == saved
    assert fast.update(doc, doc) and fast.update(copy.deepcopy(doc), doc)
    assert checked > 50 and invalid > 20


def test_update_check_sees_a_kept_value_under_a_new_type():
    fast = v._fast_checker("workspace")
    assert fast is not None
    doc = _tiny_workspace()
    for mi, new_type in [(2, "histosys"), (3, "normsys"), (4, "lumi"), (0, "staterror")]:
        mutant = _apply_shared(
            doc, ["channels", 0, "samples", 0, "modifiers", mi, "type"], "set", new_type
        )
        assert (
            mutant["channels"][0]["samples"][0]["modifiers"][mi]["data"]
            is (doc["channels"][0]["samples"][0]["modifiers"][mi]["data"])
        )
        assert not fast.ok(mutant)
        assert not fast.update(mutant, doc)
