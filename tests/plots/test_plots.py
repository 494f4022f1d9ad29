"""Every kind of plot rendered (Agg) and its drawn artists checked against the numbers it
shows: marker positions, bar lengths, stacked heights, band edges, curves, labels, no NaN."""

from __future__ import annotations

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import hfx  # noqa: E402
from hfx import simplemodels  # noqa: E402
from hfx.diagnostics import modifier_grid, templates  # noqa: E402
from hfx.errors import HfxError  # noqa: E402
from hfx.infer import profile_scan  # noqa: E402
from hfx.interfaces import plots  # noqa: E402
from tests.diagnostics.test_yields import two_channel_spec  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def fitted():
    model = simplemodels.uncorrelated_background([12.0, 11.0], [50.0, 52.0], [3.0, 7.0])
    data = np.array([70.0, 66.0, *model.config.auxdata])
    return model, data, hfx.fit(model, data)


@pytest.fixture(scope="module")
def two_channel():
    ws = hfx.Workspace(two_channel_spec())
    model = ws.model()
    data = np.asarray(ws.data(model))
    return model, data, hfx.fit(model, data)


def _is_png(path) -> bool:
    return path.is_file() and path.stat().st_size > 1000 and path.read_bytes()[:8] == PNG


def _no_nan(fig) -> None:
    for ax in fig.axes:
        for line in ax.get_lines():
            xy = np.asarray(line.get_xydata(), dtype=float)
            assert np.isfinite(xy).all(), line


def _ticklabels(ax, axis="y"):
    ticks = ax.get_yticklabels() if axis == "y" else ax.get_xticklabels()
    return [t.get_text() for t in ticks]


def test_pulls_plot_draws_each_pull_and_constraint(fitted, tmp_path):
    model, _, best = fitted
    result = hfx.pulls(model, best)
    fig = plots.pulls_plot(result, tmp_path / "pulls.png", title="test")
    assert _is_png(tmp_path / "pulls.png")
    ax = fig.axes[0]
    assert _ticklabels(ax) == [p.name for p in result]
    container = ax.containers[0]
    marker = container.lines[0]
    xs, ys = marker.get_xdata(), marker.get_ydata()
    np.testing.assert_allclose(xs, [p.pull for p in result])
    assert list(ys) == [1.0, 0.0]  # first parameter at the top
    segments = container.lines[2][0].get_segments()
    widths = [seg[1][0] - seg[0][0] for seg in segments]
    np.testing.assert_allclose(widths, [2 * p.constraint for p in result])
    # the ±1 and ±2 bands
    spans = sorted(abs(p.get_x()) for p in ax.patches)
    assert spans == [1.0, 2.0]
    assert ax.get_xlim()[1] >= 3.0
    _no_nan(fig)


def test_correlation_plot_shows_the_matrix(two_channel, tmp_path):
    _, _, best = two_channel
    corr = hfx.correlations(best)
    fig = plots.correlation_plot(corr, tmp_path / "corr.png")
    assert _is_png(tmp_path / "corr.png")
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.images[0].get_array(), corr.matrix)
    assert _ticklabels(ax) == list(corr.labels)
    assert _ticklabels(ax, "x") == list(corr.labels)
    texts = [float(t.get_text()) for t in ax.texts]
    np.testing.assert_allclose(texts, np.round(corr.matrix.ravel(), 2), atol=1e-9)
    assert fig.axes[1].get_ylabel() == "correlation"


def test_ranking_plot_bars_are_the_impacts(fitted, tmp_path):
    model, data, best = fitted
    result = hfx.ranking(model, data, fit_result=best)
    fig = plots.ranking_plot(result, tmp_path / "ranking.png", model=model)
    assert _is_png(tmp_path / "ranking.png")
    pulls_ax, impact_ax = fig.axes
    names = [i.name for i in result.impacts]
    assert _ticklabels(pulls_ax) == names
    bars = impact_ax.containers
    assert [b.get_label() for b in bars] == [
        "pre-fit $+\\Delta\\theta$",
        "pre-fit $-\\Delta\\theta$",
        "post-fit $+\\hat\\sigma$",
        "post-fit $-\\hat\\sigma$",
    ]
    for container, key in zip(
        bars, ("prefit_up", "prefit_down", "postfit_up", "postfit_down"), strict=True
    ):
        np.testing.assert_allclose(
            [bar.get_width() for bar in container], [getattr(i, key) for i in result.impacts]
        )
        # the largest impact at the top
        assert container[0].get_y() + container[0].get_height() / 2 == len(names) - 1
    # with the model the points are pulls (θ̂ − θ₀)/Δθ
    pulls = {p.name: p for p in hfx.pulls(model, best)}
    points = pulls_ax.containers[0].lines[0].get_xdata()
    np.testing.assert_allclose(points, [pulls[n].pull for n in names])
    assert "mu" in impact_ax.get_xlabel()
    _no_nan(fig)


def test_yields_plot_stacks_samples_with_band_and_ratio(two_channel, tmp_path):
    model, data, best = two_channel
    result = hfx.yields(model, data, postfit=True, fit_result=best)
    sr = result.channel("SR")
    fig = plots.yields_plot(sr, tmp_path / "sr.png", postfit=True)
    assert _is_png(tmp_path / "sr.png")
    top, ratio = fig.axes
    stairs = [p for p in top.patches if p.get_label() in sr.samples]
    # stacked: the largest sample (bkg) at the bottom; the top edge of the stack is the total
    assert [s.get_label() for s in stairs] == ["bkg", "signal"]
    np.testing.assert_allclose(stairs[0].get_data().values, sr.yields[0])
    np.testing.assert_allclose(stairs[1].get_data().values, sr.total)
    np.testing.assert_allclose(stairs[1].get_data().baseline, sr.yields[0])
    band = next(p for p in top.patches if p.get_label() == "uncertainty")
    np.testing.assert_allclose(band.get_data().values, sr.total + sr.total_stdev)
    np.testing.assert_allclose(band.get_data().baseline, sr.total - sr.total_stdev)
    data_points = top.containers[0].lines[0]
    np.testing.assert_allclose(data_points.get_ydata(), sr.data)
    ratio_points = ratio.containers[0].lines[0]
    np.testing.assert_allclose(ratio_points.get_ydata(), sr.data / sr.total)
    ratio_band = ratio.patches[0]
    np.testing.assert_allclose(ratio_band.get_data().values, 1 + sr.total_stdev / sr.total)
    assert top.get_ylabel() == "events" and ratio.get_ylabel() == "data / model"
    assert "SR" in top.texts[0].get_text() and "post-fit" in top.texts[0].get_text()
    _no_nan(fig)
    paths = plots.yields_plots(result, tmp_path / "new" / "folder", log=True)
    assert [p.name for p in paths] == ["CR_postfit.png", "SR_postfit.png"]
    assert all(_is_png(p) for p in paths)


def test_brazil_plot_curves_are_the_cls_values(fitted, tmp_path):
    model, data, _ = fitted
    limit = hfx.upper_limit(model, data, scan=np.linspace(0, 5, 11))
    fig = plots.brazil_plot(limit, tmp_path / "brazil.png", poi_label="mu")
    assert _is_png(tmp_path / "brazil.png")
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_allclose(lines["observed"].get_ydata(), limit.cls_obs)
    np.testing.assert_allclose(lines["expected"].get_ydata(), limit.cls_exp[2])
    np.testing.assert_allclose(lines["observed"].get_xdata(), limit.scan)
    assert lines["CLs = 0.05"].get_ydata()[0] == 0.05
    bands = {c.get_label(): c for c in ax.collections}
    outer = bands["expected $\\pm 2\\sigma$"].get_paths()[0].vertices
    # the band's polygon runs along one edge and back along the other
    for curve in (limit.cls_exp[0], limit.cls_exp[4]):
        for x, y in zip(limit.scan, curve, strict=True):
            assert np.any(np.isclose(outer[:, 0], x) & np.isclose(outer[:, 1], y))
    assert ax.get_xlabel() == "mu" and ax.get_ylabel() == "CLs"
    _no_nan(fig)
    no_scan = hfx.upper_limit(model, data)
    with pytest.raises(HfxError, match="scan"):
        plots.brazil_plot(no_scan)


def test_scan_plot_is_the_profile(fitted, tmp_path):
    model, data, _ = fitted
    scan = profile_scan(model, data, values=np.linspace(0.0, 4.0, 21))
    fig = plots.scan_plot(scan, tmp_path / "scan.png")
    assert _is_png(tmp_path / "scan.png")
    ax = fig.axes[0]
    curve = next(line for line in ax.get_lines() if line.get_label() == "profile likelihood")
    np.testing.assert_allclose(curve.get_xdata(), scan.values)
    np.testing.assert_allclose(curve.get_ydata(), scan.delta_twice_nll)
    levels = sorted(line.get_ydata()[0] for line in ax.get_lines() if line.get_linestyle() == "--")
    assert levels == pytest.approx([1.0, 3.841458820694124])
    assert ax.get_xlabel() == "mu"
    _no_nan(fig)


def test_modifier_grid_and_template_plots(tmp_path):
    spec = two_channel_spec()
    grid = modifier_grid(spec)
    fig = plots.modifier_grid_plot(grid, tmp_path / "grid.png")
    assert _is_png(tmp_path / "grid.png")
    ax = fig.axes[0]
    cells = np.asarray(ax.images[0].get_array())
    np.testing.assert_array_equal(cells > 0, grid.acts)
    assert _ticklabels(ax) == list(grid.modifiers)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sorted(legend) == sorted(set(grid.types))
    bkg = templates(spec, channel="SR", sample="bkg")[0]
    fig = plots.templates_plot(bkg, "shape", tmp_path / "t.png")
    top = fig.axes[0]
    drawn = {p.get_label(): p.get_data().values for p in top.patches}
    np.testing.assert_allclose(drawn["nominal"], [50.0, 40.0])
    np.testing.assert_allclose(drawn["$+1\\sigma$"], [55.0, 41.0])
    np.testing.assert_allclose(drawn["$-1\\sigma$"], [46.0, 38.0])
    paths = plots.templates_plots(templates(spec), tmp_path / "templates")
    # SR bkg: norm, shape, stat; CR bkg: norm, lumi (SR signal: a normfactor, no variation)
    assert len(paths) == 5
    assert all(_is_png(p) for p in paths)


def test_saving_is_atomic_and_errors_are_clear(fitted, tmp_path, monkeypatch):
    model, _, best = fitted
    result = hfx.pulls(model, best)
    with pytest.raises(HfxError, match="does not exist"):
        plots.pulls_plot(result, tmp_path / "missing" / "p.png")
    with pytest.raises(HfxError, match="cannot write the plot"):
        plots.pulls_plot(result, tmp_path / "p.unknownformat")
    assert not any(tmp_path.iterdir())

    from matplotlib.figure import Figure

    def broken(self, out, **kwargs):
        out.write(b"half a png")
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(OSError, match="disk full"):
        plots.pulls_plot(result, tmp_path / "p.png")
    assert not any(tmp_path.iterdir())  # neither the file nor a temporary one
