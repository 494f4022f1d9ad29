"""hfx.compat.pyhf: pyhf's Workspace/Model/simplemodels API gives pyhf 0.7.6's numbers.

The expected values are pyhf's (stored references for the ATLAS workspaces, documented
doctest values for the simple models); pyhf itself is not imported.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import hfx.compat.pyhf as pyhf
from hfx import simplemodels as native_simplemodels
from hfx.errors import HfxError
from hfx.likelihood.model import Model as NativeModel
from hfx.spec.operations import digest
from tests.cli.helpers import doc_example
from tests.conftest import ATLAS_NAMES, load_atlas

AUX_SIMPLE = [277.77777777777777, 55.183673469387756]  # (50/3)², (52/7)²


# --- the published ATLAS workspaces --------------------------------------------------------
def _vector(config, values: dict) -> list[float]:
    """A parameter vector filled by name through ``par_slice``, as a pyhf user would."""
    pars = config.suggested_init()
    for name, value in values.items():
        pars[config.par_slice(name)] = value
    return pars


@pytest.mark.skipif(not ATLAS_NAMES, reason="../shared/data not present")
@pytest.mark.parametrize("name", ATLAS_NAMES)
def test_atlas_workspace_through_facade_matches_pyhf_reference(name):
    spec, patch, ref = load_atlas(name)
    ws = pyhf.Workspace(spec)
    model = ws.model(patches=[patch])
    data = ws.data(model)
    config = model.config

    assert config.npars == ref["npars"]
    assert config.poi_name == ref["poi"]
    assert config.par_names[config.poi_index] == ref["poi"]
    assert set(config.par_order) == set(ref["parameters"])

    init = _vector(config, ref["parameters"])
    assert init == config.suggested_init()
    logpdf_init = model.logpdf(init, data)
    assert logpdf_init.shape == (1,)
    assert logpdf_init[0] == pytest.approx(ref["logpdf_init"], rel=1e-9)

    point = _vector(config, ref["point"])
    assert model.logpdf(point, data)[0] == pytest.approx(ref["logpdf_point"], rel=1e-9)
    np.testing.assert_allclose(
        model.expected_actualdata(point), ref["expected_actualdata_point"], rtol=1e-9
    )
    assert data[: config.nmaindata] == ref["observed_data"]
    if "auxdata" in ref:
        np.testing.assert_allclose(config.auxdata, ref["auxdata"], rtol=1e-12)
        assert data[config.nmaindata :] == config.auxdata


@pytest.mark.skipif(not ATLAS_NAMES, reason="../shared/data not present")
def test_atlas_patch_objects_with_a_patch_attribute_are_accepted():
    name = ATLAS_NAMES[0]
    spec, patch, ref = load_atlas(name)

    class PatchLike:  # e.g. a jsonpatch.JsonPatch or a PatchSet's patch
        def __init__(self, ops):
            self.patch = ops

    model = pyhf.Workspace(spec).model(patches=[PatchLike(patch)])
    assert model.config.npars == ref["npars"]


@pytest.mark.skipif(not ATLAS_NAMES, reason="../shared/data not present")
def test_patchset_apply_gives_a_facade_workspace():
    name = ATLAS_NAMES[0]
    spec, patch, ref = load_atlas(name)
    ws = pyhf.Workspace(spec)
    patchset = pyhf.PatchSet(
        {
            "metadata": {
                "digests": {"sha256": digest(spec)},
                "labels": ["m1", "m2"],
                "references": {},
                "description": "one signal point",
            },
            "patches": [{"metadata": {"name": "point", "values": [1000, 100]}, "patch": patch}],
            "version": "1.0.0",
        }
    )
    patched = patchset.apply(ws, "point")
    assert isinstance(patched, pyhf.Workspace)
    model = patched.model()
    logpdf = model.logpdf(model.config.suggested_init(), patched.data(model))
    assert logpdf[0] == pytest.approx(ref["logpdf_init"], rel=1e-9)
    via_model = ws.model(patches=[patchset[(1000, 100)]])
    assert via_model.logpdf(via_model.config.suggested_init(), ws.data(via_model)) == logpdf
    with pytest.raises(HfxError, match="digest"):
        patchset.apply(patched, "point")


# --- the canonical simple model ------------------------------------------------------------
@pytest.fixture
def simple():
    return pyhf.simplemodels.uncorrelated_background([12, 11], [50, 52], [3, 7])


def test_uncorrelated_background_spec_names_as_pyhf(simple):
    assert simple.spec == {
        "channels": [
            {
                "name": "singlechannel",
                "samples": [
                    {
                        "name": "signal",
                        "data": [12, 11],
                        "modifiers": [{"name": "mu", "type": "normfactor", "data": None}],
                    },
                    {
                        "name": "background",
                        "data": [50, 52],
                        "modifiers": [
                            {"name": "uncorr_bkguncrt", "type": "shapesys", "data": [3, 7]}
                        ],
                    },
                ],
            }
        ]
    }
    config = simple.config
    assert config.poi_name == "mu"
    assert config.poi_index == 0
    assert config.par_order == ["mu", "uncorr_bkguncrt"]
    assert config.par_names == ["mu", "uncorr_bkguncrt[0]", "uncorr_bkguncrt[1]"]
    assert config.parameters == ["mu", "uncorr_bkguncrt"]
    assert config.channels == ["singlechannel"]
    assert config.samples == ["background", "signal"]
    assert config.modifiers == [("mu", "normfactor"), ("uncorr_bkguncrt", "shapesys")]
    assert config.channel_nbins == {"singlechannel": 2}
    assert config.channel_slices == {"singlechannel": slice(0, 2)}
    assert config.par_slice("mu") == slice(0, 1)
    assert config.par_slice("uncorr_bkguncrt") == slice(1, 3)
    assert (config.npars, config.nmaindata, config.nauxdata) == (3, 2, 2)
    assert config.auxdata_order == ["uncorr_bkguncrt"]
    assert config.modifier_settings == {
        "normsys": {"interpcode": "code4"},
        "histosys": {"interpcode": "code4p"},
    }


def test_uncorrelated_background_suggestions_are_lists_like_pyhf(simple):
    config = simple.config
    assert config.suggested_init() == [1.0, 1.0, 1.0]
    assert config.suggested_bounds() == [(0.0, 10.0), (1e-10, 10.0), (1e-10, 10.0)]
    assert config.suggested_fixed() == [False, False, False]
    assert isinstance(config.auxdata, list)
    assert config.auxdata == pytest.approx(AUX_SIMPLE, rel=1e-15)


def test_uncorrelated_background_param_sets(simple):
    gamma = simple.config.param_set("uncorr_bkguncrt")
    assert type(gamma).__name__ == "constrained_by_poisson"
    assert (gamma.name, gamma.n_parameters, gamma.is_scalar) == ("uncorr_bkguncrt", 2, False)
    assert gamma.constrained and gamma.pdf_type == "poisson"
    assert gamma.suggested_init == [1.0, 1.0]
    assert gamma.suggested_bounds == [(1e-10, 10.0), (1e-10, 10.0)]
    assert gamma.suggested_fixed == [False, False]
    assert gamma.suggested_fixed_as_bool is False
    assert gamma.factors == pytest.approx(AUX_SIMPLE, rel=1e-15)
    assert gamma.width() == pytest.approx([3 / 50, 7 / 52], rel=1e-12)
    mu = simple.config.param_set("mu")
    assert type(mu).__name__ == "unconstrained"
    assert (mu.n_parameters, mu.is_scalar, mu.constrained) == (1, True, False)
    assert mu.suggested_bounds == [(0.0, 10.0)]
    assert set(simple.config.par_map) == {"mu", "uncorr_bkguncrt"}
    assert simple.config.par_map["uncorr_bkguncrt"]["slice"] == slice(1, 3)


def test_uncorrelated_background_twice_nll_at_init(simple):
    data = [51, 48, *simple.config.auxdata]
    logpdf = simple.logpdf(simple.config.suggested_init(), data)
    assert logpdf.shape == (1,)
    assert np.isclose(-2 * logpdf[0], 30.77525435, rtol=1e-9)


def test_logpdf_is_batched_over_parameter_points(simple):
    data = [51, 48, *AUX_SIMPLE]
    points = np.array(
        [[1.0, 1.0, 1.0], [0.0, 1.0030512, 0.96266961], [1.0, 0.97224597, 0.87553894]]
    )
    batched = simple.logpdf(points, data)
    assert batched.shape == (3,)
    one_by_one = [simple.logpdf(p, data)[0] for p in points]
    np.testing.assert_allclose(batched, one_by_one, rtol=1e-14)
    np.testing.assert_allclose(-2 * batched, [30.77525435, 24.98393521, 28.92218013], rtol=1e-8)


def test_expected_data_main_aux_and_by_sample(simple):
    pars = [1.1, 0.9, 1.2]
    main = [1.1 * 12 + 0.9 * 50, 1.1 * 11 + 1.2 * 52]
    aux = [0.9 * AUX_SIMPLE[0], 1.2 * AUX_SIMPLE[1]]
    np.testing.assert_allclose(simple.expected_actualdata(pars), main, rtol=1e-14)
    np.testing.assert_allclose(simple.expected_auxdata(pars), aux, rtol=1e-14)
    np.testing.assert_allclose(simple.expected_data(pars), main + aux, rtol=1e-14)
    np.testing.assert_allclose(simple.expected_data(pars, include_auxdata=False), main, rtol=1e-14)
    by_sample = simple.main_model.expected_data(pars, return_by_sample=True)
    np.testing.assert_allclose(by_sample, [[45.0, 62.4], [13.2, 12.1]], rtol=1e-14)
    np.testing.assert_allclose(simple.main_model.expected_data(pars), main, rtol=1e-14)


def test_main_and_constraint_logpdf_add_up(simple):
    pars = np.array([1.1, 0.9, 1.2])
    main = simple.mainlogpdf([51.0, 48.0], pars)
    constraint = simple.constraint_logpdf(AUX_SIMPLE, pars)
    assert np.ndim(main) == 0 and np.ndim(constraint) == 0  # as pyhf returns them
    expected_main = sum(
        n * math.log(lam) - lam - math.lgamma(n + 1)
        for n, lam in zip([51, 48], [1.1 * 12 + 0.9 * 50, 1.1 * 11 + 1.2 * 52], strict=True)
    )
    expected_constraint = sum(
        a * math.log(g * a) - g * a - math.lgamma(a + 1)
        for a, g in zip(AUX_SIMPLE, [0.9, 1.2], strict=True)
    )
    assert float(main) == pytest.approx(expected_main, rel=1e-12)
    assert float(constraint) == pytest.approx(expected_constraint, rel=1e-12)
    total = simple.logpdf(pars, [51.0, 48.0, *AUX_SIMPLE])[0]
    assert float(main + constraint) == pytest.approx(total, rel=1e-12)
    assert simple.main_model.logpdf([51.0, 48.0], pars) == main
    assert simple.constraint_model.logpdf(AUX_SIMPLE, pars) == constraint


def test_correlated_background_as_pyhf():
    model = pyhf.simplemodels.correlated_background([12, 11], [50, 52], [45, 57], [55, 47])
    channel = model.spec["channels"][0]
    assert channel["name"] == "single_channel"
    assert [s["name"] for s in channel["samples"]] == ["signal", "background"]
    assert channel["samples"][1]["modifiers"] == [
        {
            "name": "correlated_bkg_uncertainty",
            "type": "histosys",
            "data": {"hi_data": [45, 57], "lo_data": [55, 47]},
        }
    ]
    config = model.config
    assert config.par_order == ["correlated_bkg_uncertainty", "mu"]
    assert config.par_names == ["correlated_bkg_uncertainty", "mu"]
    assert config.poi_index == 1
    assert config.auxdata == [0.0]
    assert config.suggested_init() == [0.0, 1.0]
    assert config.suggested_bounds() == [(-5.0, 5.0), (0.0, 10.0)]
    alpha = config.param_set("correlated_bkg_uncertainty")
    assert (alpha.pdf_type, alpha.auxdata, alpha.sigmas, alpha.is_scalar) == (
        "normal",
        [0.0],
        [1.0],
        True,
    )
    # at α = ±1 every interpolation code gives the up/down template exactly
    for alpha_value, background in ((1.0, [45, 57]), (-1.0, [55, 47])):
        rates = model.expected_actualdata([alpha_value, 1.0])
        np.testing.assert_allclose(rates, np.add([12, 11], background), rtol=1e-14)


def test_native_simplemodels_give_native_models_with_the_same_numbers():
    model = native_simplemodels.uncorrelated_background([12, 11], [50, 52], [3, 7])
    assert isinstance(model, NativeModel)
    data = np.r_[[51, 48], model.config.auxdata]
    assert float(model.twice_nll(model.config.suggested_init(), data)) == pytest.approx(
        30.77525435, rel=1e-9
    )
    corr = native_simplemodels.correlated_background([12, 11], [50, 52], [45, 57], [55, 47])
    assert corr.config.par_order == ["correlated_bkg_uncertainty", "mu"]
    ws = native_simplemodels.uncorrelated_background_workspace(
        [12, 11], [50, 52], [3, 7], observations=[51, 48]
    )
    m = ws.model()
    assert ws.data(m) == pytest.approx([51, 48, *AUX_SIMPLE], rel=1e-15)


def test_simplemodels_reject_mismatched_lengths():
    with pytest.raises(HfxError, match="one value per bin"):
        native_simplemodels.uncorrelated_background([1, 2], [3], [1])


# --- Model from a bare spec ------------------------------------------------------------------
def _bare_spec(parameters=None):
    spec = {
        "channels": [
            {
                "name": "sr",
                "samples": [
                    {
                        "name": "sig",
                        "data": [5.0, 6.0],
                        "modifiers": [
                            {"name": "mu", "type": "normfactor", "data": None},
                            {"name": "lumi", "type": "lumi", "data": None},
                        ],
                    },
                    {
                        "name": "bkg",
                        "data": [50.0, 60.0],
                        "modifiers": [
                            {"name": "norm", "type": "normsys", "data": {"hi": 1.1, "lo": 0.8}},
                            {"name": "lumi", "type": "lumi", "data": None},
                        ],
                    },
                ],
            }
        ],
        "parameters": [{"name": "lumi", "auxdata": [1.0], "sigmas": [0.05]}],
    }
    if parameters is not None:
        spec["parameters"] = parameters
    return spec


def test_model_from_bare_spec_defaults_poi_to_mu():
    model = pyhf.Model(_bare_spec())
    assert model.config.poi_name == "mu"
    assert model.config.par_order == ["lumi", "mu", "norm"]
    assert model.config.auxdata == [1.0, 0.0]
    lumi = model.config.param_set("lumi")
    assert (lumi.pdf_type, lumi.sigmas, lumi.auxdata) == ("normal", [0.05], [1.0])


@pytest.mark.parametrize("poi_name", [None, ""])
def test_model_without_poi(poi_name):
    model = pyhf.Model(_bare_spec(), poi_name=poi_name)
    assert model.config.poi_name is None
    assert model.config.poi_index is None


def test_model_set_poi():
    model = pyhf.Model(_bare_spec(), poi_name=None)
    model.config.set_poi("norm")
    assert (model.config.poi_name, model.config.poi_index) == ("norm", 2)
    with pytest.raises(HfxError, match="not a parameter"):
        model.config.set_poi("nope")
    with pytest.raises(HfxError, match=r"did you mean 'norm'\? \(the model has \d+ parameters\)"):
        model.config.set_poi("Norm")


def test_model_ignores_configs_of_absent_parameters_like_pyhf():
    params = [
        {"name": "lumi", "auxdata": [1.0], "sigmas": [0.05]},
        {"name": "not_in_model", "inits": [3.0]},
        {"name": "mu", "inits": [2.0]},
    ]
    model = pyhf.Model(_bare_spec(params))
    assert model.config.suggested_init() == [1.0, 2.0, 0.0]


def test_model_modifier_settings_pick_interpolation_codes():
    data = [60.0, 70.0, 1.0, 0.0]
    pars = [1.0, 1.0, 0.5]
    code1 = pyhf.Model(_bare_spec(), modifier_settings={"normsys": {"interpcode": "code1"}})
    assert code1.config.modifier_settings == {"normsys": {"interpcode": "code1"}}
    # code1: κ(α) = 1.1^α for α > 0
    kappa = 1.1**0.5
    np.testing.assert_allclose(
        code1.expected_actualdata(pars), [5 + 50 * kappa, 6 + 60 * kappa], rtol=1e-14
    )
    code4 = pyhf.Model(_bare_spec())
    assert code4.logpdf(pars, data)[0] != pytest.approx(code1.logpdf(pars, data)[0], rel=1e-9)


def test_model_rejects_unknown_options_and_invalid_specs():
    with pytest.raises(HfxError, match="Unsupported options"):
        pyhf.Model(_bare_spec(), not_an_option=1)
    with pytest.raises(HfxError):
        pyhf.Model({"channels": []})


def test_model_data_length_is_checked():
    model = pyhf.Model(_bare_spec())
    with pytest.raises(HfxError, match="the model expects 4"):
        model.logpdf(model.config.suggested_init(), [1.0, 2.0])


# --- Workspace ------------------------------------------------------------------------------
def _workspace_spec(channel="sr", measurement="meas"):
    model = _bare_spec()
    model["channels"][0]["name"] = channel
    return {
        "channels": model["channels"],
        "observations": [{"name": channel, "data": [58.0, 64.0]}],
        "measurements": [
            {"name": measurement, "config": {"poi": "mu", "parameters": model["parameters"]}}
        ],
        "version": "1.0.0",
    }


def test_workspace_is_the_json_document():
    spec = _workspace_spec()
    ws = pyhf.Workspace(spec)
    assert isinstance(ws, dict)
    assert ws["channels"] == spec["channels"]
    assert json.loads(json.dumps(ws)) == spec
    assert ws.version == "1.0.0"
    assert ws.channels == ["sr"]
    assert ws.samples == ["bkg", "sig"]
    assert ws.modifiers == [("lumi", "lumi"), ("mu", "normfactor"), ("norm", "normsys")]
    assert ws.parameters == ["lumi", "mu", "norm"]
    assert ws.channel_nbins == {"sr": 2}
    assert ws.measurement_names == ["meas"]
    assert ws.observations == {"sr": [58.0, 64.0]}
    spec["channels"][0]["name"] = "changed"  # the workspace holds its own copy
    assert ws.channels == ["sr"]


def test_workspace_model_and_data():
    ws = pyhf.Workspace(_workspace_spec())
    model = ws.model()
    assert model.config.poi_name == "mu"
    assert ws.data(model) == [58.0, 64.0, 1.0, 0.0]
    assert ws.data(model, include_auxdata=False) == [58.0, 64.0]
    assert ws.model(poi_name=None).config.poi_name is None
    assert ws.model(measurement_name="meas").config.npars == 3
    assert ws.model(measurement_index=0).config.npars == 3
    code1 = ws.model(modifier_settings={"normsys": {"interpcode": "code1"}})
    assert code1.config.modifier_settings["normsys"] == {"interpcode": "code1"}


def test_workspace_get_measurement():
    spec = _workspace_spec()
    spec["measurements"].append(
        {
            "name": "other",
            "config": {
                "poi": "norm",
                "parameters": spec["measurements"][0]["config"]["parameters"],
            },
        }
    )
    ws = pyhf.Workspace(spec)
    assert ws.get_measurement()["name"] == "meas"
    assert ws.get_measurement(measurement_name="other")["config"]["poi"] == "norm"
    assert ws.get_measurement(measurement_index=1)["name"] == "other"
    assert ws.model(measurement_name="other").config.poi_name == "norm"
    with pytest.raises(HfxError, match="no measurement named"):
        ws.get_measurement(measurement_name="missing")
    with pytest.raises(HfxError, match="out of bounds"):
        ws.get_measurement(measurement_index=5)


def test_workspace_prune_rename_sorted_combine():
    ws = pyhf.Workspace(_workspace_spec())
    renamed = ws.rename(channels={"sr": "cr"}, measurements={"meas": "meas"})
    assert renamed.channels == ["cr"]
    assert renamed.observations == {"cr": [58.0, 64.0]}
    assert isinstance(renamed, pyhf.Workspace)

    pruned = ws.prune(modifiers=["norm"])
    assert ("norm", "normsys") not in pruned.modifiers
    assert pruned.model().config.par_order == ["lumi", "mu"]

    combined = pyhf.Workspace.combine(ws, renamed, join="outer")
    assert combined.channels == ["cr", "sr"]
    assert ws.combine(renamed, join="outer") == combined  # called on an instance
    assert combined.model().config.channels == ["cr", "sr"]
    assert combined.data(combined.model(), include_auxdata=False) == [58.0, 64.0] * 2
    with pytest.raises(ValueError, match="valid join"):
        pyhf.Workspace.combine(ws, renamed, join="sideways")
    with pytest.raises(HfxError):
        pyhf.Workspace.combine(ws, ws)  # same channel twice

    shuffled = json.loads(json.dumps(combined))
    shuffled["channels"].reverse()
    shuffled["observations"].reverse()
    shuffled = pyhf.Workspace(shuffled)
    assert shuffled != combined
    assert pyhf.Workspace.sorted(shuffled) == pyhf.Workspace.sorted(combined)
    assert shuffled.sorted() == pyhf.Workspace.sorted(shuffled)


def test_workspace_build_round_trip():
    model = pyhf.simplemodels.uncorrelated_background([12, 11], [50, 52], [3, 7])
    ws = pyhf.Workspace.build(model, [51, 48])
    assert ws.measurement_names == ["measurement"]
    rebuilt = ws.model()
    assert rebuilt.config.par_order == model.config.par_order
    assert rebuilt.config.suggested_bounds() == model.config.suggested_bounds()
    data = ws.data(rebuilt)
    assert data == pytest.approx([51, 48, *AUX_SIMPLE], rel=1e-15)
    assert -2 * rebuilt.logpdf(rebuilt.config.suggested_init(), data)[0] == pytest.approx(
        30.77525435, rel=1e-9
    )


def test_workspace_rejects_invalid_documents():
    spec = _workspace_spec()
    del spec["observations"]
    with pytest.raises(HfxError):
        pyhf.Workspace(spec)
    with pytest.raises(HfxError, match="Unsupported options"):
        pyhf.Workspace(_workspace_spec(), not_an_option=True)


def test_changing_a_param_set_changes_the_fits_as_in_pyhf():
    """pyhf's param_set() returns the config's own object: setting its suggested_fixed or
    suggested_init changes config.suggested_*() and so every fit.  The expected γ̂ solve
    d(−log L)/dγ = 10 − 120/(5μ + 10γ) + τ − τ/γ = 0 (τ = (10/3)²) at the fixed μ; pyhf 0.7.6
    gives [1.0, 0.8903254] and [2.0, 0.7743884] here (its optimizer stops 1e-5 short)."""
    from scipy.optimize import brentq

    tau = (10.0 / 3.0) ** 2

    def gamma_hat(mu: float) -> float:
        return brentq(lambda g: 10 - 120 / (5 * mu + 10 * g) + tau - tau / g, 0.5, 1.5, xtol=1e-14)

    import hfx.compat.pyhf as pyhf_facade

    model = pyhf_facade.simplemodels.uncorrelated_background([5.0], [10.0], [3.0])
    data = [12.0, *model.config.auxdata]
    free = pyhf_facade.infer.mle.fit(data, model)
    assert abs(free[0] - 0.4) < 1e-6
    mu = model.config.param_set("mu")
    assert model.config.param_set("mu") is mu
    mu.suggested_fixed = [True]
    assert model.config.suggested_fixed() == [True, False]
    np.testing.assert_allclose(
        pyhf_facade.infer.mle.fit(data, model), [1.0, gamma_hat(1.0)], rtol=1e-6
    )
    mu.suggested_init = [2.0]
    assert model.config.suggested_init() == [2.0, 1.0]
    np.testing.assert_allclose(
        pyhf_facade.infer.mle.fit(data, model), [2.0, gamma_hat(2.0)], rtol=1e-6
    )
    mu.suggested_bounds = [(0.0, 3.0)]
    assert model.config.suggested_bounds()[0] == (0.0, 3.0)
    mu.suggested_fixed = [True, False]
    with pytest.raises(HfxError, match="2 entries; the parameter has 1"):
        model.config.suggested_fixed()


def test_patchset_labels_and_patches_are_lists_as_in_pyhf():
    spec = {
        "metadata": {
            "description": "d",
            "digests": {"sha256": "0" * 64},
            "labels": ["m1", "m2"],
            "references": {},
        },
        "patches": [{"metadata": {"name": "a", "values": [1, 2]}, "patch": []}],
        "version": "1.0.0",
    }
    ps = pyhf.PatchSet(spec)
    assert ps.labels == ["m1", "m2"] and isinstance(ps.labels, list)
    assert isinstance(ps.patches, list) and ps.patches[0].name == "a"
    assert ps.patches[0].values == (1, 2)  # a tuple in pyhf too


def test_pyhf_exception_names_catch_what_the_facade_raises(tmp_path):
    bad = doc_example()
    bad["channels"][0]["samples"][0]["data"] = [1.0]  # one bin in a two-bin channel
    with pytest.raises(pyhf.exceptions.InvalidSpecification):
        pyhf.Workspace(bad)
    spec = {
        "metadata": {
            "description": "d",
            "digests": {"sha256": "0" * 64},
            "labels": ["m1"],
            "references": {},
        },
        "patches": [{"metadata": {"name": "a", "values": [1]}, "patch": []}],
        "version": "1.0.0",
    }
    ps = pyhf.PatchSet(spec)
    with pytest.raises(pyhf.exceptions.InvalidPatchLookup):
        ps["b"]
    with pytest.raises(pyhf.exceptions.PatchSetVerificationError):
        ps.verify(pyhf.Workspace(doc_example()))
    with pytest.raises(pyhf.exceptions.InvalidBackend):
        pyhf.set_backend("no-such-backend")
    assert issubclass(pyhf.exceptions.FailedMinimization, HfxError)


def test_version_digest_and_the_older_upperlimit_name():
    assert pyhf.__version__ == "0.7.6"
    # pyhf 0.7.6's pyhf.utils.digest of the same object
    assert (
        pyhf.utils.digest({"a": [1, 2.5, "x"]})
        == "42e8953dff6325ad93e12eee28356f8328f6c360a0cb41c66773c60dadc74202"
    )
    model = pyhf.simplemodels.uncorrelated_background([12.0], [50.0], [3.0])
    data = [55.0, *model.config.auxdata]
    scan = np.linspace(0, 5, 11)
    with pytest.warns(DeprecationWarning, match="upper_limits.upper_limit"):
        older = pyhf.infer.intervals.upperlimit(data, model, scan=scan)
    newer = pyhf.infer.intervals.upper_limits.upper_limit(data, model, scan=scan)
    assert float(older[0]) == float(newer[0])


def test_schema_validate_and_load_under_pyhfs_names():
    spec = doc_example()
    pyhf.schema.validate(spec, "workspace.json")
    pyhf.schema.validate(spec, "workspace.json", version="1.0.0")
    assert pyhf.schema.version == "1.0.0"
    assert pyhf.schema.load_schema("1.0.0/workspace.json")["$id"].endswith("workspace.json")
    del spec["observations"]
    with pytest.raises(pyhf.exceptions.InvalidSpecification, match="observations"):
        pyhf.schema.validate(spec, "workspace.json")
    with pytest.raises(pyhf.exceptions.InvalidSpecification, match="no schema"):
        pyhf.schema.validate(spec, "nope.json")
    with pytest.raises(pyhf.exceptions.InvalidSpecification, match="version"):
        pyhf.schema.validate(doc_example(), "workspace.json", version="2.0.0")


def test_tensorlib_maths_equal_pyhf_and_scipy():
    """Values pyhf 0.7.6's numpy backend gives, and SciPy's distributions."""
    from scipy import stats

    t = pyhf.tensorlib
    np.testing.assert_allclose(t.poisson(5.0, 6.0), 0.16062314104797995, rtol=1e-14)
    np.testing.assert_allclose(t.poisson(0.0, 2.5), 0.0820849986238988, rtol=1e-14)
    np.testing.assert_allclose(
        t.poisson_logpdf([3.0, 4.0], [2.0, 5.0]), [-1.7123179275482192, -1.7403021806115446]
    )
    np.testing.assert_allclose(t.poisson(7.0, 3.2), stats.poisson.pmf(7, 3.2), rtol=1e-12)
    np.testing.assert_allclose(t.normal(0.5, 0.0, 2.0), stats.norm.pdf(0.5, 0, 2), rtol=1e-14)
    np.testing.assert_allclose(t.normal_cdf(1.2), 0.8849303297782918, rtol=1e-14)
    np.testing.assert_allclose(t.normal_logpdf(1.0, 2.0, 3.0), -2.0731063774283376, rtol=1e-14)
    np.testing.assert_allclose(t.erfinv(0.3), 0.2724627147267544, rtol=1e-14)
    np.testing.assert_allclose(t.erf(t.erfinv(0.3)), 0.3, rtol=1e-14)
    assert t.tolist(t.concatenate([t.ones(2), t.zeros(1)])) == [1.0, 1.0, 0.0]
    assert t.shape(t.stack([t.ones(3), t.ones(3)])) == (2, 3)
    assert t.tolist(t.boolean_mask(t.astensor([1, 2, 3]), [True, False, True])) == [1.0, 3.0]
    assert t.sum(t.astensor([[1, 2], [3, 4]]), axis=0).tolist() == [4.0, 6.0]
    assert t.percentile(t.astensor([1, 2, 3, 4]), 50) == 2.5


def test_make_pdf_log_prob_expected_data_and_samples():
    model = pyhf.simplemodels.uncorrelated_background([5.0, 3.0], [10.0, 8.0], [3.0, 2.0])
    pars = model.config.suggested_init()
    pdf = model.make_pdf(pars)
    expected = model.expected_data(pars)
    np.testing.assert_allclose(pdf.expected_data(), expected)
    data = [14.0, 9.0, *model.config.auxdata]
    np.testing.assert_allclose(pdf.log_prob(data), model.logpdf(pars, data)[0], rtol=1e-12)
    np.random.seed(1)
    toys = pdf.sample((3,))
    # pyhf 0.7.6 draws these with np.random.seed(1) (main Poisson counts, then the Poisson
    # constraints' auxiliary data, as here)
    np.testing.assert_array_equal(toys, [[14, 7, 10, 11], [11, 10, 9, 9], [14, 8, 6, 26]])
    many = pdf.sample((20000,))
    assert many.shape == (20000, 4)
    np.testing.assert_allclose(many.mean(axis=0), expected, rtol=0.01)
    # a Gaussian constraint: Normal draws around θ with its σ
    normal = pyhf.simplemodels.correlated_background([5.0], [10.0], [12.0], [8.0])
    init = normal.config.suggested_init()
    draws = normal.make_pdf(init).sample((20000,))
    aux = draws[:, normal.config.nmaindata :]
    assert abs(aux.mean()) < 0.03 and abs(aux.std() - 1.0) < 0.03
    point = [12.0, *normal.config.auxdata]
    np.testing.assert_allclose(
        normal.make_pdf(init).log_prob(point), normal.logpdf(init, point)[0], rtol=1e-12
    )
    assert pyhf.probability.Poisson([3.0]).log_prob([2.0]) == pytest.approx(
        math.log(math.exp(-3) * 9 / 2)
    )
