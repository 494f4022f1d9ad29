"""A model makes the arrays of its array code at their first use, not when it is built."""

from __future__ import annotations

import numpy as np
import pytest

import hfx
from hfx import simplemodels


def _model():
    return simplemodels.correlated_background(
        [30.0, 95.0], [100.0, 150.0], [102.0, 190.0], [98.0, 100.0]
    )


def test_arrays_are_made_at_first_use_with_the_same_values():
    model, eager = _model(), _model()
    eager._prepare()
    assert model.__dict__["_prepared"] is False
    pars = model.config.suggested_init() + 0.1
    data = np.asarray(eager.expected_data(pars))
    assert np.array_equal(model.logpdf(pars, data), eager.logpdf(pars, data))
    assert model.__dict__["_prepared"] is True
    with pytest.raises(AttributeError, match="no attribute '_nothing'"):
        _ = model._nothing


def test_compiled_fits_do_not_need_them():
    pytest.importorskip("numba")
    model = _model()
    data = np.asarray(model.expected_data(model.config.suggested_init()))
    model = _model()  # (expected_data above made the arrays of the first one)
    hfx.hypotest(model, data, 1.0, engine="numba")
    hfx.fit(model, data, engine="numba", uncertainties=False)
    assert model.__dict__["_prepared"] is False
