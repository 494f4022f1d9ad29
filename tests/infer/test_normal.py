"""Φ, Φ⁻¹ and the χ²₁ quantile of hfx.infer.normal against scipy and known values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import ndtr, ndtri
from scipy.stats import chi2

from hfx.infer.normal import chi2_1_ppf, normal_cdf, normal_isf, normal_ppf, normal_sf


def test_ppf_matches_scipy_from_deep_tail_to_centre():
    p = np.concatenate(
        [np.logspace(-300, -1, 400), np.linspace(0.01, 0.99, 999), 1 - np.logspace(-16, -1, 200)]
    )
    np.testing.assert_allclose(normal_ppf(p), ndtri(p), rtol=2e-15, atol=0)


def test_sf_matches_scipy_in_both_tails():
    x = np.linspace(-37.0, 37.0, 4001)
    np.testing.assert_allclose(normal_sf(x), ndtr(-x), rtol=1e-13, atol=0)
    np.testing.assert_allclose(normal_cdf(x), ndtr(x), rtol=1e-13, atol=0)


def test_known_values_and_edges():
    assert normal_sf(0.0) == 0.5
    assert normal_ppf(0.5) == 0.0
    assert normal_isf(0.05) == pytest.approx(1.6448536269514722, rel=1e-15)
    assert normal_ppf(0.0) == -math.inf and normal_ppf(1.0) == math.inf
    assert math.isnan(normal_ppf(1.5)) and math.isnan(normal_ppf(-0.1))
    assert isinstance(normal_sf(1.0), float)
    assert normal_sf(np.array([[0.0, 1.0]])).shape == (1, 2)


@pytest.mark.parametrize("cl", [0.6827, 0.9, 0.95, 0.99])
def test_chi2_one_dof_quantile(cl):
    assert chi2_1_ppf(cl) == pytest.approx(chi2.ppf(cl, 1), rel=1e-14)
