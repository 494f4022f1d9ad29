"""The "jax" engine (hfx.optimize.jax_newton): batches of fits as one compiled JAX program.

Checked against the NumPy engine on the same models and data: fits, CLs with its band, toys
and an upper limit.  Speed is measured in benchmarks/, not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from hfx import simplemodels
from hfx.infer import hypotest, upper_limit
from hfx.optimize import fit, make_plan
from tests.conftest import load_atlas, needs_shared

jax = pytest.importorskip("jax")


@pytest.fixture(scope="module")
def models():
    numpy_model = simplemodels.uncorrelated_background([12.0, 11.0], [50.0, 52.0], [3.0, 7.0])
    data = np.array([51.0, 48.0, *numpy_model.config.auxdata])
    return numpy_model, numpy_model.to("jax"), data


def test_jax_models_fit_on_the_jax_engine(models):
    numpy_model, jax_model, data = models
    assert make_plan(jax_model).engine == "jax"
    a = fit(numpy_model, data, engine="numpy")
    b = fit(jax_model, data)
    assert b.twice_nll == pytest.approx(a.twice_nll, abs=1e-9)
    np.testing.assert_allclose(b.bestfit, a.bestfit, rtol=1e-6, atol=1e-8)


def test_cls_band_toys_and_limit_equal_numpy(models):
    numpy_model, jax_model, data = models
    a = hypotest(numpy_model, data, 1.0, engine="numpy")
    b = hypotest(jax_model, data, 1.0)
    assert b.cls == pytest.approx(a.cls, rel=1e-6)
    np.testing.assert_allclose(b.cls_expected, a.cls_expected, rtol=1e-6)
    # the same toys (same seed): every toy's statistic agrees
    a = hypotest(numpy_model, data, 1.0, calculator="toys", ntoys=200, seed=3, engine="numpy")
    b = hypotest(jax_model, data, 1.0, calculator="toys", ntoys=200, seed=3)
    assert b.cls == pytest.approx(a.cls, rel=1e-9)
    la = upper_limit(numpy_model, data, engine="numpy")
    lb = upper_limit(jax_model, data)
    assert lb.obs == pytest.approx(la.obs, rel=1e-6)


def test_bounds_and_fixed_parameters_hold(models):
    numpy_model, jax_model, data = models
    init = jax_model.config.suggested_init()
    fixed = [True] + [False] * (len(init) - 1)
    init[0] = 2.5
    a = fit(numpy_model, data, init=init, fixed=fixed, engine="numpy")
    b = fit(jax_model, data, init=init, fixed=fixed)
    assert b.bestfit[0] == 2.5
    assert b.twice_nll == pytest.approx(a.twice_nll, abs=1e-9)
    # data far below the background: the POI ends on its lower bound
    low = np.array([20.0, 18.0, *jax_model.config.auxdata])
    assert fit(jax_model, low).bestfit[0] == 0.0
    assert fit(numpy_model, low, engine="numpy").bestfit[0] == 0.0


@needs_shared()
def test_a_published_workspace_gives_numpys_cls():
    import hfx

    spec, patch, _ = load_atlas("2018-31_simplifiedA")
    ws = hfx.Workspace(spec).apply_patches([patch])
    numpy_model = ws.model()
    data = ws.data(numpy_model)
    a = hypotest(numpy_model, data, 1.0, engine="numpy")
    b = hypotest(ws.model(backend="jax"), data, 1.0)
    assert b.cls == pytest.approx(a.cls, rel=1e-6)
    np.testing.assert_allclose(b.cls_expected, a.cls_expected, rtol=1e-6)


SCRIPT = """
import json, sys
import numpy as np
from hfx import simplemodels
from hfx.infer import hypotest
model = simplemodels.uncorrelated_background([12.0, 11.0], [50.0, 52.0], [3.0, 7.0])
data = np.array([51.0, 48.0, *model.config.auxdata])
print(json.dumps(hypotest(model.to("jax"), data, 1.0).cls))
"""


def test_a_later_process_reuses_the_exported_fits(tmp_path):
    env = dict(os.environ, HFX_CACHE_DIR=str(tmp_path / "cache"), JAX_PLATFORMS="cpu")
    first = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    exported = sorted((tmp_path / "cache" / "jax" / "hfx-exported").glob("newton-*.bin"))
    assert exported
    stamps = {p: p.stat().st_mtime_ns for p in exported}
    second = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == json.loads(first.stdout)
    assert {p: p.stat().st_mtime_ns for p in exported} == stamps  # read, not written again


def test_a_cache_folder_that_cannot_be_made_is_no_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # a folder under a file cannot be made, even by root
    env = dict(os.environ, HFX_CACHE_DIR=str(blocker / "cache"), JAX_PLATFORMS="cpu")
    run = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert not blocker.with_name("cache").exists()
    assert 0.0 < json.loads(run.stdout) < 1.0


@needs_shared()
@pytest.mark.parametrize("name", ["2018-31_BkgOnlyA", "2018-31_simplifiedA"])
def test_the_jax_engine_takes_numpys_newton_steps(name):
    """Iteration by iteration the compiled JAX fit is where NumPy's Newton is: the same
    curvature (Gauss-Newton, secant, exact near the minimum on models with many free
    parameters), held sets and step lengths.  On BkgOnlyA, whose toys have several local
    minima, a different path ends in a different minimum (it did on ~5 % of toys)."""
    import hfx
    from hfx.infer.toys import sample_toys
    from hfx.optimize.jax_newton import newton_rows
    from hfx.optimize.newton import numpy_newton_rows

    spec, patch, _ = load_atlas(name)
    ws = hfx.Workspace(spec).apply_patches([patch])
    numpy_model, jax_model = ws.model(), ws.model(backend="jax")
    cfg = numpy_model.config
    init = np.asarray(cfg.suggested_init(), dtype=float)
    bounds = np.asarray(cfg.suggested_bounds(), dtype=float)
    free = ~np.asarray(cfg.suggested_fixed(), dtype=bool)
    toys = sample_toys(numpy_model, init, 16, np.random.default_rng(11))
    full = np.tile(init, (toys.shape[0], 1))
    lo, hi = bounds[free, 0], bounds[free, 1]
    for maxiter in (1, 2, 3, 5, 7):
        a, a_done, _ = numpy_newton_rows(numpy_model, toys, full, free, lo, hi, 1e-10, maxiter)
        b, b_done, _ = newton_rows(jax_model, toys, full, free, lo, hi, 1e-10, maxiter)
        np.testing.assert_allclose(b, a, rtol=1e-7, atol=1e-7, err_msg=f"{maxiter} iterations")
        np.testing.assert_array_equal(b_done, a_done)
