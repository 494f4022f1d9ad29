"""Batched evaluation equals a Python loop over the same points (property test)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ATLAS_NAMES
from tests.likelihood.helpers import atlas_model

pytestmark = pytest.mark.skipif(not ATLAS_NAMES, reason="../shared/data not present")

_MODELS: dict = {}


def _model(name):
    if name not in _MODELS:
        _MODELS[name] = atlas_model(name)
    return _MODELS[name]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(ATLAS_NAMES or ["none"]),
    npoints=st.integers(1, 5),
    ndata=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_batched_equals_loop(name, npoints, ndata, seed):
    model, data, _ = _model(name)
    rng = np.random.default_rng(seed)
    bounds = model.config.suggested_bounds()
    lo = np.maximum(bounds[:, 0], -3.0)
    hi = np.minimum(bounds[:, 1], 3.0)
    pars = rng.uniform(lo + 0.01, hi, size=(npoints, 1, lo.size))
    datasets = np.abs(data + rng.normal(0, 1, size=(ndata, data.size)))
    datasets[:, : model.config.nmaindata] = np.round(datasets[:, : model.config.nmaindata])

    nll, grad = model.nll_and_grad(pars, datasets)
    logpdf = model.logpdf(pars, datasets)
    expected = model.expected_data(pars[:, 0])
    assert nll.shape == (npoints, ndata)
    assert grad.shape == (npoints, ndata, lo.size)
    for i in range(npoints):
        np.testing.assert_allclose(expected[i], model.expected_data(pars[i, 0]), rtol=1e-13)
        for j in range(ndata):
            one_nll, one_grad = model.nll_and_grad(pars[i, 0], datasets[j])
            np.testing.assert_allclose(nll[i, j], one_nll, rtol=1e-13)
            np.testing.assert_allclose(grad[i, j], one_grad, rtol=1e-11, atol=1e-11)
            np.testing.assert_allclose(
                logpdf[i, j], model.logpdf(pars[i, 0], datasets[j]), rtol=1e-13
            )
