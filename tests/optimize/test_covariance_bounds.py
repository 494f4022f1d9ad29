"""Uncertainties when a parameter on its bound makes the Hessian indefinite."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import hfx
from hfx.optimize.covariance import covariance_on_bounds
from tests.conftest import ATLAS_WS

CABINETRY = Path(__file__).resolve().parents[1] / "reference" / "cabinetry"


def test_closed_form_block():
    # parameter 0 on its bound with little curvature, coupled to parameter 1 (unit constraint)
    hess = np.array([[1e-4, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 2.0]])
    assert np.linalg.eigvalsh(hess)[0] < 0
    cov, corrected, by_bounds = covariance_on_bounds(hess, np.array([True, False, False]))
    assert corrected and by_bounds
    np.testing.assert_allclose(cov[1:, 1:], np.linalg.inv(hess[1:, 1:]), rtol=1e-12)
    assert cov[0, 0] == pytest.approx(1e4) and not cov[0, 1:].any()
    # a positive definite Hessian is inverted as it is, bound or not
    good = np.array([[2.0, 0.5], [0.5, 1.0]])
    cov, corrected, by_bounds = covariance_on_bounds(good, np.array([True, False]))
    np.testing.assert_allclose(cov, np.linalg.inv(good), rtol=1e-12)
    assert not corrected and not by_bounds


def test_poi_on_its_bound_keeps_the_other_uncertainties():
    # 2018-14_Comb_bkgonly: the data are ~0 in every bin, μ̂ = 0 sits on its bound and the
    # (μ, signal_theory) block of the Hessian is indefinite there
    name = "2018-14_Comb_bkgonly"
    if not ATLAS_WS.is_dir():
        pytest.skip("../shared/data not present")
    ws = hfx.load(ATLAS_WS / f"{name}.json")
    patch = json.loads((ATLAS_WS / f"{name}.signal.json").read_text())
    model = ws.model(patches=[patch])
    result = hfx.fit(model, np.asarray(ws.data(model)))
    assert "mu_SIG on a bound" in result.message
    ref = json.loads((CABINETRY / f"{name}.json").read_text())["fit"]
    for label, sigma in zip(ref["labels"], ref["uncertainty"], strict=True):
        if label != "mu_SIG":  # (Minuit's σ_μ there comes from its internal sin() transform)
            i = model.config.par_names.index(label)
            assert result.uncertainties[i] == pytest.approx(sigma, rel=0.02), label
    # μ: the likelihood is linear in it there (no events), so its curvature is tiny
    assert result.uncertainties[model.config.poi_index] > 100.0
