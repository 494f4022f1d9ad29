"""Model.expected_and_jacobian against central finite differences of expected_actualdata."""

from __future__ import annotations

import numpy as np
import pytest

from hfx import simplemodels
from tests.conftest import needs_shared


def _finite_difference_jacobian(model, pars: np.ndarray, h: float = 1e-6) -> np.ndarray:
    cols = []
    for e in np.eye(model.config.npars):
        up = np.asarray(model.expected_actualdata(pars + h * e))
        down = np.asarray(model.expected_actualdata(pars - h * e))
        cols.append((up - down) / (2 * h))
    return np.stack(cols, axis=-1)


def _random_points(model, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cfg = model.config
    bounds = cfg.suggested_bounds()
    pars = cfg.suggested_init() + 0.6 * rng.normal(size=(n, cfg.npars))
    # keep clear of the bounds so the central differences stay inside
    pars = np.clip(pars, bounds[:, 0] + 1e-3, bounds[:, 1] - 1e-3)
    if cfg.poi_index is not None:
        pars[0, cfg.poi_index] = 0.0  # a zero factor: the product of the others matters
    return pars


def _check(model, pars):
    rates, jac = model.expected_and_jacobian(pars)
    rates, jac = np.asarray(rates), np.asarray(jac)
    assert jac.shape == (*pars.shape[:-1], model.config.nmaindata, model.config.npars)
    np.testing.assert_allclose(rates, np.asarray(model.expected_actualdata(pars)), rtol=1e-12)
    fd = _finite_difference_jacobian(model, pars)
    scale = np.max(np.abs(fd)) + 1.0
    np.testing.assert_allclose(jac, fd, atol=1e-6 * scale, rtol=1e-6)


@pytest.mark.parametrize(
    "model",
    [
        simplemodels.uncorrelated_background([12, 11], [50, 52], [3, 7]),
        simplemodels.correlated_background([30, 95], [100, 150], [102, 190], [98, 100]),
    ],
    ids=["shapesys", "histosys"],
)
def test_simple_models(model):
    pars = _random_points(model, 4, seed=1)
    _check(model, pars)
    _check(model, pars[1])  # unbatched


@needs_shared()
@pytest.mark.parametrize("name", ["2018-31_BkgOnlyA", "2018-04_SRcombined"])
def test_atlas(name):
    from tests.likelihood.helpers import atlas_model

    model, _, _ = atlas_model(name)
    _check(model, _random_points(model, 3, seed=2))


def test_jax_backend_matches_finite_differences():
    pytest.importorskip("jax")
    model = simplemodels.correlated_background(
        [30, 95], [100, 150], [102, 190], [98, 100], backend="jax"
    )
    _check(model, _random_points(model, 2, seed=3))
