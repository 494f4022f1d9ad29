"""JAX and PyTorch backends give the NumPy values; autodiff agrees with the analytic gradient."""

from __future__ import annotations

import numpy as np
import pytest

from hfx.errors import BackendError
from hfx.likelihood.backends import get_backend
from tests.conftest import ATLAS_NAMES
from tests.likelihood.helpers import atlas_model

pytestmark = pytest.mark.skipif(not ATLAS_NAMES, reason="../shared/data not present")


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(BackendError, match="numpy, jax, torch"):
        get_backend("tensorflow")


@pytest.mark.parametrize("name", ATLAS_NAMES)
def test_jax_autodiff_matches_analytic_gradient(name):
    pytest.importorskip("jax")
    import jax

    model, data, ref = atlas_model(name)
    jmodel = model.to("jax")
    pars = model.config.pars_from_dict(ref["point"])
    pars[model.config.poi_index] = 0.0  # exercise the product-of-others path at mu = 0
    nll, grad = model.nll_and_grad(pars, data)
    # one compiled program per workspace keeps this fast (eager JAX compiles every op)
    value_and_grad = jax.jit(jax.value_and_grad(lambda p: jmodel.nll(p, data)))
    jnll, auto = value_and_grad(jmodel.backend.asarray(pars))
    np.testing.assert_allclose(float(jnll), float(nll), rtol=1e-10)
    np.testing.assert_allclose(np.asarray(auto), grad, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", ["2018-31_simplifiedA", "2018-14_Comb_bkgonly"])
def test_jax_backend_matches_numpy(name):
    pytest.importorskip("jax")
    model, data, ref = atlas_model(name)
    jmodel = model.to("jax")
    pars = model.config.pars_from_dict(ref["point"])
    pars[model.config.poi_index] = 0.0
    nll, grad = model.nll_and_grad(pars, data)
    jnll, jgrad = jmodel.nll_and_grad(pars, data)
    np.testing.assert_allclose(float(jnll), float(nll), rtol=1e-10)
    np.testing.assert_allclose(np.asarray(jgrad), grad, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(
        np.asarray(jmodel.expected_data(pars)), model.expected_data(pars), rtol=1e-10
    )


@pytest.mark.parametrize("name", ATLAS_NAMES)
def test_torch_matches_numpy_and_autograd_matches_gradient(name):
    torch = pytest.importorskip("torch")

    model, data, ref = atlas_model(name)
    tmodel = model.to("torch")
    pars = model.config.pars_from_dict(ref["point"])
    pars[model.config.poi_index] = 0.0
    nll, grad = model.nll_and_grad(pars, data)
    tnll, tgrad = tmodel.nll_and_grad(pars, data)
    np.testing.assert_allclose(float(tnll), float(nll), rtol=1e-10)
    np.testing.assert_allclose(tgrad.numpy(), grad, rtol=1e-10, atol=1e-10)
    tp = torch.tensor(pars, dtype=torch.float64, requires_grad=True)
    tmodel.nll(tp, torch.tensor(data)).backward()
    np.testing.assert_allclose(tp.grad.numpy(), grad, rtol=1e-9, atol=1e-9)
    batch = np.stack([pars, pars * 0.9])
    np.testing.assert_allclose(
        tmodel.logpdf(batch, data).numpy(), model.logpdf(batch, data), rtol=1e-10
    )
