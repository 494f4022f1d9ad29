"""Reliability edges of the command line: POI outside its bounds, Ctrl-C, output paths and
normsys factors the interpolation cannot take."""

from __future__ import annotations

import json
import math
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import hfx
from hfx.compat import pyhf as pyhf_facade
from hfx.infer.hypotest import PoiOutOfBoundsError
from hfx.interfaces.cli.main import cli
from tests.cli.helpers import assert_one_line_error, doc_example, stderr_lines, write_json
from tests.conftest import ATLAS_WS, needs_shared


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def run(runner: CliRunner, *args: object):
    return runner.invoke(cli, [str(a) for a in args])


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return write_json(tmp_path / "example.json", doc_example())


# --- 2: a tested POI outside the POI bounds is refused ----------------------------------------


def test_test_poi_outside_bounds_is_refused(runner, example):
    ws = hfx.Workspace(doc_example())
    model = ws.model()
    data = ws.data(model)
    assert tuple(model.config.suggested_bounds()[model.config.poi_index]) == (0.0, 10.0)

    # the library: hypotest, upper_limit on a grid leaving the bounds
    for poi in (1e6, -1.0, 10.5, math.nan):
        with pytest.raises(PoiOutOfBoundsError, match="'mu'") as info:
            hfx.hypotest(model, data, poi)
        assert isinstance(info.value, hfx.ModelError) and isinstance(info.value, ValueError)
        if not math.isnan(poi):
            assert "[0, 10]" in str(info.value) and f"{poi:g}" in str(info.value)
    with pytest.raises(PoiOutOfBoundsError, match=r"scan point 20 .*\[0, 10\]"):
        hfx.upper_limit(model, data, scan=np.linspace(0, 20, 3))
    # inside the bounds (both ends included) and the discovery test at 0 still run
    for poi in (0.0, 10.0):
        assert 0.0 <= hfx.hypotest(model, data, poi).cls <= 1.0
    assert math.isfinite(hfx.significance(model, data).p0_obs)

    # the pyhf facade raises a ValueError, as pyhf 0.7.6's fits do
    pdf = pyhf_facade.Workspace(doc_example()).model()
    pdata = pyhf_facade.Workspace(doc_example()).data(pdf)
    with pytest.raises(ValueError, match="outside the bounds"):
        pyhf_facade.infer.hypotest(1e6, pdata, pdf)
    with pytest.raises(ValueError, match="outside the bounds"):
        pyhf_facade.infer.intervals.upper_limits.upper_limit(pdata, pdf, [0.0, 5.0, 20.0])

    # the command line: one line naming the POI, the value and the bounds
    for value in ("1e6", "-1"):
        line = assert_one_line_error(run(runner, "cls", example, "--test-poi", value))
        assert "'mu'" in line and "[0, 10]" in line and f"{float(value):g}" in line
    line = assert_one_line_error(run(runner, "upper-limit", example, "--scan", 0, 20, 3))
    assert "'mu'" in line and "[0, 10]" in line
    assert run(runner, "cls", example, "--test-poi", 10).exit_code == 0


# --- 4: Ctrl-C ends every command with one line and exit status 130 ------------------------------

_HFX_SCRIPT = Path(sys.executable).with_name("hfx")


def _interrupt(command: list[str], delay: float) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "HFX_DEBUG"}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(command, proc.returncode, out, err)


# the package files Python runs before the command's entry module, which installs the
# handler as its first statement
_BEFORE_ENTRY = (
    "hfx/__init__.py",
    "hfx/errors.py",
    "hfx/interfaces/__init__.py",
    "hfx/interfaces/cli/__init__.py",
)


def _before_the_handler(stderr: bytes) -> bool:
    """Whether Python's own KeyboardInterrupt ended the process before hfx's handler was in
    place: every hfx frame of the traceback lies in the packages Python imports before the
    command's entry module (or there is none: the launcher's import line)."""
    text = stderr.decode()
    frames = [line for line in text.splitlines() if line.strip().startswith("File ")]
    hfx_frames = [f for f in frames if "/src/hfx/" in f or "site-packages/hfx/" in f]
    return text.rstrip().endswith("KeyboardInterrupt") and all(
        any(f'{name}"' in frame for name in _BEFORE_ENTRY) for frame in hfx_frames
    )


@needs_shared()
def test_ctrl_c_ends_with_one_line_and_status_130(tmp_path):
    ws = str(ATLAS_WS / "2018-31_BkgOnlyA.json")
    patch = str(ATLAS_WS / "2018-31_BkgOnlyA.signal.json")
    output = tmp_path / "limit.json"
    output.write_text("previous result\n")
    # a long computation (minutes of toys), its output to a file
    toys = ["--calctype", "toybased", "--ntoys", "200000"]
    long_run = ["cls", ws, "-p", patch, *toys, "-o", str(output)]
    module = [sys.executable, "-m", "hfx"]
    script = [str(_HFX_SCRIPT)] if _HFX_SCRIPT.is_file() else module
    cases = [
        (script, ["--version"], 0.05),  # during start-up (about 0.1 s)
        (module, ["inspect", ws], 0.1),
        (script, long_run, 0.6),
        (script, long_run, 4.0),  # inside the computation
        (module, ["upper-limit", ws, "-p", patch, *toys], 3.0),
    ]
    for command, args, delay in cases:
        done = _interrupt(command + args, delay)
        what = (args[0], delay, done.returncode, done.stdout[-300:], done.stderr[-2000:])
        if args[0] in ("--version", "inspect") and done.returncode == 0:
            continue  # a short command finished before the signal: nothing to check
        if delay < 0.1 and _before_the_handler(done.stderr):
            continue  # on a loaded machine the signal came before hfx could handle it
        assert done.returncode == 130, what
        lines = done.stderr.decode().splitlines()
        # (a warning about the input may come first when the interrupt arrives after loading)
        assert lines[-1:] == ["hfx: interrupted"], what
        assert all(line.startswith("hfx: warning: ") for line in lines[:-1]), what
        assert done.stdout == b"", what
    assert output.read_text() == "previous result\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["limit.json"]  # no temporary file


# --- 5: outputs never replace an input, errors name the path given, modes follow the umask -----


def test_output_paths(runner, example, tmp_path):
    original = example.read_text()
    line = assert_one_line_error(run(runner, "inspect", example, "--output-file", example))
    assert line.startswith(f"hfx: error: {example}: ") and "input" in line
    link = tmp_path / "link.json"
    link.symlink_to(example.name)
    for args in (
        ("sort", link, "-o", example),
        ("sort", example, "-o", link),
        ("prune", example, "--sample", "signal", "-o", link),
        ("cls", example, "-p", _write_patch(tmp_path), "-o", tmp_path / "patch.json"),
    ):
        assert_one_line_error(run(runner, *args), contains="input")
    assert example.read_text() == original and link.is_symlink()

    # an output that cannot be written: the message names the path given, no temporary file
    for target in (tmp_path / "missing" / "out.json", example / "out.json"):
        assert_one_line_error(run(runner, "sort", example, "-o", target), names=f"{target}: ")
    if os.geteuid() != 0:  # root writes anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        try:
            line = assert_one_line_error(
                run(runner, "sort", example, "-o", locked / "out.json"),
                names=f"{locked / 'out.json'}: ",
            )
            assert ".tmp" not in line
        finally:
            locked.chmod(0o700)

    # new files get 0o666 less the umask, as open() gives; a replaced file keeps its mode
    previous = os.umask(0o027)
    try:
        assert run(runner, "sort", example, "-o", tmp_path / "sorted.json").exit_code == 0
        assert run(runner, "inspect", example, "-o", tmp_path / "summary.json").exit_code == 0
        (tmp_path / "kept.json").write_text("{}")
        (tmp_path / "kept.json").chmod(0o664)
        assert run(runner, "sort", example, "-o", tmp_path / "kept.json").exit_code == 0
        xml_dir = tmp_path / "xml"
        xml = run(runner, "json2xml", example, "--output-dir", xml_dir)
    finally:
        os.umask(previous)
    assert _mode(tmp_path / "sorted.json") == 0o640
    assert _mode(tmp_path / "summary.json") == 0o640
    assert _mode(tmp_path / "kept.json") == 0o664
    if xml.exit_code == 0:  # needs the xml extra
        assert _mode(xml_dir) == 0o750
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]


def _write_patch(tmp_path: Path) -> Path:
    return write_json(
        tmp_path / "patch.json", [{"op": "replace", "path": "/version", "value": "1.0.0"}]
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# --- 6: a normsys with hi = lo = 0: the same one-line error from inspect and cls ---------------


def test_normsys_zero_factors_rejected_alike(runner, tmp_path):
    spec = doc_example()
    background = spec["channels"][0]["samples"][1]
    background["modifiers"].append(
        {"name": "ns", "type": "normsys", "data": {"hi": 0.0, "lo": 0.0}}
    )
    path = write_json(tmp_path / "ns0.json", spec)
    lines = set()
    for command in ("inspect", "cls", "fit"):
        result = run(runner, command, path)
        line = assert_one_line_error(result, names=f"{path}: /channels/0/samples/1/modifiers/1")
        assert "encountered" not in result.stderr  # no raw NumPy warning
        lines.add(line)
    assert len(lines) == 1, lines
    assert "'ns'" in lines.pop()
    # one factor at 0 is as bad; positive factors (even far from 1) are fine
    background["modifiers"][-1]["data"] = {"hi": 1.2, "lo": 0.0}
    assert_one_line_error(run(runner, "inspect", write_json(path, spec)), contains="'ns'")
    background["modifiers"][-1]["data"] = {"hi": 3.0, "lo": 0.01}
    result = run(runner, "inspect", "--json", write_json(path, spec))
    assert result.exit_code == 0 and stderr_lines(result) == [], result.stderr
    assert json.loads(result.stdout)["modifiers"]["ns"] == "normsys"


@needs_shared()
def test_fixed_poi_outside_bounds_is_refused():
    bkg = ATLAS_WS / "2018-31_simplifiedA.json"
    sig = ATLAS_WS / "2018-31_simplifiedA.signal.json"
    r = CliRunner().invoke(cli, ["fit", str(bkg), "--patch", str(sig), "--fixed-poi", "1e6"])
    assert r.exit_code == 2
    assert "--fixed-poi 1e+06 lies outside the bounds" in r.output
    ws = pyhf_facade.Workspace(json.loads(bkg.read_text()))
    model = ws.model(patches=[json.loads(sig.read_text())])
    with pytest.raises(PoiOutOfBoundsError):
        pyhf_facade.infer.mle.fixed_poi_fit(1e6, ws.data(model), model)
    with pytest.raises(ValueError, match="outside its bounds"):
        pyhf_facade.infer.mle.fixed_poi_fit(-1.0, ws.data(model), model)
