"""``hfx patchset extract|apply|inspect|verify`` on a patchset built from an ATLAS workspace."""

from __future__ import annotations

import json
from pathlib import Path

import jsonpatch
import pytest
from click.testing import CliRunner

from hfx.interfaces.cli.main import cli
from hfx.spec.workspace import Workspace
from tests.cli.helpers import assert_one_line_error, write_json
from tests.conftest import ATLAS_WS

NAME = "2018-31_simplifiedA"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def bkg() -> Path:
    path = ATLAS_WS / f"{NAME}.json"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    return path


@pytest.fixture
def signal_ops(bkg: Path) -> list:
    return json.loads((ATLAS_WS / f"{NAME}.signal.json").read_text())


def _second_patch(ops: list) -> list:
    """The signal patch with other yields: a second point of the signal grid."""
    ops = json.loads(json.dumps(ops))
    for op in ops:
        value = op.get("value")
        if isinstance(value, dict) and "data" in value:
            value["data"] = [2 * x for x in value["data"]]
    return ops


def make_patchset(bkg: Path, ops: list, *, digest: str | None = None) -> dict:
    return {
        "metadata": {
            "name": "simplifiedA_grid",
            "description": "signal grid for the simplified likelihood",
            "digests": {"sha256": digest or Workspace.load(bkg).digest()},
            "labels": ["m_gluino", "m_lsp"],
            "references": {"hepdata": "ins1234567"},
        },
        "patches": [
            {"metadata": {"name": "point_1", "values": [1200, 100]}, "patch": ops},
            {"metadata": {"name": "point_2", "values": [1400.5, 200]}, "patch": _second_patch(ops)},
        ],
        "version": "1.0.0",
    }


@pytest.fixture
def patchset(tmp_path: Path, bkg: Path, signal_ops: list) -> Path:
    return write_json(tmp_path / "patchset.json", make_patchset(bkg, signal_ops))


def run(runner: CliRunner, *args: object, input: str | None = None):
    return runner.invoke(cli, [str(a) for a in args], input=input)


def ok(result):
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result


# --- extract ----------------------------------------------------------------------------


def test_extract(runner, patchset, signal_ops, tmp_path):
    result = ok(run(runner, "patchset", "extract", patchset, "--name", "point_1"))
    assert json.loads(result.stdout) == signal_ops
    result = ok(
        run(runner, "patchset", "extract", patchset, "--name", "point_2", "--with-metadata")
    )
    doc = json.loads(result.stdout)
    assert doc["metadata"]["name"] == "point_2"
    assert doc["metadata"]["values"] == [1400.5, 200]
    assert doc["patch"] == _second_patch(signal_ops)
    out = tmp_path / "patch.json"
    result = ok(run(runner, "patchset", "extract", patchset, "--name", "point_1", "-o", out))
    assert result.stdout == ""
    assert json.loads(out.read_text()) == signal_ops


def test_extract_from_stdin(runner, patchset, signal_ops):
    result = ok(
        run(runner, "patchset", "extract", "-", "--name", "point_1", input=patchset.read_text())
    )
    assert json.loads(result.stdout) == signal_ops


def test_extract_unknown_name(runner, patchset, tmp_path):
    out = tmp_path / "patch.json"
    result = run(runner, "patchset", "extract", patchset, "--name", "nope", "-o", out)
    line = assert_one_line_error(result, contains="nope")
    assert str(patchset) in line
    assert not out.exists()


# --- apply ------------------------------------------------------------------------------


def test_apply(runner, bkg, patchset, signal_ops, tmp_path):
    expected = jsonpatch.apply_patch(json.loads(bkg.read_text()), signal_ops)
    result = ok(run(runner, "patchset", "apply", bkg, patchset, "--name", "point_1"))
    assert json.loads(result.stdout) == expected
    # the workspace may come from stdin
    result = ok(
        run(runner, "patchset", "apply", "-", patchset, "--name", "point_1", input=bkg.read_text())
    )
    assert json.loads(result.stdout) == expected
    # the patched workspace has its POI, so inspect shows it without complaint
    out = tmp_path / "signal.json"
    ok(run(runner, "patchset", "apply", bkg, patchset, "--name", "point_2", "--output-file", out))
    summary = json.loads(ok(run(runner, "inspect", out, "--json")).stdout)
    assert summary["samples"] == ["Bkg", "signal"]
    assert ["mu_SIG", "unconstrained"] in summary["parameters"]


def test_apply_to_wrong_workspace(runner, patchset, tmp_path):
    other = ATLAS_WS / "2018-31_BkgOnlyA.json"
    if not other.is_file():
        pytest.skip(f"{other} not present")
    out = tmp_path / "patched.json"
    result = run(runner, "patchset", "apply", other, patchset, "--name", "point_1", "-o", out)
    assert_one_line_error(result)
    assert not out.exists()


def test_apply_unknown_name(runner, bkg, patchset):
    assert_one_line_error(
        run(runner, "patchset", "apply", bkg, patchset, "--name", "nope"), contains="nope"
    )


def test_apply_requires_name(runner, bkg, patchset):
    assert_one_line_error(run(runner, "patchset", "apply", bkg, patchset), contains="--name")


# --- verify -----------------------------------------------------------------------------


def test_verify(runner, bkg, patchset):
    digest = Workspace.load(bkg).digest()
    result = ok(run(runner, "patchset", "verify", bkg, patchset))
    assert "verified" in result.stdout
    assert f"sha256:{digest}" in result.stdout
    assert result.stderr == ""


def test_verify_digest_mismatch(runner, bkg, signal_ops, tmp_path):
    wrong = write_json(tmp_path / "wrong.json", make_patchset(bkg, signal_ops, digest="0" * 64))
    line = assert_one_line_error(run(runner, "patchset", "verify", bkg, wrong))
    assert str(wrong) in line or str(bkg) in line
    result = run(
        runner, "patchset", "apply", bkg, wrong, "--name", "point_1", "-o", tmp_path / "x.json"
    )
    assert_one_line_error(result)
    assert not (tmp_path / "x.json").exists()


def test_verify_other_workspace(runner, patchset):
    other = ATLAS_WS / "2018-31_BkgOnlyA.json"
    if not other.is_file():
        pytest.skip(f"{other} not present")
    assert_one_line_error(run(runner, "patchset", "verify", other, patchset))


# --- inspect ----------------------------------------------------------------------------


def test_inspect(runner, bkg, patchset):
    digest = Workspace.load(bkg).digest()
    text = ok(run(runner, "patchset", "inspect", patchset)).stdout
    for word in (
        "simplifiedA_grid",
        "signal grid for the simplified likelihood",
        "m_gluino",
        "m_lsp",
        f"sha256:{digest}",
        "point_1",
        "point_2",
        "1200",
        "1400.5",
        "2 patches",
    ):
        assert word in text, word
    assert all(line == line.rstrip() for line in text.splitlines())
    summary = json.loads(ok(run(runner, "patchset", "inspect", patchset, "--json")).stdout)
    assert summary["name"] == "simplifiedA_grid"
    assert summary["description"] == "signal grid for the simplified likelihood"
    assert summary["labels"] == ["m_gluino", "m_lsp"]
    assert summary["digests"] == {"sha256": digest}
    assert summary["patches"] == [
        {"name": "point_1", "values": [1200, 100]},
        {"name": "point_2", "values": [1400.5, 200]},
    ]


# --- bad patchsets ----------------------------------------------------------------------


def test_malformed_patchset(runner, tmp_path):
    path = tmp_path / "ps.json"
    path.write_text('{"metadata": ')
    assert_one_line_error(
        run(runner, "patchset", "inspect", path), names=str(path), contains="JSON"
    )


def test_schema_violating_patchset(runner, bkg, signal_ops, tmp_path):
    doc = make_patchset(bkg, signal_ops)
    del doc["metadata"]["labels"]
    path = write_json(tmp_path / "ps.json", doc)
    assert_one_line_error(
        run(runner, "patchset", "extract", path, "--name", "point_1"), names=str(path)
    )


def test_missing_patchset(runner, bkg, tmp_path):
    path = tmp_path / "missing.json"
    assert_one_line_error(run(runner, "patchset", "verify", bkg, path), names=str(path))
