"""pyhf's serial loop over signal points, as pyhf users write it (run in pyhf's venv).

Usage: ``python pyhf_scan_runner.py WORKSPACE PATCHSET MODE NAME [NAME ...]`` with MODE
``cls`` (asymptotic q̃μ CLs at μ = 1 with the expected band) or ``limit`` (pyhf's upper limit
by scanning μ over 0.05 … 5 in 100 steps, as its documentation shows it).  Prints JSON:
{"seconds": per point, "results": {name: values}}.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pyhf


def main(workspace: str, patchset: str, mode: str, names: list[str]) -> None:
    pyhf.set_backend("numpy", pyhf.optimize.scipy_optimizer())
    with open(workspace) as handle:
        ws = pyhf.Workspace(json.load(handle))
    with open(patchset) as handle:
        ps = pyhf.PatchSet(json.load(handle))
    seconds, results = [], {}
    for name in names:
        start = time.perf_counter()
        patched = pyhf.Workspace(ps.apply(ws, name))
        model = patched.model()
        data = patched.data(model)
        if mode == "cls":
            obs, exp = pyhf.infer.hypotest(
                1.0, data, model, test_stat="qtilde", return_expected_set=True
            )
            results[name] = [float(obs), *[float(v) for v in exp]]
        else:
            obs, exp = pyhf.infer.intervals.upper_limits.upper_limit(
                data, model, scan=np.linspace(0.05, 5, 100)
            )
            results[name] = [float(obs), *[float(v) for v in exp]]
        seconds.append(time.perf_counter() - start)
    print(json.dumps({"seconds": seconds, "results": results}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])
