"""combine / prune / rename / sort / digest: small specs by hand, real ATLAS workspaces vs pyhf."""

from __future__ import annotations

import copy
import json
from importlib import resources

import pytest

from hfx.errors import SpecError
from hfx.spec.operations import (
    JOIN_MODES,
    combine_specs,
    digest,
    prune_spec,
    rename_spec,
    sort_spec,
)
from hfx.spec.workspace import Workspace
from tests.conftest import ATLAS_WS

ATLAS = sorted(
    p.name[: -len(".json")]
    for p in (ATLAS_WS.glob("*.json") if ATLAS_WS.is_dir() else ())
    if not p.name.endswith(".signal.json")
)
needs_atlas = pytest.mark.skipif(not ATLAS, reason="../shared/data not present")

# Digests computed once with pyhf 0.7.6 (pyhf.utils.digest) on the shared ATLAS workspaces:
# the workspace itself (sha256, md5), Workspace.sorted(ws), the workspace with its
# .signal.json patch applied, ws.prune(modifier_types=["staterror"]) and
# Workspace.combine(ws, ws.rename(channels={c: c + "_b"}, measurements={m: m + "_b"})).
PYHF_DIGESTS = {
    "2018-04_SRcombined": {
        "sha256": "956aef2f8ba24ff49ac328757e1689c03be73c0ef846744555257eb98e894d10",
        "md5": "17b947cb0887c3d41cfbb3960ed43f11",
        "sorted": "d108ce31e4c1f2ccc25164fad377e6113365e4be06d72c36e8e562cfb1fafe8b",
        "signal": "1ba23bcc260fced7739215e9e3c4c71c4fbd7017a38b317f73401c4f0965f688",
        "prune_staterror": "d27f073e11d32de3d6f3542f89ecf6ab2f1ea32f3d6f08a886de9b32fc7d7575",
        "combined_renamed": "82d46888e22a34063aa0bde994386db851b42ddfc2f831ad9e1421fd704d39c4",
    },
    "2018-14_Comb_bkgonly": {
        "sha256": "57085f89d14e7705425018e3d68fe5f55b2f34dcc3f09e93e3784841f3225e14",
        "md5": "3faa4351c2f5155482b285870b242de2",
        "sorted": "b30735d8ccd8a0285b882083e16a42bde8ce05a7e50559797324d2c482f980f9",
        "signal": "136917b33eda39b5769a4dd95a440233b76120f845a977a8fbed559e3da003ef",
        "prune_staterror": None,
        "combined_renamed": "50dfd5c595a19bdbbf3bea70c86e53912d9adfe563105379540a99eacf2342cb",
    },
    "2018-31_BkgOnlyA": {
        "sha256": "516fa21b09fd7aecb09116e8906f8259f151aa41b8763eefd9e5548bb7c82a58",
        "md5": "c62c23c87d1c9b735c75cf0830f0ad84",
        "sorted": "608a8d679afb744e77590f48b6dfb0aec724c48978f7746560197a540e75b7ef",
        "signal": "644240e7eda9efb174ecd53c92e98366b0391bd712aa4e8bac74703d0b96039a",
        "prune_staterror": "15e4d8d7c7a02ed43ab3f2155f9197c92fe0b79bfb5f6677a84427f4913e3303",
        "combined_renamed": "78f51927b82807dd8721a1e29965d7ea37eb4aa7c7f4592323fbbcd70c68b15c",
    },
    "2018-31_BkgOnlyC": {
        "sha256": "223c07cd7e0a9423f072b0aef6ba1be2dbfe3934f5e6a315e444792a0646e460",
        "md5": "9fbae7bd5c5390f920945ad3800918c4",
        "sorted": "e35fbcba09776ca5bed6d62616bd02a8308fd89afd2f38c12fba4a8819445950",
        "signal": "c81458a12668dda61d50559044ab5b35e77d591a4b10fe566b69451c2ab28793",
        "prune_staterror": "809bfbaaaba1046329f282793ce4dac77de0b0fbba5675cb8102e96a90f8d215",
        "combined_renamed": "5df3816cc4a15cc5a11a2b365dca8fa1e0aeb01918365ef03450376e525ec9a3",
    },
    "2018-31_simplifiedA": {
        "sha256": "12ef61a1bb88ca4f8e414dedcccf55ab98b1e32a6230a8e3acfb52a603778367",
        "md5": "b61343734c5c5050b85e759b8d3aa089",
        "sorted": "46f993c3ae5b42f0562f5ff61dffb0a7af06927c0823361211fe5b802ba020b9",
        "signal": "f8fb16606e3ee03cde70aeeb91452987dc2de42a15d74c7cadf54fa5c915ebf7",
        "prune_staterror": None,
        "combined_renamed": "c80809db88d1f68a3ef876535b113886d17a7012a737be9b695bdb66bb6973c3",
    },
    "2019-09_bkg_onshell": {
        "sha256": "5ad11c603efcfd565dd406c7c7576f11ed1ccf9fa96fd6fd03b02b44238ce8f6",
        "md5": "1f3d064817482ff2a4c2f727b675276e",
        "sorted": "0a95bed3ff4957f6cbefefb2a9c1a9b388db1ceaabda13f98f871091f72f98e5",
        "signal": "df169a85a21c31143a3b06bf5d82a13ea459d72aa814c538f920e66c48638c8a",
        "prune_staterror": "c3755b69cae7d73a4c35c02be1e0d5fb22be09b7820a893689c8760f564771f7",
        "combined_renamed": "9d063ab100719fc0895f28ba02dcf0336430bc236acef4327156537894c70f9b",
    },
}


def load_spec(name: str) -> dict:
    return json.loads((ATLAS_WS / f"{name}.json").read_text())


# --- small hand-made specs --------------------------------------------------------------
def sample(name, data, modifiers=None):
    mods = (
        modifiers if modifiers is not None else [{"name": "mu", "type": "normfactor", "data": None}]
    )
    return {"name": name, "data": data, "modifiers": mods}


def measurement(name, poi="mu", parameters=None):
    return {"name": name, "config": {"poi": poi, "parameters": parameters or []}}


def spec_a() -> dict:
    return {
        "channels": [
            {
                "name": "A",
                "samples": [
                    sample("sig", [1.0, 2.0]),
                    sample(
                        "bkg",
                        [10.0, 20.0],
                        [{"name": "bu", "type": "shapesys", "data": [1.0, 2.0]}],
                    ),
                ],
            }
        ],
        "observations": [{"name": "A", "data": [11.0, 22.0]}],
        "measurements": [
            measurement("m1", parameters=[{"name": "mu", "bounds": [[0, 5]]}]),
            measurement("m2", parameters=[{"name": "bu", "fixed": True}]),
        ],
        "version": "1.0.0",
    }


def spec_b() -> dict:
    normsys = [{"name": "bn", "type": "normsys", "data": {"hi": 1.1, "lo": 0.9}}]
    return {
        "channels": [
            {"name": "B", "samples": [sample("sig", [3.0]), sample("bkg", [30.0], normsys)]}
        ],
        "observations": [{"name": "B", "data": [33.0]}],
        "measurements": [measurement("m3", parameters=[{"name": "bn", "inits": [0.5]}])],
        "version": "1.0.0",
    }


def same_channel_as_a(samples) -> dict:
    """spec_b, but its channel (and observation) is called 'A' with the given samples."""
    spec = spec_b()
    spec["channels"] = [{"name": "A", "samples": samples}]
    spec["observations"] = [{"name": "A", "data": [11.0, 22.0]}]
    return spec


EXAMPLE = {
    "channels": [
        {
            "name": "singlechannel",
            "samples": [
                sample("signal", [5.0, 10.0]),
                sample(
                    "background",
                    [50.0, 60.0],
                    [{"name": "uncorr_bkguncrt", "type": "shapesys", "data": [5.0, 12.0]}],
                ),
            ],
        }
    ],
    "observations": [{"name": "singlechannel", "data": [50.0, 60.0]}],
    "measurements": [{"name": "Measurement", "config": {"poi": "mu", "parameters": []}}],
    "version": "1.0.0",
}


# --- digest ------------------------------------------------------------------------------
def test_digest_of_pyhf_docs_example():
    assert digest(EXAMPLE) == "dad8822af55205d60152cbe4303929042dbd9d4839012e055e7c6b6459d68d73"
    # md5 / sha1 values computed with pyhf 0.7.6
    assert digest(EXAMPLE, "md5") == "e719c06a76d4eaed837a9f5bef4e0ed4"
    assert digest(EXAMPLE, algorithm="sha1") == "922f156f6c512348a60d2753f20019555a761496"


def test_packaged_example_is_the_docs_example():
    text = resources.files("hfx").joinpath("data/examples/2-bin_1-channel.json").read_text()
    assert json.loads(text) == EXAMPLE
    assert Workspace(json.loads(text)).digest() == digest(EXAMPLE)


def test_digest_ignores_key_order_and_keeps_unicode():
    reordered = {key: EXAMPLE[key] for key in reversed(list(EXAMPLE))}
    assert digest(reordered) == digest(EXAMPLE)
    # pyhf serialises with ensure_ascii=False, UTF-8 encoded (value from pyhf 0.7.6)
    assert digest({"a": "é"}) == "c6c0a269c3d5a55e9c687d138cc1fcd13962dc2d96c1b9ff1ea01ff4ad4047d3"
    # 1 and 1.0 serialise differently, as in pyhf
    assert digest({"a": 1}) != digest({"a": 1.0})


@pytest.mark.parametrize("algorithm", ["nope", "shake_128", ""])
def test_digest_unknown_algorithm(algorithm):
    with pytest.raises(SpecError, match="sha256"):
        digest(EXAMPLE, algorithm)


def test_digest_accepts_workspace_and_rejects_unserialisable():
    assert digest(Workspace(EXAMPLE)) == digest(EXAMPLE)
    with pytest.raises(SpecError, match="digest"):
        digest({"a": object()})


@needs_atlas
@pytest.mark.parametrize("name", ATLAS)
def test_atlas_digests_match_pyhf(name):
    spec = load_spec(name)
    expected = PYHF_DIGESTS[name]
    assert digest(spec) == expected["sha256"]
    assert digest(spec, "md5") == expected["md5"]
    assert Workspace(spec).digest() == expected["sha256"]
    assert digest(sort_spec(spec)) == expected["sorted"]
    assert Workspace(spec).sorted().digest() == expected["sorted"]
    if expected["prune_staterror"] is not None:
        assert digest(prune_spec(spec, modifier_types=["staterror"])) == expected["prune_staterror"]
    renamed = rename_spec(
        spec,
        channels={c["name"]: c["name"] + "_b" for c in spec["channels"]},
        measurements={m["name"]: m["name"] + "_b" for m in spec["measurements"]},
    )
    assert digest(combine_specs(spec, renamed)) == expected["combined_renamed"]


@needs_atlas
@pytest.mark.parametrize("name", ATLAS)
def test_atlas_outer_join_with_itself_is_identity(name):
    spec = load_spec(name)
    for join in ("outer", "left outer", "right outer"):
        assert combine_specs(spec, spec, join=join) == combine_specs(spec, spec, join="outer")
        assert digest(combine_specs(spec, spec, join=join, merge_channels=True)) == digest(spec)
    with pytest.raises(SpecError, match=repr(spec["channels"][0]["name"])):
        combine_specs(spec, spec)


# --- combine -----------------------------------------------------------------------------
def test_combine_disjoint_keeps_left_then_right():
    out = combine_specs(spec_a(), spec_b())
    assert list(out) == ["channels", "measurements", "observations", "version"]
    assert [c["name"] for c in out["channels"]] == ["A", "B"]
    assert [o["name"] for o in out["observations"]] == ["A", "B"]
    assert [m["name"] for m in out["measurements"]] == ["m1", "m2", "m3"]
    assert out["version"] == "1.0.0"
    assert Workspace(spec_a()).combine(Workspace(spec_b())).spec == out


def test_combine_none_rejects_any_common_name():
    with pytest.raises(SpecError, match="channels named 'A'"):
        combine_specs(spec_a(), spec_a())
    right = spec_b()
    right["measurements"][0]["name"] = "m1"
    with pytest.raises(SpecError, match="measurements named 'm1'"):
        combine_specs(spec_a(), right)


def test_combine_bad_join_mode_lists_valid_ones():
    with pytest.raises(SpecError) as info:
        combine_specs(spec_a(), spec_b(), join="inner")
    for mode in JOIN_MODES:
        assert repr(mode) in str(info.value)
    with pytest.raises(SpecError, match="merge_channels"):
        combine_specs(spec_a(), spec_b(), merge_channels=True)


def test_combine_versions_must_agree():
    right = spec_b()
    right["version"] = "1.0.1"
    with pytest.raises(SpecError, match="versions"):
        combine_specs(spec_a(), right, join="outer")


def test_outer_join_deduplicates_identical_and_rejects_different_channels():
    right = spec_b()
    right["channels"].append(spec_a()["channels"][0])
    right["observations"].append(spec_a()["observations"][0])
    out = combine_specs(spec_a(), right, join="outer")
    assert [c["name"] for c in out["channels"]] == ["A", "B"]
    assert [o["name"] for o in out["observations"]] == ["A", "B"]

    right["channels"][1]["samples"][0]["data"] = [9.0, 9.0]
    with pytest.raises(SpecError, match="channels named 'A' with different content"):
        combine_specs(spec_a(), right, join="outer")
    right = same_channel_as_a(spec_a()["channels"][0]["samples"])
    right["observations"][0]["data"] = [1.0, 1.0]
    with pytest.raises(SpecError, match="observations named 'A'"):
        combine_specs(spec_a(), right, join="outer")


def test_outer_join_merges_same_named_measurements():
    right = spec_b()
    right["measurements"] = [
        measurement("m3"),
        measurement(
            "m1", parameters=[{"name": "bn", "inits": [0.5]}, {"name": "mu", "bounds": [[0, 5]]}]
        ),
    ]
    out = combine_specs(spec_a(), right, join="outer")
    assert [m["name"] for m in out["measurements"]] == ["m1", "m2", "m3"]
    assert out["measurements"][0] == measurement(
        "m1", parameters=[{"name": "mu", "bounds": [[0, 5]]}, {"name": "bn", "inits": [0.5]}]
    )

    right["measurements"][1]["config"]["poi"] = "bn"
    with pytest.raises(SpecError, match=r"measurement 'm1' with different POIs"):
        combine_specs(spec_a(), right, join="outer")
    right["measurements"][1] = measurement("m1", parameters=[{"name": "mu", "bounds": [[0, 10]]}])
    with pytest.raises(SpecError, match=r"measurement 'm1' .*parameters 'mu'"):
        combine_specs(spec_a(), right, join="outer")


def test_one_sided_outer_joins_prefer_their_side():
    right = same_channel_as_a([sample("other", [7.0, 8.0])])
    right["observations"][0]["data"] = [5.0, 5.0]
    right["measurements"].append(measurement("m1", poi="bn"))

    left_out = combine_specs(spec_a(), right, join="left outer")
    assert left_out["channels"] == spec_a()["channels"]
    assert left_out["observations"] == spec_a()["observations"]
    assert [m["name"] for m in left_out["measurements"]] == ["m1", "m2", "m3"]
    assert left_out["measurements"][0]["config"]["poi"] == "mu"

    right_out = combine_specs(spec_a(), right, join="right outer")
    assert right_out["channels"] == right["channels"]
    assert right_out["observations"] == right["observations"]
    assert [m["name"] for m in right_out["measurements"]] == ["m3", "m1", "m2"]
    assert right_out["measurements"][1]["config"]["poi"] == "bn"


def test_merge_channels_joins_samples_by_name():
    right = same_channel_as_a([sample("bkg", [9.0, 9.0]), sample("extra", [4.0, 4.0])])
    for join in ("outer", "left outer"):
        out = combine_specs(spec_a(), right, join=join, merge_channels=True)
        (channel,) = out["channels"]
        assert [s["name"] for s in channel["samples"]] == ["sig", "bkg", "extra"]
        assert channel["samples"][1]["data"] == [10.0, 20.0]  # the left sample wins
    out = combine_specs(spec_a(), right, join="right outer", merge_channels=True)
    (channel,) = out["channels"]
    assert [s["name"] for s in channel["samples"]] == ["bkg", "extra", "sig"]
    assert channel["samples"][0]["data"] == [9.0, 9.0]  # the right sample wins


# --- prune -------------------------------------------------------------------------------
def test_prune_modifier_removes_its_parameter_configs_but_not_the_poi():
    out = prune_spec(spec_a(), modifiers=["mu"])
    assert out["channels"][0]["samples"][0]["modifiers"] == []
    assert out["measurements"][0]["config"] == {"poi": "mu", "parameters": []}
    assert out["measurements"][1]["config"]["parameters"] == [{"name": "bu", "fixed": True}]


def test_prune_modifier_type_keeps_parameter_configs():
    out = prune_spec(spec_a(), modifier_types=["shapesys"])
    assert out["channels"][0]["samples"][1]["modifiers"] == []
    assert out["measurements"][1]["config"]["parameters"] == [{"name": "bu", "fixed": True}]


def test_prune_samples_channels_measurements():
    out = prune_spec(spec_a(), samples="sig", measurements=["m2"])  # a str is one name
    assert [s["name"] for s in out["channels"][0]["samples"]] == ["bkg"]
    assert [m["name"] for m in out["measurements"]] == ["m1"]
    both = combine_specs(spec_a(), spec_b())
    out = prune_spec(both, channels=["A"])
    assert [c["name"] for c in out["channels"]] == ["B"]
    assert [o["name"] for o in out["observations"]] == ["B"]
    assert Workspace(both).prune(channels=["A"]).spec == out


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"modifiers": ["mux"]}, "modifier 'mux'.*did you mean 'mu'"),
        ({"modifier_types": ["lumi"]}, "modifier type 'lumi'"),
        ({"samples": ["zz"]}, "sample 'zz'"),
        ({"channels": ["B"]}, "channel 'B'"),
        ({"measurements": ["m9"]}, "measurement 'm9'"),
        ({"samples": ["sig", "bkg"]}, "channel 'A' without samples"),
        ({"channels": ["A"]}, "without channels"),
        ({"measurements": ["m1", "m2"]}, "without measurements"),
    ],
)
def test_prune_errors(kwargs, pattern):
    with pytest.raises(SpecError, match=pattern):
        prune_spec(spec_a(), **kwargs)


# --- rename ------------------------------------------------------------------------------
def test_rename_everything():
    out = rename_spec(
        spec_a(),
        modifiers={"mu": "mu2", "bu": "bu2"},
        samples={"sig": "S"},
        channels={"A": "AA"},
        measurements={"m1": "M1"},
    )
    assert out["channels"][0]["name"] == "AA"
    assert out["observations"][0]["name"] == "AA"
    assert [s["name"] for s in out["channels"][0]["samples"]] == ["S", "bkg"]
    assert out["channels"][0]["samples"][0]["modifiers"][0]["name"] == "mu2"
    assert out["channels"][0]["samples"][1]["modifiers"][0]["name"] == "bu2"
    assert out["measurements"][0] == measurement("M1", "mu2", [{"name": "mu2", "bounds": [[0, 5]]}])
    assert out["measurements"][1] == measurement("m2", "mu2", [{"name": "bu2", "fixed": True}])
    assert Workspace(spec_a()).rename(modifiers={"mu": "mu2", "bu": "bu2"}).get_measurement(
        "m1"
    ) == measurement("m1", "mu2", [{"name": "mu2", "bounds": [[0, 5]]}])


def test_rename_swaps_and_merges_modifiers():
    out = rename_spec(spec_a(), samples={"sig": "bkg", "bkg": "sig"})
    assert [s["name"] for s in out["channels"][0]["samples"]] == ["bkg", "sig"]
    assert out["channels"][0]["samples"][0]["data"] == [1.0, 2.0]
    spec = spec_a()
    spec["measurements"][1]["config"]["parameters"] = []
    out = rename_spec(spec, modifiers={"bu": "mu"})
    assert {m["name"] for s in out["channels"][0]["samples"] for m in s["modifiers"]} == {"mu"}


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"modifiers": {"zz": "a"}}, "modifier 'zz'"),
        ({"samples": {"zz": "a"}}, "sample 'zz'"),
        ({"channels": {"zz": "a"}}, "channel 'zz'"),
        ({"measurements": {"zz": "a"}}, "measurement 'zz'"),
        ({"samples": {"sig": "bkg"}}, "two samples in channel 'A' the name 'bkg'"),
        ({"measurements": {"m1": "m2"}}, "two measurements the name 'm2'"),
        ({"modifiers": {"bu": "mu"}}, "parameter configs in measurement 'm2'"),
    ],
)
def test_rename_errors(kwargs, pattern):
    spec = spec_a()
    spec["measurements"][1]["config"]["parameters"].append({"name": "mu", "inits": [2.0]})
    with pytest.raises(SpecError, match=pattern):
        rename_spec(spec, **kwargs)


# --- sort, purity, malformed input ---------------------------------------------------------
def test_sort_spec():
    spec = combine_specs(spec_b(), spec_a())
    spec["channels"][0]["samples"][1]["modifiers"].insert(
        0, {"name": "bn", "type": "histosys", "data": {"hi_data": [31.0], "lo_data": [29.0]}}
    )
    spec["measurements"][2]["config"]["parameters"].insert(0, {"name": "zz", "fixed": True})
    out = sort_spec(spec)
    assert [c["name"] for c in out["channels"]] == ["A", "B"]
    assert [o["name"] for o in out["observations"]] == ["A", "B"]
    assert [m["name"] for m in out["measurements"]] == ["m1", "m2", "m3"]
    assert [s["name"] for s in out["channels"][1]["samples"]] == ["bkg", "sig"]
    assert [m["type"] for m in out["channels"][1]["samples"][0]["modifiers"]] == [
        "histosys",
        "normsys",
    ]
    assert [p["name"] for p in out["measurements"][1]["config"]["parameters"]] == ["bu", "zz"]
    assert sort_spec(out) == out


def test_operations_never_mutate_inputs():
    left, right = spec_a(), same_channel_as_a([sample("extra", [4.0, 4.0])])
    before = copy.deepcopy((left, right))
    out = combine_specs(left, right, join="outer", merge_channels=True)
    out["channels"][0]["samples"][0]["data"][0] = -1.0
    prune_spec(left, modifiers=["mu"], samples=["sig"])
    rename_spec(left, modifiers={"mu": "x"}, channels={"A": "C"})
    sort_spec(right)
    assert (left, right) == before


@pytest.mark.parametrize(
    "call",
    [
        lambda s: combine_specs(s, spec_b()),
        lambda s: prune_spec(s, samples=["sig"]),
        lambda s: rename_spec(s, samples={"sig": "x"}),
        lambda s: sort_spec(s),
    ],
)
def test_malformed_spec_gives_spec_error(call):
    spec = spec_a()
    del spec["channels"][0]["name"]
    del spec["channels"][0]["samples"][0]["name"]
    with pytest.raises(SpecError):
        call(spec)
    with pytest.raises(SpecError):
        call({"channels": "nope", "observations": [], "measurements": []})
