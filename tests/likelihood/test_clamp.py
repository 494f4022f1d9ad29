"""Sample yields clamped at zero (ROOT's positive-definite histosys): values and derivatives."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from hfx.spec.workspace import Workspace
from tests.optimize.test_jacobian import _finite_difference_jacobian

UNCLAMPED = {
    "normsys": {"interpcode": "code4"},
    "histosys": {"interpcode": "code4p", "positive_definite": False},
}


def _workspace() -> Workspace:
    """Two bins; 'bkg' has a histosys that takes bin 1 below zero for α < −0.5 and a zero
    nominal in bin 0 whose code-4p interpolation dips below zero for small negative α."""
    spec = {
        "channels": [
            {
                "name": "ch",
                "samples": [
                    {
                        "name": "bkg",
                        "data": [0.0, 4.0],
                        "modifiers": [
                            {"name": "mu_b", "type": "normfactor", "data": None},
                            {
                                "name": "shape",
                                "type": "histosys",
                                "data": {"hi_data": [3.65, 6.0], "lo_data": [2.70, -4.0]},
                            },
                            {"name": "ns", "type": "normsys", "data": {"hi": 1.1, "lo": 0.9}},
                        ],
                    },
                    {
                        "name": "sig",
                        "data": [2.0, 1.0],
                        "modifiers": [{"name": "mu", "type": "normfactor", "data": None}],
                    },
                ],
            }
        ],
        "observations": [{"name": "ch", "data": [0.0, 3.0]}],
        "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": []}}],
        "version": "1.0.0",
    }
    return Workspace(spec, allow_negative=True)


def _points(model) -> np.ndarray:
    names = model.config.par_names
    pars = np.tile(model.config.suggested_init(), (4, 1))
    shape = names.index("shape")
    pars[:, shape] = [-0.04, -0.8, 0.5, -2.0]  # clamped in bin 0, bin 1, neither, bin 1
    pars[:, names.index("mu_b")] = [1.0, 1.3, 0.7, 2.0]
    pars[:, names.index("ns")] = [0.3, -0.2, 1.4, -1.5]
    return pars


def test_rates_are_the_unclamped_sample_rates_clipped_at_zero():
    ws = _workspace()
    model, plain = ws.model(), ws.model(modifier_settings=UNCLAMPED)
    for pars in _points(model):
        by_sample = np.asarray(plain.expected_by_sample(pars))
        assert (by_sample < 0).any() or pars[model.config.par_names.index("shape")] == 0.5
        np.testing.assert_allclose(
            model.expected_actualdata(pars), np.clip(by_sample, 0, None).sum(0), rtol=1e-13
        )


def test_gradient_jacobian_and_hessian_against_differences():
    ws = _workspace()
    model = ws.model()
    data = np.asarray(ws.data(model))
    for pars in _points(model):
        _, jac = model.expected_and_jacobian(pars)
        fd = _finite_difference_jacobian(model, pars)
        np.testing.assert_allclose(jac, fd, atol=1e-6, rtol=1e-6)
        _, grad = model.nll_and_grad(pars, data)
        h = 1e-6
        fd_grad = [
            (float(model.nll(pars + h * e, data)) - float(model.nll(pars - h * e, data))) / (2 * h)
            for e in np.eye(pars.size)
        ]
        np.testing.assert_allclose(grad, fd_grad, atol=1e-6, rtol=1e-6)


def test_exact_hessian_against_differences_of_the_gradient():
    from hfx.optimize.covariance import hessian
    from hfx.optimize.gauss_newton import exact_hessian

    ws = _workspace()
    model = ws.model()
    data = np.asarray(ws.data(model))
    free = np.ones(model.config.npars, dtype=bool)
    for pars in _points(model):
        exact = exact_hessian(model, data, pars, free)
        numeric = hessian(model, pars, data, free)
        np.testing.assert_allclose(exact, numeric, atol=1e-5, rtol=1e-5)


@pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="needs numba")
def test_kernels_clamp_as_the_model():
    from hfx.optimize import kernel

    ws = _workspace()
    model = ws.model()
    data = np.asarray(ws.data(model))
    pars = _points(model)
    np.testing.assert_allclose(
        kernel.twice_nll(model, pars, np.tile(data, (4, 1))),
        model.twice_nll(pars, data),
        rtol=1e-12,
    )
    impl = kernel.compiled()
    for row in pars:
        nu, jac = np.empty(2), np.empty((2, model.config.npars))
        impl.probe_expected_and_jacobian(model.packed_terms, row, nu, jac)
        ref_nu, ref_jac = model.expected_and_jacobian(row)
        np.testing.assert_allclose(nu, ref_nu, rtol=1e-13)
        np.testing.assert_allclose(jac, ref_jac, rtol=1e-12, atol=1e-12)


def test_all_zero_data_fit_converges_with_finite_cls():
    import hfx

    ws = _workspace()
    model = ws.model()
    data = np.asarray(ws.data(model)).copy()
    data[: model.config.nmaindata] = 0.0
    res = hfx.hypotest(model, data, 1.0)
    assert 0.0 < res.cls <= 1.0
    best = hfx.fit(model, data)
    assert np.all(np.asarray(model.expected_actualdata(best.bestfit)) >= 0.0)
