"""Times fit diagnostics with NextStat or cabinetry; run by ``diagnostics.py`` inside that
tool's environment (``pip install nextstat jsonpatch`` or ``pip install cabinetry==0.6.0
pyhf==0.7.6 iminuit jsonpatch``).

Usage: ``python diagnostics_runner.py TOOL '<case JSON>'`` with TOOL ``nextstat`` or
``cabinetry`` and a case ``{"kind": "ranking" | "yields" | "scan", "workspace", "patch",
"repeats", "values"}``.  Each repeat times the whole task from a built model, the fit
it needs included; a warm-up run comes first where more than one repeat is asked for.
Prints ``{"times": [...], "summary": ...}`` (for a ranking the three largest impacts by
name, to check that the tools agree on what matters).

Imports only the tool, jsonpatch, numpy and the standard library.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import jsonpatch


def _spec(case) -> dict:
    spec = json.loads(Path(case["workspace"]).read_text())
    return jsonpatch.apply_patch(spec, json.loads(Path(case["patch"]).read_text()))


def _nextstat(case):
    import nextstat

    model = nextstat.HistFactoryModel.from_workspace(json.dumps(_spec(case)))
    kind = case["kind"]
    if kind == "ranking":

        def work():
            return nextstat.ranking(model)

        def summary(out):
            def size(r):
                return max(abs(r["delta_mu_up"]), abs(r["delta_mu_down"]))

            top = sorted(out, key=lambda r: -size(r))
            return [[r["name"], round(size(r), 5)] for r in top[:3]]
    elif kind == "scan":

        def work():
            return nextstat.profile_scan(model, case["values"], return_curve=True)

        def summary(out):
            return [float(v) for v in out["twice_delta_nll"]][-1]
    else:
        raise SystemExit(f"NextStat has no {kind} case here")
    return work, summary


def _cabinetry(case):
    import cabinetry

    model, data = cabinetry.model_utils.model_and_data(_spec(case))
    kind = case["kind"]
    if kind == "ranking":

        def work():
            fit = cabinetry.fit.fit(model, data)
            return cabinetry.fit.ranking(model, data, fit_results=fit)

        def summary(out):
            impact = [
                max(abs(u), abs(d)) for u, d in zip(out.postfit_up, out.postfit_down, strict=True)
            ]
            order = sorted(range(len(impact)), key=lambda i: -impact[i])
            return [[out.labels[i], round(impact[i], 5)] for i in order[:3]]
    elif kind == "yields":

        def work():
            # the propagation is cached by cabinetry: cleared so that each repeat computes it
            cabinetry.model_utils._YIELD_STDEV_CACHE.clear()
            fit = cabinetry.fit.fit(model, data)
            return cabinetry.model_utils.prediction(model, fit_results=fit)

        def summary(out):
            return [float(v) for v in out.total_stdev_model_channels[0]][-1:]
    elif kind == "scan":
        values = case["values"]

        def work():
            return cabinetry.fit.scan(
                model,
                data,
                model.config.poi_name,
                par_range=(values[0], values[-1]),
                n_steps=len(values),
            )

        def summary(out):
            return float(out.delta_nlls[-1])
    else:
        raise SystemExit(f"unknown case kind {kind!r}")
    return work, summary


def main() -> None:
    tool, case = sys.argv[1], json.loads(sys.argv[2])
    work, summary = {"nextstat": _nextstat, "cabinetry": _cabinetry}[tool](case)
    times, out = [], None
    if case["repeats"] > 1:
        work()  # warm-up: first-use imports and caches
    for _ in range(case["repeats"]):
        start = time.perf_counter()
        out = work()
        times.append(time.perf_counter() - start)
    print(json.dumps({"times": times, "summary": summary(out)}))


if __name__ == "__main__":
    main()
