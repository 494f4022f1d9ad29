"""Reference CLs and upper limits from pyhf 0.7.6 at a few points of the shared signal grids
(issue 14): run in a venv of its own (``pip install pyhf==0.7.6``), never imported by hfx.

Usage: ``python tools/pyhf_scan_reference.py OUTPUT.json``.  For each shared patchset
(``../shared/data/patchsets/NAME.patchset.json`` on ``../shared/data/workspaces/atlas/NAME.json``)
it applies the chosen patches with pyhf's own PatchSet, and writes pyhf's asymptotic q̃μ CLs
at μ = 1 (observed and expected band) and the upper limits where its CLs curves cross 0.05 (Brent's method), with the versions and the
seconds each point took.  Only numbers are kept.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pyhf
import scipy.optimize

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
POINTS = {
    "2018-31_BkgOnlyA": ["grid_600_400", "grid_700_200", "grid_800_700", "grid_900_300"],
    "2018-14_Comb_bkgonly": ["grid_400_100", "grid_600_300", "grid_800_100"],
}


def _upper_limits(data, model, level=0.05):
    """pyhf's CLs curves (observed, expected band) solved for CLs = level by Brent's method
    on [0.01, 10] (pyhf's own TOMS 748 search starts at μ = 0, where its CLs is NaN here)."""

    def curve(index):
        def f(mu):
            obs, exp = pyhf.infer.hypotest(
                mu, data, model, test_stat="qtilde", return_expected_set=True
            )
            return float(obs if index is None else exp[index]) - level

        return f

    def solve(index):
        return scipy.optimize.brentq(curve(index), 0.01, 10.0, xtol=1e-8, rtol=1e-7)

    return solve(None), [solve(i) for i in range(5)]


def main(output: str) -> None:
    pyhf.set_backend("numpy", pyhf.optimize.scipy_optimizer())
    out: dict = {"versions": {"pyhf": pyhf.__version__}, "points": []}
    for name, patches in POINTS.items():
        workspace = pyhf.Workspace(
            json.loads((SHARED / "workspaces" / "atlas" / f"{name}.json").read_text())
        )
        patchset = pyhf.PatchSet(
            json.loads((SHARED / "patchsets" / f"{name}.patchset.json").read_text())
        )
        for patch in patches:
            start = time.perf_counter()
            spec = patchset.apply(workspace, patch)
            ws = pyhf.Workspace(spec)
            model = ws.model()
            data = ws.data(model)
            cls_obs, cls_exp = pyhf.infer.hypotest(
                1.0, data, model, test_stat="qtilde", return_expected_set=True
            )
            obs, exp = _upper_limits(data, model)
            out["points"].append(
                {
                    "workspace": name,
                    "name": patch,
                    "CLs_obs": float(cls_obs),
                    "CLs_exp": [float(v) for v in cls_exp],
                    "upper_limit": {"obs": float(obs), "exp": [float(v) for v in exp]},
                    "seconds": time.perf_counter() - start,
                }
            )
            print(name, patch, out["points"][-1], flush=True)
    Path(output).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
