"""Posterior sampling (hfx.infer.bayes) against closed forms and numerical integration.

Tolerances are Monte Carlo errors from each run's own effective sample size (4 standard
errors), so a sampler that is biased by more than its noise fails.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.stats as st

from hfx.errors import ModelError
from hfx.simplemodels import model_workspace

pytest.importorskip("numpyro")
from hfx.infer.bayes import sample_posterior


def signal_only(rate: float = 10.0):
    spec = {
        "channels": [
            {
                "name": "c",
                "samples": [
                    {
                        "name": "s",
                        "data": [rate],
                        "modifiers": [{"name": "mu", "type": "normfactor", "data": None}],
                    }
                ],
            }
        ]
    }
    return model_workspace(spec, poi_name="mu").model()


def check_moments(draws: np.ndarray, ess: float, mean: float, std: float, q95: float, pdf95: float):
    assert abs(draws.mean() - mean) < 4 * std / math.sqrt(ess)
    assert abs(draws.std(ddof=1) - std) < 4 * std / math.sqrt(2 * ess) + 0.02 * std
    quantile_error = math.sqrt(0.95 * 0.05 / ess) / pdf95
    assert abs(np.percentile(draws, 95) - q95) < 4 * quantile_error


def test_poisson_with_a_flat_prior_gives_the_gamma_posterior():
    """n = 7 events from 10 μ with a flat prior on μ in [0, 10]: Gamma(8, rate 10)."""
    result = sample_posterior(signal_only(), [7.0], draws=2000, warmup=500, chains=2, seed=1)
    exact = st.gamma(8, scale=0.1)
    i = result.par_names.index("mu")
    assert result.rhat[i] < 1.01 and result.ess[i] > 500 and result.divergences == 0
    check_moments(
        result.draws("mu"),
        result.ess[i],
        exact.mean(),
        exact.std(),
        exact.ppf(0.95),
        exact.pdf(exact.ppf(0.95)),
    )
    assert result.upper_limit() == pytest.approx(np.percentile(result.draws("mu"), 95))
    summary = result.to_dict()
    assert summary["poi"] == "mu" and summary["draws"] == 2000 and summary["chains"] == 2


def test_a_chosen_normal_prior_replaces_the_flat_one():
    """Poisson(7 | 10 μ) × N(μ | 0.5, 0.1), integrated on a fine grid."""
    result = sample_posterior(
        signal_only(), [7.0], draws=2000, warmup=500, seed=2, priors={"mu": ("normal", 0.5, 0.1)}
    )
    grid = np.linspace(1e-6, 2.0, 200001)
    density = st.poisson.pmf(7, 10 * grid) * st.norm.pdf(grid, 0.5, 0.1)
    density /= np.trapezoid(density, grid)
    mean = np.trapezoid(grid * density, grid)
    std = math.sqrt(np.trapezoid((grid - mean) ** 2 * density, grid))
    cdf = np.cumsum(density) * (grid[1] - grid[0])
    q95 = grid[np.searchsorted(cdf, 0.95)]
    i = result.par_names.index("mu")
    check_moments(result.draws("mu"), result.ess[i], mean, std, q95, np.interp(q95, grid, density))


def test_a_gaussian_constrained_model_matches_numerical_integration():
    """Signal 10 μ on background 50 with a 20 % normsys θ ~ N(0, 1), n = 62: the marginal
    posterior of μ from the model's own likelihood integrated over (μ, θ) on a grid."""
    spec = {
        "channels": [
            {
                "name": "c",
                "samples": [
                    {
                        "name": "s",
                        "data": [10.0],
                        "modifiers": [{"name": "mu", "type": "normfactor", "data": None}],
                    },
                    {
                        "name": "b",
                        "data": [50.0],
                        "modifiers": [
                            {"name": "theta", "type": "normsys", "data": {"hi": 1.2, "lo": 0.8}}
                        ],
                    },
                ],
            }
        ]
    }
    model = model_workspace(spec, poi_name="mu").model()
    data = [62.0, *model.config.auxdata]
    result = sample_posterior(model, data, draws=3000, warmup=800, chains=2, seed=3)
    bounds = np.array(model.config.suggested_bounds())
    names = model.config.par_names
    mu_axis = np.linspace(bounds[names.index("mu"), 0], 6.0, 601)
    theta_axis = np.linspace(-5.0, 5.0, 801)
    mu_grid, theta_grid = np.meshgrid(mu_axis, theta_axis, indexing="ij")
    pars = np.zeros((mu_grid.size, 2))
    pars[:, names.index("mu")] = mu_grid.ravel()
    pars[:, names.index("theta")] = theta_grid.ravel()
    logl = np.asarray(model.logpdf(pars, np.tile(data, (pars.shape[0], 1)))).reshape(mu_grid.shape)
    joint = np.exp(logl - logl.max())
    marginal = np.trapezoid(joint, theta_axis, axis=1)
    marginal /= np.trapezoid(marginal, mu_axis)
    mean = np.trapezoid(mu_axis * marginal, mu_axis)
    std = math.sqrt(np.trapezoid((mu_axis - mean) ** 2 * marginal, mu_axis))
    cdf = np.concatenate(
        [[0.0], np.cumsum(0.5 * (marginal[1:] + marginal[:-1]) * np.diff(mu_axis))]
    )
    q95 = float(np.interp(0.95, cdf, mu_axis))
    i = names.index("mu")
    assert result.rhat[i] < 1.01
    check_moments(
        result.draws("mu"), result.ess[i], mean, std, q95, np.interp(q95, mu_axis, marginal)
    )
    # the normsys parameter's marginal stays close to its N(0, 1) prior shifted by the data
    assert abs(result.mean("theta")) < 1.0


def test_bad_priors_are_one_clear_error():
    model = signal_only()
    with pytest.raises(ModelError, match="no scalar parameter 'nope'"):
        sample_posterior(model, [7.0], draws=10, warmup=10, priors={"nope": ("flat",)})
    with pytest.raises(ModelError, match="first item is one of"):
        sample_posterior(model, [7.0], draws=10, warmup=10, priors={"mu": ("cauchy", 0, 1)})
    with pytest.raises(ModelError, match="normal takes 2 numbers"):
        sample_posterior(model, [7.0], draws=10, warmup=10, priors={"mu": ("normal", 1.0)})
