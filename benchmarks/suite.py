"""hfx next to pyhf 0.7.6 (numpy+scipy and numpy+minuit) and NextStat, measured in one run.

Usage (from the repository root, in the hfx environment)::

    python benchmarks/suite.py --pyhf-python PATH/TO/pyhf-env/bin/python [--repeats 3]
        [--nextstat-python PATH/TO/nextstat-env/bin/python]
        [--root-python PATH/TO/root-env/bin/python]
        [--only build,fit,cls,limit,toys,scaling,jax,cli] [--workspaces NAME,...]
        [--output PATH]

The pyhf environment needs ``pip install pyhf==0.7.6 iminuit`` (without iminuit the
"pyhf minuit" column shows pyhf's import error).  Writes ``benchmarks/RESULTS.md``
(tables of medians and ratios) and ``benchmarks/results/raw.json`` (every timing); with
``--output PATH`` elsewhere than ``benchmarks/``, the raw timings go next to it (``PATH``
with the suffix ``.raw.json``).
pyhf runs case by case in its own environment through ``pyhf_runner.py`` with a per-case
timeout; a slow pyhf case stops repeating once its time budget is spent (the table gives
the number of repeats).  Every timed hfx answer is checked against pyhf's from the same
run: CLs within 2e-3 relative, upper limits within 5e-3, hfx's minimum −2 log L no more
than 1e-3 above pyhf's; toy CLs within their statistical spread.  A failed check is marked
FAIL in the table and makes the command exit non-zero, so a fast wrong answer cannot pass.

``--nextstat-python`` (a Python with ``pip install nextstat jsonpatch``) adds NextStat to
the published-workspace tables (build, fit, cls, limit; ``nextstat_runner.py``, one case
per process, the same cases, repeats and timeout as pyhf) and a summary table of hfx's
default, NextStat and pyhf near the top.  NextStat's answers are checked against pyhf's
in the same way; a failed NextStat check is shown but does not fail the run.  Without the
option (or where that Python is missing) the NextStat columns are left out.

``--only cli`` times whole processes of the command-line tools (``hfx``, ``pyhf`` and
``nextstat`` next to the running Python, ``--pyhf-python`` and ``--nextstat-python``):
``--help``, CLs on a small and a large workspace, a fit and an upper limit on the small
one; one warm-up run each, then the median of at least 5.
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
from typing import Any

import numpy as np

import hfx
from hfx.optimize import kernel, make_plan
from hfx_cases import hfx_case, jax_case, nll_grad_seconds
from synthetic import workspace as synthetic_workspace

HERE = Path(__file__).resolve().parent
WS_DIR = HERE.parent.parent / "shared" / "data" / "workspaces" / "atlas"
TOLERANCE = {"cls": 2e-3, "limit": 5e-3}
CLI_SMALL, CLI_LARGE = "2018-31_simplifiedA", "2018-31_BkgOnlyA"


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def run_pyhf(
    python: Path, case: dict[str, Any], timeout: float, runner: str = "pyhf_runner.py"
) -> dict[str, Any] | None:
    """One case in its own process (pyhf or ROOT environment).

    None when that environment is absent, {"timeout": s} on timeout.
    """
    if python is None or not python.exists():
        return None
    try:
        proc = subprocess.run(
            [str(python), str(HERE / runner), json.dumps(case)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"timeout": timeout}
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def check(kind: str, hfx_value: Any, pyhf_value: Any, ntoys: int = 0) -> str:
    """'ok', 'FAIL (...)' or '-' comparing hfx's answer with pyhf's."""
    if pyhf_value is None or hfx_value is None:
        return "-"
    if kind == "fit":
        diff = float(hfx_value) - float(pyhf_value)
        return "ok" if diff <= 1e-3 else f"FAIL (2NLL +{diff:.2g})"
    if kind in TOLERANCE:
        a, b = np.asarray(hfx_value, float), np.asarray(pyhf_value, float)
        rel = float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))
        return "ok" if rel <= TOLERANCE[kind] else f"FAIL (rel {rel:.2g})"
    if kind == "toys":
        # CLs from two independent toy ensembles: allow 5 binomial standard deviations
        a, b = float(hfx_value[0]), float(pyhf_value[0])
        spread = 5.0 * np.sqrt(max(b * (1 - b), 1e-4) * (1.0 / ntoys[0] + 1.0 / ntoys[1]))
        return "ok" if abs(a - b) <= spread + 0.02 else f"FAIL ({a:.3g} vs {b:.3g})"
    return "-"


def _fmt(seconds: float) -> str:
    if not np.isfinite(seconds):
        return "-"
    if seconds < 0:  # a timeout bound (see _pyhf_cell)
        return "> " + _fmt(-seconds)
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} µs"
    return f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def _pyhf_cell(res: dict[str, Any] | None) -> tuple[str, float]:
    """The table cell and the time; a timeout gives its limit as a negative time (a bound)."""
    if res is None:
        return "-", float("nan")
    if "timeout" in res:
        return f"> {res['timeout']:.0f} s (timeout)", -float(res["timeout"])
    if "error" in res:
        return f"error: {res['error'][:40]}", float("nan")
    t = _median(res["times"])
    n = len(res["times"])
    return _fmt(t) + ("" if n >= 3 else f" (n={n})"), t


def _ratio(slow: float, fast: float) -> str:
    if not (np.isfinite(slow) and np.isfinite(fast)) or fast <= 0:
        return "-"
    if slow < 0:  # the slow side timed out after -slow seconds: a lower bound
        return f"> {-slow / fast:.0f}x"
    ratio = slow / fast
    return f"{ratio:.2g}x" if ratio < 0.95 else f"{ratio:.1f}x"


def _nextstat_cell(kind: str, res: dict[str, Any] | None) -> tuple[str, float]:
    """NextStat's table cell and time; build and fit add their second timing in brackets."""
    cell, seconds = _pyhf_cell(res)
    extra = {"build": "from_workspace_times", "fit": "fit_with_uncertainties_times"}.get(kind)
    if res is not None and extra in res:
        label = "from_workspace" if kind == "build" else "fit() with uncertainties"
        cell += f" ({label} {_fmt(_median(res[extra]))})"
    if kind == "build" and res is not None and "apply_patchset_times" in res:
        native = _median(res["apply_patchset_times"])
        cell += f" (apply_patchset {_fmt(native)})"
        if seconds >= 0:  # (not a timeout) the faster of NextStat's two paths is compared
            seconds = min(seconds, native)
    return cell, seconds


def _summary_row(name: str, kind: str, hfx_s: float, ns: tuple, pyhf_cell: str, checks) -> str:
    """One line of the summary table: hfx default, NextStat and pyhf scipy, and who wins."""
    ns_cell, ns_s = ns
    if np.isfinite(ns_s) and np.isfinite(hfx_s):
        # a NextStat timeout (negative time) is slower than any hfx time
        wins = "yes" if ns_s < 0 or hfx_s <= ns_s else "no"
    else:
        wins = "n/a"
    return (
        f"| {name} | {kind} | {_fmt(hfx_s)} | {ns_cell} | {pyhf_cell} "
        f"| {_ratio(ns_s, hfx_s)} | {wins} | {checks[0]} / {checks[1]} |"
    )


def atlas_tables(args, raw: dict[str, Any], failures: list[str], nextstat: dict) -> list[str]:
    """Per-workspace tables; NextStat's summary rows and notes go into ``nextstat``."""
    kinds = [k for k in ("build", "fit", "cls", "limit") if k in args.only]
    with_ns = args.nextstat_python is not None
    out = []
    for name in args.workspaces:
        ws_file, patch = WS_DIR / f"{name}.json", WS_DIR / f"{name}.signal.json"
        model = hfx.load(ws_file).model(patches=[json.loads(patch.read_text())])
        npars = model.config.npars
        small_model = make_plan(model).engine == "numba"
        rows = []
        for kind in kinds:
            optimizers = ["scipy"] if kind == "build" else ["scipy", "minuit"]
            cells = {}
            for opt in optimizers:
                case = {
                    "workspace": str(ws_file),
                    "patch": str(patch),
                    "kind": kind,
                    "optimizer": opt,
                    "repeats": args.repeats,
                    "min_time_s": args.min_time,
                    "budget_s": args.budget,
                }
                h = hfx_case(case)
                p = run_pyhf(args.pyhf_python, case, args.timeout)
                raw[f"{name}/{kind}/{opt}"] = {"hfx": h, "pyhf": p}
                verdict = check(kind, h["value"], p.get("value") if p else None)
                if verdict.startswith("FAIL"):
                    failures.append(f"{name} {kind} {opt}: {verdict}")
                cells[opt] = (h, p, verdict, case)
            h_s, p_s, v_s, case_s = cells["scipy"]
            pyhf_value = p_s.get("value") if p_s else None
            pcell, pt = _pyhf_cell(p_s)
            ht = _median(h_s["times"])
            # hfx's default (optimizer=None: batched Newton fits for cls/limit) against pyhf scipy
            h_d = hfx_case({**case_s, "optimizer": None}) if kind != "build" else h_s
            raw[f"{name}/{kind}/default"] = {"hfx": h_d}
            v_d = check(kind, h_d["value"], pyhf_value)
            if v_d.startswith("FAIL"):
                failures.append(f"{name} {kind} default: {v_d}")
            hdt = _median(h_d["times"])
            # NextStat: the same case (it has one optimizer), checked as hfx is, never failing
            ns_cells: list[str] = []
            if with_ns:
                ns = run_pyhf(args.nextstat_python, case_s, args.timeout, "nextstat_runner.py")
                raw[f"{name}/{kind}/nextstat"] = ns
                ns_cell, nst = _nextstat_cell(kind, ns)
                v_ns = check(kind, ns.get("value") if ns else None, pyhf_value)
                if v_ns.startswith("FAIL"):
                    nextstat["differs"].append(f"{name} {kind}: {v_ns}")
                if ns and "error" in ns:
                    nextstat["errors"].append(f"{name} {kind}: {ns['error']}")
                ns_cells = [ns_cell, _ratio(nst, hdt)]
                checks = (v_d, v_ns)
                nextstat["summary"].append(
                    _summary_row(name, kind, hdt, (_pyhf_cell(ns)[0], nst), pcell, checks)
                )
            # the same default without the compiled small-model kernels (NumPy only)
            numpy_only = "="
            if kind != "build" and small_model:
                h_n = hfx_case({**case_s, "optimizer": None, "engine": "numpy"})
                raw[f"{name}/{kind}/default-numpy"] = {"hfx": h_n}
                numpy_only = f"{_fmt(_median(h_n['times']))} ({_ratio(pt, _median(h_n['times']))})"
            row = [kind, _fmt(hdt), _ratio(pt, hdt), *ns_cells]
            row += [numpy_only, _fmt(ht), pcell, _ratio(pt, ht)]
            if "minuit" in cells:
                h_m, p_m, v_m, _ = cells["minuit"]
                pmcell, pmt = _pyhf_cell(p_m)
                hmt = _median(h_m["times"])
                row += [_fmt(hmt), pmcell, _ratio(pmt, hmt)]
                verdicts = {v_s, v_m, v_d}
            else:
                row += ["", "", ""]
                verdicts = {v_s, v_d}
            if kind == "fit" and args.root_python is not None:
                root = run_pyhf(args.root_python, cells["scipy"][3], args.timeout, "root_runner.py")
                raw[f"{name}/fit/root"] = root
                row.append(_pyhf_cell(root)[0])
            else:
                row.append("-")
            bad = [v for v in verdicts if v.startswith("FAIL")]
            row.append(bad[0] if bad else ("ok" if "ok" in verdicts else "-"))
            if with_ns:
                row.append(v_ns)
            rows.append("| " + " | ".join(row) + " |")
        ns_head = " NextStat | NextStat / hfx default |" if with_ns else ""
        out += [
            f"### {name} ({npars} parameters)",
            "",
            f"| task | hfx default | pyhf scipy / hfx default |{ns_head} hfx default, NumPy only "
            "| hfx scipy | pyhf scipy | ratio | hfx minuit | pyhf minuit | ratio | ROOT fit "
            "| check |" + (" NextStat check |" if with_ns else ""),
            "|---" * (12 + 3 * with_ns) + "|",
            *rows,
            "",
        ]
    return out


def jax_table(args, raw: dict[str, Any], failures: list[str]) -> list[str]:
    lines = [
        "| workspace | first call (compile) | steady state | numpy | check (CLs vs numpy) |",
        "|---|---|---|---|---|",
    ]
    for name in args.workspaces:
        res = jax_case(WS_DIR / f"{name}.json", WS_DIR / f"{name}.signal.json", args.repeats)
        raw[f"{name}/cls/jax"] = res
        if res is None:
            return ["JAX is not installed: no rows."]
        verdict = check("cls", res["value"], res["numpy_value"])
        if verdict.startswith("FAIL"):
            failures.append(f"{name} cls jax: {verdict}")
        lines.append(
            f"| {name} | {_fmt(res['first'])} | {_fmt(_median(res['steady']))} "
            f"| {_fmt(_median(res['numpy']))} | {verdict} |"
        )
    return lines


def toys_table(args, raw: dict[str, Any], failures: list[str], tmp: Path) -> list[str]:
    simple = tmp / "uncorrelated_background.json"
    spec = hfx.simplemodels.uncorrelated_background_spec([12.0, 11.0], [50.0, 52.0], [3.0, 7.0])
    workspace = {
        **spec,
        "observations": [{"name": "singlechannel", "data": [51.0, 48.0]}],
        "measurements": [{"name": "meas", "config": {"poi": "mu", "parameters": []}}],
        "version": "1.0.0",
    }
    simple.write_text(json.dumps(workspace))
    atlas = "2018-31_BkgOnlyA"
    # pyhf runs the full ensemble where that takes seconds (the small model: fewer toys
    # would leave its CLs+b tail empty) and --pyhf-ntoys, extrapolated, where it takes hours
    cases = [
        ("uncorrelated_background", simple, None, args.ntoys),
        (atlas, WS_DIR / f"{atlas}.json", WS_DIR / f"{atlas}.signal.json", args.pyhf_ntoys),
    ]
    lines = [
        f"| model | hfx {args.ntoys} toys | pyhf toys | pyhf time | pyhf per {args.ntoys} "
        "(linear) | ratio | CLs hfx | CLs pyhf | check |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, ws_file, patch, pyhf_ntoys in cases:
        base = {
            "workspace": str(ws_file),
            "patch": str(patch) if patch else None,
            "kind": "toys",
            "optimizer": "scipy",
            "budget_s": args.budget,
        }
        h = hfx_case({**base, "repeats": args.repeats, "ntoys": args.ntoys})
        p = run_pyhf(args.pyhf_python, {**base, "repeats": 1, "ntoys": pyhf_ntoys}, args.timeout)
        raw[f"{label}/toys"] = {"hfx": h, "pyhf": p}
        ht = _median(h["times"])
        pcell, pt = _pyhf_cell(p)
        scaled = pt * args.ntoys / pyhf_ntoys
        verdict = check("toys", h["value"], p.get("value") if p else None, (args.ntoys, pyhf_ntoys))
        if verdict.startswith("FAIL"):
            failures.append(f"{label} toys: {verdict}")
        pv = p.get("value") if p and "value" in p else None
        lines.append(
            f"| {label} | {_fmt(ht)} | {pyhf_ntoys} | {pcell} | {_fmt(scaled)} "
            f"| {_ratio(scaled, ht)} "
            f"| {h['value'][0]:.4f} | {pv[0] if pv else float('nan'):.4f} | {verdict} |"
        )
    return lines


def scaling_table(args, raw: dict[str, Any], failures: list[str], tmp: Path) -> list[str]:
    sizes = [10, 100, 1000, 10000]
    lines = [
        "| bins | modifier entries | parameters | hfx build | pyhf build | ratio | hfx NLL+grad "
        "| hfx fit | pyhf fit | ratio | check |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    entries, costs = [], []
    for n in sizes:
        path = tmp / f"synthetic_{n}.json"
        path.write_text(json.dumps(synthetic_workspace(n)))
        row = {}
        for kind in ("build", "fit"):
            case = {
                "workspace": str(path),
                "patch": None,
                "kind": kind,
                "optimizer": "scipy",
                "repeats": args.repeats,
                "min_time_s": args.min_time,
                "budget_s": args.budget,
            }
            row[kind] = (hfx_case(case), run_pyhf(args.pyhf_python, case, args.timeout))
        model = hfx.load(path).model()
        per_call = nll_grad_seconds(model)
        terms = model.arrays.terms
        nentries = int(terms.linear.size + terms.normsys.size + terms.histosys.size)
        entries.append(nentries)
        costs.append(per_call)
        raw[f"synthetic_{n}"] = {k: {"hfx": v[0], "pyhf": v[1]} for k, v in row.items()}
        raw[f"synthetic_{n}"]["nll_grad_s"] = per_call
        hb, pb = _median(row["build"][0]["times"]), _pyhf_cell(row["build"][1])
        hf, pf = _median(row["fit"][0]["times"]), _pyhf_cell(row["fit"][1])
        pyhf_fit = row["fit"][1] or {}
        verdict = check("fit", row["fit"][0]["value"], pyhf_fit.get("value"))
        if verdict.startswith("FAIL"):
            failures.append(f"synthetic {n} bins fit: {verdict}")
        lines.append(
            f"| {n} | {nentries} | {model.config.npars} | {_fmt(hb)} | {pb[0]} | "
            f"{_ratio(pb[1], hb)} | {_fmt(per_call)} | {_fmt(hf)} | {pf[0]} "
            f"| {_ratio(pf[1], hf)} | {verdict} |"
        )
    # exponent of NLL+gradient cost against modifier entries, from the two largest sizes
    # (the small ones are dominated by fixed per-call overhead)
    slope = np.polyfit(np.log(entries[-2:]), np.log(costs[-2:]), 1)[0]
    lines += [
        "",
        f"NLL+gradient cost grows as entries^{slope:.2f} between the two largest sizes "
        "(fixed per-call overhead dominates below ~1000 bins).",
    ]
    return lines


def _run_cli(command: list[str], runs: int, timeout: float) -> dict[str, Any]:
    """Whole-process wall time of ``command``: one warm-up run (file cache), then ``runs``."""

    def once() -> tuple[float, subprocess.CompletedProcess]:
        start = time.perf_counter()
        proc = subprocess.run(
            command, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
        )
        return time.perf_counter() - start, proc

    times = []
    try:
        for _ in range(runs + 1):
            seconds, proc = once()
            if proc.returncode != 0:
                lines = (proc.stderr or proc.stdout or "failed").strip().splitlines()
                return {"error": lines[-1] if lines else f"exit status {proc.returncode}"}
            times.append(seconds)
    except subprocess.TimeoutExpired:
        return {"timeout": timeout}
    try:
        output = json.loads(proc.stdout)
    except json.JSONDecodeError:
        output = proc.stdout[:200]
    return {"warmup": times[0], "times": times[1:], "output": output}


def _cli_answer(res: dict[str, Any] | None) -> str:
    """The headline number a command printed (CLs, −2 log L or the observed limit)."""
    output = res.get("output") if res else None
    if not isinstance(output, dict):
        return "-"
    for key in ("CLs_obs", "cls", "twice_nll", "obs", "obs_limit"):
        if isinstance(output.get(key), (int, float)):
            return f"{output[key]:.6g}"
    if isinstance(output.get("nll"), (int, float)):  # NextStat's fit prints −log L
        return f"{2 * output['nll']:.6g}"
    return "-"


def cli_table(args, raw: dict[str, Any], tmp: Path) -> list[str]:
    """Whole-process times of the three command-line tools on the same tasks."""
    runs = max(5, args.repeats)
    exe = {
        "hfx": Path(sys.executable).parent / "hfx",
        "pyhf": args.pyhf_python.parent / "pyhf" if args.pyhf_python else None,
        "NextStat": args.nextstat_python.parent / "nextstat" if args.nextstat_python else None,
    }
    # byte-compile hfx's modules first, as `pip install` does for pyhf's and NextStat's (an
    # editable install under PYTHONDONTWRITEBYTECODE would otherwise compile ~60 modules
    # from source in every process, ~80 ms)
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(Path(hfx.__file__).parent)], check=True
    )
    files = {}
    for name in (CLI_SMALL, CLI_LARGE):
        ws, patch = WS_DIR / f"{name}.json", WS_DIR / f"{name}.signal.json"
        patched = tmp / f"{name}.patched.json"
        if exe["NextStat"] is not None:
            # NextStat's commands take no JSON Patch: it gets the patched workspace, made once
            runner = [str(args.nextstat_python), str(HERE / "nextstat_runner.py")]
            subprocess.run(
                [*runner, "--write-patched", str(ws), str(patch), str(patched)], check=True
            )
        files[name] = (str(ws), str(patch), str(patched))

    def commands(name: str) -> dict[str, tuple]:
        ws, patch, patched = files[name]
        return {
            "cls": (
                ["cls", ws, "-p", patch],
                ["cls", ws, "--patch", patch],
                ["hypotest", "-i", patched, "--mu", "1", "--expected-set"],
            ),
            "fit": (
                ["fit", ws, "-p", patch],
                ["fit", ws, "--patch", patch, "--value"],
                ["fit", "-i", patched],
            ),
            "upper-limit": (
                ["upper-limit", ws, "-p", patch],
                None,
                ["upper-limit", "-i", patched, "--expected"],
            ),
        }

    rows = [
        ("--help", (["--help"], ["--help"], ["--help"])),
        (f"cls {CLI_SMALL}", commands(CLI_SMALL)["cls"]),
        (f"cls {CLI_LARGE}", commands(CLI_LARGE)["cls"]),
        (f"fit {CLI_SMALL}", commands(CLI_SMALL)["fit"]),
        (f"upper-limit {CLI_SMALL}", commands(CLI_SMALL)["upper-limit"]),
    ]
    lines = [
        "| command | hfx | pyhf | NextStat | pyhf / hfx | NextStat / hfx | printed answer "
        "(hfx / pyhf / NextStat) |",
        "|---|---|---|---|---|---|---|",
    ]
    used = []
    for label, argvs in rows:
        results, seconds, cells, answers = {}, {}, {}, []
        for tool, argv in zip(exe, argvs, strict=True):
            program = exe[tool]
            if argv is None or program is None or not program.exists():
                res = None
            else:
                command = [str(program), *argv]
                used.append(f"`{' '.join([program.name, *(Path(a).name for a in argv)])}`")
                res = _run_cli(command, runs, args.timeout)
            results[tool] = res
            cells[tool], seconds[tool] = _pyhf_cell(res)
            answers.append(_cli_answer(res))
        raw[f"cli/{label}"] = results
        lines.append(
            f"| `{label}` | {cells['hfx']} | {cells['pyhf']} | {cells['NextStat']} "
            f"| {_ratio(seconds['pyhf'], seconds['hfx'])} "
            f"| {_ratio(seconds['NextStat'], seconds['hfx'])} | {' / '.join(answers)} |"
        )
    return [
        *lines,
        "",
        f"Whole-process wall time (interpreter or binary start, imports, reading the files, "
        f"the computation, printing), median of {runs} runs after one warm-up run of each "
        "command; `-` where a tool has no such command. hfx and pyhf read the workspace and "
        "the signal JSON Patch file; NextStat's commands take no JSON Patch file (its "
        "`import patchset` wants a HEPData PatchSet), so NextStat reads the workspace with "
        "the patch applied beforehand (written once, not timed). `hfx fit` computes the "
        "Hessian uncertainties and correlations, `nextstat fit` the covariance, `pyhf fit "
        "--value` only the best fit. `hfx upper-limit` root-finds the observed and expected "
        "limits (Brent's method, rtol 1e-6); `nextstat upper-limit --expected` bisects the "
        "observed one (rtol 1e-4) and root-finds the expected ones; pyhf 0.7.6 has no upper-limit "
        "command. NextStat's command line runs on one thread by default (`--threads 1`). "
        "Commands (files by name): " + ", ".join(used) + ".",
    ]


def _nextstat_version(python: Path | None) -> str | None:
    """NextStat's version in that environment, None where it cannot be imported."""
    if python is None or not python.exists():
        return None
    proc = subprocess.run(
        [str(python), "-c", "import jsonpatch, nextstat; print(nextstat.__version__)"],
        capture_output=True,
        text=True,
    )
    return proc.stdout.strip() if proc.returncode == 0 else None


def _nextstat_note(version: str) -> str:
    return (
        f"NextStat {version} (Rust core, Python API in its default evaluation mode, "
        f"'fast': multi-threaded, {os.cpu_count()} CPUs here) runs each case in its own process "
        "(`nextstat_runner.py`) with the same repeats and timeout as pyhf; `NextStat / hfx "
        "default` is NextStat's time / hfx's (above 1: hfx is faster). build: both files "
        "read and parsed, the patch applied with `jsonpatch`, the workspace given to "
        "`HistFactoryModel.from_workspace` as JSON text (as for hfx and pyhf: from the files "
        "on disk to a model); in brackets `from_workspace` alone on the already patched text, "
        "and NextStat's own path from the two files: both read as text, the patch applied by "
        "its `apply_patchset` (Rust; the JSON Patch file wrapped into a one-patch PatchSet by "
        "string concatenation) and the model built, checked to give the same parameters and "
        "likelihood; the ratio and the win column compare hfx with the faster of NextStat's "
        "two paths from the files. "
        "fit: `MaximumLikelihoodEstimator().fit_minimum` (no uncertainties, as for hfx and "
        "pyhf); in brackets `nextstat.fit`, which always adds Hessian uncertainties. cls: "
        "`hypotest(1.0, model, return_tail_probs=True)`; its Python API gives no expected "
        "band for one test (`cls_curve` needs two scan points and runs one full test per "
        "point), so the band is computed from the tail probabilities with pyhf's asymptotic "
        "formulae (√q_A = Φ⁻¹(CLb) − Φ⁻¹(CLs+b), expected CLs = Φ(−n − √q_A)/Φ(−n), "
        "microseconds). limit: `upper_limit(model, method='root')` (observed and expected "
        "band). `NextStat check` compares its answers with pyhf's exactly as hfx's are "
        "checked (NextStat builds the model with its defaults: NormSys code4, HistoSys code4p, "
        "as pyhf 0.7.6); a failed NextStat check is reported, not counted as a failure of "
        "this run."
    )


def _kernel_note() -> str:
    """Whether hfx's compiled small-model kernels take part, and what loading them cost."""
    if not kernel.available():
        return "numba is not installed: hfx runs on NumPy only (no compiled small-model kernels)."
    start = time.perf_counter()
    kernel.compiled()
    seconds = time.perf_counter() - start
    return (
        "hfx's compiled kernels for models of up to 20 parameters (numba, installed with hfx; "
        "engine 'auto' uses them) are loaded before timing (loading took "
        f"{seconds:.2f} s in this run, once per process: a first call in a new process pays it, "
        "see the CLI table for whole processes); `hfx default, NumPy only` repeats the default "
        "with engine='numpy' (its ratio to pyhf scipy in brackets), `=` where they do not apply."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyhf-python", type=Path, default=HERE / ".pyhf-venv/bin/python")
    parser.add_argument(
        "--nextstat-python",
        type=Path,
        default=None,
        help="Python of an environment with nextstat and jsonpatch: adds NextStat columns",
    )
    parser.add_argument(
        "--root-python",
        type=Path,
        default=None,
        help="Python of an environment with PyROOT (pip install root): adds RooFit fit times",
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--min-time",
        type=float,
        default=1.0,
        help="repeat fast cases until this many seconds are measured (at most 50 runs)",
    )
    parser.add_argument(
        "--timeout", type=float, default=200.0, help="per pyhf case, seconds (then a lower bound)"
    )
    parser.add_argument("--budget", type=float, default=120.0, help="stop repeating after")
    parser.add_argument("--ntoys", type=int, default=1000)
    parser.add_argument("--pyhf-ntoys", type=int, default=100)
    parser.add_argument("--only", default="build,fit,cls,limit,toys,scaling,jax,cli")
    parser.add_argument("--workspaces", default="")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    args.only = set(args.only.split(","))
    names = sorted(p.name[: -len(".signal.json")] for p in WS_DIR.glob("*.signal.json"))
    args.workspaces = args.workspaces.split(",") if args.workspaces else names

    ns_version = _nextstat_version(args.nextstat_python)
    ns_missing = args.nextstat_python is not None and ns_version is None
    if ns_missing:
        print(f"no NextStat at {args.nextstat_python}: its columns are left out", file=sys.stderr)
        args.nextstat_python = None

    raw: dict[str, Any] = {}
    failures: list[str] = []
    nextstat: dict[str, list[str]] = {"summary": [], "differs": [], "errors": []}
    started = time.perf_counter()
    sections = [
        "# hfx vs pyhf benchmark" + (" (and NextStat)" if ns_version else ""),
        "",
        f"Medians of at least {args.repeats} repeats, more for fast cases (until "
        f"{args.min_time:g} s are measured, at most 50), fewer where a pyhf case exceeded "
        f"{args.budget:.0f} s (`n=` says so), measured in one run on this machine; for "
        "every tool a fast case (a first run under 10 ms) first runs untimed for 50 ms, so "
        "that its few milliseconds of timed runs do not fall into the machine's settling "
        "after the previous case (`repeats.timed_runs`). "
        "pyhf 0.7.6, numpy backend. Ratios are pyhf time / hfx time with the same optimizer; "
        "`hfx default` is hfx without optimizer or engine arguments (projected Newton, "
        "batched inside CLs and limits, L-BFGS-B as fallback), compared with pyhf's "
        "default (scipy). "
        "Builds go from the files on disk to a model (read, parse, apply the signal patch, "
        "build) for every tool. "
        "Fits are made without uncertainties on both sides (pyhf's `mle.fit`). "
        "`check` compares hfx's answer with pyhf's from the same run; hfx computes pyhf's "
        "model for it (`positive_definite: False`: sample yields not clamped at zero; hfx's "
        "default clamps them as ROOT does, which changes CLs where pyhf's fit has a negative "
        "sample: 2019-09_bkg_onshell by 0.26%).",
        "",
        _kernel_note(),
        "",
    ]
    if ns_version:
        sections += [_nextstat_note(ns_version), ""]
    elif ns_missing:
        sections += ["(NextStat was asked for but could not be imported: no NextStat columns.)", ""]
    intro_end = len(sections)
    # raw timings: benchmarks/results/ for outputs in benchmarks/, else next to the output
    if args.output.resolve().parent == HERE:
        default_output = args.output.resolve() == (HERE / "RESULTS.md").resolve()
        raw_name = "raw.json" if default_output else f"{args.output.stem}.raw.json"
        raw_path = HERE / "results" / raw_name
    else:
        raw_path = args.output.with_suffix(".raw.json")
    raw_path.parent.mkdir(exist_ok=True)

    def summary() -> list[str]:
        """hfx's default, NextStat and pyhf side by side, placed above the detailed tables."""
        if not nextstat["summary"]:
            return []
        return [
            "## Summary: hfx default, NextStat, pyhf",
            "",
            "| workspace | task | hfx default | NextStat | pyhf scipy | NextStat / hfx "
            "| hfx ≥ NextStat (hfx time ≤ NextStat time) | check hfx / NextStat |",
            "|---|---|---|---|---|---|---|---|",
            *nextstat["summary"],
            "",
        ]

    def write(final: bool) -> None:
        """Write what is measured so far, so that a crash or an interrupt loses nothing."""
        lines = sections[:intro_end] + summary() + sections[intro_end:]
        if final:
            lines.append(f"Total benchmark wall time: {time.perf_counter() - started:.0f} s.")
        else:
            lines.append("(incomplete: the run has not finished)")
        if failures:
            lines += ["", "**Failed checks:**", *[f"- {f}" for f in failures]]
        if nextstat["differs"] or nextstat["errors"]:
            lines += [
                "",
                "NextStat answers that differ from pyhf's or failed (reported; not a failure "
                "of this run):",
                *[f"- {f}" for f in nextstat["differs"]],
                *[f"- {f}: error" for f in nextstat["errors"]],
            ]
        args.output.write_text("\n".join(lines) + "\n")
        raw_path.write_text(json.dumps(raw, indent=1, default=str))

    parts = [
        (
            bool(args.only & {"build", "fit", "cls", "limit"}),
            "Published ATLAS workspaces (+ signal patch)",
            lambda tmp: atlas_tables(args, raw, failures, nextstat),
        ),
        (
            "toys" in args.only,
            "Toys: one hypothesis (μ=1, q̃μ), background and signal ensembles",
            lambda tmp: [*toys_table(args, raw, failures, tmp), ""],
        ),
        (
            "scaling" in args.only,
            "Scaling series (synthetic workspaces)",
            lambda tmp: [*scaling_table(args, raw, failures, tmp), ""],
        ),
        (
            "jax" in args.only,
            "JAX backend: asymptotic CLs with band",
            lambda tmp: [*jax_table(args, raw, failures), ""],
        ),
        (
            "cli" in args.only,
            "Command line: whole processes",
            lambda tmp: [*cli_table(args, raw, tmp), ""],
        ),
    ]
    with tempfile.TemporaryDirectory() as tmpdir:
        for wanted, title, table in parts:
            if wanted:
                sections.extend([f"## {title}", "", *table(Path(tmpdir))])
                write(final=False)
    write(final=True)
    print(args.output.read_text())
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
