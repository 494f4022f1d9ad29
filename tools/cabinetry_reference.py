"""Reference values from cabinetry 0.6 for hfx's fit diagnostics (issue 13): run in a venv of
its own (``pip install cabinetry==0.6.0 pyhf==0.7.6``), never imported by hfx or its tests.

Usage: ``python tools/cabinetry_reference.py OUTPUT_DIR NAME [NAME ...]`` with NAME a shared
ATLAS workspace (``../shared/data/workspaces/atlas/NAME.json`` + ``NAME.signal.json``).
Writes ``OUTPUT_DIR/NAME.json``: the MLE fit (best fit, uncertainties, correlations,
−2 log L), the impact ranking, and the pre- and post-fit yields with their uncertainties per
bin and per channel, as cabinetry computes them (Minuit, pyhf's numpy backend), plus the
software versions and the time each part took.  Only numbers are kept: no cabinetry code.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import cabinetry
import iminuit
import jsonpatch
import numpy as np
import pyhf

ATLAS = Path(__file__).resolve().parents[2] / "shared" / "data" / "workspaces" / "atlas"


def _floats(x) -> list:
    return np.asarray(x, dtype=float).tolist()


def reference(name: str) -> dict:
    spec = json.loads((ATLAS / f"{name}.json").read_text())
    patch = json.loads((ATLAS / f"{name}.signal.json").read_text())
    spec = jsonpatch.apply_patch(spec, patch)
    model, data = cabinetry.model_utils.model_and_data(spec)
    out: dict = {
        "workspace": name,
        "versions": {
            "cabinetry": cabinetry.__version__,
            "pyhf": pyhf.__version__,
            "iminuit": iminuit.__version__,
        },
        "poi": model.config.poi_name,
        "seconds": {},
    }
    start = time.perf_counter()
    fit = cabinetry.fit.fit(model, data)
    out["seconds"]["fit"] = time.perf_counter() - start
    out["fit"] = {
        "labels": list(fit.labels),
        "bestfit": _floats(fit.bestfit),
        "uncertainty": _floats(fit.uncertainty),
        "correlation": _floats(fit.corr_mat),
        "twice_nll": float(fit.best_twice_nll),
    }
    start = time.perf_counter()
    ranking = cabinetry.fit.ranking(model, data, fit_results=fit)
    out["seconds"]["ranking"] = time.perf_counter() - start
    out["ranking"] = {
        "labels": list(ranking.labels),
        "bestfit": _floats(ranking.bestfit),
        "uncertainty": _floats(ranking.uncertainty),
        "prefit_up": _floats(ranking.prefit_up),
        "prefit_down": _floats(ranking.prefit_down),
        "postfit_up": _floats(ranking.postfit_up),
        "postfit_down": _floats(ranking.postfit_down),
    }
    for label, fit_results in (("prefit", None), ("postfit", fit)):
        start = time.perf_counter()
        pred = cabinetry.model_utils.prediction(model, fit_results=fit_results)
        out["seconds"][f"yields_{label}"] = time.perf_counter() - start
        out[f"yields_{label}"] = {
            "channels": list(model.config.channels),
            "samples": list(model.config.samples),
            "yields": [_floats(ch) for ch in pred.model_yields],
            "stdev_bins": [_floats(ch) for ch in pred.total_stdev_model_bins],
            "stdev_channels": [_floats(ch) for ch in pred.total_stdev_model_channels],
        }
    return out


def main() -> None:
    target = Path(sys.argv[1])
    target.mkdir(parents=True, exist_ok=True)
    for name in sys.argv[2:]:
        result = reference(name)
        (target / f"{name}.json").write_text(json.dumps(result, indent=1) + "\n")
        print(name, {k: round(v, 2) for k, v in result["seconds"].items()}, flush=True)


if __name__ == "__main__":
    main()
