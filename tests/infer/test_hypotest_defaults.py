"""hypotest() with the model's own init, bounds and fixed values skips the calculator object
(hfx.infer.asymptotic.test_at_defaults): the same fits and p-value functions, so the same
result bit for bit as the calculator's own path; wherever that path has something to say,
it runs."""

from __future__ import annotations

import importlib
import math

import pytest

import hfx
from hfx.errors import PoiOutOfBoundsError
from hfx.infer import asymptotic
from hfx.infer.asymptotic import AsymptoticCalculator
from hfx.infer.hypotest import run_hypotest
from tests.conftest import needs_shared
from tests.likelihood.helpers import atlas_model

SMALL = ("2018-31_simplifiedA", "2018-14_Comb_bkgonly")
pytestmark = needs_shared()


@pytest.fixture
def taken(monkeypatch):
    """How often test_at_defaults gave the answer (not None)."""
    calls = {"answered": 0}
    real = asymptotic.test_at_defaults

    def counting(*args, **kwargs):
        found = real(*args, **kwargs)
        calls["answered"] += found is not None
        return found

    # (hfx.infer.hypotest is the function; the module is reached by its name)
    module = importlib.import_module("hfx.infer.hypotest")
    monkeypatch.setattr(module, "test_at_defaults", counting)
    return calls


@pytest.mark.parametrize("name", SMALL)
@pytest.mark.parametrize("engine", ["auto", "numpy"])
@pytest.mark.parametrize(
    ("test_stat", "poi"), [("qtilde", 1.0), ("qtilde", 0.3), ("q", 2.0), ("q0", 0.0)]
)
def test_defaults_path_is_the_calculator_path(name, engine, test_stat, poi, taken):
    model, data, _ = atlas_model(name)
    result = hfx.infer.hypotest(model, data, poi, test_stat=test_stat, engine=engine)
    assert taken["answered"] == 1
    calc = AsymptoticCalculator(model, data, test_stat=test_stat, engine=engine)
    own = run_hypotest(calc, poi)
    assert result == own  # every field, exactly
    assert all(math.isfinite(v) for v in (result.cls, result.clsb, result.clb, result.teststat))


def test_other_options_take_the_calculator(taken):
    model, data, _ = atlas_model("2018-31_simplifiedA")
    init = model.config.suggested_init()
    a = hfx.infer.hypotest(model, data, 1.0, init=init)
    b = hfx.infer.hypotest(model, data, 1.0, calculator="asymptotic", optimizer="scipy")
    assert taken["answered"] == 0
    assert a.cls == pytest.approx(b.cls, rel=1e-5)


def test_poi_outside_bounds_is_refused_by_the_calculator(taken):
    model, data, _ = atlas_model("2018-31_simplifiedA")
    hi = float(model.config.suggested_bounds()[model.config.poi_index, 1])
    with pytest.raises(PoiOutOfBoundsError, match="outside the bounds"):
        hfx.infer.hypotest(model, data, hi + 1.0)
    with pytest.raises(PoiOutOfBoundsError, match="not a number"):
        hfx.infer.hypotest(model, data, math.nan)
    assert taken["answered"] == 0


def test_wrong_data_length_is_named_by_the_calculator(taken):
    model, data, _ = atlas_model("2018-31_simplifiedA")
    with pytest.raises(hfx.HfxError):
        hfx.infer.hypotest(model, data[:-1], 1.0)
    assert taken["answered"] == 0
