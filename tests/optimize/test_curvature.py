"""Exact second derivatives for the Newton fits, against finite differences of the gradient."""

from __future__ import annotations

import numpy as np
import pytest

from hfx import simplemodels
from hfx.likelihood.curvature import ResidualCurvature
from hfx.likelihood.interpolation import INTERP_CODES, interpolate, prepare, second_derivative
from hfx.spec.workspace import Workspace
from tests.conftest import needs_shared
from tests.optimize.test_jacobian import _random_points


@pytest.mark.parametrize("code", INTERP_CODES)
def test_second_derivative_matches_differences_of_the_first(code):
    nom = np.array([10.0, 1.0, 5.0, 2.0])
    hi = np.array([14.0, 1.3, 4.0, 2.5])
    lo = np.array([7.0, 0.8, 4.5, 1.1])
    consts = prepare(code, nom, hi, lo)
    c = {"nominal": consts.nominal, "up": consts.up, "down": consts.down, **consts.extra}
    # away from the kinks at |α| = 1 and 0, where one-sided values differ
    for a in [-2.3, -0.7, -0.2, 0.15, 0.6, 0.95, 1.4, 3.0]:
        alpha = np.full(4, a)
        h = 1e-6
        up = interpolate(np, alpha + h, c, code)[1]
        down = interpolate(np, alpha - h, c, code)[1]
        numeric = (up - down) / (2 * h)
        np.testing.assert_allclose(second_derivative(alpha, c, code), numeric, atol=2e-6, rtol=1e-6)


def _main_gradient(model, observed, pars):
    nu, jac = model.expected_and_jacobian(pars[None])
    return (1.0 - observed / nu[0]) @ jac[0]


def _check_full_hessian(model, pars, curved: bool = True):
    """Gauss-Newton + residual curvature equals the Hessian of Σ(ν − n log ν)."""
    nb = model.config.nmaindata
    nu = np.asarray(model.expected_actualdata(pars))
    observed = np.round(nu * 1.3 + 2.0)  # residuals far from zero
    h = 1e-6
    numeric = np.stack(
        [
            (
                _main_gradient(model, observed, pars + h * e)
                - _main_gradient(model, observed, pars - h * e)
            )
            / (2 * h)
            for e in np.eye(model.config.npars)
        ]
    )
    _, jac = model.expected_and_jacobian(pars[None])
    jac = jac[0]
    gauss_newton = jac.T @ (jac * (observed / nu**2)[:, None])
    residual = (1.0 - observed / nu)[None, :nb]
    exact = gauss_newton + ResidualCurvature(model)(pars[None], residual)[0]
    scale = np.max(np.abs(numeric))
    np.testing.assert_allclose(exact, numeric, atol=1e-6 * scale)
    if curved:  # the check can fail: Gauss-Newton alone misses the modifiers' curvature
        assert np.max(np.abs(gauss_newton - numeric)) > 1e-4 * scale


@pytest.mark.parametrize(
    ("model", "curved"),
    [
        (simplemodels.correlated_background([30, 95], [100, 150], [102, 190], [98, 100]), True),
        # μ and γ scale different samples: ν is linear in each, Gauss-Newton is exact
        (simplemodels.uncorrelated_background([12, 11], [50, 52], [3, 7]), False),
    ],
    ids=["histosys", "shapesys"],
)
def test_simple_models(model, curved):
    for pars in _random_points(model, 3, seed=4):  # the first point has μ = 0
        _check_full_hessian(model, pars, curved)


# normsys/histosys interpolation code pairs the curvature is checked with
INTERPOLATION_CODES = [
    {"normsys": "code4", "histosys": "code4p"},
    {"normsys": "code1", "histosys": "code0"},
    {"normsys": "code4", "histosys": "code2"},
]


def _normsys_histosys_model(codes: dict[str, str]):
    """Two samples sharing a parameter as normsys and histosys, with a second normsys."""
    spec = {
        "channels": [
            {
                "name": "sr",
                "samples": [
                    {
                        "name": "sig",
                        "data": [5.0, 8.0, 3.0],
                        "modifiers": [
                            {"name": "mu", "type": "normfactor", "data": None},
                            {"name": "lumi", "type": "lumi", "data": None},
                            {"name": "a", "type": "normsys", "data": {"hi": 1.2, "lo": 0.85}},
                        ],
                    },
                    {
                        "name": "bkg",
                        "data": [50.0, 40.0, 30.0],
                        "modifiers": [
                            {"name": "a", "type": "normsys", "data": {"hi": 1.1, "lo": 0.95}},
                            {
                                "name": "a",
                                "type": "histosys",
                                "data": {"hi_data": [55, 41, 33], "lo_data": [46, 38, 28]},
                            },
                            {"name": "b", "type": "normsys", "data": {"hi": 0.9, "lo": 1.15}},
                            {"name": "lumi", "type": "lumi", "data": None},
                        ],
                    },
                ],
            }
        ],
        "observations": [{"name": "sr", "data": [60, 50, 35]}],
        "measurements": [
            {
                "name": "m",
                "config": {
                    "poi": "mu",
                    "parameters": [
                        {"name": "lumi", "auxdata": [1.0], "sigmas": [0.05], "bounds": [[0.5, 1.5]]}
                    ],
                },
            }
        ],
        "version": "1.0.0",
    }
    return Workspace(spec).model(
        modifier_settings={
            "normsys": {"interpcode": codes["normsys"]},
            "histosys": {"interpcode": codes["histosys"]},
        }
    )


@pytest.mark.parametrize("codes", INTERPOLATION_CODES)
def test_shared_parameter_and_zero_factor(codes):
    model = _normsys_histosys_model(codes)
    for pars in _random_points(model, 3, seed=5):
        _check_full_hessian(model, pars)


@needs_shared()
@pytest.mark.parametrize("name", ["2018-31_BkgOnlyA", "2018-04_SRcombined"])
def test_atlas(name):
    from tests.likelihood.helpers import atlas_model

    model, _, _ = atlas_model(name)
    pars = _random_points(model, 2, seed=6)
    for row in pars:
        _check_full_hessian(model, row)


@pytest.mark.parametrize(
    "model",
    [
        simplemodels.correlated_background([30, 95], [100, 150], [102, 190], [98, 100]),
        simplemodels.uncorrelated_background([12, 11], [50, 52], [3, 7]),
    ],
    ids=["histosys", "shapesys"],
)
def test_exact_hessian_with_constraints_matches_differences(model):
    from hfx.optimize.covariance import hessian
    from hfx.optimize.gauss_newton import exact_hessian

    free = ~model.config.suggested_fixed()
    for pars in _random_points(model, 2, seed=8):
        pars = np.clip(pars, 0.05, None)  # Poisson constraints need γ > 0
        data = np.concatenate(
            [np.round(np.asarray(model.expected_actualdata(pars)) * 1.2), model.config.auxdata]
        )
        numeric = hessian(model, pars, data, free)
        exact = exact_hessian(model, data, pars, free)
        np.testing.assert_allclose(exact, numeric, atol=1e-6 * np.max(np.abs(numeric)))


@pytest.mark.parametrize("codes", INTERPOLATION_CODES)
def test_the_jax_engines_residual_curvature_is_autodiffs(codes):
    """The same code on a JAX model (the compiled fits' exact Hessian) against jax.hessian of
    the Poisson terms minus Gauss-Newton, at points with μ = 0 (a zero factor) and not."""
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    model = _normsys_histosys_model(codes).to("jax")
    nb = model.config.nmaindata
    pars = jnp.asarray(_random_points(model, 3, seed=7))
    observed = jnp.round(model.expected_actualdata(pars[0]) * 1.3 + 2.0)

    def poisson_terms(p):
        nu = model.expected_actualdata(p)
        return jnp.sum(nu - observed * jnp.log(nu))

    nu, jac = model.expected_and_jacobian(pars)
    gauss_newton = jnp.einsum("rbp,rb,rbq->rpq", jac, observed / nu**2, jac)
    residual = (1.0 - observed / nu)[:, :nb]
    analytic = jax.jit(ResidualCurvature(model).__call__)(pars, residual)
    autodiff = jax.vmap(jax.hessian(poisson_terms))(pars) - gauss_newton
    assert float(pars[0, model.config.poi_index]) == 0.0
    scale = float(jnp.max(jnp.abs(autodiff)))
    assert scale > 1e-3  # the check can fail: the curvature is not zero
    np.testing.assert_allclose(np.asarray(analytic), np.asarray(autodiff), atol=1e-10 * scale)
