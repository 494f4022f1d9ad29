"""Maximum-likelihood fits against validation-tables.md G.4 and the shared ATLAS references."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hfx import simplemodels
from hfx.errors import FitError
from hfx.optimize import FitResult, fit, fixed_poi_fit, hessian
from tests.conftest import ATLAS_NAMES, needs_shared


@pytest.fixture(scope="module")
def canonical():
    model = simplemodels.uncorrelated_background([12, 11], [50, 52], [3, 7])
    return model, np.concatenate([[51.0, 48.0], model.config.auxdata])


def test_unconditional_fit_canonical(canonical):
    model, data = canonical
    res = fit(model, data)
    assert isinstance(res, FitResult)
    assert res.success
    np.testing.assert_allclose(res.bestfit, [0.0, 1.0030512, 0.96266961], atol=1e-4)
    np.testing.assert_allclose(res.twice_nll, 24.98393521, rtol=1e-5)
    assert res.twice_nll <= 24.98393521 + 1e-6
    assert res.par_names == tuple(model.config.par_names)
    assert not res.fixed.any()
    assert res.nfev > 0 and res.ngrad > 0


def test_fixed_poi_fit_canonical(canonical):
    model, data = canonical
    res = fixed_poi_fit(1.0, model, data)
    np.testing.assert_allclose(res.bestfit, [1.0, 0.97224597, 0.87553894], atol=1e-4)
    np.testing.assert_allclose(res.twice_nll, 28.92218013, rtol=1e-5)
    assert res.fixed[model.config.poi_index]
    assert res.uncertainties[model.config.poi_index] == 0.0


def test_test_optim_exact_mle():
    model = simplemodels.uncorrelated_background([50], [100], [10])
    data = np.concatenate([[125.0], model.config.auxdata])
    res = fit(model, data)
    np.testing.assert_allclose(res.bestfit, [0.5, 1.0], atol=1e-4)


def histosys_model():
    model = simplemodels.correlated_background([30, 95], [100, 150], [102, 190], [98, 100])
    return model, np.concatenate([[120.0, 180.0], model.config.auxdata])


def test_histosys_fixed_mu_uncertainties_and_correlation():
    model, data = histosys_model()
    assert model.config.par_names == ["correlated_bkg_uncertainty", "mu"]
    res = fixed_poi_fit(1.0, model, data)
    assert res.twice_nll <= 17.52954975
    np.testing.assert_allclose(res.twice_nll, 17.5295496324505, rtol=1e-8)
    np.testing.assert_allclose(res.uncertainties[0], 0.26418431, rtol=1e-3)
    assert res.uncertainties[1] == 0.0
    np.testing.assert_allclose(res.correlation, [[1.0, 0.0], [0.0, 0.0]], atol=1e-12)
    assert res.covariance[1].tolist() == [0.0, 0.0]


def test_fixed_argument_and_custom_init(canonical):
    model, data = canonical
    init = model.config.suggested_init()
    init[1] = 1.05
    res = fit(model, data, init=init, fixed=[False, True, False])
    assert res.bestfit[1] == 1.05
    assert res.uncertainties[1] == 0.0
    assert res.correlation[1, 1] == 0.0 and res.correlation[0, 0] == 1.0
    assert res.twice_nll >= 24.98393521


def test_custom_bounds(canonical):
    model, data = canonical
    bounds = model.config.suggested_bounds()
    bounds[0] = [-10.0, 10.0]
    res = fit(model, data, bounds=bounds)
    np.testing.assert_allclose(res.bestfit, [-0.06679525, 1.00555369, 0.96930896], atol=1e-4)


def test_covariance_matches_analytic_hessian_inverse(canonical):
    model, data = canonical
    res = fixed_poi_fit(1.0, model, data)
    h = hessian(model, res.bestfit, data, free=~res.fixed)
    free = np.flatnonzero(~res.fixed)
    np.testing.assert_allclose(
        res.covariance[np.ix_(free, free)], np.linalg.inv(h), rtol=1e-6, atol=1e-12
    )
    np.testing.assert_allclose(np.diag(res.correlation)[free], 1.0)
    np.testing.assert_allclose(res.correlation, res.correlation.T)


def test_to_dict_is_json(canonical):
    model, data = canonical
    d = fit(model, data).to_dict()
    again = json.loads(json.dumps(d))
    assert again["par_names"] == model.config.par_names
    assert len(again["bestfit"]) == 3 and len(again["correlation"]) == 3
    assert isinstance(again["twice_nll"], float) and again["success"] is True
    assert again["fixed"] == [False, False, False]


def test_bad_inputs_raise_fit_error(canonical):
    model, data = canonical
    with pytest.raises(FitError, match="outside its bounds"):
        fit(model, data, init=[20.0, 1.0, 1.0])
    with pytest.raises(FitError, match="3 parameters"):
        fit(model, data, init=[1.0, 1.0])


def test_failure_raises_fit_error(canonical):
    model, data = canonical

    class Broken:
        config = model.config

        def nll_and_grad(self, pars, data):
            pars = np.asarray(pars)
            shape = pars.shape[:-1]
            return np.full(shape, np.nan), np.full(pars.shape, np.nan)

    with pytest.raises(FitError, match="did not converge"):
        fit(Broken(), data)


def test_fixed_poi_fit_needs_poi(canonical):
    _, data = canonical

    class NoPoi:
        class config:
            poi_index = None

    with pytest.raises(FitError, match="parameter of interest"):
        fixed_poi_fit(1.0, NoPoi(), data)


@needs_shared()
@pytest.mark.parametrize("name", [n for n in ATLAS_NAMES if not n.startswith("2019-09")])
def test_atlas_mle(name):
    from tests.likelihood.helpers import atlas_model

    model, data, ref = atlas_model(name)
    if ref.get("mle_twice_nll") is None:
        pytest.skip("reference has no MLE")
    res = fit(model, data)
    assert res.twice_nll <= ref["mle_twice_nll"] + 1e-3
    mu_hat = res.bestfit[model.config.poi_index]
    assert abs(mu_hat - ref["mle_poi"]) < 2e-3 * max(1.0, abs(ref["mle_poi"]))
    free = ~res.fixed
    assert np.all(np.isfinite(res.uncertainties)) and np.all(res.uncertainties[free] > 0)
