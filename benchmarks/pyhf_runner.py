"""Times one benchmark case with pyhf; run by ``suite.py`` inside a pyhf environment.

Usage: ``python pyhf_runner.py '<case JSON>'``.  The case names a workspace file (and
optionally a patch file), a kind (build, fit, cls, limit, toys), an optimizer (scipy or
minuit), a number of repeats (cut short once ``budget_s`` seconds are spent) and, for
toys, the number of toys.  Prints one JSON object:
``{"times": [...], "value": ...}`` where ``value`` is the answer the timing produced (the
suite compares it with hfx's).  Imports only pyhf, numpy and the standard library.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from repeats import timed_runs


def _load(case):
    import pyhf

    spec = json.loads(Path(case["workspace"]).read_text())
    patches = [json.loads(Path(case["patch"]).read_text())] if case.get("patch") else []
    return pyhf, spec, patches


def _model(pyhf, spec, patches):
    ws = pyhf.Workspace(spec)
    model = ws.model(patches=patches)
    return model, ws.data(model)


def _answer(kind, pyhf, model, data, case):
    import numpy as np

    if kind == "fit":
        _, twice_nll = pyhf.infer.mle.fit(data, model, return_fitted_val=True)
        return float(twice_nll)
    if kind == "cls":
        obs, exp = pyhf.infer.hypotest(
            1.0, data, model, test_stat="qtilde", return_expected_set=True
        )
        return [float(obs), *[float(e) for e in exp]]
    if kind == "limit":
        obs, exp = pyhf.infer.intervals.upper_limits.upper_limit(data, model, scan=None)
        return [float(obs), *[float(e) for e in exp]]
    if kind == "toys":
        np.random.seed(0)
        obs, exp = pyhf.infer.hypotest(
            1.0,
            data,
            model,
            test_stat="qtilde",
            calctype="toybased",
            ntoys=case["ntoys"],
            return_expected_set=True,
            track_progress=False,
        )
        return [float(obs), *[float(e) for e in exp]]
    raise ValueError(f"unknown case kind {kind!r}")


def main() -> None:
    case = json.loads(sys.argv[1])
    pyhf, spec, patches = _load(case)
    optimizer = pyhf.optimize.minuit_optimizer() if case["optimizer"] == "minuit" else None
    pyhf.set_backend("numpy", optimizer or pyhf.optimize.scipy_optimizer())
    kind = case["kind"]
    model, data = _model(pyhf, spec, patches)

    def build() -> int:
        # from the files on disk, as hfx's and NextStat's builds are timed
        _, spec, patches = _load(case)
        return _model(pyhf, spec, patches)[0].config.npars

    if kind == "build":
        times, value = timed_runs(build, case)
    else:
        times, value = timed_runs(lambda: _answer(kind, pyhf, model, data, case), case)
    print(json.dumps({"times": times, "value": value, "version": pyhf.__version__}))


if __name__ == "__main__":
    main()
