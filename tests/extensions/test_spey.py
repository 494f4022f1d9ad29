"""hfx's spey backend (``spey.get_backend("hfx")``) through spey's own interface.

spey's exclusion confidence level is 1 − CLs and its limits are CLs = 0.05 crossings, so
both are checked against hfx.hypotest / hfx.upper_limit called directly, against the
pyhf-computed reference numbers of the shared workspaces, and (when installed) against
spey-pyhf's ``"pyhf"`` backend on the same inputs.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import hfx
from hfx.errors import HfxError
from tests.conftest import ATLAS_WS, load_atlas, needs_shared

spey = pytest.importorskip("spey")

SMALL = ("2018-31_simplifiedA", "2018-14_Comb_bkgonly")
# pyhf 0.7.6 (under spey-pyhf) builds its schema validator with jsonschema's RefResolver
PEER_WARNINGS = pytest.mark.filterwarnings(
    "ignore:jsonschema.RefResolver is deprecated:DeprecationWarning"
)


def _spey_model(name, backend="hfx"):
    ws, patch, ref = load_atlas(name)
    model = spey.get_backend(backend)(
        background_only_model=ws, signal_patch=patch, analysis=name, xsection=1.0
    )
    return model, ws, patch, ref


def _direct(ws, patch):
    workspace = hfx.Workspace(ws)
    model = workspace.model(patches=[patch])
    return model, workspace.data(model)


def _prefit_background(ws, model):
    """spey's "apriori" data, by hand: the sum of the background-only workspace's samples
    per channel (in the model's channel order), then the auxiliary data."""
    by_channel = {c["name"]: c["samples"] for c in ws["channels"]}
    main = [
        float(sum(values))
        for channel in model.config.channels
        for values in zip(*(s["data"] for s in by_channel[channel]), strict=True)
    ]
    return main + [float(v) for v in model.config.auxdata]


def test_backends_are_registered_through_entry_points():
    assert {"hfx", "hfx.uncorrelated_background"} <= set(spey.AvailableBackends())
    meta = spey.get_backend_metadata("hfx")
    assert meta["name"] == "hfx"
    assert meta["spey_requires"] == ">=0.2.0"


@needs_shared()
@pytest.mark.parametrize("name", SMALL)
def test_exclusion_cl_is_one_minus_hfx_cls(name):
    model, ws, patch, ref = _spey_model(name)
    direct, data = _direct(ws, patch)
    result = hfx.hypotest(direct, data, 1.0)
    [observed] = model.exclusion_confidence_level()
    assert observed == pytest.approx(1.0 - result.cls, rel=1e-6)
    assert observed == pytest.approx(1.0 - ref["cls_mu1_obs"], rel=1e-5)  # pyhf's number
    post = model.exclusion_confidence_level(expected=spey.ExpectationType.aposteriori)
    np.testing.assert_allclose(post, 1.0 - np.asarray(result.cls_expected), rtol=1e-6)
    np.testing.assert_allclose(post, 1.0 - np.asarray(ref["cls_mu1_exp"]), rtol=1e-5)
    # "apriori": the expected band on the pre-fit background instead of the observed data
    prior = model.exclusion_confidence_level(expected=spey.ExpectationType.apriori)
    on_background = hfx.hypotest(direct, _prefit_background(ws, direct), 1.0)
    np.testing.assert_allclose(prior, 1.0 - np.asarray(on_background.cls_expected), rtol=1e-6)
    # and at another signal strength
    [at_half] = model.exclusion_confidence_level(poi_test=0.5)
    assert at_half == pytest.approx(1.0 - hfx.hypotest(direct, data, 0.5).cls, rel=1e-6)


@needs_shared()
@pytest.mark.parametrize("name", SMALL)
def test_poi_upper_limit_matches_hfx_upper_limit(name):
    model, ws, patch, ref = _spey_model(name)
    direct, data = _direct(ws, patch)
    limits = hfx.upper_limit(direct, data)
    assert model.poi_upper_limit() == pytest.approx(limits.obs, rel=1e-5)
    assert model.poi_upper_limit() == pytest.approx(ref["upper_limit_obs"], rel=1e-5)
    band = model.poi_upper_limit(
        expected=spey.ExpectationType.aposteriori, expected_pvalue="2sigma"
    )
    np.testing.assert_allclose(band, limits.exp, rtol=1e-5)
    np.testing.assert_allclose(band, ref["upper_limit_exp"], rtol=1e-5)


@needs_shared()
def test_likelihood_gradient_and_hessian_of_the_backend():
    model, *_, ref = _spey_model("2018-31_simplifiedA")
    backend = model.backend
    names = backend.config().parameter_names
    point = np.array([ref["point"][n.split("[")[0]][0] for n in names])
    logpdf = backend.get_logpdf_func()
    assert logpdf(point) == pytest.approx(ref["logpdf_point"], rel=1e-10)  # pyhf's value
    nll, grad = backend.get_objective_function()(point)
    assert nll == pytest.approx(-ref["logpdf_point"], rel=1e-10)
    hess = backend.get_hessian_logpdf_func()(point)
    step = 1e-4
    for i in range(point.size):
        e = np.zeros_like(point)
        e[i] = step
        # central differences of log L by hand: the gradient and the Hessian's diagonal
        assert -grad[i] == pytest.approx(
            (logpdf(point + e) - logpdf(point - e)) / (2 * step), rel=1e-5, abs=1e-7
        )
        second = (logpdf(point + e) - 2 * logpdf(point) + logpdf(point - e)) / step**2
        assert hess[i, i] == pytest.approx(second, rel=1e-4, abs=1e-6)
    assert backend.expected_data(point)[: len(ref["expected_actualdata_point"])] == pytest.approx(
        ref["expected_actualdata_point"], rel=1e-10
    )


@needs_shared()
def test_sampler_draws_reproducible_toys_around_the_expectation():
    ws, patch, _ = load_atlas("2018-31_simplifiedA")
    make = spey.get_backend("hfx")
    first = make(background_only_model=ws, signal_patch=patch, seed=7).backend
    second = make(background_only_model=ws, signal_patch=patch, seed=7).backend
    pars = np.asarray(first.config().suggested_init)
    toys = first.get_sampler(pars)(4000)
    np.testing.assert_array_equal(toys, second.get_sampler(pars)(4000))
    expected = np.asarray(first.expected_data(pars))
    assert toys.shape == (4000, expected.size)
    nmain = first.model.config.nmaindata
    # Poisson main bins: mean within 5 standard errors of the expectation
    stderr = np.sqrt(expected[:nmain] / 4000)
    assert np.all(np.abs(toys[:, :nmain].mean(axis=0) - expected[:nmain]) < 5 * stderr)
    assert first.get_sampler(pars)(3, include_auxiliary=False).shape == (3, nmain)


@needs_shared()
def test_workspace_path_and_hfx_workspace_inputs():
    _, ws, patch, _ = _spey_model("2018-31_simplifiedA")
    path = ATLAS_WS / "2018-31_simplifiedA.json"
    make = spey.get_backend("hfx")
    from_path = make(background_only_model=str(path), signal_patch=patch)
    from_ws = make(background_only_model=hfx.Workspace(ws), signal_patch=patch)
    assert from_path.exclusion_confidence_level() == pytest.approx(
        from_ws.exclusion_confidence_level(), rel=1e-12
    )
    with pytest.raises(HfxError, match="background_only_model"):
        make(background_only_model=42, signal_patch=patch)


def test_uncorrelated_background_matches_hfx_simplemodels():
    sig, bkg, obs, unc = [12.0, 11.0], [50.0, 52.0], [51.0, 48.0], [3.0, 7.0]
    model = spey.get_backend("hfx.uncorrelated_background")(
        signal_yields=sig, background_yields=bkg, data=obs, absolute_uncertainties=unc
    )
    direct = hfx.simplemodels.uncorrelated_background(sig, bkg, unc)
    data = obs + [float(v) for v in direct.config.auxdata]
    [observed] = model.exclusion_confidence_level()
    assert observed == pytest.approx(1.0 - hfx.hypotest(direct, data, 1.0).cls, rel=1e-6)
    assert model.poi_upper_limit() == pytest.approx(hfx.upper_limit(direct, data).obs, rel=1e-5)
    # spey-pyhf's docstring example (the same model as "pyhf"): 0.9474850259721279
    assert observed == pytest.approx(0.9474850259721279, rel=1e-5)


@PEER_WARNINGS
@needs_shared()
def test_same_numbers_as_spey_pyhf():
    pytest.importorskip("spey_pyhf")
    ours, *_ = _spey_model("2018-31_simplifiedA")
    theirs, *_ = _spey_model("2018-31_simplifiedA", backend="pyhf")
    for kw in ({}, {"expected": spey.ExpectationType.aposteriori}):
        np.testing.assert_allclose(
            ours.exclusion_confidence_level(**kw), theirs.exclusion_confidence_level(**kw), 1e-5
        )
    assert ours.poi_upper_limit() == pytest.approx(theirs.poi_upper_limit(), rel=1e-5)
    config, peer = ours.backend.config(), theirs.backend.config()
    assert config.parameter_names == peer.parameter_names
    assert config.suggested_bounds == [tuple(b) for b in peer.suggested_bounds]
    assert config.minimum_poi == pytest.approx(float(peer.minimum_poi), rel=1e-6)


@PEER_WARNINGS
def test_uncorrelated_background_same_as_spey_pyhf():
    pytest.importorskip("spey_pyhf")
    args = {
        "signal_yields": [5.0, 3.0, 0.5],
        "background_yields": [10.0, 8.0, 4.0],
        "data": [12.0, 7.0, 6.0],
        "absolute_uncertainties": [2.0, 1.5, 1.0],
    }
    ours = spey.get_backend("hfx.uncorrelated_background")(**args)
    theirs = spey.get_backend("pyhf.uncorrelated_background")(**args)
    for kw in ({}, {"expected": spey.ExpectationType.apriori}):
        np.testing.assert_allclose(
            ours.exclusion_confidence_level(**kw), theirs.exclusion_confidence_level(**kw), 1e-5
        )
    # (spey-pyhf rebuilds this pyhf model for every likelihood: its limit takes ~20 s here,
    # so limits are compared on the workspace above)


def test_module_imports_without_spey():
    code = (
        "import sys; sys.modules['spey'] = None\n"
        "import hfx.compat.spey as m\n"
        "try:\n"
        "    m.HfxBackend\n"
        "except ImportError as err:\n"
        "    print(type(err).__name__, err)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == (
        "MissingExtraError the spey backend needs spey: pip install 'hfx[spey]'"
    )
    assert out.stderr == ""
