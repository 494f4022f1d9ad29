"""Model compilation: measurement configs, defaults, constraints, and the errors they raise."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from hfx.errors import HfxWarning, ModelError
from hfx.spec.workspace import Workspace

BASE = {
    "channels": [
        {
            "name": "sr",
            "samples": [
                {
                    "name": "signal",
                    "data": [5.0, 10.0],
                    "modifiers": [{"name": "mu", "type": "normfactor", "data": None}],
                },
                {
                    "name": "background",
                    "data": [50.0, 0.0],
                    "modifiers": [
                        {"name": "stat_sr", "type": "staterror", "data": [5.0, 0.0]},
                        {"name": "bkg_shape", "type": "shapesys", "data": [4.0, 1.0]},
                        {"name": "lumi", "type": "lumi", "data": None},
                    ],
                },
            ],
        }
    ],
    "observations": [{"name": "sr", "data": [52.0, 3.0]}],
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
                    }
                ],
            },
        }
    ],
    "version": "1.0.0",
}


def _ws(mutate=None) -> Workspace:
    spec = copy.deepcopy(BASE)
    if mutate:
        mutate(spec)
    return Workspace(spec)


def _params(spec):
    return spec["measurements"][0]["config"]["parameters"]


def test_defaults_constraints_and_masked_bins():
    model = _ws().model()
    config = model.config
    assert config.par_order == ["lumi", "mu", "bkg_shape", "stat_sr"]
    stat = config.param_set("stat_sr")
    assert stat.sigmas == [0.1, 1.0]  # 5/50; the empty bin gets σ = 1 and is fixed
    assert stat.fixed == [False, True]
    shape = config.param_set("bkg_shape")
    assert shape.factors == [50.0**2 / 4.0**2, 1.0]  # zero nominal: τ = 1, fixed
    assert shape.fixed == [False, True]
    np.testing.assert_allclose(config.auxdata, [1.0, 156.25, 1.0, 1.0, 1.0])
    assert config.suggested_bounds()[config.par_slice("stat_sr")].tolist() == [[1e-10, 10.0]] * 2


def test_logpdf_closed_form():
    from math import lgamma, log, pi

    ws = _ws()
    model = ws.model()
    data = np.asarray(ws.data(model))
    pars = model.config.suggested_init()
    pars[model.config.poi_index] = 0.5
    nu = [0.5 * 5 + 50, 0.5 * 10 + 0]
    n = [52.0, 3.0]
    expected = sum(k * log(v) - v - lgamma(k + 1) for k, v in zip(n, nu, strict=True))
    expected += -0.5 * log(2 * pi * 0.02**2)  # lumi at its aux value
    expected += 2 * (-0.5 * log(2 * pi))  # staterror bins at γ = aux = 1, σ = 0.1 and 1
    expected += -log(0.1)
    tau = 156.25
    expected += tau * log(tau) - tau - lgamma(tau + 1) + (1 * log(1) - 1 - lgamma(2))
    assert float(model.logpdf(pars, data)) == pytest.approx(expected, rel=1e-12)


def test_init_outside_bounds_is_moved_onto_the_bound_with_a_warning():
    def mutate(spec):
        _params(spec).append({"name": "mu", "inits": [20.0]})

    ws = _ws(mutate)
    with pytest.warns(HfxWarning, match=r"mu\[0\]: 20 -> 10"):
        model = ws.model()
    assert model.config.suggested_init()[model.config.poi_index] == 10.0


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"name": "mu", "inits": [1.0, 2.0]}, "'inits' has 2 values, expected 1"),
        ({"name": "mu", "sigmas": [0.1]}, "no Gaussian constraint"),
        ({"name": "mu", "auxdata": [1.0]}, "unconstrained normfactor"),
        ({"name": "stat_sr", "factors": [1.0, 1.0]}, "non-Poisson"),
    ],
)
def test_bad_parameter_configs_name_the_measurement_and_parameter(config, message):
    ws = _ws(lambda spec: _params(spec).append(config))
    with pytest.raises(ModelError, match="measurement 'meas'") as err:
        ws.model()
    assert message in str(err.value)


def test_config_of_a_missing_parameter_is_ignored_with_a_warning():
    ws = _ws(lambda spec: _params(spec).append({"name": "Mu", "inits": [3.0]}))
    with pytest.warns(HfxWarning) as record:
        model = ws.model()
    assert len(record) == 1
    text = str(record[0].message)
    assert "measurement 'meas', parameters[" in text
    assert "ignoring the config of parameter 'Mu', which the model does not have" in text
    assert "did you mean 'mu'?" in text
    assert model.config.suggested_init().tolist() == _ws().model().config.suggested_init().tolist()


def test_lumi_needs_a_config():
    ws = _ws(lambda spec: _params(spec).clear())
    with pytest.raises(ModelError, match="lumi parameter 'lumi' needs a parameter config"):
        ws.model()


def test_lumi_config_without_lumi_modifier_is_accepted():
    def mutate(spec):
        spec["channels"][0]["samples"][1]["modifiers"].pop()

    model = _ws(mutate).model()
    assert "lumi" not in model.config.par_order


def test_missing_poi_and_background_only_model():
    from hfx.errors import MissingPOIWarning

    def mutate(spec):  # a config of the POI too, as background-only workspaces have
        spec["measurements"][0]["config"].update(poi="mu_SIG")
        _params(spec).append({"name": "mu_SIG", "bounds": [[-5.0, 5.0]]})

    ws = _ws(mutate)
    with pytest.warns(MissingPOIWarning) as record:
        model = ws.model()
    assert len(record) == 1  # no second warning for the POI's own config
    assert "the POI 'mu_SIG' is not a parameter of the model" in str(record[0].message)
    assert record[0].message.poi == "mu_SIG"
    assert model.config.poi_index is None
    assert model.config.missing_poi == "mu_SIG"
    assert ws.model(poi_name=None).config.poi_index is None  # asked for: no warning


def test_explicit_unknown_poi_is_an_error_naming_the_nearest():
    with pytest.raises(ModelError, match=r"POI 'MU' is not a parameter .* did you mean 'mu'\?"):
        _ws().model(poi_name="MU")


def test_inference_on_a_model_without_its_poi_asks_for_the_signal_patch():
    from hfx.errors import MissingPOIWarning
    from hfx.infer._common import poi_index

    ws = _ws(lambda spec: spec["measurements"][0]["config"].update(poi="mu_SIG"))
    with pytest.warns(MissingPOIWarning):
        model = ws.model()
    with pytest.raises(ModelError, match=r"POI 'mu_SIG' is missing .* signal patch"):
        poi_index(model)  # what every profile-likelihood inference asks first


def test_unknown_parameter_name_suggests_the_nearest():
    config = _ws().model().config
    with pytest.raises(ModelError, match=r"no parameter named 'stat_SR'; did you mean 'stat_sr'\?"):
        config.par_slice("stat_SR")


def test_vector_poi_is_rejected():
    with pytest.raises(ModelError, match="single parameter"):
        _ws().model(poi_name="stat_sr")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"normsys": {"interpcode": "code9"}}, "unknown interpcode 'code9'"),
        ({"staterror": {"interpcode": "code0"}}, "only normsys and histosys"),
    ],
)
def test_bad_modifier_settings(settings, message):
    with pytest.raises(ModelError, match=message):
        _ws().model(modifier_settings=settings)


def test_modifier_settings_fall_back_like_pyhf():
    model = _ws().model(modifier_settings={"normsys": {"interpcode": "code4"}})
    assert model.config.modifier_settings == {
        "normsys": {"interpcode": "code4"},
        "histosys": {"interpcode": "code0", "positive_definite": True},
    }
    assert _ws().model().config.modifier_settings == {
        "normsys": {"interpcode": "code4"},
        "histosys": {"interpcode": "code4p", "positive_definite": True},
    }
    with pytest.raises(ModelError, match="positive_definite must be true or false"):
        _ws().model(modifier_settings={"histosys": {"positive_definite": "no"}})
    with pytest.raises(ModelError, match="unknown setting"):
        _ws().model(modifier_settings={"normsys": {"interpcode": "code4", "clip": True}})


def test_shapesys_name_shared_by_two_samples_is_rejected():
    def mutate(spec):
        spec["channels"][0]["samples"][0]["modifiers"].append(
            {"name": "bkg_shape", "type": "shapesys", "data": [1.0, 1.0]}
        )

    with pytest.raises(ModelError, match="shapesys 'bkg_shape' is used by more than one sample"):
        _ws(mutate).model()


def test_data_with_wrong_length_is_a_model_error():
    model = _ws().model()
    with pytest.raises(ModelError, match="expects 7"):
        model.logpdf(model.config.suggested_init(), [1.0, 2.0])


def _shared_modifier_workspace(bins: tuple[int, int], kind: str) -> dict:
    def channel(name: str, n: int) -> dict:
        data = None if kind == "shapefactor" else [0.1] * n
        modifiers = [
            {"name": "mu", "type": "normfactor", "data": None},
            {"name": "shared", "type": kind, "data": data},
        ]
        return {"name": name, "samples": [{"name": "b", "data": [5.0] * n, "modifiers": modifiers}]}

    return {
        "channels": [channel("a", bins[0]), channel("c", bins[1])],
        "observations": [
            {"name": "a", "data": [5.0] * bins[0]},
            {"name": "c", "data": [5.0] * bins[1]},
        ],
        "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": []}}],
        "version": "1.0.0",
    }


@pytest.mark.parametrize("kind", ["staterror", "shapesys", "shapefactor"])
@pytest.mark.parametrize("bins", [(1, 3), (3, 1), (2, 4)])
def test_a_per_bin_parameter_shared_by_channels_of_other_bin_counts_is_refused(bins, kind):
    with pytest.raises(
        ModelError,
        match=rf"{kind} 'shared' spans {bins[1]} bins in channel 'c' but {bins[0]} elsewhere",
    ):
        Workspace(_shared_modifier_workspace(bins, kind)).model()


def test_a_per_bin_parameter_shared_by_channels_of_equal_bin_counts_is_one_parameter_set():
    model = Workspace(_shared_modifier_workspace((2, 2), "staterror")).model()
    assert model.config.parameters == ["mu", "shared"]
    assert model.config.npars == 3  # mu and two components of shared
