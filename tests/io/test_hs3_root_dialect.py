"""ROOT's own HS3 (``RooJSONFactoryWSTool::exportJSON``) read by hfx: same likelihood, same fit.

The fixture ``data/hs3/histfactory_small.root.hs3.json`` is ROOT 6.40's export of a model
built with ROOT's HistFactory classes (Measurement, Channel, Sample; every modifier type)
from ``histfactory_small.json``; ``histfactory_small.root_values.json`` holds ROOT's NLL of
that model at three parameter points and its Minuit2 fit, computed once with ROOT
(``benchmarks/hs3_root_check.py --make-fixture``).  No ROOT is needed here.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import hfx
from hfx.infer import qmu_tilde
from hfx.interfaces.io.hs3 import read_hs3

DATA = Path(__file__).with_name("data") / "hs3"
ROOT_HS3 = DATA / "histfactory_small.root.hs3.json"
ROOT_VALUES = json.loads((DATA / "histfactory_small.root_values.json").read_text())
SOURCE_SPEC = json.loads((DATA / "histfactory_small.json").read_text())


def _imported() -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # ROOT's dialect of this model needs no approximation
        return read_hs3(ROOT_HS3)


def _vector(config, point: dict) -> np.ndarray:
    """ROOT's parameter names mapped by hand onto hfx's vector (pyhf's names)."""
    x = config.suggested_init().copy()
    for name, value in point.items():
        stat = re.fullmatch(r"gamma_stat_(\w+)_bin_(\d+)", name)
        gamma = re.fullmatch(r"gamma_(\w+)_bin_(\d+)", name)
        if stat:
            x[config.par_slice(f"staterror_{stat.group(1)}")][int(stat.group(2))] = value
        elif gamma:
            x[config.par_slice(gamma.group(1))][int(gamma.group(2))] = value
        elif name.startswith("alpha_"):
            x[config.par_slice(name.removeprefix("alpha_"))] = value
        else:
            x[config.par_slice({"Lumi": "lumi"}.get(name, name))] = value
    return x


def test_names_and_types_map_back_to_pyhf():
    spec = _imported()
    assert [c["name"] for c in spec["channels"]] == ["CR", "SR"]
    assert {o["name"]: o["data"] for o in spec["observations"]} == {
        o["name"]: o["data"] for o in SOURCE_SPEC["observations"]
    }
    mods = {
        (c["name"], s["name"]): {m["name"]: m["type"] for m in s["modifiers"]}
        for c in spec["channels"]
        for s in c["samples"]
    }
    assert mods[("SR", "signal")] == {"lumi": "lumi", "mu": "normfactor", "sig_theory": "normsys"}
    assert mods[("SR", "bkg")] == {
        "lumi": "lumi",
        "bkg_norm": "normsys",
        "jes": "histosys",
        "bkg_shape": "shapesys",
        "staterror_SR": "staterror",
    }
    assert mods[("CR", "bkg")] == {
        "lumi": "lumi",
        "bkg_norm": "normsys",
        "shape_free": "shapefactor",
        "staterror_CR": "staterror",
    }
    sr = {s["name"]: s for s in spec["channels"][1]["samples"]}
    shapesys = next(m for m in sr["bkg"]["modifiers"] if m["type"] == "shapesys")
    np.testing.assert_allclose(shapesys["data"], [5.0, 4.0, 3.0], rtol=1e-12)
    # ROOT keeps only the channel's combined relative error and splits it over the samples
    # in proportion to their yields: the combination is the source's.
    errors = np.array([s["modifiers"][-1]["data"] for s in (sr["bkg"], sr["bkg2"])]) ** 2
    combined = np.sqrt(errors.sum(axis=0)) / (np.array(sr["bkg"]["data"]) + sr["bkg2"]["data"])
    source = {s["name"]: s for s in SOURCE_SPEC["channels"][0]["samples"]}
    want = np.hypot([3.0, 2.5, 2.0], [1.0, 1.5, 1.2]) / (
        np.array(source["bkg"]["data"]) + source["bkg2"]["data"]
    )
    np.testing.assert_allclose(combined, want, rtol=1e-6)  # ROOT writes 7 significant digits
    meas = spec["measurements"][0]
    assert meas["config"]["poi"] == "mu"
    params = {p["name"]: p for p in meas["config"]["parameters"]}
    assert params["lumi"]["sigmas"] == [0.02] and params["lumi"]["auxdata"] == [1.0]
    # ROOT's ranges of the staterror gammas: [0, 1 + 5 sigma]
    np.testing.assert_allclose(
        np.array(params["staterror_SR"]["bounds"])[:, 1], 1 + 5 * want, rtol=1e-6
    )


def test_same_nll_differences_as_root():
    spec = _imported()
    ws = hfx.Workspace(spec)
    model = ws.model()
    data = np.asarray(ws.data(model))
    nll = [float(model.nll(_vector(model.config, p), data)) for p in ROOT_VALUES["points"]]
    ours = np.array(nll[1:]) - nll[0]
    root = np.array(ROOT_VALUES["nll"][1:]) - ROOT_VALUES["nll"][0]
    assert abs(root).min() > 0.1  # the points are far enough apart to tell models apart
    np.testing.assert_allclose(ours, root, rtol=0, atol=1e-6)


def test_same_fit_as_root():
    ws = hfx.Workspace(_imported())
    model = ws.model()
    data = np.asarray(ws.data(model))
    assert ROOT_VALUES["status"] == [0, 0]
    fit = hfx.fit(model, data, uncertainties=False)
    muhat = float(fit.bestfit[model.config.poi_index])
    assert muhat == pytest.approx(ROOT_VALUES["muhat"], rel=1e-3)
    qtilde = float(qmu_tilde(model, data, 1.0))  # type: ignore[arg-type]
    root_q = 2 * (ROOT_VALUES["fixed_nll"] - ROOT_VALUES["free_nll"])
    assert qtilde == pytest.approx(root_q, rel=1e-3)
