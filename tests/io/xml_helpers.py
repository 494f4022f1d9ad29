"""Shared inputs of the HistFactory XML tests: the shared configs and small files made here."""

from __future__ import annotations

import contextlib
import json
import math
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hfx.errors import HfxWarning
from tests.conftest import SHARED

XML_DIR = SHARED / "histfactory-xml"
REFERENCE = Path(__file__).with_name("data") / "pyhf_xml_reference.json"

# Every top-level configuration in the shared data (bad/ aside), with the warnings its
# import must give (substrings, one per expected warning).
CONFIGS: dict[str, tuple[str, ...]] = {
    "multibin_histfactory/config/example.xml": (),
    "multibin_histfactory_p0/config/example.xml": (),
    "multichan_coupledhistosys_histfactory/config/example.xml": (),
    "multichan_coupledoverall_histfactory/config/example.xml": (),
    "multichannel_histfactory/config/example.xml": (),
    "overallsys_histfactory/config/example.xml": (),
    "shared_nuispar_across_types/config/example.xml": (),
    "shared_nuispar_across_types/config/example_notshared.xml": (),
    "xmlimport_input/config/example.xml": (
        "ConstraintType=Poisson",
        "<Measurement Name='GammaExample'> (line 27): measurement skipped",
        "<Measurement Name='LogNormExample'> (line 33): measurement skipped",
    ),
    "xmlimport_input/config/examples/example_DataDriven.xml": (
        "'alpha_syst1' is no parameter of the model",
    ),
    "xmlimport_input/config/examples/example_ShapeSys.xml": (),
    "xmlimport_input/config/examples/example_ShapeSys2D.xml": ("have 2 dimensions",),
    "xmlimport_input2/config/example.xml": (),
    "xmlimport_input3/config/examples/example_ShapeSys.xml": (),
    "xmlimport_input4/config/example.xml": ("ConstraintType=Poisson",),
}
# Configurations hfx refuses, with the element the one-line error names.
REFUSED = {
    "xmlimport_input/config/examples/example_Expression.xml": "<Function Name='rootPOI'>",
    "bad/xmlimport_missingPOI/config/example.xml": "has no <POI>",
    "bad/xmlimport_noChannelData/config/example_channel.xml": "has no <Data> element",
    "bad/xmlimport_noChannelDataPaths/config/example_channel.xml": "<Data> (line 3)",
}


def shared_dtd() -> Path:
    return XML_DIR / "xmlimport_input" / "config" / "HistFactorySchema.dtd"


def needs_xml_data() -> pytest.MarkDecorator:
    return pytest.mark.skipif(not XML_DIR.is_dir(), reason="../shared/data not present")


@contextlib.contextmanager
def expect_warnings(*expected: str) -> Iterator[None]:
    """Exactly one HfxWarning per expected substring, and no other warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    messages = [str(w.message) for w in caught]
    assert all(issubclass(w.category, HfxWarning) for w in caught), messages
    assert len(messages) == len(expected), messages
    for text in expected:
        assert any(text in m for m in messages), (text, messages)


def read_config(rel: str) -> dict[str, Any]:
    from hfx.interfaces.io import read_xml

    with expect_warnings(*CONFIGS[rel]):
        return read_xml(XML_DIR / rel)


def assert_close(a: Any, b: Any, rel: float = 1e-12, path: str = "") -> None:
    """Same JSON structure; numbers equal to ``rel`` relative tolerance."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and sorted(a) == sorted(b), (path, a, b)
        for key in a:
            assert_close(a[key], b[key], rel, f"{path}/{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), (path, a, b)
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_close(x, y, rel, f"{path}/{i}")
    elif isinstance(a, float) or isinstance(b, float):
        assert math.isclose(a, b, rel_tol=rel, abs_tol=1e-300), (path, a, b)
    else:
        assert a == b, (path, a, b)


def reference(rel: str) -> dict[str, Any]:
    return json.loads(REFERENCE.read_text())[rel]


def logpdf_at_init(spec: dict[str, Any], measurement: str | None = None) -> float:
    import hfx

    ws = hfx.Workspace(spec)
    model = ws.model(measurement)
    return float(model.logpdf(model.config.suggested_init(), ws.data(model)))


# --- small models written in a test ----------------------------------------------------
TOP = """<!DOCTYPE Combination SYSTEM 'HistFactorySchema.dtd'>
<Combination OutputFilePrefix="./results/t">
  <Input>config/channel.xml</Input>
  {measurements}
</Combination>
"""
MEASUREMENT = """<Measurement Name="meas" Lumi="1." LumiRelErr="0.1">
    <POI>mu</POI>{extra}
  </Measurement>"""
CHANNEL = """<!DOCTYPE Channel SYSTEM 'HistFactorySchema.dtd'>
<Channel Name="ch" InputFile="data/hists.root">
  <Data HistoName="data"/>
  {body}
</Channel>
"""
SIGNAL = """<Sample Name="signal" HistoName="sig" NormalizeByTheory="False">
    <NormFactor Name="mu" Val="1" Low="0" High="10"/>
  </Sample>"""
HISTS = {
    "data": ([55.0, 62.0], None),
    "sig": ([5.0, 10.0], None),
    "bkg": ([50.0, 60.0], [5.0, 12.0]),
    "bkg_up": ([55.0, 66.0], None),
    "bkg_dn": ([45.0, 54.0], None),
    "rel": ([0.1, 0.2], None),
}


def write_model(
    folder: Path,
    body: str = SIGNAL,
    extra: str = "",
    measurements: str | None = None,
    channel_text: str | None = None,
) -> Path:
    """A one-channel HistFactory model in ``folder``; returns its top-level file."""
    from hfx.interfaces.io.root_hist import write_root_file

    (folder / "config").mkdir(parents=True)
    (folder / "data").mkdir()
    write_root_file(folder / "data" / "hists.root", HISTS)
    meas = measurements if measurements is not None else MEASUREMENT.format(extra=extra)
    top = folder / "config" / "top.xml"
    top.write_text(TOP.format(measurements=meas))
    text = channel_text if channel_text is not None else CHANNEL.format(body=body)
    (folder / "config" / "channel.xml").write_text(text)
    return top
