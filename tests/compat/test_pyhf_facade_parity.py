"""pyhf API pieces the facade gained while running pyhf's own test suite (issue 19)."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pytest

import hfx.compat.pyhf as pyhf
from hfx.errors import ModelError, SpecError
from tests.conftest import SHARED

XML_EXAMPLE = SHARED / "histfactory-xml" / "xmlimport_input"


def counting_model():
    return pyhf.simplemodels.uncorrelated_background([50.0], [100.0], [10.0])


def test_pdf_is_the_exponential_of_logpdf_and_matches_the_poisson_product():
    model = counting_model()
    data = [125.0, *model.config.auxdata]
    pars = [0.5, 1.0]
    # Poisson(125 | 50 mu + 100 gamma) * Poisson(100 | 100 gamma), by hand
    expected = (125 * math.log(125) - 125 - math.lgamma(126)) + (
        100 * math.log(100) - 100 - math.lgamma(101)
    )
    assert float(model.logpdf(pars, data)[0]) == pytest.approx(expected, rel=1e-12)
    assert float(model.pdf(pars, data)[0]) == pytest.approx(math.exp(expected), rel=1e-12)


def test_current_optimizer_minimize_holds_fixed_values():
    model = counting_model()
    data = [125.0, *model.config.auxdata]
    init, bounds = model.config.suggested_init(), model.config.suggested_bounds()
    free = pyhf.optimizer.minimize(pyhf.infer.mle.twice_nll, data, model, init, bounds)
    assert free.tolist() == pytest.approx([0.5, 1.0], rel=1e-6)  # the closed-form minimum
    held = pyhf.optimizer.minimize(
        pyhf.infer.mle.twice_nll, data, model, init, bounds, fixed_vals=[(0, 1.0)]
    )
    # mu = 1: d/dgamma of the 2NLL vanishes where 125/(50 + 100 g) + 100/(100 g) = 2
    gamma = held[1]
    assert held[0] == 1.0
    assert 125 / (50 + 100 * gamma) + 1 / gamma == pytest.approx(2.0, rel=1e-6)
    assert pyhf.optimizer.name == "scipy"
    assert pyhf.default_backend is pyhf.tensorlib
    with pytest.raises(pyhf.exceptions.Unsupported, match="twice_nll"):
        pyhf.optimizer.minimize(lambda *a: 0.0, data, model, init, bounds)
    with pytest.raises(pyhf.exceptions.Unsupported, match="not_an_option"):
        pyhf.infer.mle.fit(data, model, not_an_option=1)


def test_an_explicit_poi_that_is_not_a_parameter_is_an_invalid_model():
    spec = {
        "channels": [
            {
                "name": "c",
                "samples": [
                    {
                        "name": "s",
                        "data": [5.0],
                        "modifiers": [{"name": "k", "type": "normfactor", "data": None}],
                    }
                ],
            }
        ]
    }
    with pytest.raises(pyhf.exceptions.InvalidModel, match="'mu'"):
        pyhf.Model(spec)
    assert pyhf.Model(spec, poi_name="k").config.poi_name == "k"
    assert pyhf.Model(spec, poi_name=None).config.poi_name is None


def test_spec_errors_of_a_model_are_both_invalid_model_and_invalid_specification():
    spec = {
        "channels": [
            {
                "name": "c",
                "samples": [
                    {"name": "a", "data": [1.0, 2.0], "modifiers": []},
                    {"name": "b", "data": [1.0, 2.0, 3.0], "modifiers": []},
                ],
            }
        ]
    }
    with pytest.raises(pyhf.exceptions.InvalidModel) as caught:
        pyhf.Model(spec, poi_name=None)
    assert isinstance(caught.value, SpecError) and isinstance(caught.value, ModelError)
    assert "3 bins" in str(caught.value)
    bad_type = {
        "channels": [
            {
                "name": "c",
                "samples": [
                    {"name": "a", "data": [1.0], "modifiers": [{"name": "x", "type": "nope"}]}
                ],
            }
        ]
    }
    with pytest.raises(pyhf.exceptions.InvalidModifier, match="unknown modifier type 'nope'"):
        pyhf.Model(bad_type, validate=False, poi_name=None)


def test_tensors_are_accepted_in_a_spec():
    spec = {
        "channels": [
            {
                "name": "c",
                "samples": [
                    {
                        "name": "s",
                        "data": np.array([10.0]),
                        "modifiers": [{"name": "mu", "type": "normfactor", "data": None}],
                    },
                    {
                        "name": "b",
                        "data": np.array([15.0]),
                        "modifiers": [{"name": "u", "type": "shapesys", "data": np.array([5])}],
                    },
                ],
            }
        ]
    }
    pyhf.schema.validate(spec, "model.json")
    model = pyhf.Model(spec)
    assert model.config.auxdata == [9.0]  # (15 / 5)^2


def test_schema_not_found_is_a_file_not_found_error():
    with pytest.raises(FileNotFoundError):
        pyhf.schema.load_schema("fake_schema.json")
    assert (pyhf.schema.path / pyhf.schema.version / "workspace.json").is_file()


def test_patch_from_a_patchset_entry_and_pyhf_style_reprs():
    patch = pyhf.patchset.Patch({"metadata": {"name": "p", "values": [1.0, 2.0]}, "patch": []})
    assert patch.name == "p" and patch.values == (1.0, 2.0)
    assert "Patch object 'p(1.0, 2.0)' at" in repr(patch)
    assert patch == patch and patch != object()
    ws = pyhf.Workspace(
        {
            "channels": [{"name": "c", "samples": [{"name": "s", "data": [1.0], "modifiers": []}]}],
            "observations": [{"name": "c", "data": [1.0]}],
            "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": []}}],
            "version": "1.0.0",
        }
    )
    assert "pyhf.workspace.Workspace" in repr(ws)


def test_unsafe_joins_are_logged(caplog):
    ws = pyhf.Workspace(
        {
            "channels": [{"name": "c", "samples": [{"name": "s", "data": [1.0], "modifiers": []}]}],
            "observations": [{"name": "c", "data": [1.0]}],
            "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": []}}],
            "version": "1.0.0",
        }
    )
    with caplog.at_level(logging.WARNING):
        pyhf.Workspace.combine(ws, ws, join="left outer")
    assert "unsafe join operation" in caplog.text
    with pytest.raises(ValueError, match="none"):
        pyhf.Workspace.combine(ws, ws, join="none", merge_channels=True)


def test_events_subscribe_trigger_and_disable():
    calls = []

    def callback(value):
        calls.append(value)

    pyhf.events.subscribe("hfx-test-event")(callback)
    pyhf.events.trigger("hfx-test-event")(1)
    pyhf.events.disable("hfx-test-event")
    pyhf.events.trigger("hfx-test-event")(2)
    pyhf.events.enable("hfx-test-event")
    pyhf.events.trigger("hfx-test-event")(3)
    assert calls == [1, 3]


def test_other_backends_can_be_named_but_not_used():
    with pytest.raises(pyhf.exceptions.InvalidBackend):
        pyhf.set_backend(pyhf.tensor.pytorch_backend())
    with pytest.raises(pyhf.exceptions.InvalidBackend, match="64-bit"):
        pyhf.set_backend(pyhf.tensor.numpy_backend(precision="32b"))
    pyhf.set_backend(pyhf.tensor.numpy_backend(precision="64b"))


def test_set_backend_jax_routes_later_models_and_tensorlib_to_jax():
    pytest.importorskip("jax")
    numpy_model = pyhf.simplemodels.uncorrelated_background([12.0, 11.0], [50.0, 52.0], [3.0, 7.0])
    data = [51.0, 48.0, *numpy_model.config.auxdata]
    expected = pyhf.infer.hypotest(1.0, data, numpy_model, return_expected_set=True)
    try:
        pyhf.set_backend("jax")
        assert pyhf.tensorlib.name == "jax" and pyhf.get_backend()[0].name == "jax"
        model = pyhf.simplemodels.uncorrelated_background([12.0, 11.0], [50.0, 52.0], [3.0, 7.0])
        logpdf = model.logpdf(model.config.suggested_init(), data)
        assert type(logpdf).__module__.startswith("jax")
        assert float(logpdf[0]) == pytest.approx(
            float(numpy_model.logpdf(numpy_model.config.suggested_init(), data)[0]), rel=1e-12
        )
        assert float(pyhf.tensorlib.normal_cdf(1.0)) == pytest.approx(0.8413447460685429)
        obs, exp = pyhf.infer.hypotest(1.0, data, model, return_expected_set=True)
        assert float(obs) == pytest.approx(float(expected[0]), rel=1e-6)
        assert [float(e) for e in exp] == pytest.approx([float(e) for e in expected[1]], rel=1e-6)
        # a model built before the switch keeps its backend
        assert type(numpy_model.logpdf(numpy_model.config.suggested_init(), data)) is np.ndarray
    finally:
        pyhf.set_backend("numpy")
    assert pyhf.tensorlib.name == "numpy"


def test_test_statistic_names_and_calc_base_dist_errors():
    with pytest.raises(pyhf.exceptions.InvalidTestStatistic):
        pyhf.infer.utils.get_test_stat("nonsense")
    model = counting_model()
    data = [125.0, *model.config.auxdata]
    with pytest.raises(ValueError, match="unknown base distribution"):
        pyhf.infer.hypotest(1.0, data, model, calc_base_dist="unknown")


@pytest.mark.skipif(not XML_EXAMPLE.is_dir(), reason="../shared/data not present")
def test_readxml_and_writexml_round_trip(tmp_path: Path):
    pytest.importorskip("uproot")
    from hfx.compat.pyhf import readxml, writexml

    spec = readxml.parse(XML_EXAMPLE / "config" / "example.xml", XML_EXAMPLE)
    (tmp_path / "config").mkdir()
    (tmp_path / "data").mkdir()
    top = writexml.writexml(spec, tmp_path / "config", tmp_path / "data", "FitConfig")
    assert top.startswith(b"<?xml")
    (tmp_path / "FitConfig.xml").write_bytes(top)
    again = readxml.parse(tmp_path / "FitConfig.xml", tmp_path)
    assert again["channels"] == spec["channels"]
    assert again["observations"] == spec["observations"]
    before = pyhf.Workspace(spec).model()
    after = pyhf.Workspace(again).model()
    pars = before.config.suggested_init()
    assert after.logpdf(pars, pyhf.Workspace(again).data(after)) == pytest.approx(
        before.logpdf(pars, pyhf.Workspace(spec).data(before)), rel=1e-12
    )


def test_citation_names_pyhfs_software_and_paper():
    text = pyhf.utils.citation()
    assert "10.5281/zenodo.1169739" in text and "10.21105/joss.02823" in text
    assert "\n" not in pyhf.utils.citation(oneline=True)
    assert pyhf.utils.citation(oneline=True).startswith("@software{pyhf,")
