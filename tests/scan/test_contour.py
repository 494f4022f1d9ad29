"""Exclusion contours (hfx contour): synthetic scans whose significance is a known function of
the masses, so that the contours are known lines and circles."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner
from scipy.stats import norm

from hfx.errors import HfxError
from hfx.interfaces.cli._common import HfxGroup
from hfx.interfaces.cli.contour import COMMANDS, contour
from hfx.interfaces.scan.contour import ContourResult, contours
from hfx.interfaces.scan.records import dumps_record

Z95 = float(norm.isf(0.05))  # 1.6449 (CLs = 0.05)
STEP = 100.0


def grid() -> list[tuple[float, float]]:
    """An irregular triangle: m1 in 300..1000, m2 < m1, odd columns shifted up by 25."""
    out = []
    for m1 in range(300, 1001, 100):
        shift = 25 if (m1 // 100) % 2 else 0
        m2s = [0.0] + [k * 100.0 + shift for k in range(1, 10) if k * 100 + shift < m1]
        out += [(float(m1), m2) for m2 in m2s]
    return out


def record(
    m1: float, m2: float, z_obs: float, z_exp: float, sigma: float = 0.5, **extra: object
) -> dict:
    """An ok record with CLs = 1 − Φ(Z); CLs_exp from −2σ (largest Z) to +2σ."""
    exp = [float(norm.sf(z_exp + k * sigma)) for k in (2, 1, 0, -1, -2)]
    return {
        "name": f"grid_{m1:g}_{m2:g}",
        "values": [m1, m2],
        "labels": ["m1", "m2"],
        "digest": "sha256:0",
        "status": "ok",
        "CLs_obs": float(norm.sf(z_obs)),
        "CLs_exp": exp,
        "seconds": 0.1,
        "test_poi": 1.0,
        **extra,
    }


def records_of(z: Callable[[float, float], float], z_exp: Callable[[float, float], float]) -> list:
    return [record(m1, m2, z(m1, m2), z_exp(m1, m2)) for m1, m2 in grid()]


def failed(m1: float, m2: float) -> dict:
    return {
        "name": f"grid_{m1:g}_{m2:g}",
        "values": [m1, m2],
        "labels": ["m1", "m2"],
        "digest": "sha256:0",
        "status": "failed",
        "error": "fit did not converge",
    }


def falling(at: float) -> Callable[[float, float], float]:
    """Z falling linearly with m1 (a signal that gets weaker), Z95 at m1 = ``at``."""
    return lambda m1, m2: Z95 - 0.01 * (m1 - at)


@pytest.fixture
def linear() -> list[dict]:
    return records_of(falling(650.0), falling(700.0))


def xs(result: ContourResult, name: str) -> np.ndarray:
    lines = result.curves[name]
    assert lines, f"no {name} contour"
    return np.concatenate([np.asarray(line) for line in lines])


# --- the contours ------------------------------------------------------------------------


def test_observed_contour_is_the_vertical_line(linear):
    result = contours(linear)
    assert (result.x, result.y, result.level, result.points) == ("m1", "m2", 0.05, len(grid()))
    pts = xs(result, "observed")
    assert len(result.curves["observed"]) == 1
    assert np.all(np.abs(pts[:, 0] - 650.0) < 0.05 * STEP)
    # from the bottom edge up to the hull's diagonal edge above m1 = 650
    assert pts[:, 1].min() == pytest.approx(0.0, abs=1.0)
    assert pts[:, 1].max() > 500.0


def test_expected_band_lies_on_the_right_sides(linear):
    result = contours(linear)
    median = xs(result, "expected")[:, 0]
    minus = xs(result, "expected_minus1sigma")[:, 0]  # CLs_exp[1], smaller CLs: further out
    plus = xs(result, "expected_plus1sigma")[:, 0]
    minus2 = xs(result, "expected_minus2sigma")[:, 0]
    assert np.allclose(median, 700.0, atol=0.05 * STEP)
    # Z_-1σ = Z_median + 0.5 = Z95 where 0.01 (m1 − 700) = 0.5
    assert np.allclose(minus, 750.0, atol=0.05 * STEP)
    assert np.allclose(plus, 650.0, atol=0.05 * STEP)
    assert np.allclose(minus2, 800.0, atol=0.05 * STEP)
    # the grids carry the same: −1σ above the level where the median is below it
    at = np.argmin(np.abs(result.grid_x - 725.0)), np.argmin(np.abs(result.grid_y - 50.0))
    z = {name: result.grids[name][at[1], at[0]] for name in result.grids}
    assert z["expected_minus1sigma"] > result.z_level > z["expected"] > z["expected_plus1sigma"]
    assert result.z_level == pytest.approx(Z95)


def test_circle_gives_one_closed_contour():
    centre, radius = np.array([650.0, 250.0]), 150.0

    def cone(m1: float, m2: float) -> float:
        return Z95 + (radius - math.hypot(m1 - centre[0], m2 - centre[1])) / 50.0

    result = contours(records_of(cone, cone))
    (line,) = result.curves["observed"]
    pts = np.asarray(line)
    assert len(pts) > 20
    assert pts[0] == pytest.approx(pts[-1])  # closed
    distance = np.hypot(*(pts - centre).T)
    assert np.all(np.abs(distance - radius) < 0.2 * STEP)
    # it goes all the way round the centre
    angles = np.arctan2(*(pts - centre).T[::-1])
    assert np.ptp(angles) > 1.9 * np.pi


def test_axes_by_label_or_index_and_swapped(linear):
    swapped = contours(linear, x="m2", y="m1")
    assert (swapped.x, swapped.y) == ("m2", "m1")
    assert np.allclose(xs(swapped, "observed")[:, 1], 650.0, atol=0.05 * STEP)
    by_index = contours(linear, x=1, y=0)
    assert np.allclose(xs(by_index, "observed"), xs(swapped, "observed"))
    assert contours(linear, x="0", y="1").x == "m1"


def test_level_moves_the_contour(linear):
    # Z at CLs = 0.01 is 2.326: 0.01 (650 − m1) = 0.682 → m1 ≈ 581.8
    result = contours(linear, level=0.01)
    at = 650.0 - (float(norm.isf(0.01)) - Z95) / 0.01
    assert np.allclose(xs(result, "observed")[:, 0], at, atol=0.05 * STEP)


def test_failed_points_are_left_out_and_later_records_win(linear):
    records = [*linear, failed(1100.0, 0.0), failed(1100.0, 500.0)]
    # a point that failed first and succeeded on a rerun counts once, as ok
    records.insert(0, failed(*linear[5]["values"]))
    result = contours(records)
    assert result.points == len(linear)
    assert result.excluded_failed == 2
    # a failure on a rerun replaces the earlier ok record
    again = contours([*linear, failed(*linear[5]["values"])])
    assert (again.points, again.excluded_failed) == (len(linear) - 1, 1)


def test_to_dict_is_json_with_the_method(linear):
    out = contours(linear).to_dict()
    for key in ("x", "y", "level", "method", "points", "excluded_failed", "observed"):
        assert key in out
    for key in ("expected", "expected_minus1sigma", "expected_plus1sigma"):
        assert out[key] and all(len(pair) == 2 for line in out[key] for pair in line)
    assert "Delaunay" in out["method"] and "Phi^-1(1 - CLs)" in out["method"]
    assert json.loads(json.dumps(out, allow_nan=False)) == out


def test_no_contour_when_everything_is_excluded():
    result = contours(records_of(lambda a, b: 10.0, lambda a, b: 10.0))
    assert result.to_dict()["observed"] == []


def test_extreme_cls_stay_finite():
    records = records_of(falling(650.0), falling(700.0))
    records[0]["CLs_obs"] = 0.0
    records[1]["CLs_obs"] = 1.0
    result = contours(records)
    assert np.all(np.isfinite(np.ma.masked_invalid(result.grids["observed"]).compressed()))


# --- errors --------------------------------------------------------------------------------


def test_too_few_points(linear):
    with pytest.raises(HfxError, match=r"at least 3 points.*has 2 \(1 failed\)"):
        contours([*linear[:2], failed(1100.0, 0.0)])


def test_unknown_label_lists_the_known_ones(linear):
    with pytest.raises(HfxError, match=r"unknown x label 'mass'.*m1, m2"):
        contours(linear, x="mass")
    with pytest.raises(HfxError, match="index 2 is out of range"):
        contours(linear, y=2)
    with pytest.raises(HfxError, match="both 'm1'"):
        contours(linear, x="m1", y=0)


def test_points_on_a_line():
    on_a_diagonal = [record(m, m - 100.0, 1.0, 1.0) for m in (300.0, 400.0, 500.0, 600.0)]
    with pytest.raises(HfxError, match="on one line"):
        contours(on_a_diagonal)
    flat = [record(m, 0.0, 1.0, 1.0) for m in (300.0, 400.0, 500.0)]
    with pytest.raises(HfxError, match="on one line"):
        contours(flat)


def test_records_of_different_labels(linear):
    other = {**linear[3], "name": "other", "labels": ["mx", "my"], "values": [1.0, 2.0]}
    with pytest.raises(HfxError, match=r"different labels.*'other'"):
        contours([*linear, other])


def test_duplicate_positions():
    records = [
        {**record(m1, m2, 1.0, 1.0), "values": [m1, m2, m3], "labels": ["m1", "m2", "m3"]}
        for m1, m2, m3 in ((300, 0, 0), (400, 0, 10), (400, 100, 20), (400, 100, 50))
    ]
    for i, item in enumerate(records):
        item["name"] = f"p{i}"
    with pytest.raises(HfxError, match=r"'p2' and 'p3' are both at m1 = 400, m2 = 100"):
        contours(records)
    assert contours(records, x="m1", y="m3").points == 4


def test_missing_cls_and_bad_settings(linear):
    broken = {k: v for k, v in linear[0].items() if k != "CLs_exp"}
    with pytest.raises(HfxError, match="no 'CLs_obs' and five 'CLs_exp'"):
        contours([broken, *linear[1:]])
    with pytest.raises(HfxError, match="level"):
        contours(linear, level=1.5)
    with pytest.raises(HfxError, match="resolution"):
        contours(linear, resolution=2)


# --- the plot --------------------------------------------------------------------------


def test_plot(tmp_path, linear):
    pytest.importorskip("matplotlib")
    from hfx.interfaces.plots import contour_plot

    records = [*linear, failed(1100.0, 0.0)]
    result = contours(records)
    target = tmp_path / "excl.png"
    fig = contour_plot(result, records, target)
    assert target.is_file() and target.stat().st_size > 1000
    ax, bar = fig.axes
    assert bar.get_ylabel() == "observed CLs"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("m1", "m2")
    assert ax.get_title() == "CLs = 0.05 exclusion"
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["observed", "expected", r"expected $\pm 1\sigma$", "failed points"]
    # the band is drawn (a filled contour) and the points are coloured by CLs on a log scale
    from matplotlib.colors import LogNorm

    (scatter,) = [c for c in ax.collections if isinstance(c.norm, LogNorm)]
    assert np.allclose(scatter.get_array(), result.cls_obs)
    assert len(ax.collections) >= 3  # band, points, failed points
    lines = [line for line in ax.get_lines() if len(line.get_xdata())]
    assert {line.get_linestyle() for line in lines} == {"-", "--"}


# --- the command -----------------------------------------------------------------------


@click.group(cls=HfxGroup)
def cli() -> None:
    """A root group as hfx's, for the error contract."""


cli.add_command(contour)


def write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(dumps_record(r) for r in records), encoding="utf-8")
    return path


def test_command_prints_the_contours(tmp_path, linear):
    assert (contour,) == COMMANDS
    scan_file = write(tmp_path / "scan.jsonl", linear)
    out = CliRunner().invoke(cli, ["contour", str(scan_file), "--x", "m2", "--y", "m1"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert {
        "x",
        "y",
        "level",
        "method",
        "points",
        "excluded_failed",
        "observed",
        "expected",
        "expected_minus1sigma",
        "expected_plus1sigma",
    } <= set(data)
    assert (data["x"], data["y"], data["points"]) == ("m2", "m1", len(linear))
    assert np.allclose(np.concatenate(data["observed"])[:, 1], 650.0, atol=5.0)


def test_command_reads_stdin_and_writes_files(tmp_path, linear):
    pytest.importorskip("matplotlib")
    text = "".join(dumps_record(r) for r in linear)
    plot, output = tmp_path / "excl.png", tmp_path / "contour.json"
    args = ["contour", "-", "--level", "0.01", "--plot", str(plot), "-o", str(output)]
    out = CliRunner().invoke(cli, args, input=text)
    assert out.exit_code == 0, out.output
    assert out.stdout == ""
    assert plot.is_file()
    data = json.loads(output.read_text(encoding="utf-8"))
    assert data["level"] == 0.01 and data["observed"]


def test_command_error_is_one_line(tmp_path, linear):
    scan_file = write(tmp_path / "scan.jsonl", linear)
    out = CliRunner().invoke(cli, ["contour", str(scan_file), "--x", "mass"])
    assert out.exit_code == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("hfx: error: scan.jsonl") or "scan.jsonl" in lines[0]
    assert "unknown x label 'mass'" in lines[0] and "m1, m2" in lines[0]
    few = write(tmp_path / "few.jsonl", linear[:2])
    out = CliRunner().invoke(cli, ["contour", str(few)])
    assert out.exit_code == 2 and len(out.stderr.strip().splitlines()) == 1
    assert "at least 3 points" in out.stderr
