"""What the XML reader refuses or warns about, and what the writer cannot express."""

from __future__ import annotations

import copy

import pytest

from hfx.errors import MissingExtraError, SpecError
from hfx.interfaces.io.safe_xml import parse_xml_bytes
from tests.io.xml_helpers import (
    CHANNEL,
    MEASUREMENT,
    SIGNAL,
    TOP,
    XML_DIR,
    expect_warnings,
    needs_xml_data,
    write_model,
)

pytest.importorskip("uproot")

from hfx.interfaces.io import read_xml, write_xml

BKG = """<Sample Name="bkg" HistoName="bkg">{mods}
  </Sample>"""


def _model(tmp_path, mods: str = "", extra: str = "", **kwargs):
    body = SIGNAL + "\n  " + BKG.format(mods=mods)
    return write_model(tmp_path / "m", body=body, extra=extra, **kwargs)


# --- unsafe or malformed XML ----------------------------------------------------------
UNSAFE = {
    "external entity": '<!DOCTYPE Combination [<!ENTITY x SYSTEM "file://{secret}">]>'
    '<Combination OutputFilePrefix="&x;"><Input>&x;</Input></Combination>',
    "billion laughs": '<!DOCTYPE Combination [<!ENTITY a "aaaaaaaaaa">'
    '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">'
    ']><Combination OutputFilePrefix="&c;"/>',
    "parameter entity": '<!DOCTYPE Combination [<!ENTITY % p SYSTEM "file://{secret}"> %p;]>'
    '<Combination OutputFilePrefix="x"/>',
    "unparsed entity": '<!DOCTYPE Combination [<!NOTATION n SYSTEM "x">'
    '<!ENTITY u SYSTEM "file://{secret}" NDATA n>]><Combination OutputFilePrefix="x"/>',
}


@pytest.mark.parametrize("kind", sorted(UNSAFE))
def test_unsafe_xml_is_refused(kind, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    config = tmp_path / "top.xml"
    config.write_text(UNSAFE[kind].format(secret=secret))
    with pytest.raises(SpecError, match="declares the") as info:
        read_xml(config, basedir=tmp_path)
    assert str(info.value).startswith(f"{config}: line 1: ")
    assert "TOP-SECRET" not in str(info.value)


def test_unsafe_channel_file_is_refused(tmp_path):
    top = _model(tmp_path)
    channel = top.parent / "channel.xml"
    text = channel.read_text().replace(
        "<!DOCTYPE Channel SYSTEM 'HistFactorySchema.dtd'>",
        '<!DOCTYPE Channel [<!ENTITY x SYSTEM "file:///etc/hostname">]>',
    )
    channel.write_text(text.replace('Name="ch"', 'Name="&x;"'))
    with pytest.raises(SpecError, match=r"channel\.xml: line 1: the document declares the entity"):
        read_xml(top)


def test_parser_keeps_text_attributes_and_lines():
    root = parse_xml_bytes(
        b"<?xml version='1.0'?>\n<!-- c -->\n<A x='1 &amp; 2'>\n <B>\n  t </B><?pi x?></A>",
        source="s",
    )
    assert (root.tag, root.attrib, root.line) == ("A", {"x": "1 & 2"}, 3)
    assert [(c.tag, c.text, c.line) for c in root.children] == [("B", "t", 4)]
    assert root.describe() == "<A> (line 3)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"<Combination>", "malformed XML at line 1, column 14: no element found"),
        (b"<A>&undefined;</A>", "malformed XML at line 1, column 4: undefined entity"),
        (b"", "malformed XML at line 1, column 1: no element found"),
    ],
)
def test_malformed_xml_names_the_place(text, message):
    with pytest.raises(SpecError, match=message):
        parse_xml_bytes(text, source="f.xml")


# --- the reader's refusals -------------------------------------------------------------
@needs_xml_data()
def test_expression_functions_cannot_be_represented():
    config = XML_DIR / "xmlimport_input/config/examples/example_Expression.xml"
    with expect_warnings("ConstraintType=Poisson"), pytest.raises(SpecError) as info:
        read_xml(config)
    assert str(info.value).startswith(f"{config}: <Function Name='rootPOI'> (line 19): ")
    assert "no functions of parameters" in str(info.value)


@pytest.mark.parametrize(
    ("mods", "message"),
    [
        ('<NormFactor Name="k" Val="1" Low="2" High="1"/>', "Low=2.0 is not below High=1.0"),
        ('<NormFactor Name="k" Val="5" Low="0" High="2"/>', r"Val=5.0 is outside \[Low, High\]"),
        ('<NormFactor Name="k" Val="x" Low="0" High="2"/>', "Val='x' is not a number"),
        ('<NormFactor Name="k" Val="1" Low="0"/>', "missing attribute High"),
        ('<OverallSys Name="" High="1.1" Low="0.9"/>', "missing or empty attribute Name"),
        ('<HistoSys Name="h" HistoNameHigh="bkg_up"/>', "<HistoSys Name='h'> .*no HistoNameLow"),
        ('<HistoSys Name="h" HistoNameHigh="nope" HistoNameLow="bkg_dn"/>', "no histogram 'nope'"),
        ('<StatError Activate="Yes"/>', "Activate='Yes' must be True or False"),
        ("<StatError/>", "missing attribute Activate"),
        ('<ShapeSys Name="s" HistoName="rel" ConstraintType="Uniform"/>', "ConstraintType="),
        ('<ShapeFactor Name="f" HistoName="rel"/>', "initial shape cannot be represented"),
        ('<Bogus Name="b"/>', r"<Bogus Name='b'> \(line \d+\): unknown element in a <Sample>"),
    ],
)
def test_bad_modifiers(tmp_path, mods, message):
    with pytest.raises(SpecError, match=message) as info:
        read_xml(_model(tmp_path, mods))
    assert str(info.value).startswith(str(tmp_path / "m" / "config" / "channel.xml"))


def test_missing_and_mismatched_histograms(tmp_path):
    top = _model(tmp_path)
    channel = top.parent / "channel.xml"
    text = channel.read_text()
    channel.write_text(text.replace('HistoName="bkg"', 'HistoName="bkg" HistoPath="sub"'))
    with pytest.raises(SpecError, match="no histogram 'sub/bkg' in ROOT file"):
        read_xml(top)
    channel.write_text(text.replace('InputFile="data/hists.root"', 'InputFile="data/no.root"'))
    with pytest.raises(SpecError, match=r"<Data> .*InputFile 'data/no.root' not found"):
        read_xml(top)
    channel.write_text(text.replace('InputFile="data/hists.root"', 'InputFile="root://x/y.root"'))
    with pytest.raises(SpecError, match="is remote; only local files are read"):
        read_xml(top)
    (tmp_path / "m" / "data" / "junk.root").write_text("not ROOT")
    channel.write_text(
        text.replace('HistoName="bkg"', 'HistoName="bkg" InputFile="data/junk.root"')
    )
    with pytest.raises(SpecError, match="cannot read ROOT file"):
        read_xml(top)


def test_bins_must_match(tmp_path):
    from hfx.interfaces.io.root_hist import write_root_file

    top = _model(tmp_path)
    write_root_file(tmp_path / "m" / "data" / "three.root", {"bkg": ([1.0, 2.0, 3.0], None)})
    channel = top.parent / "channel.xml"
    text = channel.read_text().replace(
        'HistoName="bkg"', 'HistoName="bkg" InputFile="data/three.root"'
    )
    channel.write_text(text)
    with pytest.raises(SpecError, match=r"'bkg' has 3 bins in 1 dimension.*data 2 in 1"):
        read_xml(top)


def test_histo_paths_are_inherited(tmp_path):
    from hfx.interfaces.io.root_hist import write_root_file

    top = _model(
        tmp_path, '<StatError Activate="True" HistoName="rel"/><ShapeSys Name="s" HistoName="rel"/>'
    )
    write_root_file(
        tmp_path / "m" / "data" / "dirs.root",
        {"sub/bkg": ([50.0, 60.0], None), "sub/rel": ([0.5, 0.25], None)},
    )
    channel = top.parent / "channel.xml"
    channel.write_text(
        channel.read_text().replace(
            '<Sample Name="bkg" HistoName="bkg">',
            '<Sample Name="bkg" HistoName="bkg" InputFile="data/dirs.root" HistoPath="/sub/">',
        )
    )
    with expect_warnings("no StatErrorConfig"):
        spec = read_xml(top)
    bkg = spec["channels"][0]["samples"][1]
    assert bkg["data"] == [50.0, 60.0]
    assert bkg["modifiers"][1:] == [
        {"name": "staterror_ch", "type": "staterror", "data": [25.0, 15.0]},
        {"name": "s", "type": "staterror", "data": [25.0, 15.0]},  # Gaussian ShapeSys
    ]


def test_stat_error_threshold_and_constraint(tmp_path):
    mods = '<StatError Activate="True"/>'  # errors from Sumw2: [5, 12] on [50, 60]
    config = '<StatErrorConfig RelErrorThreshold="0.15" ConstraintType="Gaussian"/>\n  '
    body = SIGNAL + "\n  " + BKG.format(mods=mods)
    top = write_model(tmp_path / "a", channel_text=CHANNEL.format(body=config + body))
    with expect_warnings():
        spec = read_xml(top)
    # bin 0: 5/50 = 0.1 < 0.15 -> zero (fixed at 1, as ROOT makes it constant); bin 1: 0.2
    assert spec["channels"][0]["samples"][1]["modifiers"][1]["data"] == [0.0, 12.0]
    config = '<StatErrorConfig RelErrorThreshold="0.15"/>\n  '  # Poisson when not given
    top = write_model(tmp_path / "b", channel_text=CHANNEL.format(body=config + body))
    with expect_warnings("ConstraintType=Poisson"):
        read_xml(top)
    top = write_model(tmp_path / "c", body=body)
    with expect_warnings("no StatErrorConfig (ROOT 6.22 and later then use Poisson"):
        spec = read_xml(top)
    assert spec["channels"][0]["samples"][1]["modifiers"][1]["data"] == [5.0, 12.0]


def test_channel_level_errors(tmp_path):
    text = CHANNEL.format(body=SIGNAL)
    cases = {
        "no Data": (text.replace('<Data HistoName="data"/>', ""), "has no <Data> element"),
        "empty HistoName": (text.replace('HistoName="data"', 'HistoName=""'), "no HistoName"),
        "no Sample": (text.replace(SIGNAL, ""), "channel 'ch' has no <Sample>"),
        "unknown": (text.replace(SIGNAL, SIGNAL + "<Other/>"), "<Other> .*unknown element"),
        "no Name": (text.replace('Name="ch"', ""), "missing or empty attribute Name"),
        "wrong root": ("<Combination OutputFilePrefix='x'/>", "expected a <Channel> element"),
    }
    for i, (name, (channel_text, message)) in enumerate(cases.items()):
        top = write_model(tmp_path / str(i), channel_text=channel_text)
        with pytest.raises(SpecError, match=message):
            read_xml(top)
        assert name


def test_measurement_level(tmp_path):
    setting = '\n    <ParamSetting Const="True">Lumi gamma_free_bin_0</ParamSetting>'
    top = _model(tmp_path / "a", '<ShapeFactor Name="free"/>', extra=setting)
    with pytest.raises(SpecError, match=r"fixes only some bins of 'free' .*not bin.s. 1"):
        read_xml(top)
    setting = (
        '\n    <ParamSetting Const="True">gamma_free_bin_0 gamma_free_bin_1 alpha_n</ParamSetting>'
        '\n    <ParamSetting Val="2">gamma_free_bin_1 mu</ParamSetting>'
        '\n    <ParamSetting Val="0.5">alpha_n nothing</ParamSetting>'
    )
    top = _model(
        tmp_path / "b",
        '<ShapeFactor Name="free"/><OverallSys Name="n" High="1.1" Low="0.9"/>',
        extra=setting,
    )
    with expect_warnings("'nothing' is no parameter of the model"):
        spec = read_xml(top)
    params = {p["name"]: p for p in spec["measurements"][0]["config"]["parameters"]}
    assert params["free"] == {"name": "free", "fixed": True, "inits": [1.0, 2.0]}
    assert params["n"] == {"name": "n", "fixed": True, "inits": [0.5]}
    assert params["mu"] == {"name": "mu", "inits": [2.0], "bounds": [[0.0, 10.0]]}
    assert params["lumi"]["sigmas"] == [0.1]  # bkg is NormalizeByTheory by default


def test_measurements_that_cannot_be_represented(tmp_path):
    good = MEASUREMENT.format(extra="")
    gamma = good.replace('"meas"', '"gamma"').replace(
        "</POI>",
        '</POI>\n    <ConstraintTerm Type="Uniform" RelativeUncertainty="0.2">n</ConstraintTerm>',
    )
    harmless = good.replace('"meas"', '"harmless"').replace(
        "</POI>", '</POI>\n    <ConstraintTerm Type="Gamma">n</ConstraintTerm>'
    )
    body = SIGNAL + "\n  " + BKG.format(mods='<OverallSys Name="n" High="1.1" Low="0.9"/>')
    top = write_model(tmp_path / "a", body=body, measurements=good + gamma + harmless)
    with expect_warnings("<Measurement Name='gamma'> (line 6): measurement skipped"):
        spec = read_xml(top)
    assert [m["name"] for m in spec["measurements"]] == ["meas", "harmless"]
    top = write_model(tmp_path / "b", body=body, measurements=gamma)
    with (
        pytest.raises(SpecError, match="no measurement can be represented"),
        expect_warnings("skipped"),
    ):
        read_xml(top)
    bogus = good.replace("</POI>", '</POI><ConstraintTerm Type="Weird">n</ConstraintTerm>')
    top = write_model(tmp_path / "c", body=body, measurements=bogus)
    with pytest.raises(SpecError, match="Type='Weird'; expected one of Gamma"):
        read_xml(top)


def test_poi_and_normfactor_consistency(tmp_path):
    top = _model(
        tmp_path / "a", measurements=MEASUREMENT.format(extra="").replace(">mu<", ">nope<")
    )
    with expect_warnings("the POI 'nope' is no parameter of the model"):
        assert read_xml(top)["measurements"][0]["config"]["poi"] == "nope"
    top = _model(
        tmp_path / "b", measurements=MEASUREMENT.format(extra="").replace(">mu<", ">mu other<")
    )
    with expect_warnings("several POIs; the JSON spec has one, 'mu' is used"):
        read_xml(top)
    top = _model(tmp_path / "c", '<NormFactor Name="mu" Val="1" Low="0" High="5"/>')
    with pytest.raises(SpecError, match=r"NormFactor 'mu' is configured differently at .*line 5"):
        read_xml(top)
    top = _model(
        tmp_path / "d", '<ShapeSys Name="s" HistoName="rel"/><ShapeSys Name="s" HistoName="rel"/>'
    )
    with pytest.raises(SpecError, match="ShapeSys 's' also appears at"):
        read_xml(top)


def test_unknown_attributes_and_ignored_elements_warn(tmp_path):
    top = _model(
        tmp_path, '<OverallSys Name="n" High="1.1" Low="0.9" Color="red"/><HistoFactor Name="h"/>'
    )
    with expect_warnings("ignoring unknown attribute(s) Color", "HistoFactor is not supported"):
        spec = read_xml(top)
    assert [m["type"] for m in spec["channels"][0]["samples"][1]["modifiers"]] == [
        "lumi",
        "normsys",
    ]


def test_basedir_search(tmp_path, monkeypatch):
    top = _model(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert read_xml(top)["observations"][0]["data"] == [55.0, 62.0]
    assert read_xml(top, basedir=tmp_path / "m")["observations"][0]["data"] == [55.0, 62.0]
    lonely = tmp_path / "lonely.xml"
    lonely.write_text(
        TOP.format(measurements=MEASUREMENT.format(extra="")).replace("config/", "nowhere/")
    )
    with pytest.raises(SpecError, match=r"'nowhere/channel.xml' is not found .*--basedir"):
        read_xml(lonely)
    with pytest.raises(SpecError, match="no such file"):
        read_xml(tmp_path / "absent.xml")


def test_missing_extra_names_it(tmp_path, monkeypatch):
    import importlib

    real = importlib.import_module

    def no_uproot(name, *args):
        if name == "uproot":
            raise ImportError(name)
        return real(name, *args)

    top = _model(tmp_path)
    monkeypatch.setattr(importlib, "import_module", no_uproot)
    with pytest.raises(MissingExtraError, match=r"pip install 'hfx\[xml\]'"):
        read_xml(top)


# --- what the writer cannot express ----------------------------------------------------
def _spec() -> dict:
    return {
        "channels": [
            {
                "name": "c",
                "samples": [
                    {
                        "name": "s",
                        "data": [1.0, 0.0],
                        "modifiers": [
                            {"name": "mu", "type": "normfactor", "data": None},
                            {"name": "n", "type": "normsys", "data": {"hi": 1.1, "lo": 0.9}},
                        ],
                    },
                    {"name": "b", "data": [5.0, 6.0], "modifiers": []},
                ],
            }
        ],
        "observations": [{"name": "c", "data": [5.0, 6.0]}],
        "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": []}}],
        "version": "1.0.0",
    }


def _with(change) -> dict:
    spec = copy.deepcopy(_spec())
    change(spec)
    return spec


def _add_mod(sample: int, mod: dict):
    return lambda spec: spec["channels"][0]["samples"][sample]["modifiers"].append(mod)


def _add_param(param: dict, meas: int = 0):
    return lambda spec: spec["measurements"][meas]["config"]["parameters"].append(param)


def _two_channels(mod: dict):
    def change(spec):
        _add_mod(1, mod)(spec)
        channel = copy.deepcopy(spec["channels"][0])
        channel["name"] = "c2"
        spec["channels"].append(channel)
        spec["observations"].append({"name": "c2", "data": [5.0, 6.0]})

    return change


def _second_measurement(param: dict):
    def change(spec):
        spec["measurements"][0]["config"]["parameters"].append(
            {"name": "mu", "bounds": [[0.0, 5.0]]}
        )
        spec["measurements"].append({"name": "m2", "config": {"poi": "mu", "parameters": [param]}})

    return change


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            _add_mod(1, {"name": "lumi2", "type": "lumi", "data": None}),
            "lumi modifier 'lumi2' .*rename it first",
        ),
        (
            _two_channels({"name": "mc", "type": "staterror", "data": [1.0, 1.0]}),
            r"staterror 'mc' is carried by 'b' in 'c', 'b' in 'c2'; HistFactory XML has one",
        ),
        (
            _two_channels({"name": "sh", "type": "shapesys", "data": [1.0, 1.0]}),
            "shapesys 'sh' is carried by",
        ),
        (
            lambda spec: [
                _add_mod(i, {"name": name, "type": "staterror", "data": [1.0, 1.0]})(spec)
                for i in (0, 1)
                for name in ("mc1", "mc2")
            ],
            "channel 'c' has the staterrors 'mc1' and 'mc2' on several samples each",
        ),
        (
            _second_measurement({"name": "mu", "bounds": [[0.0, 9.0]]}),
            "normfactor 'mu' has bounds .* HistFactory XML has one range per NormFactor",
        ),
        (
            _add_param({"name": "n", "sigmas": [2.0]}),
            "parameter 'n'.*sigmas setting on a normsys parameter changes the likelihood",
        ),
    ],
)
def test_export_refuses_what_xml_cannot_express(tmp_path, change, message):
    with pytest.raises(SpecError, match=message):
        write_xml(_with(change), tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_export_warns_about_dropped_fit_settings(tmp_path):
    spec = _with(_add_param({"name": "n", "bounds": [[-3.0, 3.0]]}))
    _add_mod(0, {"name": "sh", "type": "shapesys", "data": [0.5, 0.2]})(spec)
    with expect_warnings(
        "parameter 'n': bounds [[-3.0, 3.0]] cannot be written",
        "bin 1 has uncertainty 0.2 on an empty bin",
    ):
        top = write_xml(spec, tmp_path / "out")
    text = (tmp_path / "out" / "config" / "FitConfig_c.xml").read_text()
    assert 'ConstraintType="Poisson"' in text
    assert read_xml(top)["channels"][0]["samples"][0]["modifiers"][2]["data"] == [0.5, 0.0]


def test_export_output_folder_checks(tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    (tmp_path / "file").write_text("")
    for target, message in (
        (tmp_path / "full", "exists and is not empty"),
        (tmp_path / "file", "exists and is not a folder"),
        (tmp_path / "no" / "out", "the folder to create it in does not exist"),
    ):
        with pytest.raises(SpecError, match=message):
            write_xml(_spec(), target)
    for option in ({"specroot": "../up"}, {"dataroot": "/abs"}, {"resultprefix": "a/b"}):
        with pytest.raises(SpecError, match="must be"):
            write_xml(_spec(), tmp_path / "out", **option)


def test_shared_staterror_becomes_the_channel_stat_error(tmp_path):
    spec = _spec()
    for i in (0, 1):
        _add_mod(i, {"name": "mcstat", "type": "staterror", "data": [0.5, 1.5]})(spec)
    _add_param({"name": "mcstat", "fixed": True})(spec)
    with expect_warnings("staterror 'mcstat' of channel 'c' is written as the channel's StatError"):
        top = write_xml(spec, tmp_path / "out")
    back = read_xml(top)
    assert back["channels"][0]["samples"][1]["modifiers"] == [
        {"name": "staterror_c", "type": "staterror", "data": [0.5, 1.5]}
    ]
    params = {p["name"]: p for p in back["measurements"][0]["config"]["parameters"]}
    assert params["staterror_c"] == {"name": "staterror_c", "fixed": True}


def test_settings_of_absent_parameters_are_dropped(tmp_path):
    spec = _with(_add_param({"name": "lumi", "auxdata": [1.0], "sigmas": [0.1]}))
    with expect_warnings("parameter 'lumi': the settings of a parameter no modifier declares"):
        top = write_xml(spec, tmp_path / "out")
    assert [p["name"] for p in read_xml(top)["measurements"][0]["config"]["parameters"]] == ["mu"]


def test_imported_background_only_measurement_builds_a_model_without_poi(tmp_path):
    """An XML measurement whose POI the model lacks: imported, then a model without a POI."""
    from hfx.errors import MissingPOIWarning
    from hfx.spec.workspace import Workspace

    top = _model(
        tmp_path / "a", measurements=MEASUREMENT.format(extra="").replace(">mu<", ">nope<")
    )
    with expect_warnings("the POI 'nope' is no parameter of the model"):
        spec = read_xml(top)
    with pytest.warns(MissingPOIWarning, match="the POI 'nope' is not a parameter"):
        model = Workspace(spec).model()
    assert model.config.poi_index is None
    assert model.config.missing_poi == "nope"
