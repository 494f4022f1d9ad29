"""``hfx xml2json`` and ``hfx json2xml`` on the command line."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hfx.interfaces.cli.main import cli
from tests.cli.helpers import assert_one_line_error, stderr_lines
from tests.io.xml_helpers import (
    REFUSED,
    XML_DIR,
    assert_close,
    expect_warnings,
    needs_xml_data,
    read_config,
    write_model,
)

pytest.importorskip("uproot")


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@needs_xml_data()
def test_xml2json_then_json2xml_then_back(tmp_path):
    config = XML_DIR / "multichannel_histfactory" / "config" / "example.xml"
    result = run("xml2json", config)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    spec = json.loads(result.stdout)
    assert_close(spec, read_config("multichannel_histfactory/config/example.xml"))
    ws_file = tmp_path / "ws.json"
    result = run("xml2json", config, "--basedir", config.parents[1], "-o", ws_file)
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(ws_file.read_text()) == spec
    out = tmp_path / "xml"
    result = run("json2xml", ws_file, "--output-dir", out, "--resultprefix", "Fit")
    assert result.exit_code == 0, result.stderr
    assert stderr_lines(result) == [f"hfx: wrote {out / 'Fit.xml'}"]
    back = run("xml2json", out / "Fit.xml")
    assert back.exit_code == 0, back.stderr
    assert_close(json.loads(back.stdout), spec)
    # A second export into the same folder refuses, and leaves it as it was.
    before = sorted(p.name for p in out.rglob("*"))
    again = run("json2xml", ws_file, "--output-dir", out)
    assert_one_line_error(again, names=str(out), contains="exists and is not empty")
    assert sorted(p.name for p in out.rglob("*")) == before


@needs_xml_data()
@pytest.mark.parametrize("config", sorted(REFUSED))
def test_refused_configs_fail_with_one_line(config):
    top = XML_DIR / config
    if top.name.endswith("_channel.xml"):  # the error is in the channel file
        top = top.with_name("example.xml")
    result = run("xml2json", top)
    lines = [line for line in stderr_lines(result) if not line.startswith("hfx: warning:")]
    assert result.exit_code == 2 and result.stdout == ""
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"hfx: error: {XML_DIR / config}: "), lines[0]
    assert REFUSED[config] in lines[0]
    assert "Traceback" not in result.stderr


@needs_xml_data()
def test_warnings_go_to_stderr():
    result = run("xml2json", XML_DIR / "xmlimport_input" / "config" / "example.xml")
    assert result.exit_code == 0
    lines = stderr_lines(result)
    assert len(lines) == 3 and all(line.startswith("hfx: warning: ") for line in lines)
    assert [m["name"] for m in json.loads(result.stdout)["measurements"]] == [
        "GaussExample",
        "ConstExample",
    ]


def test_json2xml_with_a_patch_and_from_stdin(tmp_path):
    top = write_model(tmp_path / "m")
    with expect_warnings():
        result = run("xml2json", top)
    spec = json.loads(result.stdout)
    patch = tmp_path / "patch.json"
    patch.write_text(
        json.dumps([{"op": "replace", "path": "/observations/0/data", "value": [1.0, 2.0]}])
    )
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["json2xml", "-", "--output-dir", str(tmp_path / "out"), "-p", str(patch)],
        input=json.dumps(spec),
    )
    assert result.exit_code == 0, result.stderr
    back = run("xml2json", tmp_path / "out" / "FitConfig.xml")
    assert json.loads(back.stdout)["observations"] == [{"name": "ch", "data": [1.0, 2.0]}]


def test_usage_errors(tmp_path):
    result = run("json2xml", tmp_path / "ws.json")
    assert_one_line_error(result, contains="Missing option '--output-dir'")
    result = run("xml2json", tmp_path / "absent.xml")
    assert_one_line_error(result, names=str(tmp_path / "absent.xml"), contains="no such file")
    result = run("xml2json", tmp_path / "absent.xml", "--basedir", tmp_path / "nope")
    assert_one_line_error(result, contains="--basedir")
