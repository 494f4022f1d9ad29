"""HS3 export and import: JSON -> HS3 -> JSON gives the same workspace and likelihood."""

from __future__ import annotations

import copy
import json
import warnings

import numpy as np
import pytest

import hfx
from hfx.errors import HfxWarning, SpecError
from hfx.infer import hypotest
from hfx.interfaces.io.hs3 import hs3_to_workspace, read_hs3, workspace_to_hs3, write_hs3
from tests.conftest import ATLAS_NAMES, load_atlas, needs_shared

# Every modifier type, two channels, two measurements with their own bounds, inits, fixed
# parameters and luminosity.
SPEC = {
    "channels": [
        {
            "name": "SR",
            "samples": [
                {
                    "name": "signal",
                    "data": [5.0, 10.0, 3.0],
                    "modifiers": [
                        {"name": "mu", "type": "normfactor", "data": None},
                        {"name": "lumi", "type": "lumi", "data": None},
                        {"name": "sig_theory", "type": "normsys", "data": {"hi": 1.1, "lo": 0.92}},
                    ],
                },
                {
                    "name": "bkg",
                    "data": [50.0, 40.0, 20.0],
                    "modifiers": [
                        {"name": "lumi", "type": "lumi", "data": None},
                        {"name": "bkg_norm", "type": "normsys", "data": {"hi": 1.05, "lo": 0.97}},
                        {
                            "name": "jes",
                            "type": "histosys",
                            "data": {"hi_data": [52.0, 41.0, 21.0], "lo_data": [48.0, 39.5, 18.0]},
                        },
                        {"name": "staterror_SR", "type": "staterror", "data": [3.0, 2.5, 2.0]},
                        {"name": "bkg_shape", "type": "shapesys", "data": [5.0, 4.0, 0.0]},
                    ],
                },
                {
                    "name": "bkg2",
                    "data": [10.0, 12.0, 0.0],
                    "modifiers": [
                        {"name": "staterror_SR", "type": "staterror", "data": [1.0, 1.5, 0.0]},
                        {
                            "name": "jes",
                            "type": "histosys",
                            "data": {"hi_data": [10.5, 12.5, 0.0], "lo_data": [9.5, 11.0, 0.0]},
                        },
                        {"name": "jes", "type": "normsys", "data": {"hi": 1.02, "lo": 0.99}},
                    ],
                },
            ],
        },
        {
            "name": "CR",
            "samples": [
                {
                    "name": "bkg",
                    "data": [100.0, 80.0],
                    "modifiers": [
                        {"name": "lumi", "type": "lumi", "data": None},
                        {"name": "bkg_norm", "type": "normsys", "data": {"hi": 1.05, "lo": 0.97}},
                        {"name": "shape_free", "type": "shapefactor", "data": None},
                        {"name": "ON_staterror_CR", "type": "staterror", "data": [5.0, 4.0]},
                    ],
                }
            ],
        },
    ],
    "observations": [
        {"name": "SR", "data": [60.0, 55.0, 30.0]},
        {"name": "CR", "data": [105.0, 78.0]},
    ],
    "measurements": [
        {
            "name": "meas",
            "config": {
                "poi": "mu",
                "parameters": [
                    {
                        "name": "lumi",
                        "auxdata": [1.0],
                        "sigmas": [0.02],
                        "bounds": [[0.5, 1.5]],
                        "inits": [1.0],
                    },
                    {"name": "mu", "bounds": [[0.0, 5.0]], "inits": [0.5]},
                ],
            },
        },
        {
            "name": "fixed_theory",
            "config": {
                "poi": "mu",
                "parameters": [
                    {"name": "lumi", "auxdata": [0.98], "sigmas": [0.02]},
                    {"name": "sig_theory", "fixed": True, "inits": [0.5]},
                    {"name": "shape_free", "bounds": [[0.5, 2.0], [0.5, 2.0]]},
                ],
            },
        },
    ],
    "version": "1.0.0",
}


def spec() -> dict:
    return copy.deepcopy(SPEC)


def _cls(spec: dict, measurement: str | None = None) -> float:
    ws = hfx.Workspace(spec)
    model = ws.model(measurement)
    return float(hypotest(model, ws.data(model), 1.0, test_stat="qtilde").cls)


def _logpdf(spec: dict, measurement: str | None, shift: float) -> float:
    ws = hfx.Workspace(spec)
    model = ws.model(measurement)
    pars = model.config.suggested_init() + shift * ~model.config.suggested_fixed()
    return float(model.logpdf(pars, np.asarray(ws.data(model))))


def _model_config(spec: dict, measurement: str) -> dict:
    config = hfx.Workspace(spec).model(measurement).config
    return {
        "par_order": config.par_order,
        "init": config.suggested_init().tolist(),
        "bounds": config.suggested_bounds().tolist(),
        "fixed": config.suggested_fixed().tolist(),
        "auxdata": list(config.auxdata),
    }


def _same_spec(again: dict, original: dict) -> None:
    """Channels, samples, modifiers and data equal (shapesys to rounding), sorted by name."""
    assert [c["name"] for c in again["channels"]] == sorted(c["name"] for c in original["channels"])
    by_name = {c["name"]: c for c in original["channels"]}
    for channel in again["channels"]:
        samples = {s["name"]: s for s in by_name[channel["name"]]["samples"]}
        assert [s["name"] for s in channel["samples"]] == list(samples)
        for sample in channel["samples"]:
            want = samples[sample["name"]]
            assert sample["data"] == want["data"]
            assert len(sample["modifiers"]) == len(want["modifiers"])
            for mod, ref in zip(sample["modifiers"], want["modifiers"], strict=True):
                assert (mod["name"], mod["type"]) == (ref["name"], ref["type"])
                if mod["type"] == "shapesys":
                    nominal = np.asarray(want["data"])
                    expected = np.where(nominal > 0, ref["data"], 0.0)
                    np.testing.assert_allclose(mod["data"], expected, rtol=1e-15)
                else:
                    assert mod["data"] == ref["data"]
    obs = {o["name"]: o["data"] for o in original["observations"]}
    assert {o["name"]: o["data"] for o in again["observations"]} == obs


def test_round_trip_every_modifier_type():
    original = spec()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither direction warns on what hfx writes
        doc = workspace_to_hs3(original)
        again = hs3_to_workspace(json.loads(json.dumps(doc)))
    assert original == SPEC  # the input is not modified
    _same_spec(again, original)
    assert [m["name"] for m in again["measurements"]] == ["meas", "fixed_theory"]
    for meas in ("meas", "fixed_theory"):
        assert _model_config(again, meas) == _model_config(original, meas)
        for shift in (0.0, 0.1):
            assert _logpdf(again, meas, shift) == pytest.approx(
                _logpdf(original, meas, shift), rel=1e-13
            )
        assert _cls(again, meas) == pytest.approx(_cls(original, meas), rel=1e-8, abs=1e-12)
    # Only what differs from hfx's defaults is written back.
    params = {p["name"]: p for p in again["measurements"][1]["config"]["parameters"]}
    assert params["sig_theory"] == {"name": "sig_theory", "inits": [0.5], "fixed": True}
    assert params["lumi"] == {"name": "lumi", "auxdata": [0.98], "sigmas": [0.02]}
    assert set(params) == {"lumi", "sig_theory", "shape_free"}


def test_document_follows_roots_dialect():
    doc = workspace_to_hs3(spec())
    dists = {d["name"]: d for d in doc["distributions"]}
    assert [d["name"] for d in doc["data"]] == ["obsData_SR", "obsData_CR"]
    assert doc["likelihoods"] == [
        {
            "name": "simPdf_obsData",
            "distributions": ["model_SR", "model_CR"],
            "data": ["obsData_SR", "obsData_CR"],
        }
    ]
    sr = dists["model_SR"]
    assert sr["type"] == "histfactory_dist"
    assert sr["staterror"]["constraint_type"] == "Gauss"  # what keeps ROOT's staterror Gaussian
    assert sr["axes"] == [{"name": "obs_x_SR", "min": 0.0, "max": 3.0, "nbins": 3}]
    bkg = {s["name"]: s for s in sr["samples"]}["bkg"]
    mods = {m["name"]: m for m in bkg["modifiers"] if m["type"] != "normsys"}
    assert bkg["data"]["errors"] == [3.0, 2.5, 2.0]
    assert mods["staterror_SR"]["parameters"] == [f"gamma_stat_SR_bin_{i}" for i in range(3)]
    assert mods["bkg_shape"]["data"]["vals"] == [0.1, 0.1, 0.0]
    assert mods["bkg_shape"]["constraint_type"] == "Poisson"
    assert mods["jes"]["parameter"] == "alpha_jes"
    assert mods["jes"]["interpolation"] == 4  # hfx's code4p is ROOT's code 4
    assert mods["lumi"]["type"] == "normfactor"
    lumi = dists[mods["lumi"]["constraint_name"]]
    assert lumi == {
        "name": "lumiConstraint",
        "type": "gaussian_dist",
        "x": "lumi",
        "mean": "nom_lumi",
        "sigma": 0.02,
    }
    normsys = next(m for m in bkg["modifiers"] if m["type"] == "normsys")
    assert normsys["interpolation"] == 5  # hfx's code4 is ROOT's code 5
    cr = {s["name"]: s for s in dists["model_CR"]["samples"]}["bkg"]
    stat = next(m for m in cr["modifiers"] if m["type"] == "staterror")
    assert stat["parameters"] == ["gamma_ON_staterror_CR_bin_0", "gamma_ON_staterror_CR_bin_1"]
    analyses = {a["name"]: a for a in doc["analyses"]}
    assert analyses["meas"]["parameters_of_interest"] == ["mu"]
    points = {p["name"]: p for p in doc["parameter_points"]}
    theory = {p["name"]: p for p in points[analyses["fixed_theory"]["init"]]["parameters"]}
    assert theory["alpha_sig_theory"] == {"name": "alpha_sig_theory", "value": 0.5, "const": True}
    assert theory["nom_lumi"] == {"name": "nom_lumi", "value": 0.98, "const": True}
    domains = {d["name"]: d for d in doc["domains"]}
    axes = {a["name"]: a for a in domains[analyses["meas"]["domains"][0]]["axes"]}
    assert axes["mu"] == {"name": "mu", "min": 0.0, "max": 5.0}
    assert axes["lumi"] == {"name": "lumi", "min": 0.5, "max": 1.5}


def test_interpolation_codes_follow_modifier_settings():
    settings = {"normsys": {"interpcode": "code1"}, "histosys": {"interpcode": "code0"}}
    doc = workspace_to_hs3(spec(), modifier_settings=settings)
    codes = {
        m["type"]: m["interpolation"]
        for d in doc["distributions"]
        for s in d.get("samples", [])
        for m in s["modifiers"]
        if "interpolation" in m
    }
    assert codes == {"normsys": 1, "histosys": 0}
    with pytest.warns(HfxWarning) as caught:
        again = hs3_to_workspace(doc, source="codes.json")
    text = " ".join(str(w.message) for w in caught)
    assert "modifier_settings={'normsys': {'interpcode': 'code1'}}" in text
    assert "modifier_settings={'histosys': {'interpcode': 'code0'}}" in text
    ws, ref = hfx.Workspace(again), hfx.Workspace(spec())
    model, ref_model = ws.model(modifier_settings=settings), ref.model(modifier_settings=settings)
    pars = model.config.suggested_init() + 0.7
    assert float(model.logpdf(pars, np.asarray(ws.data(model)))) == pytest.approx(
        float(ref_model.logpdf(pars, np.asarray(ref.data(ref_model)))), rel=1e-13
    )


def test_one_measurement_and_files(tmp_path):
    path = tmp_path / "model.hs3.json"
    write_hs3(spec(), path, measurement="fixed_theory")
    doc = json.loads(path.read_text())
    assert [a["name"] for a in doc["analyses"]] == ["fixed_theory"]
    again = read_hs3(path)
    assert [m["name"] for m in again["measurements"]] == ["fixed_theory"]
    assert _cls(again) == pytest.approx(_cls(spec(), "fixed_theory"), rel=1e-8)


@needs_shared()
@pytest.mark.parametrize("name", ATLAS_NAMES)
def test_round_trip_shared_workspaces(name):
    ws_spec, patch, _ = load_atlas(name)
    original = hfx.Workspace(ws_spec).apply_patches([patch]).spec
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = hs3_to_workspace(workspace_to_hs3(original))
    _same_spec(again, original)
    meas = original["measurements"][0]["name"]
    assert _model_config(again, meas) == _model_config(original, meas)
    assert _logpdf(again, meas, 0.05) == pytest.approx(_logpdf(original, meas, 0.05), rel=1e-12)
    assert _cls(again, meas) == pytest.approx(_cls(original, meas), rel=1e-8, abs=1e-12)


# --- what HS3 has and the JSON spec has not ----------------------------------------------------
def _doc() -> dict:
    return workspace_to_hs3(spec(), measurement="meas")


def _sample(doc: dict, channel: str, sample: str) -> dict:
    dist = next(d for d in doc["distributions"] if d["name"] == f"model_{channel}")
    return next(s for s in dist["samples"] if s["name"] == sample)


def test_other_distribution_types_are_refused():
    doc = _doc()
    doc["distributions"][0] = {"name": "model_SR", "type": "gaussian_dist", "x": "x"}
    with pytest.raises(SpecError) as err:
        hs3_to_workspace(doc, source="m.json")
    message = str(err.value)
    assert message.startswith("m.json: /distributions/0: ")
    assert "'gaussian_dist'" in message and "histfactory_dist" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("change", "pointer", "says"),
    [
        (
            lambda d: _sample(d, "SR", "bkg")["modifiers"].append({"type": "custom", "name": "x"}),
            "/distributions/0/samples/1/modifiers/5",
            "modifier type 'custom'",
        ),
        (
            lambda d: _sample(d, "SR", "bkg")["modifiers"][1].update(interpolation=3),
            "/distributions/0/samples/1/modifiers/1",
            "interpolation code 3",
        ),
        (
            lambda d: next(
                x for x in d["distributions"] if x["name"] == "alpha_jesConstraint"
            ).update(type="lognormal_dist"),
            "/distributions/",
            "gaussian_dist",
        ),
        (
            lambda d: _sample(d, "SR", "bkg")["modifiers"][4].update(constraint_type="Lognormal"),
            "/distributions/0/samples/1/modifiers/4",
            "shapesys constraint 'Lognormal'",
        ),
        (
            lambda d: _sample(d, "SR", "bkg")["modifiers"][4].update(data=[0.1, 0.1, 0.0]),
            "/distributions/0/samples/1/modifiers/4/data",
            "expected an object with 'vals'",
        ),
        (
            lambda d: _sample(d, "SR", "bkg")["data"].update(contents="50 40 20"),
            "/distributions/0/samples/1/data",
            "expected 'contents'",
        ),
        (
            lambda d: d["likelihoods"].append({**d["likelihoods"][0], "name": "other"}),
            "/likelihoods",
            "choose one",
        ),
        (
            lambda d: d["data"][0].update(contents=[1.0]),
            "/data/0",
            "1 bins, the distribution has 3",
        ),
        (
            lambda d: d["analyses"][0].pop("parameters_of_interest"),
            "/analyses/0",
            "no parameter of interest",
        ),
        (
            lambda d: _sample(d, "CR", "bkg")["modifiers"][2].update(
                parameters=["gamma_stat_SR_bin_0", "gamma_stat_SR_bin_1"]
            ),
            "/distributions/1/samples/0/modifiers/2",
            "parameter 'gamma_stat_SR_bin_0' belongs to modifier",
        ),
    ],
)
def test_inexpressible_content_is_one_error(change, pointer, says):
    doc = _doc()
    change(doc)
    with pytest.raises(SpecError) as err:
        hs3_to_workspace(doc, source="m.json")
    message = str(err.value)
    assert message.startswith(f"m.json: {pointer}"), message
    assert says in message, message
    assert "\n" not in message


def test_not_an_hs3_object():
    with pytest.raises(SpecError, match="expected an HS3 object at the top"):
        hs3_to_workspace([], source="m.json")  # type: ignore[arg-type]
    with pytest.raises(SpecError, match=r"m.json: /distributions: expected a list"):
        hs3_to_workspace({"distributions": {}}, source="m.json")


def test_likelihood_and_poi_can_be_chosen():
    doc = _doc()
    doc["likelihoods"].append({**doc["likelihoods"][0], "name": "simPdf_asimovData"})
    assert hs3_to_workspace(doc)["measurements"][0]["name"] == "meas"  # Asimov skipped
    doc["likelihoods"].append({**doc["likelihoods"][0], "name": "other"})
    assert hs3_to_workspace(doc, likelihood="simPdf_obsData")["channels"]
    with pytest.raises(SpecError, match="no likelihood named 'nope'"):
        hs3_to_workspace(doc, likelihood="nope")
    doc = _doc()
    del doc["analyses"]
    with pytest.raises(SpecError, match="no parameter of interest"):
        hs3_to_workspace(doc)
    again = hs3_to_workspace(doc, poi="mu")
    assert again["measurements"][0]["config"]["poi"] == "mu"


def test_approximations_warn():
    doc = _doc()
    stat = _sample(doc, "SR", "bkg")["modifiers"][3]
    assert stat["type"] == "staterror"
    stat["constraint_type"] = "Poisson"
    with pytest.warns(HfxWarning, match=r"staterror 'staterror_SR' has a Poisson constraint"):
        again = hs3_to_workspace(doc, source="m.json")
    assert again["channels"][1]["samples"][1]["modifiers"][3]["type"] == "staterror"
    doc = _doc()
    point = next(p for p in doc["parameter_points"] if p["name"] == "meas_init")
    for entry in point["parameters"]:
        if entry["name"] == "gamma_stat_SR_bin_0":
            entry["const"] = True
    with pytest.warns(HfxWarning, match="constant in some bins only"):
        hs3_to_workspace(doc)


def test_root_style_shapesys_variants():
    doc = _doc()
    shapesys = _sample(doc, "SR", "bkg")["modifiers"][4]
    shapesys["constraint_type"] = "Gauss"  # a Gaussian per bin: a staterror of one sample
    again = hs3_to_workspace(copy.deepcopy(doc))
    mod = again["channels"][1]["samples"][1]["modifiers"][4]
    assert (mod["name"], mod["type"]) == ("bkg_shape", "staterror")
    np.testing.assert_allclose(mod["data"], [5.0, 4.0, 0.0], rtol=1e-15)
    shapesys["data"]["vals"] = [0.0, 0.0, 0.0]  # how ROOT writes a ShapeFactor
    with pytest.warns(HfxWarning, match="'bkg_shape' is constant in some bins only"):
        again = hs3_to_workspace(doc)  # its empty bin is still marked constant
    mod = again["channels"][1]["samples"][1]["modifiers"][4]
    assert (mod["name"], mod["type"], mod["data"]) == ("bkg_shape", "shapefactor", None)


def test_export_refusals():
    two = spec()
    two["measurements"][1]["config"]["parameters"][0]["sigmas"] = [0.05]
    with pytest.raises(SpecError, match="export one measurement at a time"):
        workspace_to_hs3(two)
    assert workspace_to_hs3(two, measurement="fixed_theory")["analyses"]
    clash = spec()
    clash["channels"][1]["samples"][0]["modifiers"].append(
        {"name": "alpha_jes", "type": "normfactor", "data": None}
    )
    with pytest.raises(SpecError, match="HS3 parameter 'alpha_jes'"):
        workspace_to_hs3(clash)


def test_background_only_export_warns_and_import_takes_poi():
    bkg_only = spec()
    del bkg_only["channels"][0]["samples"][0]  # the signal sample carries the POI
    bkg_only["measurements"] = bkg_only["measurements"][:1]
    bkg_only["measurements"][0]["config"]["parameters"].pop()  # mu's bounds
    with pytest.warns(HfxWarning, match="its POI 'mu' is not a parameter of the model"):
        doc = workspace_to_hs3(bkg_only)
    assert "parameters_of_interest" not in doc["analyses"][0]
    with pytest.raises(SpecError, match="no parameter of interest"):
        hs3_to_workspace(doc)
    again = hs3_to_workspace(doc, poi="mu")
    assert again["measurements"][0]["config"]["poi"] == "mu"
    _same_spec(again, bkg_only)


def test_the_standards_own_spelling():
    """The HS3 standard's histfactory_dist example: 'constraint' keys, no ROOT names."""
    doc = {
        "distributions": [
            {
                "name": "myChannel1",
                "type": "histfactory_dist",
                "axes": [{"name": "myRegion", "min": 0.0, "max": 1.0, "nbins": 2}],
                "samples": [
                    {
                        "name": "mySignal",
                        "data": {"contents": [0.5, 0.7], "errors": [0.1, 0.1]},
                        "modifiers": [
                            {"parameter": "mu_signal_strength", "type": "normfactor"},
                            {
                                "constraint": "Gauss",
                                "data": {"hi": 1.1, "lo": 0.9},
                                "parameter": "my_normalization_systematic_1",
                                "type": "normsys",
                                "interpolation": "log",
                            },
                            {
                                "constraint": "Gauss",
                                "type": "staterror",
                                "parameters": ["gamma_stat_1", "gamma_stat_2"],
                            },
                            {
                                "constraint": "Gauss",
                                "type": "histosys",
                                "data": {
                                    "hi": {"contents": [0.6, 0.8]},
                                    "lo": {"contents": [0.4, 0.65]},
                                },
                                "parameter": "my_correlated_shape_systematic_1",
                                "interpolation": "lin",
                            },
                            {
                                "constraint": "Poisson",
                                "data": {"vals": [0.0, 0.2]},
                                "parameter": "my_uncorrelated_shape_systematic_2",
                                "type": "shapesys",
                            },
                        ],
                    }
                ],
            }
        ],
        "data": [{"name": "obs", "type": "binned", "contents": [1.0, 2.0]}],
        "likelihoods": [{"name": "L", "distributions": ["myChannel1"], "data": ["obs"]}],
        "analyses": [
            {"name": "A", "likelihood": "L", "parameters_of_interest": ["mu_signal_strength"]}
        ],
    }
    with pytest.warns(HfxWarning) as caught:
        spec = hs3_to_workspace(doc, source="standard.json")
    text = " ".join(str(w.message) for w in caught)
    assert "normsys interpolation code1" in text and "histosys interpolation code0" in text
    (channel,) = spec["channels"]
    assert channel["name"] == "myChannel1"
    mods = {m["name"]: m for m in channel["samples"][0]["modifiers"]}
    assert {n: m["type"] for n, m in mods.items()} == {
        "mu_signal_strength": "normfactor",
        "my_normalization_systematic_1": "normsys",
        "staterror_myChannel1": "staterror",
        "my_correlated_shape_systematic_1": "histosys",
        "my_uncorrelated_shape_systematic_2": "shapesys",
    }
    assert mods["staterror_myChannel1"]["data"] == [0.1, 0.1]
    assert mods["my_uncorrelated_shape_systematic_2"]["data"] == pytest.approx([0.0, 0.14])
    assert spec["measurements"] == [
        {"name": "A", "config": {"poi": "mu_signal_strength", "parameters": []}}
    ]
    settings = {"normsys": {"interpcode": "code1"}, "histosys": {"interpcode": "code0"}}
    model = hfx.Workspace(spec).model(modifier_settings=settings)
    # mu * 0.5 * 1.1^alpha + histosys shift at alpha = 1 and the per-bin factors
    pars = model.config.suggested_init()
    pars[model.config.par_slice("my_normalization_systematic_1")] = 1.0
    pars[model.config.par_slice("my_correlated_shape_systematic_1")] = 1.0
    np.testing.assert_allclose(model.expected_actualdata(pars), [0.6 * 1.1, 0.8 * 1.1], rtol=1e-12)


def test_aux_distributions_must_belong_to_modifiers():
    doc = _doc()
    doc["likelihoods"][0]["aux_distributions"] = ["alpha_jesConstraint", "lumiConstraint"]
    assert hs3_to_workspace(copy.deepcopy(doc))["channels"]
    doc["distributions"].append(
        {"name": "extra", "type": "gaussian_dist", "x": "mu", "mean": 1.0, "sigma": 0.1}
    )
    doc["likelihoods"][0]["aux_distributions"].append("extra")
    with pytest.raises(SpecError, match="'extra' is not the constraint of a modifier") as err:
        hs3_to_workspace(doc, source="m.json")
    assert str(err.value).startswith("m.json: /likelihoods/0/aux_distributions/2: ")


def test_poisson_staterror_on_one_sample_is_a_shapesys():
    doc = _doc()
    stat = _sample(doc, "CR", "bkg")["modifiers"][3]
    assert stat["type"] == "staterror"
    stat["constraint_type"] = "Poisson"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # exact: no warning
        again = hs3_to_workspace(doc)
    mod = again["channels"][0]["samples"][0]["modifiers"][3]
    assert mod == {"name": "ON_staterror_CR", "type": "shapesys", "data": [5.0, 4.0]}
    # Poisson constraint with tau = (nu / sigma)^2: (100/5)^2 = 400 and (80/4)^2 = 400
    config = hfx.Workspace(again).model("meas").config
    assert config.param_set("ON_staterror_CR").factors == [400.0, 400.0]
