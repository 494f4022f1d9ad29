"""Where hfx's numbers differ from the values pinned in pyhf 0.7.6's own tests.

pyhf pins values from its default SLSQP fit, converged to ~1e-6 on the objective.  Run by
pyhf itself with its fits converged further (tolerance 1e-13; tools/pyhf_tests), the same
quantities agree with what hfx gives by default, and differ from the pinned values by
2e-6 to 3e-4.  So the test of record for these cases is the converged minimum, checked
here; tools/pyhf_tests/RESULTS.md lists them.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import hfx.compat.pyhf as pyhf

REFERENCE = Path(__file__).resolve().parents[1] / "reference" / "pyhf"
VALIDATION = json.loads((REFERENCE / "validation_converged.json").read_text())["cases"]
CONVERGED = json.loads((REFERENCE / "converged_values.json").read_text())


def hypotest_args():
    model = pyhf.simplemodels.uncorrelated_background(
        signal=[12.0, 11.0], bkg=[50.0, 52.0], bkg_uncertainty=[3.0, 7.0]
    )
    return 1.0, [51, 48, *model.config.auxdata], model


@pytest.mark.parametrize("name", sorted(VALIDATION))
def test_validation_cases_match_pyhfs_converged_hypotest(name):
    case = VALIDATION[name]
    model = pyhf.Model(case["spec"], modifier_settings={"normsys": {"interpcode": "code1"}})
    np.random.seed(0)
    obs, exp = pyhf.infer.hypotest(
        case["mu"],
        case["data"],
        model,
        model.config.suggested_init(),
        model.config.suggested_bounds(),
        return_expected_set=True,
        test_stat=case["test_stat"],
    )
    assert float(obs) == pytest.approx(case["CLs_obs"], rel=1e-6)
    assert [float(e) for e in exp] == pytest.approx(case["CLs_exp"], rel=1e-6)


def test_upper_limit_matches_pyhfs_converged_value():
    _, data, model = hypotest_args()
    obs, exp = pyhf.infer.intervals.upper_limits.upper_limit(
        data, model, scan=np.linspace(0, 5, 11)
    )
    ref = CONVERGED["upper_limit_scan"]
    assert float(obs) == pytest.approx(ref["obs"], rel=1e-7)
    assert [float(e) for e in exp] == pytest.approx(ref["exp"], rel=1e-7)


def test_pyhf_style_toys_and_their_statistics_match_pyhf():
    mu, data, model = hypotest_args()
    np.random.seed(0)
    calc = pyhf.infer.calculators.ToyCalculator(data, model, ntoys=10, track_progress=False)
    sb, b = calc.distributions(mu)
    ref = CONVERGED["toys_qtilde"]
    assert sb.samples.tolist() == pytest.approx(ref["sb"], rel=1e-7, abs=1e-9)
    assert b.samples.tolist() == pytest.approx(ref["b"], rel=1e-7, abs=1e-9)
    assert float(calc.teststatistic(mu)) == pytest.approx(ref["observed"], rel=1e-7)


def test_empirical_distribution_of_sampled_toys_matches_pyhf():
    mu, _, model = hypotest_args()
    np.random.seed(0)
    init, bounds = model.config.suggested_init(), model.config.suggested_bounds()
    fixed = model.config.suggested_fixed()
    samples = model.make_pdf(pyhf.tensorlib.astensor(init)).sample((10,))
    values = [
        float(pyhf.infer.test_statistics.qmu_tilde(mu, s, model, init, bounds, fixed))
        for s in samples
    ]
    assert values == pytest.approx(CONVERGED["empirical_qmu_tilde"], rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("test_stat", ["qtilde", "q"])
def test_asimov_fixed_poi_fit_is_the_closed_form(test_stat):
    """s = b = 1 with a shapesys of 1 (τ = 1), data [2, 1]: the μ = 0 fit gives γ = 3/2, so
    the Asimov data are (3/2, 3/2); the μ = 1 fit to them solves 2γ² − γ − 3/2 = 0,
    γ = (1 + √13)/4 = 1.1513878 (pyhf's test pins 1.1513553)."""
    model = pyhf.simplemodels.uncorrelated_background([1], [1], [1])
    calc = pyhf.infer.calculators.AsymptoticCalculator([2, 1], model, test_stat=test_stat)
    calc.teststatistic(1)
    pars = calc.fitted_pars
    assert pars.asimov_pars.tolist() == pytest.approx([0.0, 1.5], rel=1e-7, abs=1e-9)
    gamma = (1 + math.sqrt(13)) / 4
    assert pars.fixed_poi_fit_to_asimov.tolist() == pytest.approx([1.0, gamma], rel=1e-7)
