"""The compiled small-model kernels against finite differences, the model and scalar fits."""

from __future__ import annotations

import numpy as np
import pytest

from hfx import simplemodels
from hfx.errors import FitError
from hfx.optimize import fit, fit_batch, fixed_poi_fit, kernel, make_plan
from tests.conftest import needs_shared
from tests.optimize.test_batched import sample_toys
from tests.optimize.test_curvature import _normsys_histosys_model
from tests.optimize.test_jacobian import _finite_difference_jacobian, _random_points

pytest.importorskip("numba")

CODES = [
    {"normsys": "code4", "histosys": "code4p"},
    {"normsys": "code1", "histosys": "code0"},
    {"normsys": "code4", "histosys": "code2"},
    {"normsys": "code1", "histosys": "code4p"},
    {"normsys": "code0", "histosys": "code1"},
    {"normsys": "code2", "histosys": "code4"},
]


@pytest.fixture(scope="module")
def impl():
    return kernel.compiled()


def _models():
    yield "shapesys", simplemodels.uncorrelated_background([12, 11], [50, 52], [3, 7])
    yield (
        "histosys",
        simplemodels.correlated_background([30, 95], [100, 150], [102, 190], [98, 100]),
    )
    for codes in CODES:
        yield f"{codes['normsys']}-{codes['histosys']}", _normsys_histosys_model(codes)


MODELS = list(_models())


@pytest.mark.parametrize(("name", "model"), MODELS, ids=[m[0] for m in MODELS])
def test_rates_and_jacobian(impl, name, model):
    k = model.packed_terms
    nb, npars = model.config.nmaindata, model.config.npars
    points = _random_points(model, 4, seed=11)
    points[1, 1:] = np.where(np.arange(npars - 1) % 2, 1.7, -1.4)  # outside |α| = 1
    for pars in points:
        nu, jac = np.empty(nb), np.empty((nb, npars))
        impl.probe_expected_and_jacobian(k, pars, nu, jac)
        np.testing.assert_allclose(nu, np.asarray(model.expected_actualdata(pars)), rtol=1e-12)
        fd = _finite_difference_jacobian(model, pars)
        np.testing.assert_allclose(jac, fd, atol=1e-6 * (np.max(np.abs(fd)) + 1.0), rtol=1e-6)


@pytest.mark.parametrize(("name", "model"), MODELS, ids=[m[0] for m in MODELS])
def test_objective_gradient_and_hessian(impl, name, model):
    """f differs from −log L by a constant; g is its gradient; h is JᵀWJ + constraints."""
    k = model.packed_terms
    nb, npars = model.config.nmaindata, model.config.npars
    free = ~model.config.suggested_fixed()
    idx = np.flatnonzero(free)
    pos = np.full(npars, -1)
    pos[idx] = np.arange(idx.size)
    base = np.clip(_random_points(model, 1, seed=12)[0], 0.3, None)
    data = np.concatenate(
        [np.round(np.asarray(model.expected_actualdata(base)) * 1.2) + 1, model.config.auxdata]
    )
    data[nb] += 0.3  # an auxiliary value off its nominal

    def objective(pars):
        args = (np.empty(nb), np.empty((nb, npars)), np.empty(nb), np.empty(idx.size))
        return impl.probe_evaluate(k, pars, data, idx, pos, *args, np.empty((idx.size, idx.size)))

    for pars in (base, base * 1.05 + 0.02):
        nu, jac = np.empty(nb), np.empty((nb, npars))
        res, g, h = np.empty(nb), np.empty(idx.size), np.empty((idx.size, idx.size))
        f = impl.probe_evaluate(k, pars, data, idx, pos, nu, jac, res, g, h)
        offset = f - float(model.nll(pars, data))
        shifted = pars.copy()
        shifted[idx] += 0.01
        assert abs(objective(shifted) - float(model.nll(shifted, data)) - offset) < 1e-9
        _, grad = model.nll_and_grad(pars, data)
        np.testing.assert_allclose(g, np.asarray(grad)[idx], rtol=1e-10, atol=1e-10)
        # the Hessian is the Gauss-Newton one: exact for the constraints, JᵀWJ for the bins
        n = data[:nb]
        _, jac_model = model.expected_and_jacobian(pars)
        jf = np.asarray(jac_model)[:, idx]
        expected = jf.T @ (jf * (n / np.asarray(model.expected_actualdata(pars)) ** 2)[:, None])
        a = model.arrays
        for p, sigma in zip(a.gauss_par, a.gauss_sigma, strict=True):
            if pos[p] >= 0:
                expected[pos[p], pos[p]] += 1 / sigma**2
        for p, aux in zip(a.pois_par, a.pois_aux + nb, strict=True):
            if pos[p] >= 0:
                expected[pos[p], pos[p]] += data[aux] / pars[p] ** 2
        np.testing.assert_allclose(h, expected, rtol=1e-10)


@pytest.mark.parametrize(("name", "model"), MODELS, ids=[m[0] for m in MODELS])
def test_twice_nll_and_expected_data(impl, name, model):
    points = np.clip(_random_points(model, 5, seed=13), 0.05, None)
    data = np.concatenate(
        [
            np.round(np.asarray(model.expected_actualdata(points)) * 1.1),
            np.tile(model.config.auxdata + 0.05, (5, 1)),
        ],
        axis=1,
    )
    data[0, 0] = 0.0  # an empty bin
    np.testing.assert_allclose(
        kernel.twice_nll(model, points, data), model.twice_nll(points, data), rtol=1e-12
    )
    for pars in points:
        np.testing.assert_allclose(
            kernel.expected_data(model, pars), model.expected_data(pars), rtol=1e-13
        )


def test_negative_rate_is_infinite(impl):
    """With pyhf's unclamped yields a rate can go negative: the kernels give +inf there."""
    from hfx.simplemodels import correlated_background_workspace

    ws = correlated_background_workspace([30, 95], [100, 150], [102, 190], [98, 100])
    model = ws.model(
        modifier_settings={"histosys": {"interpcode": "code4p", "positive_definite": False}}
    )
    k = model.packed_terms
    pars = model.config.suggested_init()
    pars[model.config.par_names.index("correlated_bkg_uncertainty")] = -5.0
    data = np.concatenate([[120.0, 180.0], model.config.auxdata])
    idx = np.arange(2)
    args = (np.empty(2), np.empty((2, 2)), np.empty(2), np.empty(2), np.empty((2, 2)))
    assert np.isinf(impl.probe_evaluate(k, pars, data, idx, idx, *args))


@pytest.mark.parametrize(("name", "model"), MODELS, ids=[m[0] for m in MODELS])
def test_fits_reach_the_scalar_minima(newton_path, name, model):
    gen = model.config.suggested_init()
    toys = sample_toys(model, gen, 40, seed=3)
    batch = fit_batch(model, toys, engine=newton_path)
    # (code0's kink at α = 0 can make a row cycle; it is then refitted by the scalar path)
    assert batch.success.all() and batch.nfallback <= 2
    ref = np.array([fit(model, t, optimizer="scipy", uncertainties=False).twice_nll for t in toys])
    # never above L-BFGS-B's minimum (a normsys kink at α = 0, code0, leaves both a few 1e-6
    # off the minimum); below it only where L-BFGS-B stopped short
    kinked = name.startswith("code0")
    assert np.all(batch.twice_nll <= ref + (1e-5 if kinked else 1e-6))
    assert np.mean(np.abs(batch.twice_nll - ref) <= 1e-6) >= 0.95


@needs_shared()
@pytest.mark.parametrize("name", ["2018-31_simplifiedA", "2018-14_Comb_bkgonly"])
def test_atlas_small_models_toys(newton_path, name):
    from tests.likelihood.helpers import atlas_model

    model, data, _ = atlas_model(name)
    gen = fixed_poi_fit(1.0, model, data, uncertainties=False).bestfit
    toys = sample_toys(model, gen, 200, seed=1)
    batch = fit_batch(model, toys, engine=newton_path)
    assert batch.success.all()
    ref = np.array([fit(model, t, optimizer="scipy", uncertainties=False).twice_nll for t in toys])
    np.testing.assert_allclose(batch.twice_nll, ref, rtol=0, atol=1e-6)


def test_the_engine_is_a_value_not_process_history(monkeypatch):
    """Which path a fit takes depends on its engine argument only: "numpy" never calls the
    kernels, "numba" always does, "auto" chooses by the model, and earlier calls change
    nothing."""
    model = simplemodels.uncorrelated_background([12, 11], [50, 52], [3, 7])
    data = np.concatenate([[51.0, 48.0], model.config.auxdata])
    calls = []
    original = kernel.newton_rows
    monkeypatch.setattr(kernel, "newton_rows", lambda *a: calls.append(1) or original(*a))
    numpy_nll = [fit_batch(model, data, engine="numpy").twice_nll for _ in range(30)]
    assert not calls
    compiled_nll = fit_batch(model, data, engine="numba").twice_nll
    assert len(calls) == 1
    np.testing.assert_allclose(compiled_nll, numpy_nll[0], rtol=0, atol=1e-9)
    for _ in range(3):  # still NumPy after compiled fits, still compiled after NumPy fits
        fit_batch(model, data, engine="numpy")
        assert len(calls) == 1
    assert make_plan(model).engine == "numba"
    assert make_plan(model, engine="numpy").engine == "numpy"
    fit_batch(model, data)
    assert len(calls) == 2


def test_auto_engine_by_model():
    model = simplemodels.uncorrelated_background([12, 11], [50, 52], [3, 7])
    assert kernel.applies(model)
    assert make_plan(model, engine="auto").engine == "numba"
    big = simplemodels.uncorrelated_background([1.0] * 25, [10.0] * 25, [1.0] * 25)
    assert big.config.npars > kernel.MAX_FREE + 1 and not kernel.applies(big)
    assert make_plan(big, engine="auto").engine == "numpy"
    assert make_plan(big, engine="numba").engine == "numpy"
    pytest.importorskip("jax")
    assert not kernel.applies(model.to("jax"))
    assert make_plan(model.to("jax")).engine == "jax"
    assert make_plan(model.to("jax"), engine="numpy").engine == "numpy"
    with pytest.raises(FitError, match="JAX backend"):
        make_plan(model, engine="jax")


def test_every_entry_runs_the_signature_compiled_at_import(impl):
    """Fits, tests, limits and toys call each kernel with the argument types the import
    compiled (and cached): a different layout or dtype would compile a second version, for
    seconds, at the first such call."""
    import hfx

    model = simplemodels.uncorrelated_background([5.0, 3.0], [50.0, 52.0], [3.0, 7.0])
    data = np.asarray(model.expected_data(model.config.suggested_init()))
    hfx.fit(model, data, engine="numba")
    hfx.hypotest(model, data, 1.0, engine="numba")
    hfx.upper_limit(model, data, engine="numba")
    hfx.hypotest(model, data, 1.0, calculator="toys", ntoys=20, seed=1, engine="numba")
    assert len(impl.run.signatures) == 1


@pytest.mark.parametrize("name,model", MODELS, ids=[name for name, _ in MODELS])
def test_packed_tables_are_the_flat_terms(name, model):
    """What the kernels receive (pack_flat_terms): every table at its recorded place."""
    from hfx.likelihood.flat_terms import FLOAT_TABLES, INT_TABLES

    k = model.flat_terms
    nbins, ns_code, hs_code, ints, floats, consts, ends = model.packed_terms
    assert (nbins, ns_code, hs_code) == (k.nbins, k.ns_code, k.hs_code)
    starts = [0, *ends[: len(INT_TABLES) - 1]]
    for table, start, end in zip(INT_TABLES, starts, ends[: len(INT_TABLES)], strict=True):
        np.testing.assert_array_equal(ints[start:end], getattr(k, table), err_msg=table)
    float_ends = ends[len(INT_TABLES) : len(INT_TABLES) + len(FLOAT_TABLES)]
    for table, start, end in zip(FLOAT_TABLES, [0, *float_ends[:-1]], float_ends, strict=True):
        np.testing.assert_array_equal(floats[start:end], getattr(k, table), err_msg=table)
    nv = ends[-1]
    np.testing.assert_array_equal(consts[:nv], k.ns_consts)
    np.testing.assert_array_equal(consts[nv:], k.hs_consts)
    for array in (ints, floats, consts, ends):
        assert array.flags.c_contiguous and array.dtype in (np.int64, np.float64)
