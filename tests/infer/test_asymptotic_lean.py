"""The asymptotic calculator's fast path (hfx.infer.asymptotic_lean) runs the same fits as its
own path: the same statistics and p-values, bit for bit, on both engines."""

from __future__ import annotations

import numpy as np
import pytest

from hfx.infer.asymptotic import AsymptoticCalculator
from hfx.infer.asymptotic_lean import prepare
from hfx.infer.hypotest import run_hypotest
from tests.conftest import needs_shared
from tests.likelihood.helpers import atlas_model

SMALL = ("2018-31_simplifiedA", "2018-14_Comb_bkgonly")
pytestmark = needs_shared()


def _own_path(model, data, **kw) -> AsymptoticCalculator:
    calc = AsymptoticCalculator(model, data, **kw)
    calc._lean_tried = True  # (the fast path declined: every fit as FitResult objects)
    return calc


@pytest.mark.parametrize("name", SMALL)
@pytest.mark.parametrize("engine", ["numba", "numpy"])
@pytest.mark.parametrize("test_stat", ["qtilde", "q"])
def test_fast_path_equals_own_path(name, engine, test_stat):
    model, data, _ = atlas_model(name)
    fast = AsymptoticCalculator(model, data, engine=engine, test_stat=test_stat)
    own = _own_path(model, data, engine=engine, test_stat=test_stat)
    # μ below and above μ̂ (where q vanishes), and the expected curve alone at a new μ
    for mu in (0.3, 1.0, 2.5, 7.0):
        assert run_hypotest(fast, mu) == run_hypotest(own, mu)
    assert fast.expected_cls(4.0) == own.expected_cls(4.0)
    assert fast._lean is not None and own._lean is None
    assert fast._free_data is None  # the fast path made no FitResult objects


@pytest.mark.parametrize("engine", ["numba", "numpy"])
def test_discovery_statistic_equals_own_path(engine):
    model, data, _ = atlas_model("2018-31_simplifiedA")
    fast = AsymptoticCalculator(model, data, engine=engine, test_stat="q0")
    own = _own_path(model, data, engine=engine, test_stat="q0")
    assert run_hypotest(fast, 0.0) == run_hypotest(own, 0.0)


def test_muhat_inside_the_bounds_takes_the_precise_fit():
    # data with an excess: μ̂ > 0, so the Asimov data come from their own (precise) fit
    model, _, _ = atlas_model("2018-31_simplifiedA")
    pars = model.config.suggested_init()
    pars[model.config.poi_index] = 1.5
    data = np.asarray(model.expected_data(pars))
    fast = AsymptoticCalculator(model, data)
    own = _own_path(model, data)
    for mu in (0.5, 1.0, 3.0):
        assert run_hypotest(fast, mu) == run_hypotest(own, mu)
    assert fast._lean is not None and fast._lean.muhat == pytest.approx(1.5, rel=1e-6)


def test_declines_what_its_own_path_handles():
    model, data, _ = atlas_model("2018-31_simplifiedA")
    calc = AsymptoticCalculator(model, data)
    # a dataset of the wrong length: the fits name it (the kernels would read past the end)
    assert prepare(model, data[:-1], calc.opts, calc.poi_index, 0.0) is None
    # the Asimov μ outside the POI bounds: its free fit is a real minimisation there
    assert prepare(model, data, calc.opts, calc.poi_index, -1.0) is None
    lean = prepare(model, data, calc.opts, calc.poi_index, 0.0)
    # μ equal to the Asimov μ: the calculator reuses other fits there
    assert lean.q_values(calc.statistic, 0.0, True) is None
    # a chosen optimizer fits one by one: no batched plan, no fast path
    scipy_calc = AsymptoticCalculator(model, data, optimizer="scipy")
    assert prepare(model, data, scipy_calc.opts, scipy_calc.poi_index, 0.0) is None
