"""``hfx hs3 export`` and ``hfx hs3 import`` on the command line."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import hfx
from hfx.infer import hypotest
from hfx.interfaces.cli._common import HfxGroup
from hfx.interfaces.cli.hs3 import COMMANDS
from tests.cli.helpers import assert_one_line_error, stderr_lines
from tests.io.test_hs3 import SPEC, spec

# The hs3 group under a root group with hfx's error contract, as `hfx` registers it.
ROOT_GROUP = HfxGroup("hfx")
for _command in COMMANDS:
    ROOT_GROUP.add_command(_command)

SIGNAL_PATCH = [
    {
        "op": "replace",
        "path": "/channels/0/samples/0/data",
        "value": [6.0, 12.0, 4.0],
    }
]


def run(*args, **kwargs):
    return CliRunner().invoke(ROOT_GROUP, [str(a) for a in args], **kwargs)


def _cls(spec: dict) -> float:
    ws = hfx.Workspace(spec)
    model = ws.model()
    return float(hypotest(model, ws.data(model), 1.0, test_stat="qtilde").cls)


def test_export_with_patch_then_import(tmp_path):
    ws_file, patch_file = tmp_path / "ws.json", tmp_path / "signal.json"
    ws_file.write_text(json.dumps(SPEC))
    patch_file.write_text(json.dumps(SIGNAL_PATCH))
    out = tmp_path / "model.hs3.json"
    result = run("hs3", "export", ws_file, "--patch", patch_file, "-o", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and stderr_lines(result) == []
    doc = json.loads(out.read_text())
    signal = doc["distributions"][0]["samples"][0]
    assert signal["name"] == "signal" and signal["data"]["contents"] == [6.0, 12.0, 4.0]
    back = run("hs3", "import", out)
    assert back.exit_code == 0, back.stderr
    patched = hfx.Workspace(spec()).apply_patches([SIGNAL_PATCH]).spec
    assert _cls(json.loads(back.stdout)) == pytest.approx(_cls(patched), rel=1e-8)
    # Standard input and output work too.
    piped = run("hs3", "import", "-", input=out.read_text())
    assert piped.exit_code == 0 and json.loads(piped.stdout) == json.loads(back.stdout)


def test_export_one_measurement_to_stdout():
    result = run("hs3", "export", "-", "--measurement", "fixed_theory", input=json.dumps(SPEC))
    assert result.exit_code == 0, result.stderr
    assert [a["name"] for a in json.loads(result.stdout)["analyses"]] == ["fixed_theory"]


def test_errors_are_one_line_and_nothing_is_written(tmp_path):
    doc = run("hs3", "export", "-", input=json.dumps(SPEC))
    hs3 = json.loads(doc.stdout)
    hs3["distributions"][0]["type"] = "product_dist"
    bad = tmp_path / "bad.hs3.json"
    bad.write_text(json.dumps(hs3))
    out = tmp_path / "ws.json"
    result = run("hs3", "import", bad, "-o", out)
    assert_one_line_error(result, names=str(bad), contains="/distributions/0")
    assert not out.exists()
    result = run("hs3", "export", "-", "--measurement", "nope", "-o", out, input=json.dumps(SPEC))
    assert_one_line_error(result, contains="no measurement named 'nope'")
    assert not out.exists()
    result = run("hs3", "import", bad, "--likelihood", "other")
    assert_one_line_error(result, names=str(bad), contains="no likelihood named 'other'")


def test_import_warnings_go_to_stderr(tmp_path):
    doc = json.loads(run("hs3", "export", "-", input=json.dumps(SPEC)).stdout)
    for dist in doc["distributions"]:
        for sample in dist.get("samples", []):
            for mod in sample["modifiers"]:
                if mod["type"] == "staterror":
                    mod["constraint_type"] = "Poisson"
    path = tmp_path / "poisson.hs3.json"
    path.write_text(json.dumps(doc))
    result = run("hs3", "import", path)
    assert result.exit_code == 0, result.stderr
    lines = stderr_lines(result)
    assert lines and all(line.startswith("hfx: warning: ") for line in lines)
    assert any("Poisson constraint" in line for line in lines)
    assert json.loads(result.stdout)["channels"]
