"""Every kind of plot rendered (Agg) and its drawn artists checked against the numbers it
shows: marker positions, error bars, bar lengths, stacked heights, band edges, curves, tick
labels, no NaN; then saving (atomic, PNG/PDF, clear errors) and a missing matplotlib."""

from __future__ import annotations

import sys

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import hfx  # noqa: E402
from hfx import simplemodels  # noqa: E402
from hfx.diagnostics import ChannelYields, Correlations, Pull, PullsResult, templates  # noqa: E402
from hfx.diagnostics import modifier_grid as grid_object  # noqa: E402
from hfx.errors import HfxError, MissingExtraError  # noqa: E402
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


@pytest.fixture(scope="module")
def limit(fitted):
    model, data, _ = fitted
    return hfx.upper_limit(model, data, scan=np.linspace(0, 5, 21))


def _is_png(path) -> bool:
    return path.is_file() and path.stat().st_size > 1000 and path.read_bytes()[:8] == PNG


def _no_nan(fig) -> None:
    """No NaN or inf in any drawn line, bar, filled area or image."""
    for ax in fig.axes:
        for line in ax.get_lines():
            assert np.isfinite(np.asarray(line.get_xydata(), dtype=float)).all(), line
        for patch in ax.patches:
            assert np.isfinite(patch.get_path().vertices).all(), patch
        for collection in ax.collections:
            for path in collection.get_paths():
                assert np.isfinite(path.vertices).all(), collection
        for image in ax.images:
            assert np.isfinite(np.asarray(image.get_array(), dtype=float)).all()


def _ticklabels(ax, axis="y"):
    ticks = ax.get_yticklabels() if axis == "y" else ax.get_xticklabels()
    return [t.get_text() for t in ticks]


def _errorbars(container, axis="x"):
    """(centres, lower ends, upper ends) of an errorbar container's bars along ``axis``."""
    k = 0 if axis == "x" else 1
    ends = np.array([[seg[0][k], seg[1][k]] for seg in container.lines[2][0].get_segments()])
    line = container.lines[0]
    centre = line.get_xdata() if axis == "x" else line.get_ydata()
    return np.asarray(centre, dtype=float), ends.min(axis=1), ends.max(axis=1)


# ---- pulls ------------------------------------------------------------------------------


def test_pulls_plot_draws_each_pull_and_constraint(fitted, tmp_path):
    model, _, best = fitted
    result = hfx.pulls(model, best)
    fig = plots.pulls_plot(result, tmp_path / "pulls.png", title="test")
    assert _is_png(tmp_path / "pulls.png")
    ax = fig.axes[0]
    assert _ticklabels(ax) == [p.name for p in result]
    container = ax.containers[0]
    centre, low, high = _errorbars(container)
    np.testing.assert_allclose(centre, [p.pull for p in result])
    np.testing.assert_allclose(high - low, [2 * p.constraint for p in result])
    np.testing.assert_allclose(0.5 * (high + low), centre)
    assert list(container.lines[0].get_ydata()) == [1.0, 0.0]  # the first parameter on top
    assert sorted(abs(p.get_x()) for p in ax.patches) == [1.0, 2.0]  # ±1 and ±2 bands
    xmin, xmax = ax.get_xlim()
    assert xmin <= -3.0 and xmax >= 3.0
    assert "theta" in ax.get_xlabel() and ax.get_title() == "test"
    _no_nan(fig)


def test_pulls_plot_widens_for_a_large_pull_and_draws_an_empty_result():
    big = PullsResult((Pull("far", 4.5, 0.5, 0.0, 1.0), Pull("near", 0.1, 0.9, 0.0, 1.0)))
    ax = plots.pulls_plot(big).axes[0]
    assert ax.get_xlim()[1] >= 4.5 + 0.5
    assert len(plots.pulls_plot(PullsResult(())).axes[0].containers) == 1


# ---- correlations -----------------------------------------------------------------------


def test_correlation_plot_shows_the_matrix(two_channel, tmp_path):
    _, _, best = two_channel
    corr = hfx.correlations(best)
    fig = plots.correlation_plot(corr, tmp_path / "corr.png")
    assert _is_png(tmp_path / "corr.png")
    ax = fig.axes[0]
    image = ax.images[0]
    np.testing.assert_array_equal(image.get_array(), corr.matrix)
    assert image.get_cmap().name == "RdBu_r" and image.get_clim() == (-1.0, 1.0)
    assert _ticklabels(ax) == list(corr.labels)
    assert _ticklabels(ax, "x") == list(corr.labels)
    texts = [t.get_text() for t in ax.texts]
    assert "-0.00" not in texts
    np.testing.assert_allclose([float(t) for t in texts], np.round(corr.matrix.ravel(), 2))
    assert fig.axes[1].get_ylabel() == "correlation"
    _no_nan(fig)


def test_correlation_plot_of_many_parameters_has_no_cell_values():
    labels = tuple(f"p{i}" for i in range(21))
    fig = plots.correlation_plot(Correlations(labels, np.eye(21)))
    assert len(fig.axes[0].texts) == 0 and _ticklabels(fig.axes[0]) == list(labels)


# ---- ranking ----------------------------------------------------------------------------

_BAR_FIELDS = ("prefit_up", "prefit_down", "postfit_up", "postfit_down")


def test_ranking_plot_bars_are_the_impacts(fitted, tmp_path):
    model, data, best = fitted
    result = hfx.ranking(model, data, fit_result=best)
    fig = plots.ranking_plot(result, tmp_path / "ranking.png")
    assert _is_png(tmp_path / "ranking.png")
    points_ax, bars_ax = fig.axes
    names = [i.name for i in result.impacts]
    assert _ticklabels(points_ax) == names
    n = len(names)
    for container, key in zip(bars_ax.containers, _BAR_FIELDS, strict=True):
        np.testing.assert_allclose(
            [bar.get_width() for bar in container], [getattr(i, key) for i in result.impacts]
        )
        # the largest impact at the top, then down
        centres = [bar.get_y() + bar.get_height() / 2 for bar in container]
        np.testing.assert_allclose(centres, np.arange(n)[::-1])
        # pre-fit bars open, post-fit ones filled
        assert all(bar.get_fill() == key.startswith("postfit") for bar in container)
    # without the model, the points are θ̂ ± σ̂
    centre, low, high = _errorbars(points_ax.containers[0])
    np.testing.assert_allclose(centre, [i.bestfit for i in result.impacts])
    np.testing.assert_allclose(high - low, [2 * i.uncertainty for i in result.impacts])
    assert bars_ax.get_xlabel() == "Δmu"
    assert points_ax.get_xlabel() == r"$\hat\theta$"
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert sum("pre-fit" in t for t in legend) == 2 and sum("post-fit" in t for t in legend) == 2
    _no_nan(fig)


def test_ranking_plot_with_the_model_shows_pulls_and_keeps_the_top(fitted):
    model, data, best = fitted
    result = hfx.ranking(model, data, fit_result=best)
    pulls = {p.name: p for p in hfx.pulls(model, best)}
    fig = plots.ranking_plot(result, model=model)
    names = [i.name for i in result.impacts]
    centre, low, high = _errorbars(fig.axes[0].containers[0])
    np.testing.assert_allclose(centre, [pulls[n].pull for n in names])
    np.testing.assert_allclose(high - low, [2 * pulls[n].constraint for n in names])
    one = plots.ranking_plot(result, top=1)
    assert _ticklabels(one.axes[0]) == names[:1]
    assert [len(c) for c in one.axes[1].containers] == [1, 1, 1, 1]


# ---- yields -----------------------------------------------------------------------------


def test_yields_plot_stacks_samples_with_band_and_ratio(two_channel, tmp_path):
    model, data, best = two_channel
    result = hfx.yields(model, data, postfit=True, fit_result=best)
    sr = result.channel("SR")
    fig = plots.yields_plot(sr, tmp_path / "sr.png", postfit=True)
    assert _is_png(tmp_path / "sr.png")
    top, ratio = fig.axes
    stairs = [p for p in top.patches if p.get_label() in sr.samples]
    # stacked, the largest sample (bkg) at the bottom: each layer's top is the running sum
    assert [s.get_label() for s in stairs] == ["bkg", "signal"]
    bkg, signal = sr.samples.index("bkg"), sr.samples.index("signal")
    np.testing.assert_allclose(stairs[0].get_data().baseline, 0.0)
    np.testing.assert_allclose(stairs[0].get_data().values, sr.yields[bkg])
    np.testing.assert_allclose(stairs[1].get_data().baseline, sr.yields[bkg])
    np.testing.assert_allclose(stairs[1].get_data().values, sr.yields[bkg] + sr.yields[signal])
    np.testing.assert_allclose(stairs[1].get_data().values, sr.total)
    band = next(p for p in top.patches if p.get_label() == "uncertainty")
    np.testing.assert_allclose(band.get_data().values, sr.total + sr.total_stdev)
    np.testing.assert_allclose(band.get_data().baseline, sr.total - sr.total_stdev)
    # data with √n error bars
    centre, low, high = _errorbars(top.containers[0], "y")
    np.testing.assert_allclose(centre, sr.data)
    np.testing.assert_allclose(high - low, 2 * np.sqrt(sr.data))
    np.testing.assert_allclose(top.containers[0].lines[0].get_xdata(), [0.5, 1.5])
    # ratio: data/model over the band 1 ± σ/model
    centre, low, high = _errorbars(ratio.containers[0], "y")
    np.testing.assert_allclose(centre, sr.data / sr.total)
    np.testing.assert_allclose(high - low, 2 * np.sqrt(sr.data) / sr.total)
    ratio_band = ratio.patches[0]
    np.testing.assert_allclose(ratio_band.get_data().values, 1 + sr.total_stdev / sr.total)
    np.testing.assert_allclose(ratio_band.get_data().baseline, 1 - sr.total_stdev / sr.total)
    assert top.get_ylabel() == "events" and ratio.get_ylabel() == "data / model"
    assert ratio.get_xlabel() == "bin" and _ticklabels(ratio, "x") == ["0", "1"]
    assert "SR" in top.texts[0].get_text() and "post-fit" in top.texts[0].get_text()
    # legend: data, then the stack from the top down, then the band
    legend = [t.get_text() for t in top.get_legend().get_texts()]
    assert legend == ["data", "signal", "bkg", "uncertainty"]
    assert top.get_ylim()[1] > max(sr.total + sr.total_stdev)
    _no_nan(fig)


def test_yields_plots_one_png_per_channel_in_a_new_folder(two_channel, tmp_path):
    model, data, _ = two_channel
    result = hfx.yields(model, data)
    paths = plots.yields_plots(result, tmp_path / "new" / "folder", log=True)
    assert [p.name for p in paths] == [f"{c.name}_prefit.png" for c in result.channels]
    assert sorted(p.name for p in paths) == ["CR_prefit.png", "SR_prefit.png"]
    assert all(_is_png(p) for p in paths)


def test_yields_plot_log_scale_edges_and_an_empty_bin():
    channel = ChannelYields(
        name="SR",
        samples=("small", "big"),
        yields=np.array([[0.2, 0.0, 1.0], [30.0, 0.0, 3.0]]),
        stdev=np.zeros((2, 3)),
        total=np.array([30.2, 0.0, 4.0]),
        total_stdev=np.array([2.0, 0.0, 0.5]),
        sample_sums=np.array([1.2, 33.0]),
        sum_stdev=np.zeros(2),
        total_sum=34.2,
        total_sum_stdev=2.1,
        data=np.array([28.0, 0.0, 9.0]),
    )
    fig = plots.yields_plot(
        channel, postfit=False, log=True, bin_edges=[0, 50, 100, 200], xlabel="m [GeV]"
    )
    top, ratio = fig.axes
    assert top.get_yscale() == "log"
    low, high = top.get_ylim()
    assert low < 3.0 and high > 30.2 + 2.0  # the bottom layer (big) and the peak shown
    assert ratio.get_xlabel() == "m [GeV]" and ratio.get_xlim() == (0.0, 200.0)
    # the empty bin has no ratio point; 9/4 lies above 2, so the panel reaches higher
    np.testing.assert_allclose(ratio.containers[0].lines[0].get_xdata(), [25.0, 150.0])
    assert ratio.get_ylim()[1] >= 9.0 / 4.0
    assert "pre-fit" in top.texts[0].get_text()
    _no_nan(fig)


# ---- limits and scans -------------------------------------------------------------------


def test_brazil_plot_curves_are_the_cls_values(limit, tmp_path):
    fig = plots.brazil_plot(limit, tmp_path / "brazil.png", poi_label="mu")
    assert _is_png(tmp_path / "brazil.png")
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_allclose(lines["observed"].get_xdata(), limit.scan)
    np.testing.assert_allclose(lines["observed"].get_ydata(), limit.cls_obs)
    np.testing.assert_allclose(lines["expected"].get_ydata(), limit.cls_exp[2])
    assert lines["CLs = 0.05"].get_ydata()[0] == 0.05
    observed = next(v for k, v in lines.items() if k.startswith("observed limit"))
    expected = next(v for k, v in lines.items() if k.startswith("expected limit"))
    assert observed.get_xdata()[0] == pytest.approx(limit.obs)
    assert expected.get_xdata()[0] == pytest.approx(limit.exp[2])
    bands = {c.get_label(): c for c in ax.collections}
    # each band's polygon runs along one curve and back along the other
    for label, curves in (
        ("expected $\\pm 1\\sigma$", (limit.cls_exp[1], limit.cls_exp[3])),
        ("expected $\\pm 2\\sigma$", (limit.cls_exp[0], limit.cls_exp[4])),
    ):
        vertices = bands[label].get_paths()[0].vertices
        for curve in curves:
            for x, y in zip(limit.scan, curve, strict=True):
                assert np.any(np.isclose(vertices[:, 0], x) & np.isclose(vertices[:, 1], y))
    assert ax.get_xlabel() == "mu" and ax.get_ylabel() == "CLs"
    assert len(ax.get_legend().get_texts()) == 7
    _no_nan(fig)


def test_brazil_plot_without_a_scan_is_an_error(fitted):
    model, data, _ = fitted
    with pytest.raises(HfxError, match="scan"):
        plots.brazil_plot(hfx.upper_limit(model, data))


def test_scan_plot_is_the_profile(fitted, tmp_path):
    model, data, _ = fitted
    scan = profile_scan(model, data, npoints=21)
    fig = plots.scan_plot(scan, tmp_path / "scan.png")
    assert _is_png(tmp_path / "scan.png")
    ax = fig.axes[0]
    curve = next(line for line in ax.get_lines() if line.get_label() == "profile likelihood")
    np.testing.assert_allclose(curve.get_xdata(), scan.values)
    np.testing.assert_allclose(curve.get_ydata(), scan.delta_twice_nll)
    levels = sorted(line.get_ydata()[0] for line in ax.get_lines() if line.get_linestyle() == "--")
    assert levels == pytest.approx([1.0, 3.841458820694124])
    assert sorted(t.get_text() for t in ax.texts) == ["68% CL", "95% CL"]
    edges = [line.get_xdata()[0] for line in ax.get_lines() if line.get_linestyle() == ":"]
    expected = [e for level in (1.0, 3.841458820694124) for e in scan.crossings(level)]
    assert edges == pytest.approx([e for e in expected if e is not None])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[1].startswith("68% CL: [") and legend[2].startswith("95% CL")
    assert ax.get_xlabel() == "mu"
    _no_nan(fig)


# ---- inputs -----------------------------------------------------------------------------


def test_modifier_grid_plot_colours_the_acting_cells(tmp_path):
    spec = two_channel_spec()
    grid = grid_object(spec)
    fig = plots.modifier_grid_plot(grid, tmp_path / "grid.png")
    assert _is_png(tmp_path / "grid.png")
    ax = fig.axes[0]
    cells = np.asarray(ax.images[0].get_array())
    acts = grid_object(spec).acts
    np.testing.assert_array_equal(cells > 0, acts)
    # one colour code per type, the same for every cell of a row
    codes = [set(row[row > 0]) for row in cells]
    assert all(len(c) == 1 for c in codes) and len({c.pop() for c in codes}) == 5
    assert _ticklabels(ax) == ["shape", "lumi", "mu", "norm", "stat"]
    assert _ticklabels(ax, "x") == ["SR / signal", "SR / bkg", "CR / bkg"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["normfactor", "normsys", "histosys", "staterror", "lumi"]


def test_template_plots(tmp_path):
    spec = two_channel_spec()
    bkg = templates(spec, channel="SR", sample="bkg")[0]
    fig = plots.templates_plot(bkg, "shape", tmp_path / "t.png")
    assert _is_png(tmp_path / "t.png")
    drawn = {p.get_label(): p.get_data().values for p in fig.axes[0].patches}
    np.testing.assert_allclose(drawn["nominal"], [50.0, 40.0])
    np.testing.assert_allclose(drawn["$+1\\sigma$"], [55.0, 41.0])
    np.testing.assert_allclose(drawn["$-1\\sigma$"], [46.0, 38.0])
    with pytest.raises(HfxError, match="no variation of 'mu'"):
        plots.templates_plot(bkg, "mu")
    paths = plots.templates_plots(templates(spec), tmp_path / "templates")
    # SR bkg: norm, shape, stat; CR bkg: norm, lumi (SR signal: a normfactor, no variation)
    assert len(paths) == 5
    assert all(_is_png(p) for p in paths)


# ---- saving, style, a missing matplotlib ------------------------------------------------


def test_saving_is_atomic_and_errors_are_clear(fitted, tmp_path, monkeypatch):
    model, _, best = fitted
    result = hfx.pulls(model, best)
    with pytest.raises(HfxError, match="does not exist"):
        plots.pulls_plot(result, tmp_path / "missing" / "p.png")
    with pytest.raises(HfxError, match="cannot write the plot"):
        plots.pulls_plot(result, tmp_path / "p.unknownformat")
    assert not any(tmp_path.iterdir())

    plots.pulls_plot(result, tmp_path / "p.pdf")
    assert (tmp_path / "p.pdf").read_bytes()[:5] == b"%PDF-"
    (tmp_path / "p.png").write_bytes(b"old")
    fig = plots.pulls_plot(result, tmp_path / "p.png")  # replaces the old file
    assert _is_png(tmp_path / "p.png")

    from matplotlib.figure import Figure

    def broken(self, out, **kwargs):
        out.write(b"half a png")
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(OSError, match="disk full"):
        plots.save_figure(fig, tmp_path / "new.png")
    with pytest.raises(OSError, match="disk full"):
        plots.pulls_plot(result, tmp_path / "p.png")
    # neither a new file nor a temporary one; the old plot untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.pdf", "p.png"]
    assert _is_png(tmp_path / "p.png")


def test_style_leaves_global_rcparams_alone(fitted, limit):
    model, _, best = fitted
    before = dict(matplotlib.rcParams)
    plots.pulls_plot(hfx.pulls(model, best))
    plots.brazil_plot(limit)
    assert dict(matplotlib.rcParams) == before


def test_without_matplotlib_every_plot_names_the_extra(fitted, limit, monkeypatch, tmp_path):
    model, data, best = fitted
    spec = two_channel_spec()
    calls = [
        lambda: plots.pulls_plot(hfx.pulls(model, best)),
        lambda: plots.correlation_plot(hfx.correlations(best)),
        lambda: plots.ranking_plot(hfx.ranking(model, data, fit_result=best)),
        lambda: plots.yields_plot(hfx.yields(model, data).channels[0], postfit=False),
        lambda: plots.yields_plots(hfx.yields(model, data), tmp_path),
        lambda: plots.brazil_plot(limit),
        lambda: plots.scan_plot(profile_scan(model, data, npoints=5)),
        lambda: plots.modifier_grid_plot(grid_object(spec)),
        lambda: plots.templates_plot(templates(spec)[1], "norm"),
    ]
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` fails
    for call in calls:
        with pytest.raises(MissingExtraError, match=r"pip install 'hfx\[plot\]'"):
            call()
