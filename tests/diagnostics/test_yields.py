"""Yields with uncertainties: the per-sample Jacobian against finite differences, the
propagation against closed forms, and the published workspaces against cabinetry 0.6."""

from __future__ import annotations

import numpy as np
import pytest

import hfx
from hfx import simplemodels
from hfx.diagnostics import prefit_parameters, yields
from hfx.errors import HfxError
from tests.diagnostics.cabinetry_refs import (
    NAMES,
    exact_sigmas_at_cabinetry_minimum,
    published,
)


def two_channel_spec() -> dict:
    """SR (signal + bkg with normsys, histosys, staterror) and CR (bkg with normsys, lumi)."""
    return {
        "channels": [
            {
                "name": "SR",
                "samples": [
                    {
                        "name": "signal",
                        "data": [5.0, 8.0],
                        "modifiers": [{"name": "mu", "type": "normfactor", "data": None}],
                    },
                    {
                        "name": "bkg",
                        "data": [50.0, 40.0],
                        "modifiers": [
                            {"name": "norm", "type": "normsys", "data": {"hi": 1.1, "lo": 0.85}},
                            {
                                "name": "shape",
                                "type": "histosys",
                                "data": {"hi_data": [55.0, 41.0], "lo_data": [46.0, 38.0]},
                            },
                            {"name": "stat", "type": "staterror", "data": [4.0, 3.0]},
                        ],
                    },
                ],
            },
            {
                "name": "CR",
                "samples": [
                    {
                        "name": "bkg",
                        "data": [200.0],
                        "modifiers": [
                            {"name": "norm", "type": "normsys", "data": {"hi": 1.1, "lo": 0.85}},
                            {"name": "lumi", "type": "lumi", "data": None},
                        ],
                    }
                ],
            },
        ],
        "observations": [{"name": "SR", "data": [60.0, 52.0]}, {"name": "CR", "data": [210.0]}],
        "measurements": [
            {
                "name": "m",
                "config": {
                    "poi": "mu",
                    "parameters": [{"name": "lumi", "auxdata": [1.0], "sigmas": [0.02]}],
                },
            }
        ],
        "version": "1.0.0",
    }


def _two_channel_model():
    ws = hfx.Workspace(two_channel_spec())
    model = ws.model()
    return model, np.asarray(ws.data(model))


def test_per_sample_jacobian_matches_finite_differences():
    model, _ = _two_channel_model()
    pars = np.array(model.config.suggested_init(), dtype=float) + 0.13
    by_sample, jac = model.expected_by_sample_and_jacobian(pars)
    np.testing.assert_allclose(by_sample, model.expected_by_sample(pars), rtol=1e-14)
    h = 1e-6
    for i in range(model.config.npars):
        up, down = pars.copy(), pars.copy()
        up[i] += h
        down[i] -= h
        fd = (model.expected_by_sample(up) - model.expected_by_sample(down)) / (2 * h)
        np.testing.assert_allclose(jac[..., i], fd, rtol=1e-6, atol=1e-7)
    # summed over samples it is the model's bin Jacobian
    _, total = model.expected_and_jacobian(pars)
    np.testing.assert_allclose(jac.sum(axis=0), total, rtol=1e-12, atol=1e-12)


def test_prefit_uncertainties_in_closed_form():
    # one sample, one staterror bin (σ = δ/b) and a lumi (σ = 0.02), independent pre-fit
    model, data = _two_channel_model()
    result = yields(model, data)
    assert not result.postfit and result.method == "symmetrised"
    cr = result.channel("CR")
    assert cr.samples == ("bkg",)
    # CR: 200 · κ_norm · λ; ±1σ of norm gives (1.1 − 0.85)/2 · 200, of lumi 0.02 · 200
    expected = np.hypot(200 * (1.1 - 0.85) / 2, 200 * 0.02)
    assert cr.total_stdev[0] == pytest.approx(expected, rel=1e-12)
    assert cr.total_sum_stdev == pytest.approx(expected, rel=1e-12)
    np.testing.assert_array_equal(cr.data, [210.0])
    sr = result.channel("SR")
    assert sr.samples == ("bkg", "signal")
    # the signal has only a free normfactor: no pre-fit uncertainty
    np.testing.assert_array_equal(sr.stdev[1], [0.0, 0.0])
    np.testing.assert_allclose(sr.yields[1], [5.0, 8.0])
    # bin 1 of bkg: normsys ±(0.25/2)·40, histosys ±(41 − 38)/2, staterror ±3
    want = np.sqrt((0.125 * 40) ** 2 + 1.5**2 + 3.0**2)
    assert sr.stdev[0][1] == pytest.approx(want, rel=1e-12)
    # the channel sum is propagated as a yield of its own: correlated across bins
    d_norm = 0.125 * 90 + 0.0
    d_shape = (55 + 41 - 46 - 38) / 2
    assert sr.sum_stdev[0] == pytest.approx(np.sqrt(d_norm**2 + d_shape**2 + 4**2 + 3**2))


def test_linear_propagation_is_jacobian_covariance_jacobian():
    model, data = _two_channel_model()
    best = hfx.fit(model, data)
    result = yields(model, data, postfit=True, method="linear", fit_result=best)
    _, jac = model.expected_by_sample_and_jacobian(best.bestfit)
    sl = model.config.channel_slices["SR"]
    j_total = jac.sum(axis=0)[sl]  # [bins, npars]
    want = np.sqrt(np.einsum("bi,ij,bj->b", j_total, best.covariance, j_total))
    np.testing.assert_allclose(result.channel("SR").total_stdev, want, rtol=1e-12)
    j_sum = j_total.sum(axis=0)
    assert result.channel("SR").total_sum_stdev == pytest.approx(
        np.sqrt(j_sum @ best.covariance @ j_sum), rel=1e-12
    )


def test_symmetrised_equals_linear_for_a_linear_model():
    # normfactor and Gaussian staterror scale yields linearly: both methods agree exactly
    model = simplemodels.correlated_background([5.0, 6.0], [40.0, 30.0], [44.0, 33.0], [36, 27])
    data = np.array([48.0, 39.0, *model.config.auxdata])
    best = hfx.fit(model, data)
    sym = yields(model, data, postfit=True, fit_result=best)
    lin = yields(model, data, postfit=True, method="linear", fit_result=best)
    for a, b in zip(sym.channels, lin.channels, strict=True):
        np.testing.assert_allclose(a.stdev, b.stdev, rtol=1e-10)
        np.testing.assert_allclose(a.total_stdev, b.total_stdev, rtol=1e-10)


def test_bad_method_and_channel():
    model, data = _two_channel_model()
    with pytest.raises(HfxError, match="unknown yield uncertainty method"):
        yields(model, data, method="exact")
    with pytest.raises(HfxError, match="no channel named 'VR'"):
        yields(model, data).channel("VR")


def test_prefit_parameters_are_the_nominal_values():
    model, _ = _two_channel_model()
    values = dict(zip(model.config.par_names, prefit_parameters(model), strict=True))
    assert values == {
        "lumi": 1.0,
        "mu": 1.0,
        "norm": 0.0,
        "shape": 0.0,
        "stat[0]": 1.0,
        "stat[1]": 1.0,
    }


def _compare(
    result, ref, *, rel: float = 2e-2, yields_rel: float = 1e-6, yields_abs: float = 0.0
) -> None:
    """Every yield and stdev of ``result`` against cabinetry's nested lists."""
    assert [c.name for c in result.channels] == ref["channels"]
    for c, channel in enumerate(result.channels):
        cab_total = ref["stdev_bins"][c][-1]
        np.testing.assert_allclose(channel.total_stdev, cab_total, rtol=rel, atol=1e-9)
        assert channel.total_sum_stdev == pytest.approx(ref["stdev_channels"][c][-1], rel=rel)
        for k, sample in enumerate(channel.samples):
            j = ref["samples"].index(sample)
            np.testing.assert_allclose(
                channel.yields[k], ref["yields"][c][j], rtol=yields_rel, atol=yields_abs
            )
            np.testing.assert_allclose(
                channel.stdev[k], ref["stdev_bins"][c][j], rtol=rel, atol=1e-9
            )
            assert channel.sum_stdev[k] == pytest.approx(
                ref["stdev_channels"][c][j], rel=rel, abs=1e-9
            )


@pytest.mark.parametrize("name", NAMES)
def test_prefit_yields_match_cabinetry(name):
    model, data, ref = published(name)
    _compare(yields(model, data), ref["yields_prefit"], rel=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_postfit_propagation_of_cabinetrys_fit_matches_cabinetry(name):
    # the same best fit, uncertainties and correlations in: the same yields and stdevs out
    model, data, ref = published(name)
    labels = ref["fit"]["labels"]
    order = [labels.index(n) for n in model.config.par_names]
    sigma = np.asarray(ref["fit"]["uncertainty"])[order]
    corr = np.asarray(ref["fit"]["correlation"])[np.ix_(order, order)]
    cab_fit = hfx.FitResult(
        bestfit=np.asarray(ref["fit"]["bestfit"])[order],
        uncertainties=sigma,
        covariance=corr * np.outer(sigma, sigma),
        correlation=corr,
        twice_nll=ref["fit"]["twice_nll"],
        success=True,
        message="cabinetry",
        nfev=0,
        ngrad=0,
        par_names=tuple(model.config.par_names),
        fixed=np.zeros(model.config.npars, dtype=bool),
    )
    result = yields(model, data, postfit=True, fit_result=cab_fit)
    _compare(result, ref["yields_postfit"], rel=1e-5)


def _poi_on_bound(ref) -> bool:
    fit = ref["fit"]
    return abs(fit["bestfit"][fit["labels"].index(ref["poi"])]) < 1e-3


@pytest.mark.parametrize("name", NAMES)
def test_postfit_yields_with_hfx_fit_match_cabinetry(name):
    model, data, ref = published(name)
    if _poi_on_bound(ref):
        # Minuit stops a POI on its bound at ~1e-5 where its sin() transform flattens the
        # POI's variance and correlations (noted on issue 13): with μ̂ = 0 hfx's exact
        # Hessian gives the POI's (and correlated parameters') uncertainty, Minuit's does
        # not, so post-fit uncertainties are comparable only for a POI inside its bounds.
        pytest.skip(f"{name}: cabinetry's μ̂ sits on its bound")
    best = hfx.fit(model, data)
    # Minuit stops at EDM < 2e-3 (cabinetry's default tolerance): its minimum can lie above
    # hfx's by ~1e-4 in -2 log L (8e-5 on BkgOnlyC, where its μ̂ is 2.3e-3 higher and so the
    # signal yields 0.23%; 5e-5 on SRcombined, μ̂ 0.491 vs 0.495: 0.8%), so yields are
    # compared to 1e-2 (or 1e-4 events) and their uncertainties to 2%
    assert best.twice_nll <= ref["fit"]["twice_nll"] + 1e-6
    rel = 2e-2
    # Where the POI's bound lies within 1σ (SRcombined: μ̂ = 0.49 ± 1.58), Minuit's error
    # of the POI is off: 1.44 where the exact curvature at Minuit's own best fit gives 1.58
    # (hfx's). A yield's uncertainty then differs by up to that ratio, times that of the μ̂
    # (a signal yield's uncertainty scales with both).
    labels = ref["fit"]["labels"]
    exact = exact_sigmas_at_cabinetry_minimum(model, data, ref)
    poi = model.config.poi_index
    minuit_poi = ref["fit"]["uncertainty"][labels.index(ref["poi"])]
    assert best.uncertainties[poi] == pytest.approx(exact[poi], rel=5e-3)
    off = abs(minuit_poi / exact[poi] - 1.0)
    if off > rel:
        mu_cab = ref["fit"]["bestfit"][labels.index(ref["poi"])]
        rel = off + abs(best.bestfit[poi] / mu_cab - 1.0) + 5e-3
    result = yields(model, data, postfit=True, fit_result=best)
    _compare(result, ref["yields_postfit"], rel=rel, yields_rel=1e-2, yields_abs=1e-4)
