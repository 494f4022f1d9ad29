"""hfx yields / scan / modifiers / templates, fit's pulls, --minos and tables, ranking's
--par and tables: the library's numbers, terminal tables on request, one-line errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import hfx
from hfx.infer import ProfileScan, interval, profile_scan
from hfx.interfaces.cli.main import cli
from tests.cli.helpers import assert_one_line_error, doc_example, write_json
from tests.diagnostics.test_yields import two_channel_spec


@pytest.fixture
def ws_file(tmp_path):
    spec = doc_example()
    spec["observations"][0]["data"] = [58.0, 73.0]  # an excess: μ̂ inside its bounds
    # a fixed constrained parameter, to be refused an impact
    spec["channels"][0]["samples"][1]["modifiers"].append(
        {"name": "jes", "type": "normsys", "data": {"hi": 1.05, "lo": 0.96}}
    )
    spec["measurements"][0]["config"]["parameters"].append({"name": "jes", "fixed": True})
    return str(write_json(tmp_path / "ws.json", spec))


def _run(*args):
    # (a wide "terminal" for the tables, which fold long names to fit 80 columns)
    return CliRunner(env={"COLUMNS": "200"}).invoke(cli, [str(a) for a in args])


def _model(path):
    ws = hfx.load(path)
    model = ws.model()
    return model, np.asarray(ws.data(model))


def test_yields_json_is_the_library_result(ws_file):
    result = _run("yields", ws_file, "--postfit")
    assert result.exit_code == 0, result.stderr
    model, data = _model(ws_file)
    expected = hfx.yields(model, data, postfit=True).to_dict()
    assert json.loads(result.stdout) == json.loads(json.dumps(expected))
    linear = json.loads(_run("yields", ws_file, "--postfit", "--method", "linear").stdout)
    assert linear["method"] == "linear"


def test_yields_markdown_latex_and_table(ws_file, tmp_path):
    model, data = _model(ws_file)
    channel = hfx.yields(model, data).channels[0]
    md = _run("yields", ws_file, "--format", "markdown").stdout
    assert "### singlechannel (pre-fit)" in md
    assert "| background |" in md and "| data | 58 | 73 | 131 |" in md
    # the channel's sum as "value ± stdev", the stdev to two digits
    assert f"{channel.total_sum:.0f} ± {channel.total_sum_stdev:.0f}" in md
    tex = _run("yields", ws_file, "--format", "latex", "-o", tmp_path / "y.tex")
    assert tex.exit_code == 0 and tex.stdout == ""
    text = (tmp_path / "y.tex").read_text()
    assert "\\begin{tabular}" in text and "$\\pm$" in text
    table = _run("yields", ws_file, "--format", "table").stdout
    assert "singlechannel (pre-fit)" in table and "background" in table


def test_fit_prints_pulls_and_profile_intervals(ws_file):
    result = _run("fit", ws_file, "--minos", "mu")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    model, data = _model(ws_file)
    best = hfx.fit(model, data)
    for p in hfx.pulls(model, best):
        assert out["pulls"][p.name] == pytest.approx(p.pull, abs=1e-6)
    assert "mu" not in out["pulls"] and "jes" not in out["pulls"]  # free / fixed
    assert out["minos"]["mu"] == pytest.approx(list(interval(model, data, "mu")), abs=1e-6)
    table = _run("fit", ws_file, "--table", "--minos", "mu").stdout
    assert "uncorr_bkguncrt[1]" in table and "fixed" in table and "POI" in table
    assert not table.lstrip().startswith("{")


def test_fit_bad_minos_parameter(ws_file):
    assert_one_line_error(_run("fit", ws_file, "--minos", "nu"), contains="'nu'")
    assert_one_line_error(_run("fit", ws_file, "--minos", "jes"), contains="fixed")


def test_ranking_par_table_and_errors(ws_file):
    out = json.loads(_run("ranking", ws_file, "--par", "uncorr_bkguncrt[1]").stdout)
    assert [r["name"] for r in out["ranking"]] == ["uncorr_bkguncrt[1]"]
    table = _run("ranking", ws_file, "--table").stdout
    assert "impacts on mu" in table and "uncorr_bkguncrt[0]" in table
    assert_one_line_error(_run("ranking", ws_file, "--par", "jes"), contains="fixed")
    assert_one_line_error(_run("ranking", ws_file, "--par", "uncor"), contains="'uncor'")
    assert_one_line_error(_run("ranking", ws_file, "--par", "mu"), contains="POI")
    assert_one_line_error(_run("ranking", ws_file, "--top", "0"), contains="--top")


def test_scan_crossings_match_the_profile_interval(ws_file):
    model, data = _model(ws_file)
    lo, hi = interval(model, data, "mu")
    lo95, hi95 = interval(model, data, "mu", cl=0.95)
    result = _run("profile", ws_file, "--range", 0, 4, 401)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["par"] == "mu" and len(out["values"]) == 401
    # linear interpolation on a 0.01 grid of a near-parabola: within 1e-3
    assert out["intervals"]["68%"] == pytest.approx([lo, hi], abs=1e-3)
    # the 95% interval reaches the bound μ = 0: the scan does not cross there
    assert lo95 == 0.0 and out["intervals"]["95%"][0] is None
    assert out["intervals"]["95%"][1] == pytest.approx(hi95, abs=1e-3)
    direct = profile_scan(model, data, "mu", np.linspace(0, 4, 401))
    np.testing.assert_allclose(out["delta_twice_nll"], direct.delta_twice_nll, atol=1e-9)


def test_crossings_in_closed_form():
    x = np.linspace(0.0, 3.0, 13)  # step 0.25: 0.5 and 1.5 are grid points
    scan = ProfileScan("mu", x, ((x - 1.0) / 0.5) ** 2, np.zeros(1), 0.0)
    assert scan.crossings(1.0) == pytest.approx((0.5, 1.5))
    # y = 4 at x = 0 and 2: the 95% level (3.84) lies between grid points
    left, right = scan.crossings(3.84)
    assert left == pytest.approx(0.0 + (4 - 3.84) / (4 - 2.25) * 0.25)
    assert right == pytest.approx(2.0 - (4 - 3.84) / (4 - 2.25) * 0.25)
    # a scan that does not reach the level on the left
    half = ProfileScan("mu", x[4:], ((x[4:] - 1.0) / 0.5) ** 2, np.zeros(1), 0.0)
    assert half.crossings(1.0) == (None, pytest.approx(1.5))


def test_modifiers_and_templates(tmp_path):
    path = write_json(tmp_path / "two.json", two_channel_spec())
    grid = json.loads(_run("modifiers", path).stdout)
    columns = [(c["channel"], c["sample"]) for c in grid["columns"]]
    assert columns == [("SR", "signal"), ("SR", "bkg"), ("CR", "bkg")]
    rows = {
        m["name"]: (m["type"], acts)
        for m, acts in zip(grid["modifiers"], grid["acts"], strict=True)
    }
    assert rows == {
        "shape": ("histosys", [0, 1, 0]),
        "lumi": ("lumi", [0, 0, 1]),
        "mu": ("normfactor", [1, 0, 0]),
        "norm": ("normsys", [0, 1, 1]),
        "stat": ("staterror", [0, 1, 0]),
    }
    out = json.loads(_run("templates", path, "--channel", "SR", "--sample", "bkg").stdout)
    assert len(out) == 1 and out[0]["nominal"] == [50.0, 40.0]
    var = {v["modifier"]: v for v in out[0]["variations"]}
    assert var["norm"]["up"] == pytest.approx([55.0, 44.0])
    assert var["norm"]["down"] == pytest.approx([42.5, 34.0])
    assert var["shape"]["up"] == [55.0, 41.0] and var["shape"]["down"] == [46.0, 38.0]
    assert var["stat"]["up"] == [54.0, 43.0] and var["stat"]["down"] == [46.0, 37.0]
    cr = json.loads(_run("templates", path, "--channel", "CR").stdout)
    lumi = {v["modifier"]: v for v in cr[0]["variations"]}["lumi"]
    assert lumi["up"] == pytest.approx([204.0]) and lumi["down"] == pytest.approx([196.0])
    assert_one_line_error(_run("templates", path, "--sample", "ttbar"), contains="'ttbar'")


def test_upper_limit_plot_needs_a_scan(ws_file):
    result = _run("upper-limit", ws_file, "--plot", "brazil.png")
    assert result.exit_code == 2 and "--scan" in result.stderr


def test_every_plot_option_writes_a_png(ws_file, tmp_path):
    pytest.importorskip("matplotlib")
    two = write_json(tmp_path / "two.json", two_channel_spec())
    runs = [
        (
            [
                "fit",
                ws_file,
                "--plot",
                tmp_path / "p.png",
                "--plot-correlations",
                tmp_path / "c.png",
            ],
            ["p.png", "c.png"],
        ),
        (["ranking", ws_file, "--plot", tmp_path / "r.png"], ["r.png"]),
        (
            ["yields", two, "--postfit", "--plot", tmp_path / "y"],
            ["y/CR_postfit.png", "y/SR_postfit.png"],
        ),
        (["profile", ws_file, "--plot", tmp_path / "s.png"], ["s.png"]),
        (["upper-limit", ws_file, "--scan", 0, 5, 6, "--plot", tmp_path / "b.png"], ["b.png"]),
        (["modifiers", two, "--plot", tmp_path / "m.png"], ["m.png"]),
        (
            ["templates", two, "--channel", "CR", "--plot", tmp_path / "t"],
            ["t/CR_bkg_norm.png", "t/CR_bkg_lumi.png"],
        ),
    ]
    for args, files in runs:
        result = _run(*args)
        assert result.exit_code == 0, (args, result.stderr)
        json.loads(result.stdout)  # the JSON result is printed as well
        for name in files:
            assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG", name
    # drawing again replaces an existing plot (file) or fills an existing folder
    for args, files in runs:
        for name in files:
            (tmp_path / name).write_bytes(b"old")
        result = _run(*args)
        assert result.exit_code == 0, (args, result.stderr)
        for name in files:
            assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG", name
    # a plot into a folder that does not exist: one line, exit 2, nothing written
    assert_one_line_error(_run("fit", ws_file, "--plot", tmp_path / "nope" / "p.png"))
