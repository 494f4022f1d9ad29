"""Fit diagnostics: hfx next to NextStat and cabinetry 0.6, measured in one run.

Usage (from the repository root, in the hfx environment)::

    python benchmarks/diagnostics.py [--nextstat-python PATH] [--cabinetry-python PATH]
        [--workspace 2018-31_BkgOnlyA] [--repeats 5] [--cabinetry-repeats 1]
        [--output benchmarks/RESULTS-diagnostics.md]

Rows, on one published workspace with its signal patch (model already built; each time
includes the unconditional fit the task needs):

* impact ranking of every nuisance parameter (hfx.ranking; nextstat.ranking;
  cabinetry.fit.fit + cabinetry.fit.ranking: four Minuit fits per parameter, ~10 min);
* post-fit yields with their uncertainties per bin and channel (hfx.yields;
  cabinetry.fit.fit + model_utils.prediction, its propagation cache cleared each time);
* a 31-point profile-likelihood scan of the POI over [0, 3] (hfx.infer.profile_scan;
  nextstat.profile_scan; cabinetry.fit.scan).

hfx runs in this process after one warm-up run; the others in their own environments
through ``diagnostics_runner.py`` (also after a warm-up where they repeat).  Medians are
shown with the number of repeats.  The goals of issue 13 are printed beside hfx's times.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import hfx
from hfx.infer import profile_scan

HERE = Path(__file__).resolve().parent
WS_DIR = HERE.parent.parent / "shared" / "data" / "workspaces" / "atlas"
SCAN = [3.0 * k / 30 for k in range(31)]
GOALS = {"ranking": "≥ 100× cabinetry, < NextStat", "yields": "≤ 0.2 s", "scan": "≤ 0.5 s"}


def _hfx(kind: str, model, data, repeats: int) -> tuple[list[float], object]:
    if kind == "ranking":

        def work():
            return hfx.ranking(model, data)

        def summary(out):
            return [[i.name, round(i.postfit, 5)] for i in out.impacts[:3]]
    elif kind == "yields":

        def work():
            return hfx.yields(model, data, postfit=True)

        def summary(out):
            return [out.channels[0].total_sum_stdev]
    else:

        def work():
            return profile_scan(model, data, values=np.asarray(SCAN))

        def summary(out):
            return float(out.delta_twice_nll[-1])

    work()  # warm-up: first-use imports and caches
    times = []
    out = None
    for _ in range(repeats):
        start = time.perf_counter()
        out = work()
        times.append(time.perf_counter() - start)
    return times, summary(out)


def _other(python: Path | None, tool: str, case: dict, timeout: float):
    if python is None:
        return None
    runner = HERE / "diagnostics_runner.py"
    try:
        done = subprocess.run(
            [str(python), str(runner), tool, json.dumps(case)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
    except (subprocess.SubprocessError, OSError) as err:
        print(f"{tool} {case['kind']}: {err}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cell(res) -> str:
    if res is None:
        return "—"
    times = res["times"]
    return f"{statistics.median(times):.3g} s (n={len(times)})"


def _ratio(res, hfx_median: float) -> str:
    if res is None:
        return "—"
    return f"{statistics.median(res['times']) / hfx_median:.3g}×"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nextstat-python", type=Path, default=None)
    parser.add_argument("--cabinetry-python", type=Path, default=None)
    parser.add_argument("--workspace", default="2018-31_BkgOnlyA")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cabinetry-repeats", type=int, default=1)
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS-diagnostics.md")
    args = parser.parse_args()
    started = time.perf_counter()
    ws_file = WS_DIR / f"{args.workspace}.json"
    patch_file = WS_DIR / f"{args.workspace}.signal.json"
    ws = hfx.load(ws_file)
    model = ws.model(patches=[json.loads(patch_file.read_text())])
    data = np.asarray(ws.data(model))
    lines = [
        f"# Fit diagnostics: hfx, NextStat, cabinetry ({args.workspace}, "
        f"{model.config.npars} parameters)",
        "",
        "Medians of the repeats shown (n), one run on this machine, each tool after a "
        "warm-up run in its own process (cabinetry's ranking: one run, no warm-up). Every "
        "time includes the unconditional fit the task needs. Ratios: the other tool's "
        "time / hfx's. answer: for the ranking the three parameters of largest post-fit impact "
        "with that impact (NextStat ranks by its own impacts; on a workspace whose μ̂ sits at 0 "
        "all impacts are small and their order is noise), for yields the first channel's total "
        "post-fit σ, for the scan Δ(−2 log L) at μ = 3.",
        "",
        "| task | hfx | goal | NextStat | NextStat / hfx | cabinetry 0.6 | cabinetry / hfx "
        "| answer (hfx / NextStat / cabinetry) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind in ("ranking", "yields", "scan"):
        times, summary = _hfx(kind, model, data, args.repeats)
        median = statistics.median(times)
        case = {
            "kind": kind,
            "workspace": str(ws_file),
            "patch": str(patch_file),
            "repeats": args.repeats,
            "values": SCAN,
        }
        ns = None if kind == "yields" else _other(args.nextstat_python, "nextstat", case, 600)
        cab_case = dict(case, repeats=args.cabinetry_repeats if kind == "ranking" else 3)
        cab = _other(args.cabinetry_python, "cabinetry", cab_case, 3600)
        answers = " / ".join(
            json.dumps(x) for x in (summary, ns and ns["summary"], cab and cab["summary"])
        )
        lines.append(
            f"| {kind} | {median:.3g} s (n={len(times)}) | {GOALS[kind]} | {_cell(ns)} "
            f"| {_ratio(ns, median)} | {_cell(cab)} | {_ratio(cab, median)} | {answers} |"
        )
        print(lines[-1], file=sys.stderr)
    lines += ["", f"Total wall time: {time.perf_counter() - started:.0f} s."]
    args.output.write_text("\n".join(lines) + "\n")
    print(args.output.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
