"""hypotest on a model that is not an hfx Model (validation-tables "non-pyhf model").

An on/off counting model written by hand: main ν = s·μ + b·γ, auxiliary Poisson(τ·γ) with
τ = (b/δb)², s = 5, b = 50, δb = 7; the data are the expected data at the suggested init
(μ = γ = 1).  pyhf's test_inferapi_pyhf_independence gives CLs = 0.7267836451638846.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import gammaln, xlogy

from hfx.infer import hypotest


class _Config:
    npars = 2
    poi_index = 0
    poi_name = "mu"
    par_names = ("mu", "gamma")

    def suggested_init(self):
        return np.array([1.0, 1.0])

    def suggested_bounds(self):
        return np.array([[0.0, 10.0], [1e-10, 10.0]])

    def suggested_fixed(self):
        return np.array([False, False])


class OnOffModel:
    def __init__(self, s: float, b: float, db: float):
        self.s, self.b = s, b
        self.tau = (b / db) ** 2
        self.config = _Config()

    def expected_data(self, pars, include_auxdata=True):
        pars = np.asarray(pars, dtype=float)
        main = np.array([self.s * pars[0] + self.b * pars[1]])
        return np.concatenate([main, [self.tau * pars[1]]]) if include_auxdata else main

    def logpdf(self, pars, data):
        pars, data = np.asarray(pars, dtype=float), np.asarray(data, dtype=float)
        nu = self.s * pars[..., 0] + self.b * pars[..., 1]
        lam = self.tau * pars[..., 1]
        n, m = data[..., 0], data[..., 1]
        return xlogy(n, nu) - nu - gammaln(n + 1) + xlogy(m, lam) - lam - gammaln(m + 1)

    def nll(self, pars, data):
        return -self.logpdf(pars, data)

    def nll_and_grad(self, pars, data):
        pars, data = np.asarray(pars, dtype=float), np.asarray(data, dtype=float)
        nu = self.s * pars[..., 0] + self.b * pars[..., 1]
        lam = self.tau * pars[..., 1]
        w = 1.0 - data[..., 0] / nu
        g_mu = w * self.s
        g_gamma = w * self.b + self.tau - data[..., 1] / pars[..., 1]
        return -self.logpdf(pars, data), np.stack([g_mu, g_gamma], axis=-1) + 0.0 * lam[..., None]


def test_hypotest_on_a_hand_written_model():
    model = OnOffModel(5.0, 50.0, 7.0)
    data = model.expected_data(model.config.suggested_init())
    res = hypotest(model, data, 1.0)
    assert res.cls == pytest.approx(0.7267836451638846, rel=1e-5)
