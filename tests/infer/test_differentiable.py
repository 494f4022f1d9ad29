"""Gradients of q̃μ, CLs and the expected significance with respect to the nominal yields and
the modifier data (hfx.infer.differentiable), against central finite differences of hfx's
ordinary inference on the model with shifted inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

import hfx
from tests.conftest import ATLAS_WS, needs_shared

jax = pytest.importorskip("jax")
from hfx.infer.differentiable import (  # noqa: E402
    DifferentiableModel,
    entry_labels,
    input_labels,
)


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


def every_modifier():
    """A two-channel model with histosys (code4p), normsys (code4), staterror, shapesys, lumi."""
    spec = {
        "channels": [
            {
                "name": "sr",
                "samples": [
                    {
                        "name": "sig",
                        "data": [5.0, 4.0, 2.0],
                        "modifiers": [
                            {"name": "mu", "type": "normfactor", "data": None},
                            {"name": "lumi", "type": "lumi", "data": None},
                        ],
                    },
                    {
                        "name": "bkg",
                        "data": [30.0, 18.0, 9.0],
                        "modifiers": [
                            {
                                "name": "shape",
                                "type": "histosys",
                                "data": {
                                    "hi_data": [33.0, 18.5, 8.0],
                                    "lo_data": [28.0, 17.0, 9.5],
                                },
                            },
                            {"name": "xsec", "type": "normsys", "data": {"hi": 1.08, "lo": 0.95}},
                            {"name": "stat", "type": "staterror", "data": [2.0, 1.5, 1.2]},
                        ],
                    },
                ],
            },
            {
                "name": "cr",
                "samples": [
                    {
                        "name": "bkg",
                        "data": [100.0, 60.0],
                        "modifiers": [
                            {
                                "name": "shape",
                                "type": "histosys",
                                "data": {"hi_data": [104.0, 61.0], "lo_data": [97.0, 58.0]},
                            },
                            {"name": "unc", "type": "shapesys", "data": [8.0, 6.0]},
                        ],
                    }
                ],
            },
        ],
        "observations": [
            {"name": "sr", "data": [38.0, 20.0, 12.0]},
            {"name": "cr", "data": [103.0, 57.0]},
        ],
        "measurements": [
            {
                "name": "m",
                "config": {
                    "poi": "mu",
                    "parameters": [{"name": "lumi", "auxdata": [1.0], "sigmas": [0.02]}],
                },
            }
        ],
        "version": "1.0.0",
    }
    ws = hfx.Workspace(spec)
    model = ws.model()
    return ws, model, np.asarray(ws.data(model))


def check_input_gradients(model, data, grad, inputs, rel):
    """Each component of each input: jax.grad against a central difference of hypotest."""
    labels = input_labels(model)
    for name, values in inputs.items():
        assert np.shape(grad[name]) == values.shape
        for k in range(values.size):

            def cls(value, name=name, k=k, values=values):
                shifted = values.copy()
                shifted[k] = value
                twin = model.with_inputs({**inputs, name: shifted})
                return hfx.hypotest(twin, data, 1.0, engine="numpy").cls

            step = 1e-4 * max(abs(values[k]), 1e-2)
            fd = (cls(values[k] + step) - cls(values[k] - step)) / (2 * step)
            assert float(grad[name][k]) == pytest.approx(fd, rel=rel, abs=1e-8), (
                name,
                labels[name][k],
            )


def test_gradients_with_respect_to_modifier_data_match_finite_differences():
    _, model, data = every_modifier()
    dm = DifferentiableModel(model)
    inputs = model.inputs()
    assert {k: v.size for k, v in inputs.items()} == {
        "nominal": 8,
        "histosys_high": 5,
        "histosys_low": 5,
        "normsys_high": 1,
        "normsys_low": 1,
        "gauss_sigma": 6,  # lumi, shape, xsec and three staterror bins
        "pois_tau": 2,
    }
    assert float(dm.cls(inputs, data, 1.0)) == pytest.approx(
        hfx.hypotest(model, data, 1.0).cls, rel=1e-6
    )
    grad = jax.jit(jax.grad(lambda x: dm.cls(x, data, 1.0)))(inputs)
    check_input_gradients(model, data, grad, inputs, rel=1e-4)
    # a larger up-template of the background, a smaller background yield in the fit: the
    # signal-region templates' gradients are not all zero
    assert np.abs(np.asarray(grad["histosys_high"])).max() > 1e-4


def test_with_inputs_is_the_model_compiled_from_the_changed_workspace():
    ws, model, data = every_modifier()
    spec = {key: ws[key] for key in ("channels", "observations", "measurements", "version")}
    bkg = spec["channels"][0]["samples"][1]
    bkg["modifiers"][0]["data"]["hi_data"] = [35.0, 19.0, 8.5]
    bkg["modifiers"][1]["data"] = {"hi": 1.12, "lo": 0.9}
    spec["channels"][1]["samples"][0]["modifiers"][1]["data"] = [10.0, 5.0]
    changed = hfx.Workspace(spec).model()
    inputs = model.inputs()
    labels = input_labels(model)
    high = inputs["histosys_high"]
    for k, label in enumerate(labels["histosys_high"]):
        if label[0] == "sr":
            high[k] = [35.0, 19.0, 8.5][label[2]]
    inputs["normsys_high"][:] = 1.12
    inputs["normsys_low"][:] = 0.9
    tau = {"unc[0]": (100.0 / 10.0) ** 2, "unc[1]": (60.0 / 5.0) ** 2}
    inputs["pois_tau"] = np.array([tau[label[0]] for label in labels["pois_tau"]])
    twin = model.with_inputs(inputs)
    pars = np.array(model.config.suggested_init()) + 0.3
    assert float(twin.logpdf(pars, data)) == pytest.approx(
        float(changed.logpdf(pars, data)), rel=1e-12
    )
    on_jax = model.to("jax")  # turns on JAX's float64 before the trace
    traced = jax.jit(lambda x: on_jax.with_inputs(x).logpdf(pars, data))(inputs)
    assert float(traced) == pytest.approx(float(changed.logpdf(pars, data)), rel=1e-12)


def test_with_inputs_refuses_unknown_names_and_wrong_shapes():
    _, model, _ = every_modifier()
    with pytest.raises(hfx.errors.ModelError, match="did you mean 'pois_tau'"):
        model.with_inputs({"pois_ta": np.ones(2)})
    with pytest.raises(hfx.errors.ModelError, match="histosys_high has shape"):
        model.with_inputs({"histosys_high": np.ones(3)})


@needs_shared()
def test_a_published_workspace_modifier_data_gradient_matches_finite_differences():
    name = "2018-31_simplifiedA"  # code4p histosys, code4 normsys, staterror
    ws = hfx.Workspace(json.loads((ATLAS_WS / f"{name}.json").read_text()))
    ws = ws.apply_patches([json.loads((ATLAS_WS / f"{name}.signal.json").read_text())])
    model = ws.model()
    data = np.asarray(ws.data(model))
    dm = DifferentiableModel(model)
    inputs = {k: v for k, v in model.inputs().items() if k != "nominal" and v.size}
    grad = jax.jit(jax.grad(lambda x: dm.cls(x, data, 1.0)))(inputs)
    check_input_gradients(model, data, grad, inputs, rel=2e-4)
