"""Real processes: the installed ``hfx`` script and ``python -m hfx``, chained through pipes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hfx.spec.workspace import Workspace
from tests.cli.helpers import DOC_DIGEST, doc_example, write_json
from tests.conftest import ATLAS_WS

_SCRIPT = Path(sys.executable).with_name("hfx")
SCRIPT = str(_SCRIPT) if _SCRIPT.is_file() else shutil.which("hfx")
MODULE = [sys.executable, "-m", "hfx"]
TIMEOUT = 120


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("HFX_DEBUG", None)
    return env


def hfx(
    *args: object, input: bytes | None = None, via: str = "module"
) -> subprocess.CompletedProcess:
    if via == "script":
        if SCRIPT is None:
            pytest.skip("the hfx console script is not installed")
        command = [SCRIPT]
    else:
        command = list(MODULE)
    return subprocess.run(
        [*command, *map(str, args)],
        input=input,
        capture_output=True,
        timeout=TIMEOUT,
        env=_env(),
        check=False,
    )


def pipe(*commands: list[object]) -> tuple[bytes, list[int], list[bytes]]:
    """Run ``hfx`` commands connected stdout → stdin like a shell pipeline."""
    procs: list[subprocess.Popen] = []
    previous = None
    for args in commands:
        proc = subprocess.Popen(
            [*MODULE, *map(str, args)],
            stdin=previous.stdout if previous is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=_env(),
        )
        if previous is not None:
            previous.stdout.close()  # the next process owns the read end now
        procs.append(proc)
        previous = proc
    out, err_last = procs[-1].communicate(timeout=TIMEOUT)
    errors = []
    for proc in procs[:-1]:
        proc.wait(timeout=TIMEOUT)
        errors.append(proc.stderr.read())
        proc.stderr.close()
    errors.append(err_last)
    return out, [p.returncode for p in procs], errors


@pytest.fixture
def example(tmp_path: Path) -> Path:
    return write_json(tmp_path / "example.json", doc_example())


def test_script_digest(example):
    result = hfx("digest", example, via="script")
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode() == f"sha256:{DOC_DIGEST}\n"
    assert result.stderr == b""


def test_script_version():
    result = hfx("--version", via="script")
    assert result.returncode == 0
    assert result.stdout.decode().startswith("hfx ")


def test_stdin_without_argument(example):
    result = hfx("digest", input=example.read_bytes())
    assert result.stdout.decode() == f"sha256:{DOC_DIGEST}\n"


def test_prune_pipes_into_digest(example, tmp_path):
    out, codes, errors = pipe(["prune", example, "--sample", "signal"], ["digest", "-"])
    assert codes == [0, 0], errors
    expected = Workspace.load(example).prune(samples=["signal"]).digest()
    assert out.decode() == f"sha256:{expected}\n"
    assert all(err == b"" for err in errors)


def test_three_stage_pipe(example):
    out, codes, errors = pipe(
        ["rename", example, "--sample", "signal", "sig"],
        ["prune", "-", "--modifier-type", "shapesys"],
        ["sort", "-"],
    )
    assert codes == [0, 0, 0], errors
    spec = json.loads(out)
    samples = spec["channels"][0]["samples"]
    assert [s["name"] for s in samples] == ["background", "sig"]
    assert samples[0]["modifiers"] == []


def test_error_in_pipe_is_one_line(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    out, codes, errors = pipe(["sort", bad], ["digest", "-"])
    assert codes[0] == 2
    lines = errors[0].decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"hfx: error: {bad}: malformed JSON")
    # the next stage sees empty input and reports that, also in one line
    assert codes[1] == 2
    assert len(errors[1].decode().splitlines()) == 1
    assert out == b""


def test_missing_file_via_script(tmp_path):
    missing = tmp_path / "missing.json"
    result = hfx("inspect", missing, via="script")
    assert result.returncode == 2
    assert result.stdout == b""
    assert result.stderr.decode() == f"hfx: error: {missing}: no such file\n"


def test_debug_traceback_via_script(tmp_path):
    missing = tmp_path / "missing.json"
    result = hfx("--debug", "digest", missing, via="script")
    assert result.returncode == 2
    err = result.stderr.decode()
    assert "Traceback (most recent call last)" in err
    assert err.splitlines()[-1] == f"hfx: error: {missing}: no such file"


def test_output_file_is_atomic(example, tmp_path):
    out = tmp_path / "sorted.json"
    result = hfx("sort", example, "--output-file", out)
    assert result.returncode == 0 and result.stdout == b""
    assert json.loads(out.read_text())["version"] == "1.0.0"
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    result = hfx("sort", bad, "--output-file", tmp_path / "never.json")
    assert result.returncode == 2
    assert not (tmp_path / "never.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json", "example.json", "sorted.json"]


def test_closed_pipe_is_quiet():
    # `hfx sort big.json | head -c 100`: the reader goes away early; no traceback.
    path = ATLAS_WS / "2019-09_bkg_onshell.json"
    if not path.is_file():
        pytest.skip(f"{path} not present")
    proc = subprocess.Popen(
        [*MODULE, "sort", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env()
    )
    head = proc.stdout.read(100)
    proc.stdout.close()
    err = proc.stderr.read()
    proc.stderr.close()
    proc.wait(timeout=TIMEOUT)
    assert head.startswith(b"{")
    assert b"Traceback" not in err
