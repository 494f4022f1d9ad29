"""Inputs and checks shared by the CLI tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from click.testing import Result

# pyhf's documentation example (docs/examples/json/2-bin_1-channel.json), whose digest
# pyhf prints as sha256:dad8822a...; written out here so the tests need nothing else.
DOC_EXAMPLE = {
    "channels": [
        {
            "name": "singlechannel",
            "samples": [
                {
                    "name": "signal",
                    "data": [5.0, 10.0],
                    "modifiers": [{"name": "mu", "type": "normfactor", "data": None}],
                },
                {
                    "name": "background",
                    "data": [50.0, 60.0],
                    "modifiers": [
                        {"name": "uncorr_bkguncrt", "type": "shapesys", "data": [5.0, 12.0]}
                    ],
                },
            ],
        }
    ],
    "observations": [{"name": "singlechannel", "data": [50.0, 60.0]}],
    "measurements": [{"name": "Measurement", "config": {"poi": "mu", "parameters": []}}],
    "version": "1.0.0",
}
DOC_DIGEST = "dad8822af55205d60152cbe4303929042dbd9d4839012e055e7c6b6459d68d73"

PACKAGED_EXAMPLE = (
    Path(__file__).resolve().parents[2]
    / "src"
    / "hfx"
    / "data"
    / "examples"
    / "2-bin_1-channel.json"
)

# The keys `pyhf inspect --output-file` writes.
PYHF_INSPECT_KEYS = {
    "channels",
    "samples",
    "modifiers",
    "parameters",
    "systematics",
    "measurements",
}


def doc_example() -> dict:
    return copy.deepcopy(DOC_EXAMPLE)


def write_json(path: Path, obj: object) -> Path:
    path.write_text(json.dumps(obj, indent=1))
    return path


def stderr_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


def assert_one_line_error(
    result: Result, *, names: str | None = None, contains: str | None = None
) -> str:
    """Exit status 2, one line ``hfx: error: ...`` on stderr, no traceback, nothing on stdout."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr, result.exception)
    lines = stderr_lines(result)
    assert len(lines) == 1, lines
    line = lines[0]
    assert line.startswith("hfx: error: "), line
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    if names is not None:
        assert line.startswith(f"hfx: error: {names}"), line
    if contains is not None:
        assert contains in line, line
    return line
