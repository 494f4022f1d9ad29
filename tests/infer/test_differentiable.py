"""Gradients of q̃μ, CLs and the expected significance with respect to the nominal yields
(hfx.infer.differentiable), against central finite differences of hfx's ordinary inference
on the model with shifted yields."""

from __future__ import annotations

import json

import numpy as np
import pytest

import hfx
from tests.conftest import ATLAS_WS, needs_shared

jax = pytest.importorskip("jax")
from hfx.infer.differentiable import DifferentiableModel, entry_labels  # noqa: E402


def counting():
    spec = {
        "channels": [
            {
                "name": "sr",
                "samples": [
                    {
                        "name": "sig",
                        "data": [6.0, 3.0],
                        "modifiers": [{"name": "mu", "type": "normfactor", "data": None}],
                    },
                    {
                        "name": "bkg",
                        "data": [20.0, 8.0],
                        "modifiers": [
                            {"name": "norm", "type": "normsys", "data": {"hi": 1.1, "lo": 0.9}},
                            {"name": "stat", "type": "staterror", "data": [2.0, 1.5]},
                        ],
                    },
                ],
            }
        ],
        "observations": [{"name": "sr", "data": [24.0, 9.0]}],
        "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": []}}],
        "version": "1.0.0",
    }
    ws = hfx.Workspace(spec)
    model = ws.model()
    return model, np.asarray(ws.data(model))


def central_difference(function, nominal, k, step):
    up, down = nominal.copy(), nominal.copy()
    up[k] += step
    down[k] -= step
    return (function(up) - function(down)) / (2 * step)


def test_cls_and_its_gradient_match_hypotest():
    model, data = counting()
    dm = DifferentiableModel(model)
    nu = dm.nominal
    assert float(dm.cls(nu, data, 1.0)) == pytest.approx(
        hfx.hypotest(model, data, 1.0).cls, rel=1e-6
    )
    grad = np.asarray(jax.jit(jax.grad(lambda n: dm.cls(n, data, 1.0)))(nu))

    def cls(n):
        return hfx.hypotest(model.with_nominal(n), data, 1.0, engine="numpy").cls

    for k in range(nu.size):
        fd = central_difference(cls, nu, k, 1e-4 * max(1.0, nu[k]))
        assert grad[k] == pytest.approx(fd, rel=1e-4, abs=1e-8), entry_labels(model)[k]


def test_qmu_tilde_and_expected_significance_gradients():
    model, data = counting()
    dm = DifferentiableModel(model)
    nu = dm.nominal
    q_grad = np.asarray(jax.grad(lambda n: dm.qmu_tilde(n, data, 1.5))(nu))
    z_grad = np.asarray(jax.grad(dm.expected_significance)(nu))
    for k in range(nu.size):
        step = 1e-4 * max(1.0, nu[k])
        fd_q = central_difference(lambda n: float(dm.qmu_tilde(n, data, 1.5)), nu, k, step)
        fd_z = central_difference(lambda n: float(dm.expected_significance(n)), nu, k, step)
        assert q_grad[k] == pytest.approx(fd_q, rel=1e-4, abs=1e-8)
        assert z_grad[k] == pytest.approx(fd_z, rel=1e-4, abs=1e-8)
    # more signal, more significance; more background in the signal bins, less
    labels = entry_labels(model)
    signal = [i for i, (_, sample, _) in enumerate(labels) if sample == "sig"]
    background = [i for i, (_, sample, _) in enumerate(labels) if sample == "bkg"]
    assert (z_grad[signal] > 0).all() and (z_grad[background] < 0).all()


@needs_shared()
def test_a_published_workspace_gradient_matches_finite_differences():
    name = "2018-31_simplifiedA"
    ws = hfx.Workspace(json.loads((ATLAS_WS / f"{name}.json").read_text()))
    ws = ws.apply_patches([json.loads((ATLAS_WS / f"{name}.signal.json").read_text())])
    model = ws.model()
    data = np.asarray(ws.data(model))
    dm = DifferentiableModel(model)
    nu = dm.nominal
    grad = np.asarray(jax.jit(jax.grad(lambda n: dm.cls(n, data, 1.0)))(nu))

    def cls(n):
        return hfx.hypotest(model.with_nominal(n), data, 1.0, engine="numpy").cls

    for k in range(nu.size):
        fd = central_difference(cls, nu, k, 1e-4 * max(1.0, nu[k]))
        assert grad[k] == pytest.approx(fd, rel=1e-4, abs=1e-9), entry_labels(model)[k]


def test_with_nominal_checks_its_shape():
    model, _ = counting()
    with pytest.raises(hfx.errors.ModelError, match="entries"):
        model.with_nominal([1.0, 2.0, 3.0])


def test_the_cut_optimisation_example_finds_the_scanned_minimum():
    import contextlib
    import io
    import runpy
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "differentiable_cut.py"
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        namespace = runpy.run_path(str(example))
    final_cut = float(printed.getvalue().strip().splitlines()[-1].split()[2])
    expected_cls = namespace["expected_cls"]
    grid = np.linspace(0.0, 3.0, 61)
    values = [float(expected_cls(jax.numpy.asarray(c))) for c in grid]
    best = grid[int(np.argmin(values))]
    assert abs(final_cut - best) <= 0.05
    assert float(expected_cls(jax.numpy.asarray(final_cut))) <= min(values) + 1e-6
