"""hfx ranking: the library's ranking as JSON, --top, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import hfx
from hfx.interfaces.cli.main import cli
from hfx.optimize.engines import engine_for_one_task
from tests.cli.helpers import assert_one_line_error
from tests.conftest import ATLAS_WS

NAME = "2018-14_Comb_bkgonly"


@pytest.fixture(scope="module")
def files():
    if not ATLAS_WS.is_dir():
        pytest.skip("../shared/data not present")
    return str(ATLAS_WS / f"{NAME}.json"), str(ATLAS_WS / f"{NAME}.signal.json")


def test_prints_the_library_ranking(files):
    ws_file, patch = files
    result = CliRunner().invoke(cli, ["ranking", ws_file, "-p", patch])
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    ws = hfx.load(ws_file)
    model = ws.model(patches=[json.loads(Path(patch).read_text())])
    # (the command's engine: "auto" for a task of npars fits, as engine_for_one_task says)
    engine = engine_for_one_task(model, "auto", model.config.npars)
    expected = hfx.ranking(model, np.asarray(ws.data(model)), engine=engine).to_dict()
    assert out == json.loads(json.dumps(expected))  # (the same route: equal numbers)
    top = json.loads(
        CliRunner().invoke(cli, ["ranking", ws_file, "-p", patch, "--top", "2"]).stdout
    )
    assert top["ranking"] == out["ranking"][:2]


def test_bad_requests_get_one_line(files):
    ws_file, patch = files
    assert_one_line_error(
        CliRunner().invoke(cli, ["ranking", ws_file, "-p", patch, "--top", "0"]),
        contains="--top",
    )
    # background only: no POI to rank impacts on
    assert_one_line_error(
        CliRunner().invoke(cli, ["ranking", ws_file]), contains="parameter of interest"
    )
