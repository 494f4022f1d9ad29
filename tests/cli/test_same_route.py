"""The CLI takes the library's route: `hfx cls` prints `hfx.hypotest`'s numbers.

The one difference is the engine "auto" may resolve to: a CLI command is a process of its
own, where loading the JIT-compiled kernels (~0.5 s) costs more than a CLs, fit or limit
gains from them, so it resolves to NumPy unless the kernels load at once (loaded already, as
in this test process, or compiled ahead of time in the cache):
hfx.optimize.engines.engine_for_one_task.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import hfx
from hfx.interfaces.cli.main import cli
from hfx.optimize.engines import KERNEL_LOAD_IN_SOLVES, engine_for_one_task, resolve_engine
from tests.conftest import ATLAS_WS, needs_shared


@needs_shared()
@pytest.mark.parametrize("name", ["2018-31_simplifiedA", "2018-31_BkgOnlyA"])
def test_cls_and_fit_equal_the_library_defaults(name):
    ws_path, patch_path = ATLAS_WS / f"{name}.json", ATLAS_WS / f"{name}.signal.json"
    ws = hfx.load(ws_path)
    model = ws.model(patches=[json.loads(patch_path.read_text())])
    data = ws.data(model)
    runner = CliRunner()

    # (the kernels are loaded in this process: the command takes them where they apply)
    engine = engine_for_one_task(model, "auto", 3)
    assert engine == resolve_engine(model)
    out = runner.invoke(cli, ["cls", str(ws_path), "--patch", str(patch_path)])
    assert out.exit_code == 0, out.output
    printed = json.loads(out.stdout)
    lib = hfx.hypotest(model, data, 1.0, engine=engine)
    assert printed["CLs_obs"] == lib.cls  # exactly: the same fits by the same route
    assert printed["CLs_exp"] == list(lib.cls_expected)

    out = runner.invoke(cli, ["fit", str(ws_path), "--patch", str(patch_path)])
    assert out.exit_code == 0, out.output
    printed = json.loads(out.stdout)
    best = hfx.fit(model, data, engine=engine)
    assert printed["twice_nll"] == best.twice_nll

    # an explicit engine is passed through: --engine numba is the library's default
    out = runner.invoke(cli, ["cls", str(ws_path), "--patch", str(patch_path), "--engine", "numba"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["CLs_obs"] == hfx.hypotest(model, data, 1.0).cls


@pytest.mark.parametrize("at_once", [False, True])
def test_auto_engine_of_a_one_task_process(monkeypatch, at_once):
    from hfx.optimize import kernel

    model = hfx.simplemodels.uncorrelated_background([12, 11], [50, 52], [3, 7])
    # only the JIT kernels on disk (a load of ~0.5 s), or kernels that load at once
    monkeypatch.setattr(kernel, "loads_at_once", lambda: at_once)
    short = engine_for_one_task(model, "auto", 3)
    assert short == (resolve_engine(model) if at_once else "numpy")
    assert engine_for_one_task(model, "auto", KERNEL_LOAD_IN_SOLVES) == resolve_engine(model)
    assert engine_for_one_task(model, "numpy", 10**6) == "numpy"


@needs_shared()
def test_engine_and_optimizer_flags():
    ws_path = ATLAS_WS / "2018-31_simplifiedA.json"
    patch_path = ATLAS_WS / "2018-31_simplifiedA.signal.json"
    ws = hfx.load(ws_path)
    model = ws.model(patches=[json.loads(patch_path.read_text())])
    data = ws.data(model)
    runner = CliRunner()
    auto = engine_for_one_task(model, "auto", 3)  # (what the command's "auto" resolves to)
    for args, kwargs in (
        (["--engine", "numpy"], {"engine": "numpy"}),
        (["--optimizer", "scipy"], {"optimizer": "scipy", "engine": auto}),
    ):
        out = runner.invoke(cli, ["cls", str(ws_path), "--patch", str(patch_path), *args])
        assert out.exit_code == 0, out.output
        assert json.loads(out.stdout)["CLs_obs"] == hfx.hypotest(model, data, 1.0, **kwargs).cls
