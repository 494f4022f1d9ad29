"""The analytic gradient equals finite differences on every shared workspace."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import ATLAS_NAMES
from tests.likelihood.helpers import atlas_model, central_difference

pytestmark = pytest.mark.skipif(not ATLAS_NAMES, reason="../shared/data not present")


def _points(model, ref, rng):
    config = model.config
    bounds = config.suggested_bounds()
    point = config.pars_from_dict(ref["point"])
    at_zero = point.copy()
    at_zero[config.poi_index] = 0.0
    width = np.minimum(bounds[:, 1] - bounds[:, 0], 2.0)
    shaken = point + rng.uniform(-0.3, 0.3, point.size) * width
    shaken = np.clip(shaken, bounds[:, 0] + 0.05, bounds[:, 1] - 0.05)
    shaken[config.poi_index] = 0.0
    # alphas beyond ±1 exercise the extrapolation branches of codes 4 and 4p
    wide = point.copy()
    for name in config.par_order:
        spec = config.param_set(name)
        if spec.kind in ("normsys", "histosys"):
            wide[spec.slice] = rng.choice([-1.7, -0.6, 0.4, 1.3, 2.2])
    # keep every expected rate positive (a negative one makes log L undefined)
    while np.min(model.expected_actualdata(wide)) <= 0:
        wide = point + 0.7 * (wide - point)
    return {"point": point, "mu=0": at_zero, "shaken mu=0": shaken, "wide alphas": wide}


@pytest.mark.parametrize("name", ATLAS_NAMES)
def test_gradient_matches_finite_differences(name):
    model, data, ref = atlas_model(name)
    rng = np.random.default_rng(7)
    for label, pars in _points(model, ref, rng).items():
        nll, grad = model.nll_and_grad(pars, data)
        assert float(nll) == pytest.approx(-float(model.logpdf(pars, data)), rel=1e-14)

        def f(x):
            return float(model.nll(x, data))

        numeric = central_difference(f, pars, h=1e-4)
        # finite differences of an NLL summing terms ~1e4 carry ~1e-8 of round-off noise
        scale = np.maximum(np.abs(numeric), 1.0)
        assert np.max(np.abs(grad - numeric) / scale) < 1e-6, label


def test_gradient_with_zero_yield_bins_and_zero_observations():
    from hfx.spec.workspace import Workspace

    spec = {
        "channels": [
            {
                "name": "ch",
                "samples": [
                    {
                        "name": "sig",
                        "data": [0.0, 2.0, 0.0],
                        "modifiers": [{"name": "mu", "type": "normfactor", "data": None}],
                    },
                    {
                        "name": "bkg",
                        "data": [0.0, 5.0, 3.0],
                        "modifiers": [
                            {"name": "stat", "type": "staterror", "data": [0.0, 1.0, 0.5]},
                            {"name": "n", "type": "normsys", "data": {"hi": 1.2, "lo": 0.9}},
                            {
                                "name": "h",
                                "type": "histosys",
                                "data": {"hi_data": [0.0, 6.0, 3.5], "lo_data": [0.0, 4.5, 2.0]},
                            },
                        ],
                    },
                ],
            }
        ],
        "observations": [{"name": "ch", "data": [0.0, 4.0, 0.0]}],
        "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": []}}],
        "version": "1.0.0",
    }
    ws = Workspace(spec)
    model = ws.model()
    data = np.asarray(ws.data(model))
    for mu in (0.0, 0.7):
        pars = model.config.suggested_init()
        pars[model.config.poi_index] = mu
        pars[model.config.par_slice("n")] = 0.3
        pars[model.config.par_slice("h")] = -0.4
        nll, grad = model.nll_and_grad(pars, data)
        assert np.isfinite(float(nll))
        numeric = central_difference(lambda x: float(model.nll(x, data)), pars, h=1e-5)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-7)
