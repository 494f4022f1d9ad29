"""hfx.infer on a one-bin counting model against closed-form profile likelihoods."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import ndtr
from scipy.stats import chi2

from hfx.infer import (
    AsymptoticCalculator,
    asimov_data,
    hypotest,
    interval,
    profile_scan,
    q0,
    qmu,
    qmu_tilde,
    significance,
    tmu,
    upper_limit,
)
from tests.infer.helpers import CountingClosedForm, counting_model

S, B, N = 10.0, 50.0, 55.0


@pytest.fixture(scope="module")
def counting():
    model, data = counting_model(S, B, N)
    return model, data, CountingClosedForm(S, B, N)


@pytest.mark.parametrize("mu", [0.2, 0.5, 1.0, 2.5])
def test_qmu_tilde_closed_form(counting, mu):
    model, data, cf = counting
    assert qmu_tilde(model, data, mu) == pytest.approx(cf.q(mu), rel=1e-6, abs=1e-9)


def test_tmu_two_sided(counting):
    model, data, cf = counting
    # below μ̂ = 0.5: q is 0, t is not
    assert qmu_tilde(model, data, 0.2) == 0.0
    expected = cf.twice_nll(0.2) - cf.twice_nll(0.5)
    assert tmu(model, data, 0.2, bounds=[[-5.0, 10.0]]) == pytest.approx(expected, rel=1e-6)


def test_qmu_with_negative_mle():
    model, data = counting_model(S, B, 45.0, bounds=(-5.0, 10.0))
    cf = CountingClosedForm(S, B, 45.0, lo=-5.0)
    value, (free, _) = qmu(model, data, 1.0, return_fits=True)
    assert free.bestfit[0] == pytest.approx(-0.5, abs=1e-5)
    assert value == pytest.approx(cf.q(1.0), rel=1e-6)


def test_q0_closed_form():
    model, data = counting_model(S, B, 80.0)
    z2 = 2.0 * (80.0 * math.log(80.0 / 50.0) - 30.0)
    assert q0(model, data) == pytest.approx(z2, rel=1e-7)
    model, data = counting_model(S, B, 40.0, bounds=(-5.0, 10.0))
    assert q0(model, data) == 0.0  # deficit: μ̂ < 0


def test_asimov_data_is_background(counting):
    model, data, _ = counting
    np.testing.assert_allclose(asimov_data(model, data, 0.0), [B], rtol=1e-12)
    np.testing.assert_allclose(asimov_data(model, data, 2.0), [B + 2 * S], rtol=1e-12)


@pytest.mark.parametrize("mu", [0.6, 1.0, 2.0, 4.0])
def test_hypotest_closed_form(counting, mu):
    model, data, cf = counting
    res = hypotest(model, data, mu)
    clsb, clb, cls, band = cf.cls(mu)
    np.testing.assert_allclose([res.clsb, res.clb, res.cls], [clsb, clb, cls], rtol=1e-6)
    np.testing.assert_allclose(res.cls_expected, band, rtol=1e-6)
    # the band is ordered from the −2σ edge (smallest CLs) up
    assert list(res.cls_expected) == sorted(res.cls_expected)


def test_qtilde_branch_above_asimov():
    """Large q (√q > √q_A) exercises the (q − q_A)/(2√q_A) branch."""
    model, data = counting_model(S, B, 30.0)
    cf = CountingClosedForm(S, B, 30.0)
    assert math.sqrt(cf.q(1.0)) > math.sqrt(cf.q(1.0, n=B))
    res = hypotest(model, data, 1.0)
    np.testing.assert_allclose(res.cls, cf.cls(1.0)[2], rtol=1e-6)


def test_upper_limit_closed_form(counting):
    model, data, cf = counting
    obs = brentq(lambda m: cf.cls(m)[2] - 0.05, 0.01, 10.0, xtol=1e-12)
    exp = [brentq(lambda m, k=k: cf.cls(m)[3][k] - 0.05, 0.01, 10.0, xtol=1e-12) for k in range(5)]
    res = upper_limit(model, data)
    assert res.obs == pytest.approx(obs, rel=1e-5)
    np.testing.assert_allclose(res.exp, exp, rtol=1e-5)
    assert list(res.exp) == sorted(res.exp)
    # a fine scan interpolates to nearly the same numbers
    grid = np.linspace(0.0, 6.0, 121)
    scanned = upper_limit(model, data, scan=grid)
    assert scanned.obs == pytest.approx(obs, rel=2e-3)
    np.testing.assert_allclose(scanned.exp, exp, rtol=2e-3)
    cls_closed = [cf.cls(m)[2] if m > 0 else 1.0 for m in grid]
    np.testing.assert_allclose(scanned.cls_obs, cls_closed, rtol=1e-6, atol=1e-12)


def test_significance_closed_form():
    model, data = counting_model(S, B, 70.0)
    res = significance(model, data)
    z = math.sqrt(2.0 * (70.0 * math.log(70.0 / 50.0) - 20.0))
    assert res.z_obs == pytest.approx(z, rel=1e-6)
    assert res.p0_obs == pytest.approx(float(ndtr(-z)), rel=1e-6)
    # expected: Asimov at μ = 1, n_A = s + b
    za = math.sqrt(2.0 * (60.0 * math.log(60.0 / 50.0) - 10.0))
    assert res.z_exp == pytest.approx(za, rel=1e-6)
    np.testing.assert_allclose(res.z_exp_band, [za + k for k in (2, 1, 0, -1, -2)], rtol=1e-6)


@pytest.mark.parametrize("cl", [0.6826894921370859, 0.95])
def test_interval_closed_form(cl):
    model, data = counting_model(S, B, 80.0)
    cf = CountingClosedForm(S, B, 80.0)
    level = chi2.ppf(cl, 1)

    def delta(m):
        return cf.twice_nll(m) - cf.twice_nll(3.0) - level

    lo, hi = interval(model, data, cl=cl)
    assert lo == pytest.approx(brentq(delta, 0.0, 3.0, xtol=1e-13), rel=1e-6)
    assert hi == pytest.approx(brentq(delta, 3.0, 10.0, xtol=1e-13), rel=1e-6)


def test_interval_stops_at_bound(counting):
    model, data, cf = counting
    lo, hi = interval(model, data, "mu", cl=0.95)
    assert lo == 0.0  # Δ(2NLL) at μ = 0 is below 3.84
    assert cf.twice_nll(0.0) - cf.twice_nll(0.5) < 3.84
    assert cf.twice_nll(hi) - cf.twice_nll(0.5) == pytest.approx(chi2.ppf(0.95, 1), rel=1e-6)


def test_profile_scan_closed_form(counting):
    model, data, cf = counting
    values = [0.0, 0.5, 1.0, 2.0]
    scan = profile_scan(model, data, "mu", values)
    expected = [cf.twice_nll(m) - cf.twice_nll(0.5) for m in values]
    np.testing.assert_allclose(scan.delta_twice_nll, expected, rtol=1e-6, atol=1e-8)
    assert scan.par == "mu" and scan.minimum == pytest.approx(cf.twice_nll(0.5), rel=1e-9)
    d = scan.to_dict()
    assert d["values"] == values and len(d["delta_twice_nll"]) == 4


def test_asymptotic_calculator_reuses_fits(counting):
    model, data, cf = counting
    calc = AsymptoticCalculator(model, data)
    for mu in (1.0, 2.0, 1.0):
        calc.teststatistic(mu)
    # one conditional fit to the Asimov data per tested μ, none repeated (the fast path
    # keeps the statistics, not the fits)
    assert sorted(calc._q_asimov) == [1.0, 2.0]
    assert calc.sqrt_qmu_asimov(2.0) == pytest.approx(math.sqrt(cf.q(2.0, n=B)), rel=1e-6)
