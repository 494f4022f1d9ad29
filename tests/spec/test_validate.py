"""Schema and semantic validation: real workspaces pass; every kind of bad input fails clearly."""

from __future__ import annotations

import json
import math
import time

import pytest

from hfx.errors import HfxError, PatchError, SpecError
from hfx.spec.jsonio import load_json, parse_json
from hfx.spec.validate import (
    validate_jsonpatch,
    validate_measurement,
    validate_model_spec,
    validate_patchset,
    validate_workspace,
)
from tests.conftest import ATLAS_WS
from tests.spec.validate_helpers import (
    edited,
    signal_patch,
    small_patchset,
    small_workspace,
)

ATLAS_FILES = sorted(ATLAS_WS.glob("*.json")) if ATLAS_WS.is_dir() else []
WORKSPACE_FILES = [p for p in ATLAS_FILES if not p.name.endswith(".signal.json")]
PATCH_FILES = [p for p in ATLAS_FILES if p.name.endswith(".signal.json")]
needs_atlas = pytest.mark.skipif(not ATLAS_FILES, reason="../shared/data not present")

MOD = "/channels/0/samples/0/modifiers"  # signal in SR: normfactor, lumi, normsys, histosys
BKG = "/channels/0/samples/1"  # bkg in SR: shapesys, staterror, lumi
PAR = "/measurements/0/config/parameters"


def expect(exc_type, doc, pointer, *phrases, check=validate_workspace, **kwargs):
    """Validation fails with one error at ``pointer`` whose message has every phrase."""
    with pytest.raises(exc_type) as info:
        check(doc, source="input.json", **kwargs)
    err = info.value
    assert err.pointer == pointer, str(err)
    text = str(err)
    assert text.startswith(f"input.json: {pointer or '/'}: "), text
    for phrase in phrases:
        assert phrase in text, text
    return err


# --- what must pass ----------------------------------------------------------------------
@needs_atlas
@pytest.mark.parametrize("path", WORKSPACE_FILES, ids=lambda p: p.stem)
def test_real_workspaces_are_valid(path):
    validate_workspace(load_json(path), source=str(path))


@needs_atlas
@pytest.mark.parametrize("path", PATCH_FILES, ids=lambda p: p.stem)
def test_real_signal_patches_are_valid(path):
    validate_jsonpatch(load_json(path), source=str(path))


@needs_atlas
def test_large_workspace_validates_well_under_a_fifth_of_a_second():
    spec = load_json(ATLAS_WS / "2019-09_bkg_onshell.json")
    validate_workspace(spec)  # compiles and caches the validators
    best = math.inf
    for _ in range(5):
        start = time.perf_counter()
        validate_workspace(spec)
        best = min(best, time.perf_counter() - start)
    assert best < 0.2, f"validating the 2.2 MB workspace took {best:.3f} s"


def test_small_workspace_is_valid():
    validate_workspace(small_workspace())


@pytest.mark.parametrize(
    "edits",
    [
        # a POI and parameter settings that no modifier declares are checked at compile time
        [("set", "/measurements/0/config/poi", "mu_SIG")],
        [("append", PAR, {"name": "not_a_modifier", "inits": [1.0]})],
        # one shapesys name in two channels, and a staterror name reused across channels
        [("append", "/channels/1/samples/0/modifiers", {
            "name": "uncorr", "type": "shapesys", "data": [4.0]})],
        [("set", "/channels/1/samples/0/modifiers/1/name", "staterror_SR")],
        # zero yields and zero uncertainties are legal; extra JSON Patch members are ignored
        [("set", f"{BKG}/data", [0.0, 0.0]), ("set", f"{BKG}/modifiers/0/data", [0.0, 0.0])],
        [("set", f"{PAR}/0/bounds", [[1.0, 1.0]])],
        [("set", f"{PAR}/0/factors", [1.0])],
    ],
    ids=["unknown-poi", "unknown-config", "shapesys-twice", "staterror-name", "zeros",
         "equal-bounds", "factors"],
)  # fmt: skip
def test_legal_variations_are_accepted(edits):
    validate_workspace(edited(small_workspace(), *edits))


def test_allow_negative_accepts_negative_yields():
    spec = edited(small_workspace(), ("set", f"{BKG}/data/0", -2.5))
    expect(SpecError, spec, f"{BKG}/data/0", "negative yield -2.5", "allow_negative=True")
    validate_workspace(spec, allow_negative=True)


def test_non_dict_mapping_and_tuple_are_accepted():
    from types import MappingProxyType

    validate_workspace(MappingProxyType(small_workspace()))
    validate_jsonpatch(tuple(signal_patch()))


# --- JSON text and files -----------------------------------------------------------------
def test_malformed_json_names_file_line_and_column():
    with pytest.raises(
        SpecError, match=r"ws\.json: malformed JSON at line 2, column 13: Expecting value"
    ):
        parse_json('{"channels":\n  [{"name": }]}', source="ws.json")


@needs_atlas
def test_truncated_real_workspace_is_malformed_json(tmp_path):
    text = (ATLAS_WS / "2018-31_simplifiedA.json").read_text()
    broken = tmp_path / "cut.json"
    broken.write_text(text[: len(text) // 2])
    with pytest.raises(SpecError, match=r"cut\.json: malformed JSON at line"):
        load_json(broken)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(SpecError, match=r"nope\.json: no such file"):
        load_json(tmp_path / "nope.json")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_literals_that_python_json_accepts_are_rejected(literal):
    text = json.dumps(small_workspace()).replace("50.0", literal, 1)
    spec = parse_json(text)  # Python's json module reads these literals
    expect(SpecError, spec, f"{BKG}/data/0", "expected a finite yield", f"got {literal}")


def test_errors_are_hfx_errors_with_source_and_pointer():
    err = expect(SpecError, edited(small_workspace(), ("delete", "/version", None)), "")
    assert isinstance(err, HfxError)
    assert err.source == "input.json"


# --- schema violations -------------------------------------------------------------------
SCHEMA_CASES = [
    ("missing-top-key", [("delete", "/version", None)], "", ["missing required key 'version'"]),
    ("missing-name", [("delete", "/channels/0/name", None)], "/channels/0",
     ["missing required key 'name'"]),
    ("typo-key", [("rename", "/channels/1/samples", "sample")], "/channels/1",
     ["missing required key 'samples'", "found unexpected key 'sample'"]),
    ("unexpected-key", [("set", f"{MOD}/0/extra", 1)], f"{MOD}/0/extra",
     ["unexpected key 'extra'", "allowed: data, name, type"]),
    ("string-yield", [("set", f"{BKG}/data/1", "abc")], f"{BKG}/data/1",
     ["expected a number, got 'abc'"]),
    ("bool-yield", [("set", f"{BKG}/data/1", True)], f"{BKG}/data/1",
     ["expected a number, got true"]),
    ("data-not-array", [("set", f"{BKG}/data", 5)], f"{BKG}/data",
     ["expected an array, got 5"]),
    ("empty-data", [("set", f"{BKG}/data", [])], f"{BKG}/data",
     ["expected at least 1 item, got an empty array"]),
    ("name-not-string", [("set", "/channels/1/name", 3)], "/channels/1/name",
     ["expected a string, got 3"]),
    ("no-samples", [("set", "/channels/1/samples", [])], "/channels/1/samples",
     ["expected at least 1 item"]),
    ("no-channels", [("set", "/channels", [])], "/channels", ["expected at least 1 item"]),
    ("channel-not-object", [("set", "/channels/1", ["CR"])], "/channels/1",
     ["expected an object, got an array of 1 item"]),
    ("version", [("set", "/version", "2.0.0")], "/version",
     ["unsupported version '2.0.0'", "'1.0.0'"]),
    ("missing-modifier-type", [("delete", f"{MOD}/2/type", None)], f"{MOD}/2",
     ["missing required key 'type'"]),
    ("normsys-missing-lo", [("delete", f"{MOD}/2/data/lo", None)], f"{MOD}/2/data",
     ["missing required key 'lo'"]),
    ("normsys-string-hi", [("set", f"{MOD}/2/data/hi", "1.1")], f"{MOD}/2/data/hi",
     ["expected a number, got '1.1'"]),
    ("normsys-extra", [("set", f"{MOD}/2/data/mid", 1.0)], f"{MOD}/2/data/mid",
     ["unexpected key 'mid'", "allowed: hi, lo"]),
    ("histosys-list", [("set", f"{MOD}/3/data", [1.0, 2.0])], f"{MOD}/3/data",
     ["expected an object"]),
    ("histosys-missing-lo", [("delete", f"{MOD}/3/data/lo_data", None)], f"{MOD}/3/data",
     ["missing required key 'lo_data'"]),
    ("histosys-string", [("set", f"{MOD}/3/data/hi_data/1", "x")], f"{MOD}/3/data/hi_data/1",
     ["expected a number, got 'x'"]),
    ("normfactor-data", [("set", f"{MOD}/0/data", {"hi": 1})], f"{MOD}/0/data",
     ["expected null", "takes no data", "got an object"]),
    ("lumi-data", [("set", f"{MOD}/1/data", [1.0])], f"{MOD}/1/data", ["expected null"]),
    ("shapefactor-data", [("set", "/channels/1/samples/0/modifiers/0/data", 1.0)],
     "/channels/1/samples/0/modifiers/0/data", ["expected null (this modifier type takes no data)",
                                                "got 1.0"]),
    ("staterror-null", [("set", f"{BKG}/modifiers/1/data", None)], f"{BKG}/modifiers/1/data",
     ["expected an array, got null"]),
    ("shapesys-object", [("set", f"{BKG}/modifiers/0/data", {"hi": 1})],
     f"{BKG}/modifiers/0/data", ["expected an array, got an object"]),
    ("observation-no-data", [("delete", "/observations/1/data", None)], "/observations/1",
     ["missing required key 'data'"]),
    ("bounds-triple", [("set", f"{PAR}/0/bounds", [[0.0, 1.0, 2.0]])], f"{PAR}/0/bounds/0",
     ["expected at most 2 items"]),
    ("bounds-single", [("set", f"{PAR}/0/bounds", [[0.0]])], f"{PAR}/0/bounds/0",
     ["expected at least 2 items"]),
    ("bounds-flat", [("set", f"{PAR}/0/bounds", [0.0, 1.0])], f"{PAR}/0/bounds/0",
     ["expected an array, got 0.0"]),
    ("fixed-string", [("set", f"{PAR}/1/fixed", "yes")], f"{PAR}/1/fixed",
     ["expected true or false, got 'yes'"]),
    ("config-typo", [("rename", f"{PAR}/1/inits", "init")], f"{PAR}/1/init",
     ["unexpected key 'init'"]),
    ("poi-number", [("set", "/measurements/0/config/poi", 1)], "/measurements/0/config/poi",
     ["expected a string"]),
    ("no-measurements", [("set", "/measurements", [])], "/measurements",
     ["expected at least 1 item"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("edits", "pointer", "phrases"),
    [pytest.param(*case[1:], id=case[0]) for case in SCHEMA_CASES],
)
def test_schema_violations(edits, pointer, phrases):
    expect(SpecError, edited(small_workspace(), *edits), pointer, *phrases)


def test_document_that_is_not_an_object():
    expect(SpecError, [], "", "expected an object, got an empty array")


@pytest.mark.parametrize("bad", ["normsyst", "NormSys", "", "gauss"])
def test_unknown_modifier_type_names_it_and_lists_the_valid_ones(bad):
    spec = edited(small_workspace(), ("set", f"{MOD}/2/type", bad))
    valid = "(valid: histosys, lumi, normfactor, normsys, shapefactor, shapesys, staterror)"
    expect(SpecError, spec, f"{MOD}/2/type", f"unknown modifier type {bad!r}", valid)


def test_modifier_type_that_is_not_a_string():
    spec = edited(small_workspace(), ("set", f"{MOD}/2/type", 7))
    expect(SpecError, spec, f"{MOD}/2/type", "unknown modifier type 7", "staterror")


@needs_atlas
def test_error_deep_inside_the_large_workspace_is_found_and_located():
    spec = load_json(ATLAS_WS / "2019-09_bkg_onshell.json")
    ptr = "/channels/20/samples/3/modifiers/7"
    spec = edited(spec, ("set", f"{ptr}/type", "histosis"))
    start = time.perf_counter()
    expect(SpecError, spec, f"{ptr}/type", "unknown modifier type 'histosis'")
    assert time.perf_counter() - start < 1.0


# --- semantic problems -------------------------------------------------------------------
SEMANTIC_CASES = [
    ("sample-bins", [("set", f"{BKG}/data", [1.0])], f"{BKG}/data",
     ["sample 'bkg' in channel 'SR' has 1 bin, but channel 'SR' has 2", "first sample 'signal'"]),
    ("histosys-hi-bins", [("set", f"{MOD}/3/data/hi_data", [1.0])], f"{MOD}/3/data/hi_data",
     ["histosys modifier 'jes'", "hi_data has 1 bin, but the channel has 2"]),
    ("histosys-lo-bins", [("set", f"{MOD}/3/data/lo_data", [1.0, 2.0, 3.0])],
     f"{MOD}/3/data/lo_data", ["lo_data has 3 bins"]),
    ("staterror-bins", [("set", f"{BKG}/modifiers/1/data", [1.0, 1.0, 1.0])],
     f"{BKG}/modifiers/1/data", ["staterror modifier 'staterror_SR'", "data has 3 bins"]),
    ("shapesys-bins", [("set", f"{BKG}/modifiers/0/data", [1.0])], f"{BKG}/modifiers/0/data",
     ["shapesys modifier 'uncorr'", "data has 1 bin, but the channel has 2"]),
    ("observation-bins", [("set", "/observations/0/data", [1.0, 2.0, 3.0])],
     "/observations/0/data", ["observation of channel 'SR' has 3 bins, but the channel has 2"]),
    ("observation-twice", [("append", "/observations", {"name": "CR", "data": [1.0]})],
     "/observations/2/name", ["channel 'CR' has two different observations", "/observations/1"]),
    ("negative-yield", [("set", f"{BKG}/data/1", -1.0)], f"{BKG}/data/1",
     ["negative yield -1.0", "allow_negative=True"]),
    ("negative-observation", [("set", "/observations/0/data/1", -3.0)],
     "/observations/0/data/1", ["observation of channel 'SR'", "negative value -3.0"]),
    ("negative-shapesys", [("set", f"{BKG}/modifiers/0/data/1", -7.0)],
     f"{BKG}/modifiers/0/data/1", ["shapesys modifier 'uncorr'", "negative uncertainty"]),
    ("nan-yield", [("set", f"{BKG}/data/0", math.nan)], f"{BKG}/data/0",
     ["expected a finite yield, got NaN"]),
    ("inf-observation", [("set", "/observations/1/data/0", math.inf)], "/observations/1/data/0",
     ["expected a finite number, got Infinity"]),
    ("huge-integer", [("set", f"{BKG}/data/0", 10**400)], f"{BKG}/data/0",
     ["expected a finite yield"]),
    ("nan-normsys", [("set", f"{MOD}/2/data/lo", math.nan)], f"{MOD}/2/data/lo",
     ["normsys modifier 'jes'", "got NaN"]),
    ("inf-histosys", [("set", f"{MOD}/3/data/lo_data/1", -math.inf)], f"{MOD}/3/data/lo_data/1",
     ["got -Infinity"]),
    ("nan-staterror", [("set", f"{BKG}/modifiers/1/data/1", math.nan)],
     f"{BKG}/modifiers/1/data/1", ["expected a finite uncertainty, got NaN"]),
    ("nan-init", [("set", f"{PAR}/1/inits/0", math.nan)], f"{PAR}/1/inits/0",
     ["settings of parameter 'mu'", "got NaN"]),
    ("inf-bound", [("set", f"{PAR}/1/bounds/0/1", math.inf)], f"{PAR}/1/bounds/0/1",
     ["got Infinity"]),
    ("duplicate-channel", [("set", "/channels/1/name", "SR")], "/channels/1/name",
     ["duplicate channel name 'SR'", "/channels/0"]),
    ("duplicate-sample", [("set", f"{BKG}/name", "signal")], f"{BKG}/name",
     ["duplicate sample name 'signal' in channel 'SR'"]),
    ("duplicate-modifier",
     [("append", f"{MOD}", {"name": "jes", "type": "normsys", "data": {"hi": 1.2, "lo": 0.8}})],
     f"{MOD}/4", ["two normsys modifiers named 'jes'", f"{MOD}/2"]),
    ("incompatible-types",
     [("append", "/channels/1/samples/0/modifiers", {
         "name": "uncorr", "type": "normfactor", "data": None})],
     "/channels/1/samples/0/modifiers/2/type",
     ["'uncorr' is used by a normfactor modifier here and by a shapesys modifier at "
      f"{BKG}/modifiers/0", "only normsys and histosys"]),
    ("staterror-vs-shapesys", [("set", f"{BKG}/modifiers/1/name", "uncorr")],
     f"{BKG}/modifiers/1/type", ["a staterror modifier here and by a shapesys modifier"]),
    ("duplicate-config", [("append", PAR, {"name": "lumi", "fixed": True})], f"{PAR}/2/name",
     ["parameter 'lumi' is configured twice", f"{PAR}/0"]),
    ("bounds-reversed", [("set", f"{PAR}/1/bounds/0", [10.0, 0.0])], f"{PAR}/1/bounds/0",
     ["lower bound 10.0 is above upper bound 0.0"]),
    ("lengths-disagree", [("set", f"{PAR}/0/inits", [1.0, 1.0])], f"{PAR}/0",
     ["lists disagree in length", "2 inits", "1 bounds"]),
    ("sigma-zero", [("set", f"{PAR}/0/sigmas", [0.0])], f"{PAR}/0/sigmas/0",
     ["must be positive"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("edits", "pointer", "phrases"),
    [pytest.param(*case[1:], id=case[0]) for case in SEMANTIC_CASES],
)
def test_semantic_problems(edits, pointer, phrases):
    expect(SpecError, edited(small_workspace(), *edits), pointer, *phrases)


# --- accepted as pyhf accepts them, with a warning ----------------------------------------
WARNED_CASES = [
    ("observation-missing", [("delete", "/observations/1", None)], "/channels/1",
     "channel 'CR' has no observation"),
    ("observation-unknown", [("append", "/observations", {"name": "VR", "data": [1.0]})],
     "/observations/2", "ignoring the observation of channel 'VR', which does not exist"),
    ("observation-repeated", [("append", "/observations", {"name": "CR", "data": [101.0]})],
     "/observations/2", "channel 'CR' is observed twice (same data)"),
    ("negative-staterror", [("set", f"{BKG}/modifiers/1/data/0", -0.1)],
     f"{BKG}/modifiers/1/data", "staterror 'staterror_SR' of sample 'bkg' in channel 'SR'"),
    ("duplicate-measurement",
     [("append", "/measurements", {"name": "meas", "config": {"poi": "mu", "parameters": []}})],
     "/measurements/1", "measurement name 'meas' repeats /measurements/0, which is the one used"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("edits", "pointer", "phrase"),
    [pytest.param(*case[1:], id=case[0]) for case in WARNED_CASES],
)
def test_pyhf_accepted_inputs_warn(edits, pointer, phrase):
    from hfx.errors import HfxWarning

    spec = edited(small_workspace(), *edits)
    with pytest.warns(HfxWarning) as record:
        validate_workspace(spec, source="input.json")
    assert len(record) == 1
    assert str(record[0].message).startswith(f"input.json: {pointer}: {phrase}")


def test_negative_staterror_gives_the_same_model_as_its_absolute_value():
    from hfx.errors import HfxWarning
    from hfx.spec.workspace import Workspace

    plain = Workspace(small_workspace())
    with pytest.warns(HfxWarning, match="negative uncertainties"):
        flipped = Workspace(edited(small_workspace(), ("set", f"{BKG}/modifiers/1/data/0", -1.0)))
    m1, m2 = plain.model(), flipped.model()
    pars = m1.config.suggested_init()
    assert m2.logpdf(pars, flipped.data(m2)) == m1.logpdf(pars, plain.data(m1))


def test_workspace_class_validates_on_construction():
    from hfx.spec.workspace import Workspace

    spec = edited(small_workspace(), ("set", f"{BKG}/data", [1.0]))
    with pytest.raises(SpecError, match=r"x\.json: /channels/0/samples/1/data: .* has 1 bin"):
        Workspace(spec, source="x.json")


# --- model specs and measurements --------------------------------------------------------
def test_model_spec():
    ws = small_workspace()
    parameters = ws["measurements"][0]["config"]["parameters"]
    validate_model_spec({"channels": ws["channels"], "parameters": parameters})
    validate_model_spec({"channels": ws["channels"]})
    model = {"channels": ws["channels"], "observations": ws["observations"]}
    expect(SpecError, model, "/observations", "unexpected key 'observations'",
           check=validate_model_spec)  # fmt: skip
    model = {"channels": ws["channels"], "parameters": [{"name": "mu", "bounds": [[2.0, 1.0]]}]}
    expect(SpecError, model, "/parameters/0/bounds/0", "lower bound 2.0",
           check=validate_model_spec)  # fmt: skip
    model = edited({"channels": ws["channels"]}, ("set", f"{BKG}/data/0", -1.0))
    expect(SpecError, model, f"{BKG}/data/0", "negative yield", check=validate_model_spec)
    validate_model_spec(model, allow_negative=True)


def test_measurement():
    meas = small_workspace()["measurements"][0]
    validate_measurement(meas)
    expect(SpecError, edited(meas, ("delete", "/config/poi", None)), "/config",
           "missing required key 'poi'", check=validate_measurement)  # fmt: skip
    bad = edited(meas, ("set", "/config/parameters/0/sigmas", [-1.0]))
    expect(SpecError, bad, "/config/parameters/0/sigmas/0", "must be positive",
           check=validate_measurement)  # fmt: skip


# --- JSON Patch --------------------------------------------------------------------------
PATCH_CASES = [
    ("not-array", {"op": "add"}, "", ["expected an array, got an object"]),
    ("op-not-object", [1], "/0", ["expected an object, got 1"]),
    ("unknown-op", [{"op": "ad", "path": "/a", "value": 1}], "/0/op",
     ["unknown JSON Patch op 'ad'", "add, remove, replace, move, copy, test"]),
    ("missing-op", [{"path": "/a"}], "/0", ["missing required key 'op'"]),
    ("missing-path", [{"op": "remove"}], "/0", ["missing required key 'path'"]),
    ("add-no-value", [{"op": "add", "path": "/a"}], "/0", ["missing required key 'value'"]),
    ("replace-no-value", [{"op": "replace", "path": "/a"}], "/0", ["key 'value'"]),
    ("test-no-value", [{"op": "test", "path": "/a"}], "/0", ["key 'value'"]),
    ("move-no-from", [{"op": "move", "path": "/a"}], "/0", ["missing required key 'from'"]),
    ("copy-no-from", [{"op": "copy", "path": "/a"}], "/0", ["key 'from'"]),
    ("bad-path", [{"op": "remove", "path": "channels/0"}], "/0/path",
     ["'channels/0' is not a JSON pointer"]),
    ("bad-escape", [{"op": "remove", "path": "/a~2b"}], "/0/path", ["not a JSON pointer"]),
    ("bad-from", [{"op": "copy", "path": "/a", "from": 3}], "/0/from", ["expected a string"]),
    ("move-into-child", [{"op": "move", "from": "/a", "path": "/a/b"}], "/0/from",
     ["cannot move '/a' into its own child '/a/b'"]),
    ("second-op", [*signal_patch(), {"op": "delete", "path": "/x"}], "/2/op",
     ["unknown JSON Patch op 'delete'"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("ops", "pointer", "phrases"), [pytest.param(*case[1:], id=case[0]) for case in PATCH_CASES]
)
def test_jsonpatch_problems(ops, pointer, phrases):
    expect(PatchError, ops, pointer, *phrases, check=validate_jsonpatch)


def test_jsonpatch_accepts_all_ops_and_extra_members():
    validate_jsonpatch(
        [
            {"op": "add", "path": "", "value": {}},
            {"op": "remove", "path": "/a/~0b/~1c/0"},
            {"op": "replace", "path": "/a", "value": None},
            {"op": "move", "from": "/a", "path": "/b"},
            {"op": "copy", "from": "/b", "path": "/b2"},
            {"op": "test", "path": "/b", "value": 1, "comment": "ignored"},
        ]
    )
    validate_jsonpatch([])


# --- patchsets ---------------------------------------------------------------------------
def test_small_patchset_is_valid():
    validate_patchset(small_patchset())


PATCHSET_CASES = [
    ("missing-labels", [("delete", "/metadata/labels", None)], "/metadata",
     ["missing required key 'labels'"]),
    ("digest-not-hex", [("set", "/metadata/digests/sha256", "xyz")], "/metadata/digests/sha256",
     ["expected a hexadecimal digest, got 'xyz'"]),
    ("no-digest", [("set", "/metadata/digests", {})], "/metadata/digests",
     ["expected at least 1 entry"]),
    ("digest-name", [("set", "/metadata/digests", {"SHA 256": "ab"})], "/metadata/digests",
     ["key 'SHA 256' is not allowed here"]),
    ("version", [("set", "/version", "0.9")], "/version", ["unsupported version '0.9'"]),
    ("no-patches", [("set", "/patches", [])], "/patches", ["expected at least 1 item"]),
    ("values-type", [("set", "/patches/1/metadata/values/0", None)],
     "/patches/1/metadata/values/0", ["expected a number or a string, got null"]),
    ("values-count", [("set", "/patches/1/metadata/values", [200])],
     "/patches/1/metadata/values", ["patch 'p_200_10' has 1 value, but the patchset has 2 labels"]),
    ("values-nan", [("set", "/patches/1/metadata/values/1", math.nan)],
     "/patches/1/metadata/values/1", ["expected a finite value, got NaN"]),
    ("same-values", [("set", "/patches/1/metadata/values", [100, 10])],
     "/patches/1/metadata/values", ["has the same values as /patches/0"]),
    ("same-name", [("set", "/patches/1/metadata/name", "p_100_10")], "/patches/1/metadata/name",
     ["duplicate patch name 'p_100_10'"]),
    ("same-label", [("set", "/metadata/labels", ["m1", "m1"])], "/metadata/labels",
     ["label 'm1' is listed twice"]),
    ("bad-op", [("set", "/patches/1/patch/0/op", "plus")], "/patches/1/patch/0/op",
     ["unknown JSON Patch op 'plus'"]),
    ("patch-missing", [("delete", "/patches/0/patch", None)], "/patches/0",
     ["missing required key 'patch'"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("edits", "pointer", "phrases"),
    [pytest.param(*case[1:], id=case[0]) for case in PATCHSET_CASES],
)
def test_patchset_problems(edits, pointer, phrases):
    expect(SpecError, edited(small_patchset(), *edits), pointer, *phrases,
           check=validate_patchset)  # fmt: skip


@needs_atlas
def test_patchset_made_of_real_signal_patches():
    patches = [
        {"metadata": {"name": p.stem.split(".")[0], "values": [i]}, "patch": load_json(p)}
        for i, p in enumerate(PATCH_FILES)
    ]
    doc = {**small_patchset(), "patches": patches}
    doc["metadata"] = {**doc["metadata"], "labels": ["index"]}
    validate_patchset(doc)
