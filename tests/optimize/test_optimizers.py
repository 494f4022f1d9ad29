"""Optimizers as values: selection, Minuit, agreement of uncertainties, retries and failures."""

from __future__ import annotations

import numpy as np
import pytest

from hfx import simplemodels
from hfx.errors import FitError
from hfx.optimize import (
    MinuitOptimizer,
    ScipyOptimizer,
    fit,
    fixed_poi_fit,
    get_optimizer,
)
from hfx.spec.workspace import Workspace
from tests.conftest import ATLAS_NAMES, needs_shared


@pytest.fixture(scope="module")
def canonical():
    model = simplemodels.uncorrelated_background([12, 11], [50, 52], [3, 7])
    return model, np.concatenate([[51.0, 48.0], model.config.auxdata])


def test_get_optimizer():
    assert get_optimizer(None) is None and get_optimizer("auto") is None  # the default path
    assert isinstance(get_optimizer("scipy"), ScipyOptimizer)
    assert isinstance(get_optimizer("Minuit"), MinuitOptimizer)
    custom = MinuitOptimizer(strategy=2, tolerance=1e-3)
    assert get_optimizer(custom) is custom
    with pytest.raises(FitError, match="auto, scipy, minuit"):
        get_optimizer("bfgs")
    with pytest.raises(FitError, match="optimizer must be"):
        get_optimizer(3.0)
    with pytest.raises(FitError, match="strategy"):
        MinuitOptimizer(strategy=5)


def test_engine_choices(canonical, monkeypatch):
    from hfx.errors import MissingExtraError
    from hfx.optimize import kernel, make_plan

    model, data = canonical
    with pytest.raises(FitError, match="unknown engine 'gpu'; choose one of auto, numpy, numba"):
        fit(model, data, engine="gpu")
    monkeypatch.setattr(kernel, "available", lambda: False)  # as without numba installed
    assert make_plan(model).engine == "numpy"
    with pytest.raises(MissingExtraError, match="pip install numba"):
        fit(model, data, engine="numba")


def test_optimizers_are_values():
    a = MinuitOptimizer(strategy=1, tolerance=0.01)
    assert a == MinuitOptimizer(strategy=1, tolerance=0.01)
    assert a.with_strategy(2).strategy == 2 and a.strategy == 1
    assert ScipyOptimizer(tolerance=1e-10).tolerance == 1e-10


@pytest.mark.parametrize("optimizer", ["scipy", "minuit", ScipyOptimizer(tolerance=1e-14)])
def test_test_optim_exact_mle(optimizer):
    if optimizer == "minuit":
        pytest.importorskip("iminuit")
    model = simplemodels.uncorrelated_background([50], [100], [10])
    data = np.concatenate([[125.0], model.config.auxdata])
    res = fit(model, data, optimizer=optimizer)
    # exact MLE μ = 0.5, γ = 1; pyhf's scipy/minuit answers lie within 5e-5 of it
    np.testing.assert_allclose(res.bestfit, [0.5, 1.0], atol=6e-5)


def test_minuit_histosys_uncertainty():
    pytest.importorskip("iminuit")
    model = simplemodels.correlated_background([30, 95], [100, 150], [102, 190], [98, 100])
    data = np.concatenate([[120.0, 180.0], model.config.auxdata])
    res = fixed_poi_fit(1.0, model, data, optimizer=MinuitOptimizer(strategy=1))
    np.testing.assert_allclose(res.twice_nll, 17.52954975, rtol=1e-7)
    np.testing.assert_allclose(res.uncertainties, [0.26418431, 0.0], rtol=1e-3)
    np.testing.assert_allclose(res.correlation, [[1.0, 0.0], [0.0, 0.0]], atol=1e-12)


def test_uncertainties_false_skips_hessian(canonical):
    model, data = canonical
    # (on NumPy, where the Newton fit's last value and gradient are the polish's first)
    full = fit(model, data, engine="numpy")
    cheap = fit(model, data, uncertainties=False, engine="numpy")
    np.testing.assert_allclose(cheap.twice_nll, 24.98393521, rtol=1e-7)
    assert not cheap.uncertainties.any() and not cheap.covariance.any()
    assert cheap.nfev == full.nfev - 1  # the Hessian is one (batched) gradient call


@needs_shared()
@pytest.mark.parametrize("name", [n for n in ATLAS_NAMES if not n.startswith("2019-09")])
def test_scipy_and_minuit_uncertainties_agree(name):
    pytest.importorskip("iminuit")
    from tests.likelihood.helpers import atlas_model

    model, data, ref = atlas_model(name)
    a = fit(model, data, optimizer="scipy")
    b = fit(model, data, optimizer="minuit")
    assert b.twice_nll <= ref["mle_twice_nll"] + 1e-3
    free = ~a.fixed
    np.testing.assert_allclose(b.uncertainties[free], a.uncertainties[free], rtol=1e-3)


def _negative_histosys_model(positive_definite: bool = True):
    """One bin whose background template goes negative for α ≤ −1 (with pyhf's unclamped
    yields; clamped at zero by default)."""
    spec = {
        "channels": [
            {
                "name": "sr",
                "samples": [
                    {
                        "name": "signal",
                        "data": [5.0, 5.0],
                        "modifiers": [{"name": "mu", "type": "normfactor", "data": None}],
                    },
                    {
                        "name": "background",
                        "data": [20.0, 30.0],
                        "modifiers": [
                            {
                                "name": "shape",
                                "type": "histosys",
                                "data": {"hi_data": [25.0, 35.0], "lo_data": [-60.0, 25.0]},
                            }
                        ],
                    },
                ],
            }
        ],
        "observations": [{"name": "sr", "data": [22.0, 31.0]}],
        "measurements": [
            {"name": "m", "config": {"poi": "mu", "parameters": []}},
        ],
        "version": "1.0.0",
    }
    ws = Workspace(spec)
    model = ws.model(
        modifier_settings={
            "normsys": {"interpcode": "code4"},
            "histosys": {"interpcode": "code4p", "positive_definite": positive_definite},
        }
    )
    return model, np.asarray(ws.data(model), dtype=float)


@pytest.mark.parametrize("optimizer", ["scipy", "minuit"])
def test_negative_rate_at_start_names_channel_and_bin(optimizer):
    if optimizer == "minuit":
        pytest.importorskip("iminuit")
    model, data = _negative_histosys_model(positive_definite=False)
    init = model.config.suggested_init()
    alpha = model.config.par_names.index("shape")
    init[alpha] = -1.0
    fixed = np.zeros(model.config.npars, dtype=bool)
    fixed[alpha] = True
    with pytest.raises(FitError, match=r"did not converge.*channel 'sr' bin 0") as err:
        fit(model, data, init=init, fixed=fixed, optimizer=optimizer)
    assert "attempts" in str(err.value)


def test_clamped_template_fits_where_pyhfs_would_not():
    """With the background clamped at zero (the default, as ROOT) the same fixed-α start fits."""
    model, data = _negative_histosys_model()
    init = model.config.suggested_init()
    alpha = model.config.par_names.index("shape")
    init[alpha] = -1.0
    fixed = np.zeros(model.config.npars, dtype=bool)
    fixed[alpha] = True
    res = fit(model, data, init=init, fixed=fixed)
    assert res.success and np.isfinite(res.twice_nll)
    assert model.expected_actualdata(res.bestfit).min() >= 0


def test_retry_recovers_from_a_bad_start():
    model, data = _negative_histosys_model(positive_definite=False)
    init = model.config.suggested_init()
    init[model.config.par_names.index("shape")] = -1.0
    res = fit(model, data, init=init)  # the free α leaves the invalid region
    assert res.success and np.isfinite(res.twice_nll)
    assert model.expected_actualdata(res.bestfit).min() > 0


def test_nan_data_names_the_bin(canonical):
    model, data = canonical
    bad = data.copy()
    bad[1] = np.nan
    with pytest.raises(FitError, match=r"channel 'singlechannel' bin 1 is nan"):
        fit(model, bad)
    bad = data.copy()
    bad[3] = np.inf
    with pytest.raises(FitError, match=r"auxdata\[1\]"):
        fixed_poi_fit(1.0, model, bad)


def test_minuit_missing_extra_message(monkeypatch, canonical):
    import builtins

    model, data = canonical
    real_import = builtins.__import__

    def no_iminuit(name, *args, **kwargs):
        if name == "iminuit":
            raise ImportError("no iminuit")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_iminuit)
    with pytest.raises(ImportError, match=r"hfx\[minuit\]"):
        fit(model, data, optimizer="minuit")


@needs_shared()
@pytest.mark.parametrize("name", ["2018-14_Comb_bkgonly", "2018-31_BkgOnlyA"])
def test_minuit_minimum_is_polished_to_the_reference(name):
    """MIGRAD stops at EDM ~1e-4; the minimum (and so CLs) must not depend on that."""
    from tests.conftest import load_atlas
    from tests.likelihood.helpers import PYHF_SETTINGS

    spec, patch, ref = load_atlas(name)
    ws = Workspace(spec)
    model = ws.model(patches=[patch], modifier_settings=PYHF_SETTINGS)  # pyhf's reference
    data = np.asarray(ws.data(model))
    res = fit(model, data, optimizer="minuit", uncertainties=False)
    assert res.twice_nll <= ref["mle_twice_nll"] + 1e-7
    for mu in (0.0, 1.0):
        minuit = fixed_poi_fit(mu, model, data, optimizer="minuit", uncertainties=False)
        scipy = fixed_poi_fit(mu, model, data, optimizer="scipy", uncertainties=False)
        assert minuit.twice_nll == pytest.approx(scipy.twice_nll, abs=1e-7)


def test_default_fit_is_newton_with_scipy_fallback(canonical, monkeypatch):
    from hfx.optimize import kernel, newton_fit
    from hfx.optimize.result import Minimum

    model, data = canonical
    default = fit(model, data, uncertainties=False)
    scipy = fit(model, data, optimizer="scipy", uncertainties=False)
    assert default.message.startswith("Newton")
    assert default.twice_nll == pytest.approx(scipy.twice_nll, abs=1e-9)
    np.testing.assert_allclose(default.bestfit, scipy.bestfit, atol=1e-4)

    def fails(self, obj, x0, bnds):
        return Minimum(x0, float("inf"), False, "Newton: did not converge")

    def kernel_fails(model, data, start, idx, lo, hi, tolerance, maxiter):
        return start[0, idx], False, float("inf"), maxiter

    monkeypatch.setattr(newton_fit.NewtonOptimizer, "minimize", fails)
    # (the default fit's lean path on the compiled kernels, which then hands over)
    monkeypatch.setattr(kernel, "fit_one", kernel_fails)
    fallback = fit(model, data, uncertainties=False)
    assert fallback.message.startswith("scipy")
    assert fallback.twice_nll == pytest.approx(scipy.twice_nll, abs=1e-9)
