"""The posterior plot (Agg) against the numbers it shows: mean and upper-limit lines, the
shaded 68 % interval, axis labels; built from a PosteriorResult of known draws."""

from __future__ import annotations

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from hfx.infer.bayes import PosteriorResult  # noqa: E402
from hfx.interfaces import plots  # noqa: E402


def known_posterior() -> PosteriorResult:
    rng = np.random.default_rng(5)
    samples = np.empty((2, 4000, 3))
    samples[:, :, 0] = rng.gamma(8.0, 0.1, size=(2, 4000))  # the POI
    samples[:, :, 1] = rng.normal(1.0, 0.05, size=(2, 4000))
    samples[:, :, 2] = 0.5  # fixed
    return PosteriorResult(
        par_names=("mu", "gamma", "fixed"),
        samples=samples,
        poi_index=0,
        rhat=np.array([1.0, 1.0, np.nan]),
        ess=np.array([8000.0, 8000.0, np.nan]),
        divergences=0,
        seconds=1.0,
    )


def test_lines_band_and_labels_show_the_posterior_numbers(tmp_path):
    result = known_posterior()
    fig = plots.posterior_plot(result, path=tmp_path / "post.png")
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_xlabel() for ax in axes] == ["mu", "gamma"]  # the fixed one is left out
    mu_ax = axes[0]
    vertical = sorted(line.get_xdata()[0] for line in mu_ax.get_lines())
    assert vertical == pytest.approx(sorted([result.mean("mu"), result.upper_limit(0.95)]))
    low, high = result.interval("mu")
    band = mu_ax.collections[0].get_paths()[0].vertices
    shaded = band[band[:, 1] > 0, 0]
    bin_width = np.ptp(result.draws("mu")) / 60
    assert shaded.min() == pytest.approx(low, abs=bin_width)
    assert shaded.max() == pytest.approx(high, abs=bin_width)
    assert mu_ax.get_ylabel() == "posterior density"
    assert "2 chains" in fig._suptitle.get_text()
    assert (tmp_path / "post.png").read_bytes().startswith(b"\x89PNG")


def test_a_posterior_to_dict_summarises_sampled_parameters_only():
    summary = known_posterior().to_dict()
    assert set(summary["parameters"]) == {"mu", "gamma"}
    assert summary["upper_limit_95"] == pytest.approx(
        np.percentile(known_posterior().draws("mu"), 95)
    )
