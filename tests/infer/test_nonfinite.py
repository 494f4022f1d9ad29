"""Issue 18 (1): a non-finite result is an error naming its cause, never a NaN/null."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest
from click.testing import CliRunner

import hfx
from hfx.errors import ResultError, check_finite
from hfx.infer.hypotest import HypotestResult

ATLAS = Path(__file__).resolve().parents[3] / "shared" / "data" / "workspaces" / "atlas"
COMB = ATLAS / "2018-14_Comb_bkgonly.json"
needs_data = pytest.mark.skipif(not COMB.exists(), reason="shared workspaces not present")


def zero_nominal_histosys_workspace() -> tuple[dict, list]:
    """The issue's case: the only background of a one-bin channel has nominal 0, keeps a
    histosys (hi 3.65, lo 2.70), gets a staterror [0]; no events observed there."""
    spec = json.loads(COMB.read_text())
    sample = spec["channels"][0]["samples"][0]
    sample["data"] = [0.0]
    sample["modifiers"] += [
        {"name": "jes", "type": "histosys", "data": {"hi_data": [3.65], "lo_data": [2.70]}},
        {"name": "staterror_SRee", "type": "staterror", "data": [0.0]},
    ]
    spec["observations"][0]["data"] = [0.0]
    patch = json.loads((ATLAS / "2018-14_Comb_bkgonly.signal.json").read_text())
    return spec, patch


def test_check_finite_names_the_value():
    check_finite("x", {"a": 1.0, "b": [0.5, None, (2.0,)]})
    with pytest.raises(ResultError, match=r"b\[1\]\[0\] is nan.*because"):
        check_finite("x", {"a": 1.0, "b": [0.5, [math.nan]]}, "because")
    with pytest.raises(ResultError, match="a is inf"):
        check_finite("x", {"a": math.inf})


def test_hypotest_result_refuses_nan():
    good = dict(
        poi=1.0,
        test_stat="qtilde",
        calculator="asymptotic",
        cls=0.5,
        clsb=0.25,
        clb=0.5,
        cls_expected=(0.1,) * 5,
        clsb_expected=(0.1,) * 5,
        clb_expected=(0.5,) * 5,
        teststat=0.1,
    )
    HypotestResult(**good)
    with pytest.raises(ResultError, match="CLs_exp"):
        HypotestResult(**(good | {"cls_expected": (0.1, 0.1, math.nan, 0.1, 0.1)}))


def _without_the_histosys(spec: dict) -> dict:
    ref = copy.deepcopy(spec)
    sample = ref["channels"][0]["samples"][0]
    sample["modifiers"] = [m for m in sample["modifiers"] if m["name"] != "jes"]
    return ref


@needs_data
@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_zero_nominal_histosys_gives_the_clamped_models_number(engine):
    """The issue's case gave null: the free fit drove the zero-nominal sample's interpolated
    yield below zero (code 4p dips under 0 for α in (−0.08, 0)), rewarded by the −ν of a bin
    with no events, and the Asimov data then held a negative count.  Clamped at zero, as
    ROOT's HistFactory does, that sample contributes nothing at the best fit (α = 0), so the
    CLs equals that of the same workspace without the histosys."""
    if engine == "numba":
        pytest.importorskip("numba")
    spec, patch = zero_nominal_histosys_workspace()
    ws = hfx.Workspace(spec)
    model = ws.model(patches=[patch])
    res = hfx.hypotest(model, ws.data(model), 1.0, engine=engine)
    ref_ws = hfx.Workspace(_without_the_histosys(spec))
    ref_model = ref_ws.model(patches=[patch])
    ref = hfx.hypotest(ref_model, ref_ws.data(ref_model), 1.0)
    assert 0.0 < res.cls < 1.0
    assert res.cls == pytest.approx(ref.cls, rel=1e-6)
    assert res.cls_expected == pytest.approx(ref.cls_expected, rel=1e-6)


@needs_data
def test_cli_cls_prints_the_finite_number(tmp_path):
    from hfx.interfaces.cli.main import cli

    spec, patch = zero_nominal_histosys_workspace()
    (tmp_path / "ws.json").write_text(json.dumps(spec))
    (tmp_path / "ref.json").write_text(json.dumps(_without_the_histosys(spec)))
    (tmp_path / "p.json").write_text(json.dumps(patch))
    out = {}
    for name in ("ws", "ref"):
        result = CliRunner().invoke(
            cli, ["cls", str(tmp_path / f"{name}.json"), "-p", str(tmp_path / "p.json")]
        )
        assert result.exit_code == 0, result.output
        out[name] = json.loads(result.stdout)
    assert out["ws"]["CLs_obs"] == pytest.approx(out["ref"]["CLs_obs"], rel=1e-6)


def test_emit_json_refuses_non_finite(capsys):
    import click

    from hfx.interfaces.cli._common import emit_json

    with pytest.raises(click.ClickException, match=r"/a/1 is nan"):
        emit_json({"a": [1.0, math.nan]})
    assert capsys.readouterr().out == ""
    emit_json({"a": [1.0, 2.0]})


def test_finite_observations_still_give_a_number():
    spec, patch = zero_nominal_histosys_workspace() if COMB.exists() else (None, None)
    if spec is None:
        pytest.skip("shared workspaces not present")
    spec = copy.deepcopy(spec)
    spec["observations"][0]["data"] = [3.0]
    ws = hfx.Workspace(spec)
    model = ws.model(patches=[patch])
    res = hfx.hypotest(model, ws.data(model), 1.0)
    assert 0.0 <= res.cls <= 1.0


SIMPLIFIED = ATLAS / "2018-31_simplifiedA.json"


@pytest.mark.skipif(not SIMPLIFIED.exists(), reason="shared workspaces not present")
def test_all_observed_data_zero_on_a_small_published_workspace():
    """Issue 18 (3): with no events anywhere, the fit used to push a background's histosys to
    the α = −5 bound, where a bin's template was −1.31, and failed.  With sample yields
    clamped at zero the fit converges; every expected count stays ≥ 0."""
    spec = json.loads(SIMPLIFIED.read_text())
    for obs in spec["observations"]:
        obs["data"] = [0.0] * len(obs["data"])
    patch = json.loads((ATLAS / "2018-31_simplifiedA.signal.json").read_text())
    ws = hfx.Workspace(spec)
    model = ws.model(patches=[patch])
    data = ws.data(model)
    res = hfx.hypotest(model, data, 1.0)
    assert 0.0 < res.cls < 1.0 and all(0.0 < c < 1.0 for c in res.cls_expected)
    best = hfx.fit(model, data)
    assert min(model.expected_actualdata(best.bestfit)) >= 0.0
    # the minimum is a real one: the scalar L-BFGS-B fit from another start does not go lower
    other = hfx.fit(model, data, optimizer="scipy", init=best.bestfit * 0.9 + 0.05)
    assert best.twice_nll <= other.twice_nll + 1e-6
