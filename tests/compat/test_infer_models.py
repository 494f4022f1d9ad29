"""hfx.compat.pyhf.infer on models beyond the workspace models: hand-written models with only
``logpdf``/``expected_data`` (pyhf's "bring your own model") and pyhf's ``fixed_params``
freeing a parameter the measurement fixes.  References: pyhf's
test_inferapi_pyhf_independence and closed-form one-dimensional minimisations.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize_scalar
from scipy.special import gammaln, xlogy

from hfx.compat import pyhf

# --- a model that is not an hfx model -----------------------------------------------------------


class _OnOffConfig:
    poi_index = 0
    npars = 2

    def suggested_init(self):
        return np.asarray([1.0, 1.0])

    def suggested_bounds(self):
        return np.asarray([[0.0, 10.0], [0.0, 10.0]])

    def suggested_fixed(self):
        return [False, False]


class OnOffModel:
    """pyhf's "bring your own model" example: only config, logpdf and expected_data."""

    def __init__(self, s: float, b: float, db: float):
        self.s, self.b, self.tau = s, b, (b / db) ** 2
        self.config = _OnOffConfig()

    def expected_data(self, pars):
        mu, gamma = pars
        return np.asarray([self.s * mu + self.b * gamma, self.tau * gamma])

    def logpdf(self, pars, data):
        mu, gamma = pars
        nu, lam = self.s * mu + self.b * gamma, self.tau * gamma
        n, m = data
        poisson = xlogy(n, nu) - nu - gammaln(n + 1) + xlogy(m, lam) - lam - gammaln(m + 1)
        return np.asarray([poisson])


def test_hypotest_on_a_model_with_only_logpdf():
    """pyhf's test_inferapi_pyhf_independence: CLs = 0.7267836451638846."""
    model = OnOffModel(5.0, 50.0, 7.0)
    data = model.expected_data(model.config.suggested_init())
    assert pyhf.infer.hypotest(1.0, data, model) == pytest.approx(0.7267836451638846, rel=1e-5)
    pars = pyhf.infer.mle.fit(data, model)
    np.testing.assert_allclose(pars, [1.0, 1.0], atol=1e-5)  # Asimov data: the truth


def test_fixed_params_replace_the_measurements_fixed_flags():
    """pyhf's fixed_params can free a parameter the measurement fixes (hfx's fixed= only adds).

    Signal 5·μ on background 50·κ(α) (normsys 0.9/1.1, fixed by the measurement), 100 observed;
    with μ held at 1 the free α settles above 1, where code 4 is exactly κ = 1.1^α.
    """
    spec = {
        "channels": [
            {
                "name": "c",
                "samples": [
                    {
                        "name": "s",
                        "data": [5.0],
                        "modifiers": [{"name": "mu", "type": "normfactor", "data": None}],
                    },
                    {
                        "name": "b",
                        "data": [50.0],
                        "modifiers": [
                            {"name": "alpha", "type": "normsys", "data": {"hi": 1.1, "lo": 0.9}}
                        ],
                    },
                ],
            }
        ],
        "observations": [{"name": "c", "data": [100.0]}],
        "measurements": [
            {
                "name": "m",
                "config": {"poi": "mu", "parameters": [{"name": "alpha", "fixed": True}]},
            }
        ],
        "version": "1.0.0",
    }
    ws = pyhf.Workspace(spec)
    model = ws.model()
    data = ws.data(model)

    def twice_nll(alpha):
        nu = 5.0 + 50.0 * 1.1**alpha
        return -2 * (
            100 * np.log(nu) - nu - gammaln(101) - 0.5 * alpha**2 - 0.5 * np.log(2 * np.pi)
        )

    exact = minimize_scalar(
        twice_nll, bounds=(1.0, 5.0), method="bounded", options={"xatol": 1e-12}
    )
    pars, nll = pyhf.infer.mle.fixed_poi_fit(
        1.0, data, model, fixed_params=[False, False], return_fitted_val=True
    )
    assert pars[1] == pytest.approx(exact.x, abs=1e-6)
    assert nll == pytest.approx(exact.fun, abs=1e-9)
    pars, nll = pyhf.infer.mle.fixed_poi_fit(1.0, data, model, return_fitted_val=True)
    assert pars[1] == 0.0 and nll == pytest.approx(twice_nll(0.0), abs=1e-9)
