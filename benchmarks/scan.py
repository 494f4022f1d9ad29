"""Signal-grid scans: hfx on 1 and 2 workers and on Dask, next to pyhf's serial loop.

Usage (from the repository root, in the hfx environment with the 'dask' extra)::

    python benchmarks/scan.py [--pyhf-python PATH] [--repeats 3]
        [--output benchmarks/RESULTS-scan.md]

Rows, on the shared 117-point patchsets (``../shared/data/patchsets``):

* CLs at μ = 1 for every point, timed as whole ``hfx scan`` processes (start-up, loading,
  every point, the output file written): one process, a pool of 1 and of 2 workers, and a
  Dask LocalCluster of 2 worker processes (its start included), plus ``hfx.scan`` on a Dask
  cluster already running (what Dask itself costs against the process pool);
* upper limits for every point (``hfx scan --upper-limit --poi-bounds 0 100``: the bound of
  the measurement, 10, is below the limit of the weakest points), 2 workers;
* pyhf 0.7.6's serial loop (``PatchSet.apply``, ``Workspace.model``, ``hypotest`` or
  ``upper_limit`` with its documented 100-point scan) on a subset of points, in its own venv,
  extrapolated to 117 points (said so in the table), and its numbers compared with hfx's.

Medians over ``--repeats`` runs (the upper limits and pyhf once).  The machine's cores are
printed: the goals of issue 14 are for this 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data"
GRIDS = ("2018-31_BkgOnlyA", "2018-14_Comb_bkgonly")
LIMIT_POINTS = ("grid_600_400", "grid_800_700")  # limits inside pyhf's 0.05 … 5


def _files(name: str) -> tuple[Path, Path]:
    return SHARED / "workspaces" / "atlas" / f"{name}.json", SHARED / "patchsets" / (
        f"{name}.patchset.json"
    )


def _hfx_scan(name: str, *extra: str) -> tuple[float, list[dict]]:
    bkg, ps = _files(name)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "scan.jsonl"
        command = [sys.executable, "-m", "hfx", "scan", str(bkg), str(ps), "-o", str(out), *extra]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(command)} failed: {done.stderr}")
        records = [json.loads(line) for line in out.read_text().splitlines()]
    return seconds, records


def _median(runs: list[float]) -> float:
    return statistics.median(runs)


def _dask_library(name: str, repeats: int) -> tuple[float, float]:
    """(seconds to start a 2-worker LocalCluster, median seconds of hfx.scan on it)."""
    import distributed

    import hfx

    bkg, ps = _files(name)
    start = time.perf_counter()
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        started = time.perf_counter() - start
        executor = client.get_executor()
        ws = hfx.load(bkg)
        patchset = hfx.PatchSet.load(ps)
        hfx.scan(ws, patchset, executor=executor)  # warm the workers' imports
        runs = []
        for _ in range(repeats):
            t = time.perf_counter()
            hfx.scan(ws, patchset, executor=executor)
            runs.append(time.perf_counter() - t)
    return started, _median(runs)


def _pool_library(name: str, repeats: int) -> float:
    import hfx
    from hfx.interfaces.scan.executors import process_executor

    bkg, ps = _files(name)
    ws = hfx.load(bkg)
    patchset = hfx.PatchSet.load(ps)
    with process_executor(2) as pool:
        hfx.scan(ws, patchset, executor=pool)
        runs = []
        for _ in range(repeats):
            t = time.perf_counter()
            hfx.scan(ws, patchset, executor=pool)
            runs.append(time.perf_counter() - t)
    return _median(runs)


def _pyhf(python: str, name: str, mode: str, points: list[str]) -> dict:
    bkg, ps = _files(name)
    command = [python, str(HERE / "pyhf_scan_runner.py"), str(bkg), str(ps), mode, *points]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"pyhf runner failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _max_rel(hfx_values: dict, pyhf_values: dict) -> float:
    worst = 0.0
    for name, ref in pyhf_values.items():
        ours = np.asarray(hfx_values[name], dtype=float)
        ref = np.asarray(ref, dtype=float)
        worst = max(worst, float(np.max(np.abs(ours - ref) / np.maximum(np.abs(ref), 1e-300))))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pyhf-python", default=None)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pyhf-points", type=int, default=10)
    parser.add_argument("--output", default=str(HERE / "RESULTS-scan.md"))
    args = parser.parse_args()

    rows: list[tuple[str, ...]] = []
    notes: list[str] = []
    for name in GRIDS:
        cases = (
            ("process, 1 worker (serial)", ("--executor", "serial")),
            ("process pool, 1 worker", ("--executor", "process", "--workers", "1")),
            ("process pool, 2 workers", ("--executor", "process", "--workers", "2")),
            (
                "Dask LocalCluster, 2 workers (start included)",
                ("--executor", "dask", "--workers", "2"),
            ),
        )
        cls_records: list[dict] = []
        for label, extra in cases:
            runs = []
            for _ in range(args.repeats):
                seconds, cls_records = _hfx_scan(name, *extra)
                runs.append(seconds)
            assert len(cls_records) == 117 and all(r["status"] == "ok" for r in cls_records)
            goal = "≤ 5 s" if name == GRIDS[0] and label == "process pool, 2 workers" else ""
            rows.append(
                (
                    name,
                    "CLs, 117 points",
                    f"hfx scan: {label}",
                    f"{_median(runs):.2f}",
                    f"{args.repeats}",
                    goal,
                )
            )
            print(rows[-1], flush=True)
        pool = _pool_library(name, args.repeats)
        started, on_dask = _dask_library(name, args.repeats)
        rows.append(
            (
                name,
                "CLs, 117 points",
                "hfx.scan, process pool of 2 (started)",
                f"{pool:.2f}",
                f"{args.repeats}",
                "",
            )
        )
        rows.append(
            (
                name,
                "CLs, 117 points",
                "hfx.scan, Dask cluster of 2 (started)",
                f"{on_dask:.2f}",
                f"{args.repeats}",
                "",
            )
        )
        notes.append(
            f"{name}: a 2-worker Dask LocalCluster took {started:.2f} s to start; on a started "
            f"cluster the scan took {on_dask:.2f} s against {pool:.2f} s on a started process "
            f"pool ({on_dask - pool:+.2f} s of Dask overhead for 117 points)."
        )
        if name == GRIDS[0]:
            seconds, ul_records = _hfx_scan(
                name, "--workers", "2", "--upper-limit", "--poi-bounds", "0", "100"
            )
            assert all(r["status"] == "ok" for r in ul_records)
            rows.append(
                (
                    name,
                    "upper limits, 117 points",
                    "hfx scan --upper-limit: process pool, 2 workers",
                    f"{seconds:.2f}",
                    "1",
                    "≤ 60 s",
                )
            )
            print(rows[-1], flush=True)
        if args.pyhf_python:
            subset = [r["name"] for r in cls_records][:: max(1, 117 // args.pyhf_points)][
                : args.pyhf_points
            ]
            out = _pyhf(args.pyhf_python, name, "cls", subset)
            per_point = _median(out["seconds"])
            rows.append(
                (
                    name,
                    "CLs, 117 points",
                    f"pyhf serial loop ({len(subset)} points, ×117/{len(subset)})",
                    f"{per_point * 117:.1f}",
                    "1",
                    "",
                )
            )
            ours = {r["name"]: [r["CLs_obs"], *r["CLs_exp"]] for r in cls_records}
            notes.append(
                f"{name}: pyhf's CLs at {len(subset)} points ({per_point:.2f} s a point) agree "
                f"with hfx's to {_max_rel(ours, out['results']):.1e} relative (the largest "
                "difference of the 6 values a point)."
            )
            if name == GRIDS[0]:
                out = _pyhf(args.pyhf_python, name, "limit", list(LIMIT_POINTS))
                per_point = _median(out["seconds"])
                rows.append(
                    (
                        name,
                        "upper limits, 117 points",
                        f"pyhf serial loop ({len(LIMIT_POINTS)} points, ×117/{len(LIMIT_POINTS)})",
                        f"{per_point * 117:.1f}",
                        "1",
                        "",
                    )
                )
                ours = {
                    r["name"]: [r["upper_limit"]["obs"], *r["upper_limit"]["exp"]]
                    for r in ul_records
                }
                notes.append(
                    f"{name}: pyhf's upper limits (linear interpolation on its 100-point scan) at "
                    f"{len(LIMIT_POINTS)} points ({per_point:.1f} s a point) agree with hfx's "
                    f"(root finding to 1e-6) to {_max_rel(ours, out['results']):.1e} relative."
                )
        print(notes[-1], flush=True)

    lines = [
        "# Signal-grid scans: hfx next to pyhf",
        "",
        f"One run of `benchmarks/scan.py` on this machine ({os.cpu_count()} cores), "
        f"{time.strftime('%Y-%m-%d')}. Seconds of wall time; hfx rows are whole `hfx scan` "
        "processes (start-up, loading, all points, output written) unless named `hfx.scan`. "
        "pyhf rows time a subset of points and multiply up to 117 (said in the row).",
        "",
        "| grid | task | how | seconds | runs (median) | goal |",
        "|---|---|---|---:|---:|---|",
        *[f"| {' | '.join(row)} |" for row in rows],
        "",
        *[f"- {note}" for note in notes],
        "",
    ]
    Path(args.output).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
