"""Reference CLs and upper limits from pyhf 0.7.6 at a few points of the shared signal grids
(issue 14): run in a venv of its own (``pip install pyhf==0.7.6``), never imported by hfx.

Usage: ``python tools/pyhf_scan_reference.py OUTPUT.json``.  For each shared patchset
(``../shared/data/patchsets/NAME.patchset.json`` on ``../shared/data/workspaces/atlas/NAME.json``)
it applies the chosen patches with pyhf's own PatchSet, and writes pyhf's asymptotic q̃μ CLs
at μ = 1 (observed and expected band) and its TOMS 748 upper limit, with the versions and the
seconds each point took.  Only numbers are kept.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pyhf

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
POINTS = {
    "2018-31_BkgOnlyA": ["grid_600_400", "grid_700_200", "grid_800_700", "grid_900_300"],
    "2018-14_Comb_bkgonly": ["grid_400_100", "grid_600_300", "grid_800_100"],
}


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
            obs, exp = pyhf.infer.intervals.upper_limits.upper_limit(
                data, model, level=0.05, par_bounds=None
            )
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
