"""The imported workspaces against pyhf 0.7.6's reading of the same files.

The reference (tests/io/data/pyhf_xml_reference.json) was recorded once with pyhf's
``readxml.parse``.  hfx follows ROOT where pyhf does not, and the comparison allows for
exactly these differences:

* a Sample without NormalizeByTheory has the lumi modifier (ROOT's default is True);
* a ShapeSys without ConstraintType is Gaussian (ROOT's default), i.e. a staterror of its
  own name, where pyhf makes a (Poisson) shapesys;
* stat errors from histogram errors are sqrt(sumw2) in double precision (pyhf takes the
  square root in single precision: 1e-7 relative);
* hfx writes no parameter configuration for a parameter the model does not have.

For the likelihood, hfx's workspace is turned back into pyhf's reading (the lumi and
ShapeSys differences undone) and its logpdf and CLs compared with pyhf's numbers.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from tests.io.xml_helpers import (
    CONFIGS,
    assert_close,
    logpdf_at_init,
    needs_xml_data,
    read_config,
    reference,
)

pytest.importorskip("uproot")

import hfx

# Configurations with a ShapeSys that ROOT (and hfx) read as Gaussian.
GAUSSIAN_SHAPESYS = {
    "xmlimport_input/config/examples/example_ShapeSys.xml",
    "xmlimport_input3/config/examples/example_ShapeSys.xml",
}
# pyhf cannot read the 2-D histograms of this one.
NOT_IN_PYHF = {"xmlimport_input/config/examples/example_ShapeSys2D.xml"}
COMPARED = sorted(set(CONFIGS) - NOT_IN_PYHF)


def _modifiers(sample: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for m in sample["modifiers"] if m["type"] != "lumi"]


def _has_lumi(sample: dict[str, Any]) -> bool:
    return any(m["type"] == "lumi" for m in sample["modifiers"])


@needs_xml_data()
@pytest.mark.parametrize("config", COMPARED)
def test_same_content_as_pyhf(config):
    ours, theirs = read_config(config), reference(config)["spec"]
    assert_close(ours["observations"], theirs["observations"])
    assert [c["name"] for c in ours["channels"]] == [c["name"] for c in theirs["channels"]]
    for mine, other in zip(ours["channels"], theirs["channels"], strict=True):
        assert [s["name"] for s in mine["samples"]] == [s["name"] for s in other["samples"]]
        for sample, ref in zip(mine["samples"], other["samples"], strict=True):
            assert_close(sample["data"], ref["data"])
            assert _has_lumi(sample) or not _has_lumi(ref)
            for mod, ref_mod in zip(_modifiers(sample), _modifiers(ref), strict=True):
                assert mod["name"] == ref_mod["name"]
                if config in GAUSSIAN_SHAPESYS and ref_mod["type"] == "shapesys":
                    assert mod["type"] == "staterror"
                else:
                    assert mod["type"] == ref_mod["type"]
                single_precision = mod["name"].startswith("staterror_")
                assert_close(mod["data"], ref_mod["data"], rel=1e-7 if single_precision else 1e-12)
    ref_measurements = {m["name"]: m for m in theirs["measurements"]}
    for meas in ours["measurements"]:
        ref_meas = ref_measurements[meas["name"]]
        assert meas["config"]["poi"] == ref_meas["config"]["poi"]
        ref_params = {p["name"]: p for p in ref_meas["config"]["parameters"]}
        for param in meas["config"]["parameters"]:
            assert_close(param, ref_params[param["name"]])


def _as_pyhf_reads_it(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """hfx's workspace with pyhf's lumi placement and Poisson ShapeSys."""
    spec = copy.deepcopy(ours)
    for channel, ref_channel in zip(spec["channels"], theirs["channels"], strict=True):
        for sample, ref in zip(channel["samples"], ref_channel["samples"], strict=True):
            sample["modifiers"] = [
                m for m in sample["modifiers"] if m["type"] != "lumi" or _has_lumi(ref)
            ]
            for mod in sample["modifiers"]:
                if mod["type"] == "staterror" and not mod["name"].startswith("staterror_"):
                    mod["type"] = "shapesys"
    if not any(_has_lumi(s) for c in spec["channels"] for s in c["samples"]):
        for meas in spec["measurements"]:
            params = meas["config"]["parameters"]
            meas["config"]["parameters"] = [p for p in params if p["name"] != "lumi"]
    return spec


@needs_xml_data()
@pytest.mark.parametrize("config", COMPARED)
def test_same_likelihood_as_pyhf(config):
    ours, ref = read_config(config), reference(config)
    spec = _as_pyhf_reads_it(ours, ref["spec"])
    first = spec["measurements"][0]["name"]
    assert logpdf_at_init(spec, first) == pytest.approx(ref["logpdf_init"], rel=1e-9)
    if "cls_mu1" in ref and hasattr(hfx, "infer") and hasattr(hfx.infer, "hypotest"):
        ws = hfx.Workspace(spec)
        model = ws.model(first)
        cls = hfx.infer.hypotest(model, ws.data(model), 1.0, optimizer="scipy").cls
        assert cls == pytest.approx(ref["cls_mu1"], rel=1e-4)


@needs_xml_data()
def test_root_defaults_change_the_likelihood_as_expected():
    """Where hfx follows ROOT, the logpdf moves by the closed-form constraint terms."""
    # Every sample has the (fixed) lumi: one more Gauss(1 | 1, 0.1) term.
    config = "shared_nuispar_across_types/config/example.xml"
    gauss_at_mean = -math.log(0.1 * math.sqrt(2 * math.pi))
    shifted = logpdf_at_init(read_config(config))
    assert shifted == pytest.approx(reference(config)["logpdf_init"] + gauss_at_mean, rel=1e-12)
    # A Gaussian ShapeSys has Gauss(1 | 1, rel. error) terms instead of Poisson ones.
    config = "xmlimport_input3/config/examples/example_ShapeSys.xml"
    ours = read_config(config)
    as_pyhf = _as_pyhf_reads_it(ours, reference(config)["spec"])
    ws = hfx.Workspace(as_pyhf)
    model = ws.model()
    pars = model.config.suggested_init()
    expected = float(model.main_logpdf(pars, ws.data(model, include_auxdata=False)))
    expected += -0.5 * math.log(2 * math.pi)  # Gauss(0 | 0, 1) of alpha_syst1
    expected += gauss_at_mean  # Gauss(1 | 1, 0.1) of the lumi
    for channel in ours["channels"]:
        for sample in channel["samples"]:
            for mod in sample["modifiers"]:
                if mod["type"] != "staterror":
                    continue
                for delta, rate in zip(mod["data"], sample["data"], strict=True):
                    if delta > 0 and rate > 0:
                        expected += -math.log(delta / rate * math.sqrt(2 * math.pi))
    assert logpdf_at_init(ours) == pytest.approx(expected, rel=1e-12)
