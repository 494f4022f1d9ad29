"""The default fit's lean path on the compiled kernels (a fit without uncertainties from the
model's suggested start): the same answer as the general path, pyhf's minimum on published
workspaces, and every bad input still refused by the general path's located errors."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from hfx import Workspace
from hfx.errors import FitError, ModelError
from hfx.optimize import api, fit, kernel, make_plan
from hfx.optimize.plan import default_plan_runs_kernels
from tests.conftest import load_atlas
from tests.likelihood.helpers import PYHF_SETTINGS

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("numba") is None, reason="the lean path runs on the numba kernels"
)

SMALL = ["2018-14_Comb_bkgonly", "2018-31_simplifiedA"]


def _published(name: str):
    spec, patch, ref = load_atlas(name)
    ws = Workspace(spec)
    model = ws.model(patches=[patch], modifier_settings=PYHF_SETTINGS)
    return model, np.asarray(ws.data(model)), ref


@pytest.mark.parametrize("name", SMALL)
def test_lean_fit_is_the_general_fit_and_pyhfs_minimum(name):
    model, data, ref = _published(name)
    plan = make_plan(model, engine="numba")
    assert plan.batched and plan.engine == "numba"  # (the lean path applies to these models)
    lean = api._kernel_fit_from_defaults(model, data)
    assert lean is not None
    # the general path, taken because an init is given (the same values)
    general = fit(
        model, data, init=model.config.suggested_init(), engine="numba", uncertainties=False
    )
    np.testing.assert_array_equal(lean.bestfit, general.bestfit)
    assert lean.twice_nll == general.twice_nll
    assert lean.message == general.message and lean.nfev == general.nfev
    np.testing.assert_array_equal(lean.fixed, general.fixed)
    assert lean.par_names == general.par_names
    assert not lean.covariance.any() and not lean.uncertainties.any()
    # pyhf's minimum (its −2 log L up to hfx's constant-free form: the same model and data)
    numpy = fit(model, data, engine="numpy", uncertainties=False)
    assert lean.twice_nll == pytest.approx(numpy.twice_nll, abs=1e-8)
    assert lean.value(ref["poi"]) == pytest.approx(ref["mle_poi"], abs=1e-4)
    # a result the caller may change without changing the next fit
    lean.bestfit[:] = 7.0
    assert fit(model, data, engine="numba", uncertainties=False).twice_nll == general.twice_nll


def test_lean_fit_leaves_bad_data_to_the_general_path():
    model, data, _ = _published("2018-14_Comb_bkgonly")
    bad = data.copy()
    bad[1] = np.nan
    with pytest.raises(FitError, match=r"data value at channel .* bin 0 is nan"):
        fit(model, bad, engine="numba", uncertainties=False)
    with pytest.raises(ModelError, match="expects 7 values per dataset"):
        fit(model, data[:-1], engine="numba", uncertainties=False)
    huge = data.copy()
    huge[:2] = 1e308  # (a sum that overflows: finite data, the general path fits it)
    assert api._kernel_fit_from_defaults(model, huge) is None


def test_lean_fit_hands_over_where_newton_does_not_converge(monkeypatch):
    model, data, _ = _published("2018-31_simplifiedA")

    def no_convergence(model, data, start, idx, lo, hi, tolerance, maxiter):
        return start[0, idx], False, 1.0, maxiter

    expected = fit(model, data, engine="numba", uncertainties=False)
    monkeypatch.setattr(kernel, "fit_one", no_convergence)
    assert api._kernel_fit_from_defaults(model, data) is None
    # the general path retries (here with L-BFGS-B, as the kernels "fail" throughout)
    found = fit(model, data, engine="numba", uncertainties=False)
    assert not found.message.startswith("Newton")
    assert found.twice_nll == pytest.approx(expected.twice_nll, abs=1e-6)


def test_suggested_views_are_read_only():
    model, _, _ = _published("2018-31_simplifiedA")
    for view in (*model.config.suggested_start, *model.config.suggested_free):
        with pytest.raises(ValueError, match="read-only"):
            view[0] = 1
    init = model.config.suggested_init()
    init[0] = 99.0  # (the copies stay the caller's to change)
    assert model.config.suggested_start[0][0] != 99.0


def test_default_fit_decides_the_lean_path_as_its_plan_would(monkeypatch):
    """``fit`` without a plan asks ``default_plan_runs_kernels`` instead of making the
    plan: the same answer as ``make_plan``'s, for models the kernels take and do not take
    (too many parameters, the kernels blocked), and the same fit either way."""
    small, data, _ = _published("2018-14_Comb_bkgonly")
    large = Workspace(load_atlas("2018-31_BkgOnlyA")[0]).model(poi_name=None)
    for model in (small, large):
        plan = make_plan(model)
        assert default_plan_runs_kernels(model) == (plan.batched and plan.engine == "numba")
    assert default_plan_runs_kernels(small) and not default_plan_runs_kernels(large)
    for optimizer in (None, "auto"):
        quick = fit(small, data, optimizer=optimizer, uncertainties=False)
        planned = fit(small, data, plan=make_plan(small), uncertainties=False)
        np.testing.assert_array_equal(quick.bestfit, planned.bestfit)
        assert quick.twice_nll == planned.twice_nll and quick.message == planned.message
    # kernels that are not ready: the plan fits on NumPy, and so does the default fit
    monkeypatch.setattr(kernel, "ready", lambda: False)
    assert make_plan(small).engine == "numpy" and not default_plan_runs_kernels(small)

    def no_kernels(*args):
        raise AssertionError("the kernels ran")

    monkeypatch.setattr(kernel, "fit_one", no_kernels)
    on_numpy = fit(small, data, uncertainties=False)
    assert on_numpy.twice_nll == fit(small, data, plan=make_plan(small)).twice_nll
