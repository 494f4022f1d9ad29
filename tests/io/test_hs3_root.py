"""hfx's HS3 export loaded in ROOT (``RooJSONFactoryWSTool``): same NLL differences and fit.

Needs ROOT >= 6.30: in this interpreter (``import ROOT``) or in the Python named by the
environment variable ``HFX_ROOT_PYTHON``; skipped otherwise.  The full check on the shared
workspaces is ``benchmarks/hs3_root_check.py`` (results in ``benchmarks/RESULTS-hs3.md``).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.io.test_hs3 import spec

CHECK = Path(__file__).resolve().parents[2] / "benchmarks" / "hs3_root_check.py"


def _root_python() -> str:
    if importlib.util.find_spec("ROOT") is not None:
        return sys.executable
    other = os.environ.get("HFX_ROOT_PYTHON")
    if other:
        return other
    pytest.skip("ROOT is not installed (or set HFX_ROOT_PYTHON to a Python with ROOT)")


def test_root_reads_the_export_with_the_same_likelihood(tmp_path):
    root_python = _root_python()
    ws = spec()
    ws["measurements"] = ws["measurements"][:1]
    path = tmp_path / "every_modifier.json"
    path.write_text(json.dumps(ws))
    rows = tmp_path / "rows.json"
    command = [sys.executable, str(CHECK), "--root-python", root_python, "--only", str(path)]
    proc = subprocess.run(
        [*command, "--json", str(rows)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    (row,) = json.loads(rows.read_text())
    assert "error" not in row, row
    # every staterror gamma kept its Gaussian constraint, the shapesys ones are Poisson
    assert row["constraints"] == {"RooGaussian": 5, "RooPoisson": 2}
    assert row["codes"] == {"FlexibleInterpVar": [5], "PiecewiseInterpolation": [4]}
    for ours, root in zip(row["dnll_hfx"], row["dnll_root"], strict=True):
        assert abs(ours) > 0.1
        assert ours == pytest.approx(root, abs=1e-8)
    assert row["q_root"] == pytest.approx(row["q_hfx"], rel=1e-3)
    assert row["muhat_root"] == pytest.approx(row["muhat_hfx"], rel=1e-3)
