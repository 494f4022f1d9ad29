"""hfx scan at the command line: JSON lines, resumable output, one-line errors, and whole
lines after SIGINT, SIGTERM or kill -9 on the real 117-point grid."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from click.testing import CliRunner

from hfx.interfaces.cli.main import cli
from tests.cli.helpers import assert_one_line_error, write_json
from tests.conftest import ATLAS_WS, SHARED

from .conftest import BKG, patchset_spec

PATCHSETS = SHARED / "patchsets"


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_records_stream_to_stdout_one_json_line_per_point(grid_files):
    bkg, ps = grid_files
    result = _run("scan", bkg, ps, "--workers", 1)
    assert result.exit_code == 0, result.stderr
    records = _lines(result.stdout)
    assert [r["name"] for r in records] == [
        e["metadata"]["name"] for e in patchset_spec()["patches"]
    ]
    assert all(r["status"] == "ok" and len(r["CLs_exp"]) == 5 for r in records)
    assert "upper_limit" not in records[0]


def test_output_file_resumes_and_the_pallet_folder_alone_works(grid_files):
    bkg, ps = grid_files
    out = bkg.parent.parent / "scan.jsonl"
    first = _run("scan", bkg, ps, "-o", out, "--workers", 2, "--upper-limit")
    assert first.exit_code == 0, first.stderr
    assert first.stdout == ""
    assert "11 computed, 0 done before, 0 failed" in first.stderr
    again = _run("scan", bkg.parent, "-o", out, "--workers", 1, "--upper-limit")
    assert again.exit_code == 0, again.stderr
    assert "0 computed, 11 done before" in again.stderr
    records = _lines(out.read_text())
    assert len(records) == 11 and all("upper_limit" in r for r in records)


def test_a_failing_point_gives_exit_status_1_and_the_others_are_written(tmp_path):
    spec = patchset_spec()
    spec["patches"][0]["patch"][0]["value"]["data"] = [1.0]
    bkg = write_json(tmp_path / "bkg.json", BKG)
    ps = write_json(tmp_path / "ps.json", spec)
    result = _run("scan", bkg, ps, "--workers", 1)
    assert result.exit_code == 1
    records = _lines(result.stdout)
    assert [r["status"] for r in records].count("failed") == 1
    assert "1 of 11 points failed" in result.stderr


def test_a_patchset_of_another_workspace_is_one_line_unless_no_verify(tmp_path):
    spec = patchset_spec()
    spec["metadata"]["digests"]["sha256"] = "0" * 64
    bkg = write_json(tmp_path / "bkg.json", BKG)
    ps = write_json(tmp_path / "ps.json", spec)
    out = tmp_path / "scan.jsonl"
    result = _run("scan", bkg, ps, "-o", out)
    assert_one_line_error(result, names=str(ps), contains="--no-verify")
    assert not out.exists()
    assert _run("scan", bkg, ps, "--no-verify", "--workers", 1).exit_code == 0


@pytest.mark.parametrize(
    ("change", "contains"),
    [
        (lambda s: s["patches"].append(s["patches"][0]), "p_300_0"),
        (lambda s: s["patches"][1]["metadata"].update(values=[400]), "2 labels"),
        (lambda s: s.update(patches=[]), "patches"),
    ],
    ids=["duplicate-names", "values-vs-labels", "empty"],
)
def test_bad_patchsets_are_one_line_errors(tmp_path, change, contains):
    spec = patchset_spec()
    change(spec)
    bkg = write_json(tmp_path / "bkg.json", BKG)
    ps = write_json(tmp_path / "ps.json", spec)
    assert_one_line_error(_run("scan", bkg, ps), names=str(ps), contains=contains)


def test_an_unreachable_scheduler_is_one_line(grid_files):
    pytest.importorskip("distributed")
    bkg, ps = grid_files
    result = _run("scan", bkg, ps, "--scheduler", "tcp://127.0.0.1:9", "--scheduler-timeout", 1)
    assert_one_line_error(result, contains="cannot connect to the scheduler at tcp://127.0.0.1:9")


def test_output_must_not_be_an_input(grid_files):
    bkg, ps = grid_files
    result = _run("scan", bkg, ps, "-o", ps)
    assert_one_line_error(result, contains="refusing to write")


def test_the_dask_executor_on_a_local_cluster(grid_files):
    pytest.importorskip("distributed")
    bkg, ps = grid_files
    serial = _lines(_run("scan", bkg, ps, "--workers", 1).stdout)
    result = _run("scan", bkg, ps, "--executor", "dask", "--workers", 2)
    assert result.exit_code == 0, result.stderr
    by_name = {r["name"]: r for r in _lines(result.stdout)}
    for record in serial:
        np.testing.assert_allclose(
            by_name[record["name"]]["CLs_obs"], record["CLs_obs"], rtol=1e-12
        )


# --- the real grid: the same numbers as `hfx cls --patch`, and interrupts ----------------------

needs_grid = pytest.mark.skipif(
    not (PATCHSETS / "2018-31_BkgOnlyA.patchset.json").is_file(), reason="no shared patchsets"
)
BKG_A = ATLAS_WS / "2018-31_BkgOnlyA.json"
GRID_A = PATCHSETS / "2018-31_BkgOnlyA.patchset.json"


@needs_grid
def test_points_of_the_real_grid_equal_hfx_cls_on_the_extracted_patch(tmp_path):
    result = _run("scan", BKG_A, GRID_A, "--workers", 2)
    assert result.exit_code == 0, result.stderr
    records = {r["name"]: r for r in _lines(result.stdout)}
    assert len(records) == 117
    for name in ("grid_300_0", "grid_700_200", "grid_900_300", "grid_1300_1200"):
        patch = tmp_path / f"{name}.json"
        extracted = _run("patchset", "extract", GRID_A, "--name", name, "-o", patch)
        assert extracted.exit_code == 0
        alone = json.loads(_run("cls", BKG_A, "--patch", patch).stdout)
        np.testing.assert_allclose(records[name]["CLs_obs"], alone["CLs_obs"], rtol=1e-8)
        np.testing.assert_allclose(records[name]["CLs_exp"], alone["CLs_exp"], rtol=1e-8)


def _start(out, *extra):
    return subprocess.Popen(
        [sys.executable, "-m", "hfx", "scan", str(BKG_A), str(GRID_A), "-o", str(out), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_lines(out, count, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if out.exists() and out.read_text().count("\n") >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} lines in {out} after {timeout} s")


@needs_grid
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=str)
def test_an_interrupted_scan_leaves_whole_lines_and_a_rerun_finishes_it(tmp_path, sig):
    out = tmp_path / "scan.jsonl"
    # single-point tasks (~60 ms each, ~4 s in all): the signal lands mid-scan
    proc = _start(out, "--chunk-size", "1", "--workers", "2")
    _wait_for_lines(out, 3)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=30)
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 130 and stderr.strip().endswith("hfx: interrupted"), stderr
    text = out.read_text()
    assert text.endswith("\n")
    done = [json.loads(line) for line in text.splitlines()]  # every line whole
    assert 3 <= len(done) < 117
    time.sleep(0.2)  # the workers die with their parent (kill -9 included)
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(out) not in ps
    rerun = _start(out, "--workers", "2")
    _, stderr = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, stderr
    assert f"{117 - len(done)} computed, {len(done)} done before" in stderr
    final = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(final) == 117 and all(r["status"] == "ok" for r in final)
    kept = {r["name"]: r for r in final}
    for record in done:  # the records done before were kept as they were
        assert kept[record["name"]] == record
