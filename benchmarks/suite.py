"""hfx next to pyhf 0.7.6 (numpy+scipy and numpy+minuit), measured in one run.

Usage (from the repository root, in the hfx environment)::

    python benchmarks/suite.py --pyhf-python PATH/TO/pyhf-env/bin/python [--repeats 3]
        [--root-python PATH/TO/root-env/bin/python]
        [--only build,fit,cls,limit,toys,scaling,jax] [--workspaces NAME,...]

Writes ``benchmarks/RESULTS.md`` (tables of medians and ratios) and
``benchmarks/results/raw.json`` (every timing).  pyhf runs case by case in its own
environment through ``pyhf_runner.py`` with a per-case timeout; a slow pyhf case stops
repeating once its time budget is spent (the table gives the number of repeats).  Every
timed hfx answer is checked against pyhf's from the same run: CLs within 2e-3 relative,
upper limits within 5e-3, hfx's minimum −2 log L no more than 1e-3 above pyhf's; toy CLs
within their statistical spread.  A failed check is marked FAIL in the table and makes the
command exit non-zero, so a fast wrong answer cannot pass.
"""

from __future__ import annotations

import argparse
import json
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
    return f"{slow / fast:.1f}x"


def atlas_tables(args, raw: dict[str, Any], failures: list[str]) -> list[str]:
    kinds = [k for k in ("build", "fit", "cls", "limit") if k in args.only]
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
            pcell, pt = _pyhf_cell(p_s)
            ht = _median(h_s["times"])
            # hfx's default (optimizer=None: batched Newton fits for cls/limit) against pyhf scipy
            h_d = hfx_case({**case_s, "optimizer": None}) if kind != "build" else h_s
            raw[f"{name}/{kind}/default"] = {"hfx": h_d}
            v_d = check(kind, h_d["value"], p_s.get("value") if p_s else None)
            if v_d.startswith("FAIL"):
                failures.append(f"{name} {kind} default: {v_d}")
            hdt = _median(h_d["times"])
            # the same default without the compiled small-model kernels (NumPy only)
            numpy_only = "="
            if kind != "build" and small_model:
                h_n = hfx_case({**case_s, "optimizer": None, "engine": "numpy"})
                raw[f"{name}/{kind}/default-numpy"] = {"hfx": h_n}
                numpy_only = f"{_fmt(_median(h_n['times']))} ({_ratio(pt, _median(h_n['times']))})"
            row = [kind, _fmt(hdt), _ratio(pt, hdt), numpy_only, _fmt(ht), pcell, _ratio(pt, ht)]
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
            rows.append("| " + " | ".join(row) + " |")
        out += [
            f"### {name} ({npars} parameters)",
            "",
            "| task | hfx default | pyhf scipy / hfx default | hfx default, NumPy only "
            "| hfx scipy | pyhf scipy | ratio | hfx minuit | pyhf minuit | ratio | ROOT fit "
            "| check |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
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


def _kernel_note() -> str:
    """Whether hfx's compiled small-model kernels take part, and what loading them cost."""
    if not kernel.available():
        return "numba is not installed: hfx runs on NumPy only (no compiled small-model kernels)."
    start = time.perf_counter()
    kernel.compiled()
    seconds = time.perf_counter() - start
    return (
        "hfx's compiled kernels for models of up to 20 parameters (numba, the `fast` extra; "
        "engine 'auto' uses them) are loaded before timing (loading took "
        f"{seconds:.2f} s in this run); `hfx default, NumPy only` repeats the default with "
        "engine='numpy' (its ratio to pyhf scipy in brackets), `=` where they do not apply."
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pyhf-python", type=Path, default=HERE / ".pyhf-venv/bin/python")
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
    parser.add_argument("--only", default="build,fit,cls,limit,toys,scaling,jax")
    parser.add_argument("--workspaces", default="")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    args.only = set(args.only.split(","))
    names = sorted(p.name[: -len(".signal.json")] for p in WS_DIR.glob("*.signal.json"))
    args.workspaces = args.workspaces.split(",") if args.workspaces else names

    raw: dict[str, Any] = {}
    failures: list[str] = []
    started = time.perf_counter()
    sections = [
        "# hfx vs pyhf benchmark",
        "",
        f"Medians of at least {args.repeats} repeats, more for fast cases (until "
        f"{args.min_time:g} s are measured, at most 50), fewer where a pyhf case exceeded "
        f"{args.budget:.0f} s (`n=` says so), measured in one run on this machine. "
        "pyhf 0.7.6, numpy backend. Ratios are pyhf time / hfx time with the same optimizer; "
        "`hfx default` is hfx without optimizer or engine arguments (projected Newton, "
        "batched inside CLs and limits, L-BFGS-B as fallback), compared with pyhf's "
        "default (scipy). "
        "Fits are made without uncertainties on both sides (pyhf's `mle.fit`). "
        "`check` compares hfx's answer with pyhf's from the same run; hfx computes pyhf's "
        "model for it (`positive_definite: False`: sample yields not clamped at zero; hfx's "
        "default clamps them as ROOT does, which changes CLs where pyhf's fit has a negative "
        "sample: 2019-09_bkg_onshell by 0.26%).",
        "",
        _kernel_note(),
        "",
    ]
    default_output = args.output.resolve() == (HERE / "RESULTS.md").resolve()
    raw_name = "raw.json" if default_output else f"{args.output.stem}.raw.json"
    raw_path = HERE / "results" / raw_name
    raw_path.parent.mkdir(exist_ok=True)

    def write(final: bool) -> None:
        """Write what is measured so far, so that a crash or an interrupt loses nothing."""
        lines = list(sections)
        if final:
            lines.append(f"Total benchmark wall time: {time.perf_counter() - started:.0f} s.")
        else:
            lines.append("(incomplete: the run has not finished)")
        if failures:
            lines += ["", "**Failed checks:**", *[f"- {f}" for f in failures]]
        args.output.write_text("\n".join(lines) + "\n")
        raw_path.write_text(json.dumps(raw, indent=1, default=str))

    parts = [
        (
            bool(args.only & {"build", "fit", "cls", "limit"}),
            "Published ATLAS workspaces (+ signal patch)",
            lambda tmp: atlas_tables(args, raw, failures),
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
    ]
    with tempfile.TemporaryDirectory() as tmpdir:
        for wanted, title, table in parts:
            if wanted:
                sections.extend([f"## {title}", "", *table(Path(tmpdir))])
                write(final=False)
    write(final=True)
    print("\n".join(sections))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
