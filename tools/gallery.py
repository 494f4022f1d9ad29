"""Draws the README's gallery from the shared ATLAS workspaces (``../shared/data``):
``python tools/gallery.py [OUTPUT_DIR]`` (default ``docs/gallery``; needs the ``plot`` extra)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

import hfx
from hfx.diagnostics import modifier_grid, templates
from hfx.infer import profile_scan
from hfx.interfaces import plots

ATLAS = Path(__file__).resolve().parents[2] / "shared" / "data" / "workspaces" / "atlas"


def _model(name: str):
    ws = hfx.load(ATLAS / f"{name}.json")
    patch = json.loads((ATLAS / f"{name}.signal.json").read_text())
    model = ws.model(patches=[patch])
    return ws, patch, model, np.asarray(ws.data(model))


def _small(fig, path: Path) -> None:
    plots.save_figure(fig, path, dpi=80)


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/gallery")
    out.mkdir(parents=True, exist_ok=True)
    # 2018-31_BkgOnlyC: 71 parameters, μ̂ = 1.0 inside its bounds
    _, _, model, data = _model("2018-31_BkgOnlyC")
    best = hfx.fit(model, data)
    _small(plots.pulls_plot(hfx.pulls(model, best), title="2018-31 BkgOnlyC"), out / "pulls.png")
    corr = hfx.correlations(best, threshold=0.15)
    _small(plots.correlation_plot(corr), out / "correlations.png")
    ranking = hfx.ranking(model, data, fit_result=best)
    _small(plots.ranking_plot(ranking, top=15, model=model), out / "ranking.png")
    post = hfx.yields(model, data, postfit=True, fit_result=best)
    sr_post = plots.yields_plot(post.channel("SR_metsigST"), postfit=True)
    _small(sr_post, out / "yields_SR_postfit.png")
    pre = hfx.yields(model, data)
    _small(
        plots.yields_plot(pre.channel("SR_metsigST"), postfit=False), out / "yields_SR_prefit.png"
    )
    scan = profile_scan(model, data, values=np.linspace(0, 3.5, 36))
    _small(plots.scan_plot(scan), out / "scan.png")
    limit = hfx.upper_limit(model, data, scan=np.linspace(0, 5, 26))
    _small(plots.brazil_plot(limit, poi_label=model.config.poi_name), out / "brazil.png")
    # 2018-31_simplifiedA: three channels, two samples; its inputs
    ws, patch, _, _ = _model("2018-31_simplifiedA")
    from hfx.spec.patches import apply_patch

    spec = apply_patch(ws.spec, patch)
    _small(plots.modifier_grid_plot(modifier_grid(dict(spec))), out / "modifiers.png")
    bkg = templates(dict(spec), channel="SR_meff", sample="Bkg")[0]
    _small(plots.templates_plot(bkg, "totalError"), out / "template_SR_Bkg_totalError.png")
    for path in sorted(out.glob("*.png")):
        print(path, path.stat().st_size)


if __name__ == "__main__":
    main()
