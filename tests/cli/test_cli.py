"""The hfx command line through click's CliRunner: outputs, pipes via stdin, error contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import hfx
from hfx.interfaces.cli.main import cli
from hfx.spec.workspace import Workspace
from tests.cli.helpers import (
    DOC_DIGEST,
    PACKAGED_EXAMPLE,
    PYHF_INSPECT_KEYS,
    assert_one_line_error,
    doc_example,
    stderr_lines,
    write_json,
)
from tests.conftest import ATLAS_WS


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return write_json(tmp_path / "example.json", doc_example())


def run(runner: CliRunner, *args: str, input: str | None = None):
    return runner.invoke(cli, [str(a) for a in args], input=input)


def ok_json(result) -> object:
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return json.loads(result.stdout)


# --- global options ---------------------------------------------------------------------


def test_version(runner):
    result = run(runner, "--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"hfx {hfx.__version__}"


def test_help_lists_every_command(runner):
    result = run(runner, "--help")
    assert result.exit_code == 0
    for name in ("inspect", "prune", "rename", "combine", "digest", "sort", "patchset"):
        assert name in result.stdout
    result = run(runner, "patchset", "--help")
    for name in ("extract", "apply", "inspect", "verify"):
        assert name in result.stdout


# --- digest -----------------------------------------------------------------------------


def test_digest_of_doc_example(runner, example):
    result = run(runner, "digest", example)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"sha256:{DOC_DIGEST}\n"
    assert result.stderr == ""


@pytest.mark.skipif(not PACKAGED_EXAMPLE.is_file(), reason="packaged example not present yet")
def test_digest_of_packaged_example(runner):
    result = run(runner, "digest", PACKAGED_EXAMPLE)
    assert result.stdout == f"sha256:{DOC_DIGEST}\n"


def test_digest_reads_stdin(runner, example):
    text = example.read_text()
    assert run(runner, "digest", "-", input=text).stdout == f"sha256:{DOC_DIGEST}\n"
    # No argument means standard input too, as in pyhf.
    assert run(runner, "digest", input=text).stdout == f"sha256:{DOC_DIGEST}\n"


def test_digest_json_and_several_algorithms(runner, example):
    assert ok_json(run(runner, "digest", example, "--json")) == {"sha256": DOC_DIGEST}
    result = run(runner, "digest", example, "-a", "sha256", "-a", "md5")
    lines = result.stdout.splitlines()
    assert lines[0] == f"sha256:{DOC_DIGEST}"
    assert lines[1].startswith("md5:") and len(lines[1]) == 4 + 32


def test_digest_unknown_algorithm(runner, example):
    result = run(runner, "digest", example, "-a", "nope")
    assert_one_line_error(result, contains="unknown hash algorithm")


# --- inspect ----------------------------------------------------------------------------


def test_inspect_table_and_json(runner, example):
    result = run(runner, "inspect", example)
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    for word in (
        "singlechannel",
        "background",
        "signal",
        "uncorr_bkguncrt",
        "constrained_by_poisson",
        "unconstrained",
        "normfactor",
        "shapesys",
        "Measurement",
        "(*)",
    ):
        assert word in text
    assert all(line == line.rstrip() for line in text.splitlines())

    summary = ok_json(run(runner, "inspect", example, "--json"))
    assert set(summary) == PYHF_INSPECT_KEYS
    assert summary["channels"] == [["singlechannel", 2]]
    assert summary["samples"] == ["background", "signal"]
    assert summary["modifiers"] == {"mu": "normfactor", "uncorr_bkguncrt": "shapesys"}
    assert summary["parameters"] == [
        ["mu", "unconstrained"],
        ["uncorr_bkguncrt", "constrained_by_poisson"],
    ]
    assert summary["systematics"] == [
        ["mu", "unconstrained", ["normfactor"]],
        ["uncorr_bkguncrt", "constrained_by_poisson", ["shapesys"]],
    ]
    assert summary["measurements"] == [["Measurement", "mu", []]]


def test_inspect_output_file(runner, example, tmp_path):
    out = tmp_path / "summary.json"
    result = run(runner, "inspect", example, "--output-file", out)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    written = json.loads(out.read_text())
    assert set(written) == PYHF_INSPECT_KEYS
    assert written == ok_json(run(runner, "inspect", example, "--json"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["example.json", "summary.json"]


def test_inspect_measurement_selection(runner, tmp_path):
    spec = doc_example()
    spec["measurements"].append(
        {
            "name": "Other",
            "config": {"poi": "mu", "parameters": [{"name": "mu", "bounds": [[0, 5]]}]},
        }
    )
    path = write_json(tmp_path / "two.json", spec)
    result = run(runner, "inspect", path, "--measurement", "Other")
    assert result.exit_code == 0, result.stderr
    marked = [line for line in result.stdout.splitlines() if "(*)" in line]
    assert len(marked) == 1 and "Other" in marked[0]
    summary = ok_json(run(runner, "inspect", path, "--json"))
    assert summary["measurements"] == [["Measurement", "mu", []], ["Other", "mu", ["mu"]]]
    result = run(runner, "inspect", path, "--measurement", "nope")
    assert_one_line_error(result, names=str(path), contains="nope")


def _atlas(name: str) -> Path:
    path = ATLAS_WS / f"{name}.json"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    return path


def _patched(name: str, tmp_path: Path) -> Path:
    """The ATLAS workspace with its signal patch applied (by the jsonpatch package)."""
    import jsonpatch

    spec = json.loads(_atlas(name).read_text())
    ops = json.loads((ATLAS_WS / f"{name}.signal.json").read_text())
    return write_json(tmp_path / f"{name}.patched.json", jsonpatch.apply_patch(spec, ops))


def test_inspect_simplifiedA_matches_pyhf(runner, tmp_path):
    # What `pyhf inspect` prints for 2018-31_simplifiedA with its signal patch applied:
    # 3 channels of 3 bins, 2 samples, 3 parameters, 3 modifiers, one measurement.
    path = _patched("2018-31_simplifiedA", tmp_path)
    summary = ok_json(run(runner, "inspect", path, "--json"))
    assert summary["channels"] == [["CRtt_meff", 3], ["SR_meff", 3], ["VRtt_meff", 3]]
    assert summary["samples"] == ["Bkg", "signal"]
    assert summary["parameters"] == [
        ["mu_SIG", "unconstrained"],
        ["signal_theory", "constrained_by_normal"],
        ["totalError", "constrained_by_normal"],
    ]
    assert summary["modifiers"] == {
        "mu_SIG": "normfactor",
        "signal_theory": "normsys",
        "totalError": "histosys",
    }
    assert summary["systematics"] == [
        ["mu_SIG", "unconstrained", ["normfactor"]],
        ["signal_theory", "constrained_by_normal", ["normsys"]],
        ["totalError", "constrained_by_normal", ["histosys"]],
    ]
    assert summary["measurements"] == [["NormalMeasurement", "mu_SIG", ["lumi"]]]
    table = run(runner, "inspect", path).stdout
    counts = {}
    for line in table.splitlines():
        words = line.split()
        if len(words) == 2 and words[1].isdigit():
            counts.setdefault(words[0], int(words[1]))
    assert counts["channels"] == 3
    assert counts["samples"] == 2
    assert counts["parameters"] == 3
    assert counts["modifiers"] == 3


def test_inspect_background_only_without_poi(runner):
    # pyhf inspect fails here (the POI only comes with the signal patch); hfx says so on
    # stderr and shows the model without a POI.
    path = _atlas("2018-31_simplifiedA")
    result = run(runner, "inspect", path, "--json")
    summary = ok_json(result)
    assert summary["samples"] == ["Bkg"]
    assert summary["parameters"] == [["totalError", "constrained_by_normal"]]
    assert summary["measurements"] == [["NormalMeasurement", "mu_SIG", ["lumi"]]]
    warning = stderr_lines(result)
    assert len(warning) == 1 and "mu_SIG" in warning[0]
    assert "not a parameter of the model" in warning[0]
    assert warning[0].startswith("hfx: warning: ")
    table = run(runner, "inspect", path)
    assert "mu_SIG (absent)" in table.stdout


def test_inspect_large_workspace(runner):
    path = _atlas("2019-09_bkg_onshell")
    result = run(runner, "inspect", path, "--json")
    summary = ok_json(result)
    ws = Workspace.load(path)
    assert [c for c, _ in summary["channels"]] == list(ws.channels)
    assert summary["samples"] == list(ws.samples)
    assert len(summary["parameters"]) > 10


# --- prune, rename, combine, sort -------------------------------------------------------


def test_prune(runner, example, tmp_path):
    pruned = ok_json(run(runner, "prune", example, "--sample", "signal"))
    samples = [s["name"] for s in pruned["channels"][0]["samples"]]
    assert samples == ["background"]
    pruned = ok_json(run(runner, "prune", example, "-t", "shapesys"))
    mods = [m["name"] for s in pruned["channels"][0]["samples"] for m in s["modifiers"]]
    assert mods == ["mu"]
    pruned = ok_json(
        run(runner, "prune", example, "-m", "uncorr_bkguncrt", "-m", "mu", "-s", "signal")
    )
    assert pruned["channels"][0]["samples"] == [
        {"name": "background", "data": [50.0, 60.0], "modifiers": []}
    ]
    out = tmp_path / "pruned.json"
    result = run(runner, "prune", example, "--sample", "signal", "--output-file", out)
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(out.read_text()) == ok_json(
        run(runner, "prune", example, "--sample", "signal")
    )


def test_prune_bad_modifier_type(runner, example):
    result = run(runner, "prune", example, "-t", "nonsense")
    assert_one_line_error(result, contains="--modifier-type")


def test_prune_measurement_and_channel(runner, tmp_path):
    spec = doc_example()
    spec["measurements"].append({"name": "Other", "config": {"poi": "mu", "parameters": []}})
    path = write_json(tmp_path / "two.json", spec)
    pruned = ok_json(run(runner, "prune", path, "--measurement", "Measurement"))
    assert [m["name"] for m in pruned["measurements"]] == ["Other"]


def test_rename(runner, example):
    renamed = ok_json(
        run(
            runner,
            "rename",
            example,
            "-c",
            "singlechannel",
            "SR",
            "-s",
            "signal",
            "sig",
            "-m",
            "mu",
            "mu_SIG",
            "--measurement",
            "Measurement",
            "Meas",
        )
    )
    channel = renamed["channels"][0]
    assert channel["name"] == "SR"
    assert renamed["observations"][0]["name"] == "SR"
    assert {s["name"] for s in channel["samples"]} == {"sig", "background"}
    assert renamed["measurements"][0]["name"] == "Meas"
    assert renamed["measurements"][0]["config"]["poi"] == "mu_SIG"
    signal = next(s for s in channel["samples"] if s["name"] == "sig")
    assert signal["modifiers"][0]["name"] == "mu_SIG"


def test_rename_needs_pairs(runner, example):
    result = run(runner, "rename", example, "-c", "singlechannel")
    assert_one_line_error(result, contains="2 arguments")


def test_combine(runner, example, tmp_path):
    other = tmp_path / "other.json"
    result = run(
        runner,
        "rename",
        example,
        "-c",
        "singlechannel",
        "CR",
        "--measurement",
        "Measurement",
        "M2",
        "-o",
        other,
    )
    assert result.exit_code == 0, result.stderr
    combined = ok_json(run(runner, "combine", example, other))
    assert sorted(c["name"] for c in combined["channels"]) == ["CR", "singlechannel"]
    assert sorted(o["name"] for o in combined["observations"]) == ["CR", "singlechannel"]
    assert sorted(m["name"] for m in combined["measurements"]) == ["M2", "Measurement"]
    # identical workspaces combine under an outer join
    combined = ok_json(run(runner, "combine", example, example, "--join", "outer"))
    assert [c["name"] for c in combined["channels"]] == ["singlechannel"]


def test_combine_stdin_and_file(runner, example, tmp_path):
    other = tmp_path / "other.json"
    run(
        runner,
        "rename",
        example,
        "-c",
        "singlechannel",
        "CR",
        "--measurement",
        "Measurement",
        "M2",
        "-o",
        other,
    )
    combined = ok_json(run(runner, "combine", "-", other, input=example.read_text()))
    assert len(combined["channels"]) == 2


def test_combine_conflicting_channels(runner, example, tmp_path):
    out = tmp_path / "combined.json"
    result = run(runner, "combine", example, example, "--output-file", out)
    line = assert_one_line_error(result, contains="singlechannel")
    assert str(example) in line
    assert not out.exists()


def test_combine_bad_join(runner, example, tmp_path):
    out = tmp_path / "combined.json"
    result = run(runner, "combine", example, example, "--join", "inner", "--output-file", out)
    assert_one_line_error(result, names="hfx combine", contains="--join")
    assert not out.exists()


def test_combine_stdin_twice(runner, example):
    result = run(runner, "combine", "-", "-", input=example.read_text())
    assert_one_line_error(result, contains="only once")


def test_sort(runner, tmp_path):
    spec = doc_example()
    spec["channels"][0]["samples"].reverse()
    spec = {key: spec[key] for key in reversed(list(spec))}
    path = write_json(tmp_path / "shuffled.json", spec)
    result = run(runner, "sort", path)
    ordered = ok_json(result)
    assert [s["name"] for s in ordered["channels"][0]["samples"]] == ["background", "signal"]
    assert list(ordered) == sorted(ordered)
    assert list(ordered["channels"][0]["samples"][0]) == ["data", "modifiers", "name"]
    # the order of the input does not matter, and sorting is idempotent
    original = write_json(tmp_path / "original.json", doc_example())
    assert run(runner, "sort", original).stdout == result.stdout
    assert run(runner, "sort", "-", input=result.stdout).stdout == result.stdout


# --- the error contract -----------------------------------------------------------------

MALFORMED = "{not json"
SCHEMA_VIOLATION = {**doc_example(), "channels": "not a list"}

COMMANDS = [
    ("inspect",),
    ("prune", "--sample", "signal"),
    ("rename", "--sample", "signal", "sig"),
    ("digest",),
    ("sort",),
]


def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    bad = {
        "malformed": tmp_path / "malformed.json",
        "missing": tmp_path / "missing.json",
        "schema": tmp_path / "schema.json",
        "directory": tmp_path / "adir",
    }
    bad["malformed"].write_text(MALFORMED)
    write_json(bad["schema"], SCHEMA_VIOLATION)
    bad["directory"].mkdir()
    return bad


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("kind", ["malformed", "missing", "schema", "directory"])
def test_bad_input_is_one_line(runner, tmp_path, command, kind):
    path = _bad_inputs(tmp_path)[kind]
    out = tmp_path / "out.json"
    args = [command[0], path, *command[1:]]
    if command[0] not in ("digest",):
        args += ["--output-file", out]
    result = run(runner, *args)
    assert_one_line_error(result, names=str(path))
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.json")]


def test_malformed_stdin_names_stdin(runner):
    result = run(runner, "digest", "-", input=MALFORMED)
    assert_one_line_error(result, names="<stdin>", contains="line 1")


def test_schema_violation_names_pointer(runner, tmp_path):
    path = write_json(tmp_path / "schema.json", SCHEMA_VIOLATION)
    line = assert_one_line_error(run(runner, "sort", path), names=str(path))
    assert "/channels" in line


def test_semantic_violation(runner, tmp_path):
    spec = doc_example()
    spec["observations"][0]["data"] = [1.0, 2.0, 3.0]  # 3 bins observed in a 2-bin channel
    path = write_json(tmp_path / "bins.json", spec)
    assert_one_line_error(run(runner, "digest", path), names=str(path))


def test_output_into_missing_directory(runner, example, tmp_path):
    out = tmp_path / "nowhere" / "out.json"
    result = run(runner, "sort", example, "--output-file", out)
    assert_one_line_error(result, contains="nowhere")
    assert not out.parent.exists()


def test_output_file_dash_is_stdout(runner, example):
    assert ok_json(run(runner, "sort", example, "-o", "-"))["version"] == "1.0.0"


def test_existing_output_file_untouched_on_error(runner, tmp_path):
    path = _bad_inputs(tmp_path)["malformed"]
    out = tmp_path / "out.json"
    out.write_text("keep me")
    assert_one_line_error(run(runner, "sort", path, "--output-file", out))
    assert out.read_text() == "keep me"


def test_debug_shows_traceback(runner, tmp_path):
    path = _bad_inputs(tmp_path)["malformed"]
    result = run(runner, "--debug", "digest", path)
    assert result.exit_code == 2
    assert "Traceback" in result.stderr
    assert "SpecError" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1].startswith(f"hfx: error: {path}")


def test_debug_from_environment(tmp_path):
    path = _bad_inputs(tmp_path)["missing"]
    result = CliRunner(env={"HFX_DEBUG": "1"}).invoke(cli, ["digest", str(path)])
    assert result.exit_code == 2
    assert "Traceback" in result.stderr


def test_unknown_command_is_one_line(runner):
    result = run(runner, "frobnicate")
    assert_one_line_error(result, contains="frobnicate")
