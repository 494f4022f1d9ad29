"""logpdf and expected data on the published ATLAS workspaces vs pyhf 0.7.6 references."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import gammaln, xlogy

from tests.conftest import ATLAS_NAMES
from tests.likelihood.helpers import PYHF_SETTINGS, atlas_model

pytestmark = pytest.mark.skipif(not ATLAS_NAMES, reason="../shared/data not present")


@pytest.mark.parametrize("name", ATLAS_NAMES)
def test_logpdf_and_expected_data_match_reference(name):
    model, data, ref = atlas_model(name, modifier_settings=PYHF_SETTINGS)
    config = model.config
    assert config.npars == ref["npars"]
    assert config.poi_name == ref["poi"]
    # the reference lists parameters in pyhf's par_order
    assert config.par_order == list(ref["parameters"])

    init = config.pars_from_dict(ref["parameters"])
    np.testing.assert_allclose(init, config.suggested_init(), rtol=0, atol=0)
    assert float(model.logpdf(init, data)) == pytest.approx(ref["logpdf_init"], rel=1e-9)

    point = config.pars_from_dict(ref["point"])
    assert float(model.logpdf(point, data)) == pytest.approx(ref["logpdf_point"], rel=1e-9)
    np.testing.assert_allclose(
        model.expected_actualdata(point), ref["expected_actualdata_point"], rtol=1e-9
    )
    np.testing.assert_allclose(data[: config.nmaindata], ref["observed_data"], rtol=0)
    np.testing.assert_allclose(config.auxdata, ref["auxdata"], rtol=1e-12)


@pytest.mark.parametrize("name", ATLAS_NAMES)
def test_default_clamps_negative_sample_yields_at_zero(name):
    """hfx's default (ROOT's): a sample's histosys-interpolated yield is clamped at zero.  At
    the reference point some samples go negative in pyhf's model (BkgOnlyA); the default
    model's counts are pyhf's per-sample counts with those set to zero, and its Poisson
    terms follow from them."""
    model, data, ref = atlas_model(name)
    pyhf_model, _, _ = atlas_model(name, modifier_settings=PYHF_SETTINGS)
    point = model.config.pars_from_dict(ref["point"])
    by_sample = np.asarray(pyhf_model.expected_by_sample(point))
    expected = np.clip(by_sample, 0.0, None).sum(axis=0)
    np.testing.assert_allclose(model.expected_actualdata(point), expected, rtol=1e-12, atol=1e-12)
    n = data[: model.config.nmaindata]
    poisson = np.sum(xlogy(n, expected) - expected - gammaln(n + 1.0))
    constraints = float(model.logpdf(point, data)) - float(
        pyhf_model.logpdf(point, data)
    )  # the constraint terms are the same in both models
    pyhf_nu = np.asarray(pyhf_model.expected_actualdata(point))
    pyhf_poisson = np.sum(xlogy(n, pyhf_nu) - pyhf_nu - gammaln(n + 1.0))
    assert constraints == pytest.approx(poisson - pyhf_poisson, abs=1e-9)
    if (by_sample >= 0).all():
        assert float(model.logpdf(point, data)) == pytest.approx(ref["logpdf_point"], rel=1e-12)


@pytest.mark.parametrize("name", ATLAS_NAMES)
def test_expected_data_is_main_then_aux_and_sums_samples(name):
    model, _, ref = atlas_model(name, modifier_settings=PYHF_SETTINGS)
    point = model.config.pars_from_dict(ref["point"])
    full = np.asarray(model.expected_data(point))
    main = np.asarray(model.expected_actualdata(point))
    aux = np.asarray(model.expected_auxdata(point))
    np.testing.assert_array_equal(full, np.concatenate([main, aux]))
    by_sample = np.asarray(model.expected_by_sample(point))
    assert by_sample.shape == (len(model.config.samples), model.config.nmaindata)
    np.testing.assert_allclose(by_sample.sum(axis=0), main, rtol=1e-12)
    np.testing.assert_array_equal(model.expected_data(point, include_auxdata=False), main)


@pytest.mark.parametrize("name", ATLAS_NAMES)
def test_main_and_constraint_parts_add_up(name):
    model, data, ref = atlas_model(name, modifier_settings=PYHF_SETTINGS)
    point = model.config.pars_from_dict(ref["point"])
    nmain = model.config.nmaindata
    main = float(model.main_logpdf(point, data[:nmain]))
    constraint = float(model.constraint_logpdf(point, data[nmain:]))
    assert main + constraint == pytest.approx(ref["logpdf_point"], rel=1e-12)
