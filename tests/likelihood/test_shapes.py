"""Issue 18 (7): public entry points check the trailing sizes of pars and data."""

from __future__ import annotations

import numpy as np
import pytest

import hfx
from hfx import simplemodels
from hfx.errors import HfxError, ModelError


@pytest.fixture(scope="module")
def model():
    return simplemodels.uncorrelated_background([5.0, 3.0], [50.0, 30.0], [5.0, 4.0])


def _bad_pars(model):
    p = model.config.suggested_init()
    return [np.append(p, 1.0), p[:-1], np.float64(1.0), np.ones((2, p.size + 1))]


def test_model_methods_refuse_wrong_pars(model):
    data = np.asarray(model.expected_data(model.config.suggested_init()))
    n = model.config.npars
    for pars in _bad_pars(model):
        calls = [
            lambda pars=pars: model.logpdf(pars, data),
            lambda pars=pars: model.twice_nll(pars, data),
            lambda pars=pars: model.nll(pars, data),
            lambda pars=pars: model.nll_and_grad(pars, data),
            lambda pars=pars: model.grad_nll(pars, data),
            lambda pars=pars: model.expected_data(pars),
            lambda pars=pars: model.expected_actualdata(pars),
            lambda pars=pars: model.expected_auxdata(pars),
            lambda pars=pars: model.expected_by_sample(pars),
            lambda pars=pars: model.expected_and_jacobian(pars),
        ]
        for call in calls:
            with pytest.raises(ModelError, match=rf"pars has shape .*expects \[\.\.\., {n}\]"):
                call()


def test_model_methods_refuse_wrong_data(model):
    pars = model.config.suggested_init()
    data = np.asarray(model.expected_data(pars))
    for bad in (data[:-1], np.append(data, 1.0)):
        with pytest.raises(ModelError, match=rf"data has shape \[{bad.size}\]"):
            model.logpdf(pars, bad)
        with pytest.raises(ModelError, match="data has shape"):
            model.nll_and_grad(pars, bad)
    with pytest.raises(ModelError, match="observed bins"):
        model.main_logpdf(pars, data)
    with pytest.raises(ModelError, match="auxiliary data"):
        model.constraint_logpdf(pars, data)


def test_batched_pars_still_work(model):
    pars = np.tile(model.config.suggested_init(), (3, 1))
    data = np.asarray(model.expected_data(pars[0]))
    assert np.shape(model.logpdf(pars, data)) == (3,)


def test_pyhf_facade_raises_pyhf_exceptions():
    from hfx.compat import pyhf

    m = pyhf.simplemodels.uncorrelated_background([5.0], [50.0], [5.0])
    pars = np.asarray(m.config.suggested_init())
    data = np.asarray([50.0, *m.config.auxdata])
    m.logpdf(pars, data)
    for bad in (np.append(pars, 1.0), pars[:-1]):
        with pytest.raises(pyhf.exceptions.InvalidPdfParameters, match="pars has shape"):
            m.logpdf(bad, data)
    with pytest.raises(pyhf.exceptions.InvalidPdfData, match="data has shape"):
        m.logpdf(pars, data[:-1])
    assert issubclass(pyhf.exceptions.InvalidPdfParameters, ModelError)


def test_fit_entry_points_name_shapes(model):
    pars = model.config.suggested_init()
    data = np.asarray(model.expected_data(pars))
    for bad in (data[:-1], np.append(data, 1.0)):
        for call in (
            lambda bad=bad: hfx.fit(model, bad),
            lambda bad=bad: hfx.fixed_poi_fit(1.0, model, bad),
            lambda bad=bad: hfx.hypotest(model, bad, 1.0),
            lambda bad=bad: hfx.upper_limit(model, bad),
        ):
            with pytest.raises(HfxError, match=str(data.size)):
                call()
    for bad in (np.append(pars, 1.0), pars[:-1]):
        with pytest.raises(HfxError, match=str(pars.size)):
            hfx.fit(model, data, init=bad)
