"""xml2json -> json2xml -> xml2json gives the same workspace and the same likelihood."""

from __future__ import annotations

import copy

import pytest

from tests.io.xml_helpers import (
    CONFIGS,
    assert_close,
    expect_warnings,
    logpdf_at_init,
    needs_xml_data,
    read_config,
    shared_dtd,
)

pytest.importorskip("uproot")

import hfx
from hfx.interfaces.io import read_xml, write_xml


def _cls_mu1(spec: dict, measurement: str) -> float:
    ws = hfx.Workspace(spec)
    model = ws.model(measurement)
    poi = model.config.poi_index
    test_stat = "qtilde" if model.config.suggested_bounds()[poi][0] == 0 else "q"
    return hfx.infer.hypotest(model, ws.data(model), 1.0, test_stat=test_stat).cls


def _validate_with_dtd(folder) -> None:
    etree = pytest.importorskip("lxml.etree")
    dtd = etree.DTD(str(shared_dtd()))
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    files = sorted(folder.rglob("*.xml"))
    assert len(files) >= 2
    for path in files:
        root = etree.parse(str(path), parser).getroot()
        assert dtd.validate(root), (path, dtd.error_log.filter_from_errors())


@needs_xml_data()
@pytest.mark.parametrize("config", sorted(CONFIGS))
def test_round_trip(config, tmp_path):
    spec = read_config(config)
    original = copy.deepcopy(spec)
    top = write_xml(spec, tmp_path / "out")
    assert spec == original  # the input is not modified
    assert top == tmp_path / "out" / "FitConfig.xml"
    _validate_with_dtd(tmp_path / "out")
    with expect_warnings():  # what hfx writes reads back without a warning
        again = read_xml(top)
    assert_close(again, spec, rel=1e-12)
    for meas in spec["measurements"]:
        assert logpdf_at_init(again, meas["name"]) == pytest.approx(
            logpdf_at_init(spec, meas["name"]), rel=1e-12
        )
    if hasattr(hfx, "infer") and hasattr(hfx.infer, "hypotest"):
        name = spec["measurements"][0]["name"]
        assert _cls_mu1(again, name) == pytest.approx(_cls_mu1(spec, name), rel=1e-9)


@needs_xml_data()
def test_exported_layout_and_options(tmp_path):
    spec = read_config("multichannel_histfactory/config/example.xml")
    top = write_xml(spec, tmp_path / "x", specroot="xml", dataroot="hists", resultprefix="Fit")
    out = tmp_path / "x"
    names = sorted(p.relative_to(out).as_posix() for p in out.rglob("*"))
    assert names == [
        "Fit.xml",
        "HistFactorySchema.dtd",
        "hists",
        "hists/data.root",
        "results",
        "xml",
        "xml/Fit_channel1.xml",
        "xml/Fit_channel2.xml",
        "xml/HistFactorySchema.dtd",
    ]
    text = top.read_text()
    assert "<Input>xml/Fit_channel1.xml</Input>" in text
    assert 'OutputFilePrefix="./results/Fit"' in text
    assert 'InputFile="hists/data.root"' in (out / "xml" / "Fit_channel1.xml").read_text()
    # Paths are relative to the output folder, which the reader finds by itself.
    assert_close(read_xml(top), spec)
    assert_close(read_xml(top, basedir=out), spec)


def _small_spec() -> dict:
    return {
        "channels": [
            {
                "name": "SR",
                "samples": [
                    {
                        "name": "sig",
                        "data": [5.0, 10.0, 0.0],
                        "modifiers": [  # lumi first: XML keeps no place for it
                            {"name": "lumi", "type": "lumi", "data": None},
                            {"name": "mu", "type": "normfactor", "data": None},
                        ],
                    },
                    {
                        "name": "bkg",
                        "data": [50.0, 60.0, 7.0],
                        "modifiers": [
                            {"name": "staterror_SR", "type": "staterror", "data": [1.0, 0.0, 2.5]},
                            {"name": "mcstat_bkg", "type": "staterror", "data": [3.0, 4.0, 1.0]},
                            {"name": "shape", "type": "shapesys", "data": [5.0, 12.0, 0.5]},
                            {"name": "free", "type": "shapefactor", "data": None},
                            {
                                "name": "jes",
                                "type": "histosys",
                                "data": {"hi_data": [52.0, 61.0, 8.0], "lo_data": [49, 58, 6.5]},
                            },
                            {"name": "jes", "type": "normsys", "data": {"hi": 1.1, "lo": 0.85}},
                        ],
                    },
                    {
                        "name": "other",
                        "data": [1.0, 2.0, 3.0],
                        "modifiers": [
                            {"name": "staterror_SR", "type": "staterror", "data": [0.1, 0.2, 0.3]}
                        ],
                    },
                ],
            }
        ],
        "observations": [{"name": "SR", "data": [60.0, 70.0, 11.0]}],
        "measurements": [
            {
                "name": "first",
                "config": {
                    "poi": "mu",
                    "parameters": [
                        {"name": "free", "fixed": True},
                        {"name": "jes", "inits": [0.5]},
                        {
                            "name": "lumi",
                            "auxdata": [1.0],
                            "sigmas": [0.017],
                            "bounds": [[0.915, 1.085]],
                            "inits": [1.0],
                        },
                        {"name": "mu", "bounds": [[-5.0, 20.0]], "inits": [2.0]},
                        {"name": "shape", "inits": [1.0, 1.5, 1.0]},
                    ],
                },
            },
            {
                "name": "second",
                "config": {
                    "poi": "mu",
                    "parameters": [
                        {"name": "jes", "fixed": True},
                        {
                            "name": "lumi",
                            "auxdata": [1.0],
                            "sigmas": [0.02],
                            "bounds": [[0.9, 1.1]],
                            "inits": [1.01],
                            "fixed": True,
                        },
                        {"name": "mu", "bounds": [[-5.0, 20.0]], "inits": [0.0], "fixed": True},
                        {"name": "staterror_SR", "fixed": True},
                    ],
                },
            },
        ],
        "version": "1.0.0",
    }


def test_json_first_round_trip_keeps_the_model(tmp_path):
    """A JSON workspace using every modifier type and per-measurement settings."""
    spec = _small_spec()
    top = write_xml(spec, tmp_path / "out")
    _validate_with_dtd(tmp_path / "out")
    with expect_warnings():
        again = read_xml(top)
    channel_xml = (tmp_path / "out" / "config" / "FitConfig_SR.xml").read_text()
    assert 'ConstraintType="Gaussian"' in channel_xml  # mcstat_bkg: a Gaussian ShapeSys
    assert 'ConstraintType="Poisson"' in channel_xml  # shape: a ShapeSys
    assert '<StatError Activate="True" />' in channel_xml
    # Channels, samples and modifiers come back as they were.
    assert_close(again["channels"], spec["channels"])
    assert_close(again["observations"], spec["observations"])
    first, second = again["measurements"]
    params = {p["name"]: p for p in first["config"]["parameters"]}
    assert params["free"] == {"name": "free", "fixed": True}
    assert params["jes"] == {"name": "jes", "inits": [0.5]}
    assert params["mu"] == {"name": "mu", "inits": [2.0], "bounds": [[-5.0, 20.0]]}
    assert params["shape"] == {"name": "shape", "inits": [1.0, 1.5, 1.0]}
    assert params["lumi"]["sigmas"] == [pytest.approx(0.017, rel=1e-15)]
    params = {p["name"]: p for p in second["config"]["parameters"]}
    assert params["mu"] == {"name": "mu", "inits": [0.0], "bounds": [[-5.0, 20.0]], "fixed": True}
    assert params["staterror_SR"] == {"name": "staterror_SR", "fixed": True}
    assert params["lumi"]["inits"] == [1.01] and params["lumi"]["fixed"] is True
    # The lumi bounds are read back as +-5 sigma: only the fit range differs.
    for name in ("first", "second"):
        assert logpdf_at_init(again, name) == pytest.approx(logpdf_at_init(spec, name), rel=1e-12)


def test_output_is_atomic(tmp_path, monkeypatch):
    from hfx.interfaces.io import xml_export

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(xml_export, "write_root_file", broken)
    with pytest.raises(OSError, match="No space left"):
        write_xml(_small_spec(), tmp_path / "out")
    assert list(tmp_path.iterdir()) == []  # neither the folder nor a temporary one is left


def test_writes_into_an_empty_folder(tmp_path):
    (tmp_path / "out").mkdir()
    write_xml(_small_spec(), tmp_path / "out")
    assert (tmp_path / "out" / "FitConfig.xml").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_accepts_a_workspace_object(tmp_path):
    ws = hfx.Workspace(_small_spec())
    top = write_xml(ws, tmp_path / "out")
    assert_close(read_xml(top)["channels"], ws.spec["channels"])


def test_output_failing_the_dtd_is_not_written(tmp_path, monkeypatch):
    pytest.importorskip("lxml")
    from hfx.interfaces.io import xml_export

    strict = tmp_path / "strict.dtd"
    strict.write_text(
        xml_export.DTD_PATH.read_text().replace(
            "InputFile           CDATA   #IMPLIED", "InputFile           CDATA   #FIXED 'x'", 1
        )
    )
    monkeypatch.setattr(xml_export, "DTD_PATH", strict)
    with pytest.raises(hfx.SpecError, match="internal error: the exported XML does not follow"):
        write_xml(_small_spec(), tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["strict.dtd"]
