"""Toy calculator: sampling, empirical p-values, reproducibility, agreement with asymptotics."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtr

import hfx.optimize
from hfx import simplemodels
from hfx.errors import HfxError
from hfx.infer import EmpiricalDistribution, ToyCalculator, hypotest, sample_toys, upper_limit

needs_batch = pytest.mark.skipif(
    not hasattr(hfx.optimize, "fit_batch"), reason="hfx.optimize.fit_batch not available"
)


@pytest.fixture(scope="module")
def canonical():
    model = simplemodels.uncorrelated_background([12, 11], [50, 52], [3, 7])
    return model, np.concatenate([[51.0, 48.0], model.config.auxdata])


def test_empirical_pvalue_is_inclusive():
    dist = EmpiricalDistribution([3.0, 0.0, 1.0, 2.0, 1.0])
    assert dist.pvalue(1.0) == pytest.approx(4 / 5)
    assert dist.pvalue(0.0) == 1.0
    assert dist.pvalue(3.5) == 0.0
    np.testing.assert_allclose(dist.pvalue(np.array([1.0, 2.0])), [0.8, 0.4])


def test_empirical_expected_value_percentiles():
    samples = np.arange(11.0)  # linear interpolation between order statistics
    dist = EmpiricalDistribution(samples)
    assert dist.expected_value(0.0) == 5.0
    assert dist.expected_value(1.0) == pytest.approx(10 * float(ndtr(1.0)))
    assert dist.expected_value(-2.0) == pytest.approx(10 * float(ndtr(-2.0)))


def test_sample_toys_moments(canonical):
    model, _ = canonical
    pars = np.array([1.0, 1.05, 0.9])
    toys = sample_toys(model, pars, 40000, np.random.default_rng(7))
    assert toys.shape == (40000, 4)
    main_mean = [12 + 50 * 1.05, 11 + 52 * 0.9]
    aux_mean = [277.77777777777777 * 1.05, 55.183673469387756 * 0.9]
    mean = np.r_[main_mean, aux_mean]
    # Poisson: variance = mean; 5 standard errors on the mean and variance
    assert np.all(np.abs(toys.mean(0) - mean) < 5 * np.sqrt(mean / 40000))
    np.testing.assert_allclose(toys.var(0), mean, rtol=5 * math.sqrt(2 / 40000) + 0.01)
    assert np.all(toys == np.round(toys))


def test_sample_toys_gaussian_aux():
    model = simplemodels.correlated_background([5], [50], [60], [40])
    alpha = model.config.par_names.index("correlated_bkg_uncertainty")
    pars = model.config.suggested_init()
    pars[alpha] = 0.3
    toys = sample_toys(model, pars, 40000, np.random.default_rng(3))
    aux = toys[:, model.config.nmaindata]
    assert aux.mean() == pytest.approx(0.3, abs=5 / math.sqrt(40000))
    assert aux.std() == pytest.approx(1.0, rel=0.02)


def test_toys_reproducible_with_seed(canonical):
    model, data = canonical
    a = hypotest(model, data, 1.0, calculator="toys", ntoys=60, seed=11)
    b = hypotest(model, data, 1.0, calculator="toys", ntoys=60, seed=11)
    c = hypotest(model, data, 1.0, calculator="toys", ntoys=60, seed=12)
    assert a == b
    assert (a.clsb, a.clb, a.cls_expected) != (c.clsb, c.clb, c.cls_expected)
    assert a.calculator == "toys" and a.to_dict()["calculator"] == "toys"


def test_progress_bar_gives_same_numbers(canonical):
    model, data = canonical
    a = hypotest(model, data, 1.0, calculator="toys", ntoys=40, seed=5, progress=True)
    b = hypotest(model, data, 1.0, calculator="toys", ntoys=40, seed=5)
    np.testing.assert_allclose([a.clsb, a.clb], [b.clsb, b.clb])


@needs_batch
def test_toys_agree_with_asymptotics_at_large_ntoys(canonical):
    """20000 toys per hypothesis: CLs+b, CLb, CLs within 4 standard errors of the
    asymptotic values (G.4: 0.02332502, 0.4441594, 0.05251497); expected band below."""
    model, data = canonical
    n = 20000
    res = hypotest(model, data, 1.0, calculator="toys", ntoys=n, seed=2024)
    clsb, clb, cls = 0.02332502, 0.4441594, 0.05251497

    def se(p):
        return math.sqrt(p * (1 - p) / n)

    assert abs(res.clsb - clsb) < 4 * se(clsb)
    assert abs(res.clb - clb) < 4 * se(clb)
    se_cls = cls * math.hypot(se(clsb) / clsb, se(clb) / clb)
    assert abs(res.cls - cls) < 4 * se_cls
    # band points are percentiles over background toys of CLs values that are counts of
    # s+b toys: at −1σ CLs+b ~ 2e-3 (about 40 toys), so allow 40%; median 20%; +1σ 10%.
    # (−2σ rests on about one s+b toy and +2σ on the toys with q = 0: not compared.)
    band = {1: (0.01382005, 0.4), 2: (0.06445321, 0.2), 3: (0.23525644, 0.1)}
    for k, (want, rel) in band.items():
        assert res.cls_expected[k] == pytest.approx(want, rel=rel), res.cls_expected


def test_toy_teststat_two_sided(canonical):
    model, data = canonical
    bounds = model.config.suggested_bounds()
    bounds[0] = [-5.0, 10.0]
    calc = ToyCalculator(model, data, test_stat="t", ntoys=50, seed=1, bounds=bounds)
    # t_μ at μ = 1 with μ̂ < 0 allowed: pyhf 0.7.6 tmu = 3.954989229647026
    assert calc.teststatistic(1.0) == pytest.approx(3.954989229647026, rel=1e-6)
    sb, _ = calc.distributions(1.0)
    assert sb.samples.size == 50 and np.all(sb.samples >= 0)


def test_toy_calculator_rejects_bad_ntoys(canonical):
    model, data = canonical
    with pytest.raises(HfxError, match="ntoys"):
        ToyCalculator(model, data, ntoys=0)


@needs_batch
def test_toy_upper_limits_near_asymptotic(canonical):
    """Toy-based limits (500 toys per point) land near the asymptotic ones (G.4 scan:
    obs 1.026, expected median 1.125); both methods run on the noisy curves."""
    model, data = canonical
    scan = upper_limit(model, data, calculator="toys", ntoys=500, seed=3, scan=np.linspace(0, 3, 7))
    assert scan.obs == pytest.approx(1.026, rel=0.15)
    assert scan.exp[2] == pytest.approx(1.125, rel=0.15)
    root = upper_limit(model, data, calculator="toys", ntoys=500, seed=3, rtol=1e-2)
    assert root.obs == pytest.approx(1.012, rel=0.15)
    assert root.exp[2] == pytest.approx(1.062, rel=0.15)
