"""hfx.infer API behaviour: errors, warnings, result objects, bounds handling."""

from __future__ import annotations

import logging

import numpy as np
import pytest

import hfx
from hfx import simplemodels
from hfx.errors import HfxError, ModelError, ResultError
from hfx.infer import (
    AsymptoticCalculator,
    AsymptoticTestStatDistribution,
    get_test_stat,
    hypotest,
    interval,
    profile_scan,
    q0,
    qmu,
    qmu_tilde,
    tmu,
    tmu_tilde,
    upper_limit,
)


@pytest.fixture(scope="module")
def canonical():
    model = simplemodels.uncorrelated_background([12, 11], [50, 52], [3, 7])
    return model, np.concatenate([[51.0, 48.0], model.config.auxdata])


def test_top_level_exports():
    for name in ("fit", "fixed_poi_fit", "hypotest", "upper_limit", "significance"):
        assert callable(getattr(hfx, name))


def test_get_test_stat_names():
    assert get_test_stat("q0") is q0
    assert get_test_stat("q") is qmu
    assert get_test_stat("qtilde") is qmu_tilde
    assert get_test_stat("t") is tmu
    assert get_test_stat("ttilde") is tmu_tilde
    with pytest.raises(HfxError, match="unknown test statistic"):
        get_test_stat("qq")


def test_no_poi_is_an_error(canonical):
    _, data = canonical
    ws = simplemodels.uncorrelated_background_workspace([12, 11], [50, 52], [3, 7])
    model = ws.model(poi_name=None)
    with pytest.raises(ModelError, match="parameter of interest"):
        hypotest(model, data, 1.0)


def test_fixed_poi_is_an_error(canonical):
    model, data = canonical
    with pytest.raises(ModelError, match="fixed"):
        hypotest(model, data, 1.0, fixed=[True, False, False])


def test_bound_warnings_are_logged(canonical, caplog):
    model, data = canonical
    bounds = model.config.suggested_bounds()
    with caplog.at_level(logging.WARNING, logger="hfx.infer"):
        qmu(model, data, 1.0)
    assert "qmu test statistic used for fit configuration with POI bounded at zero" in caplog.text
    assert "'qtilde'" in caplog.text
    caplog.clear()
    bounds[0] = [-10.0, 10.0]
    with caplog.at_level(logging.WARNING, logger="hfx.infer"):
        qmu_tilde(model, data, 1.0, bounds=bounds)
    assert "POI not bounded at zero (lower bound -10.0)" in caplog.text
    assert "'q'" in caplog.text


def test_asymptotic_rejects_two_sided_stat(canonical):
    model, data = canonical
    with pytest.raises(HfxError, match="unknown test statistic"):
        AsymptoticCalculator(model, data, test_stat="t")
    with pytest.raises(HfxError, match="calculator"):
        hypotest(model, data, 1.0, calculator="magic")


def test_distribution_cutoff_and_cdf():
    dist = AsymptoticTestStatDistribution(-1.0, cutoff=-1.0)
    assert np.isnan(dist.pvalue(-2.0))
    assert dist.pvalue(-1.0) == pytest.approx(0.5)
    assert dist.cdf(-1.0) == pytest.approx(0.5)
    assert dist.expected_value(-3.0) == -1.0  # clipped at the cutoff
    assert AsymptoticTestStatDistribution(0.0).expected_value(2.0) == 2.0


def test_clipped_normal_base(canonical):
    model, data = canonical
    calc = AsymptoticCalculator(model, data, base_dist="clipped_normal")
    sb, b = calc.distributions(1.0)
    assert sb.cutoff == -calc.sqrt_qmu_asimov(1.0) == b.cutoff
    with pytest.raises(HfxError):
        AsymptoticCalculator(model, data, base_dist="gamma")


def test_upper_limit_outside_bounds_is_an_error(canonical):
    model, data = canonical
    bounds = model.config.suggested_bounds()
    bounds[0] = [0.0, 0.9]  # the observed limit (1.01) and most of the band lie above
    with pytest.raises(ResultError, match=r"median CLs curve does not cross .* \[0, 0.9\]"):
        upper_limit(model, data, bounds=bounds, init=[0.5, 1.0, 1.0])


def test_upper_limit_arguments(canonical):
    model, data = canonical
    with pytest.raises(HfxError, match="method"):
        upper_limit(model, data, method="bisect")
    with pytest.raises(HfxError, match="scan"):
        upper_limit(model, data, method="scan")
    with pytest.raises(HfxError, match="level"):
        upper_limit(model, data, level=1.5)
    res = upper_limit(model, data, scan=[0.0, 1.0, 2.0, 3.0])
    d = res.to_dict()
    assert d["method"] == "scan" and len(d["cls_exp"]) == 5 and len(d["scan"]) == 4


def test_result_objects_are_frozen(canonical):
    model, data = canonical
    res = hypotest(model, data, 1.0)
    with pytest.raises(AttributeError):
        res.cls = 0.0  # type: ignore[misc]
    assert set(res.to_dict()) >= {"poi", "CLs_obs", "CLs_exp", "CLsb", "CLb", "test_stat"}


def test_interval_and_scan_parameter_lookup(canonical):
    model, data = canonical
    scan = profile_scan(model, data, "uncorr_bkguncrt[1]", npoints=5)
    assert scan.par == "uncorr_bkguncrt[1]" and scan.values.size == 5
    assert np.argmin(scan.delta_twice_nll) == 2  # the default grid is centred on the best fit
    assert profile_scan(model, data, 2, [0.9]).par == "uncorr_bkguncrt[1]"
    with pytest.raises(HfxError, match="components"):
        interval(model, data, "uncorr_bkguncrt")
    with pytest.raises(HfxError, match="unknown parameter"):
        interval(model, data, "nope")
    with pytest.raises(HfxError, match=r"did you mean .*'uncorr_bkguncrt\[0\]'"):
        interval(model, data, "uncorr_bkguncrt[O]")
    lo, hi = interval(model, data, "uncorr_bkguncrt[0]")
    assert lo < 1.0030508686478377 < hi
