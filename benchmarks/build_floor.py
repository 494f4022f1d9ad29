"""Where a model build's time goes, against what any Python build must spend and NextStat.

For each shared ATLAS workspace with its signal patch, in one process (times are the
minimum over rounds of the average of repeated builds, so that this noisy machine's
slow moments stay out):

- **read**: both files' bytes (by file descriptor, as hfx reads them);
- **parse**: both parsed with orjson (hfx's parser);
- **Python floor**: read, parse, the patch's operations applied in place with no check at
  all, one walk over every sample and modifier that takes its name, type and data, and the
  nominal yields as one NumPy array: what any build written in Python spends before it
  checks or compiles anything;
- **hfx** by stage: ``hfx.load`` (read, parse, schema and semantic checks), applying the
  patch and checking the patched workspace, compiling the model, the data vector; and the
  whole row as ``benchmarks/hfx_cases.py`` builds it;
- **hfx's checks** alone: what the build spends on checking (the loaded workspace's
  schema and semantic checks, the patch's schema check, the patched workspace's
  incremental check, the normsys factors' signs), so that floor + checks is what a Python
  build with hfx's checks spends before it compiles anything;
- **the model's arrays alone**: turning the Python lists of every NumPy array the compiled
  model holds into arrays, a lower bound for any compile to NumPy arrays;
- **NextStat** (with ``--nextstat-python``): its own path from the two files, both read as
  text, the patch applied by ``apply_patchset`` (Rust) and ``from_workspace``
  (``nextstat_runner._native_patched_model``), in its own process.

A second table runs the malformed workspaces of ``malformed.py`` (each one problem away
from a published one) through hfx's build and NextStat's ``from_workspace``: which
problems each refuses.

Writes ``RESULTS-build.md``.  Usage: ``python benchmarks/build_floor.py
[--nextstat-python benchmarks/.nextstat-venv/bin/python] [--workspaces A,B]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import orjson

import hfx
from hfx.spec.jsonio import (
    _read_bytes,  # (hfx's own file reading, by descriptor)
    load_json,
)
from hfx.spec.jsonpatch_apply import apply_patch_shared
from hfx.spec.validate import validate_jsonpatch, validate_workspace
from hfx.spec.workspace import _check_normsys_logs
from hfx_cases import PYHF_MODEL, _model
from malformed import write_cases

HERE = Path(__file__).resolve().parent
WS_DIR = HERE.parent.parent / "shared" / "data" / "workspaces" / "atlas"
DEFAULT = "2018-14_Comb_bkgonly,2018-31_simplifiedA,2018-04_SRcombined,2019-09_bkg_onshell"

_NEXTSTAT = r"""
import json, sys, time
sys.path.insert(0, sys.argv[2])
import nextstat
from nextstat_runner import _native_patched_model
case = json.loads(sys.argv[1])
_native_patched_model(nextstat, case)
best = float("inf")
for _ in range(case["rounds"]):
    start = time.perf_counter()
    for _ in range(case["calls"]):
        _native_patched_model(nextstat, case)
    best = min(best, (time.perf_counter() - start) / case["calls"])
print(json.dumps(best))
"""


_NEXTSTAT_REFUSALS = r"""
import json, sys
import nextstat
out = {}
for label, path in json.loads(sys.argv[1]).items():
    try:
        nextstat.HistFactoryModel.from_workspace(open(path).read())
        out[label] = None
    except Exception as exc:
        out[label] = " ".join(str(exc).split())
print(json.dumps(out))
"""


def _pointer_parent(doc: Any, path: str) -> tuple[Any, str]:
    parts = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
    for part in parts[:-1]:
        doc = doc[int(part)] if isinstance(doc, list) else doc[part]
    return doc, parts[-1]


def python_floor(ws_file: Path, patch_file: Path) -> np.ndarray:
    """Read, parse, patch in place and walk once, with no check: a lower bound for a build
    in Python (add, replace and remove are the operations the signal patches use)."""
    spec = orjson.loads(_read_bytes(ws_file))
    for op in orjson.loads(_read_bytes(patch_file)):
        parent, key = _pointer_parent(spec, op["path"])
        if op["op"] == "add":
            if isinstance(parent, list):
                parent.insert(len(parent) if key == "-" else int(key), op["value"])
            else:
                parent[key] = op["value"]
        elif op["op"] == "replace":
            parent[int(key) if isinstance(parent, list) else key] = op["value"]
        elif op["op"] == "remove":
            del parent[int(key) if isinstance(parent, list) else key]
    yields: list[float] = []
    terms: list[tuple[str, str, Any]] = []
    for channel in spec["channels"]:
        for sample in channel["samples"]:
            yields += sample["data"]
            terms += [(m["name"], m["type"], m["data"]) for m in sample["modifiers"]]
    return np.array(yields)


def model_array_lists(arrays: Any) -> list[tuple[list[Any], Any]]:
    """Every NumPy array a compiled model holds (``CompiledArrays``, its terms included),
    as the Python list and dtype it is made from: a compile that made nothing but these
    arrays would still spend the time of turning these lists into arrays."""
    found: list[tuple[list[Any], Any]] = []
    seen: set[int] = set()

    def visit(obj: Any) -> None:
        if isinstance(obj, np.ndarray):
            if id(obj) not in seen:
                seen.add(id(obj))
                found.append((obj.tolist(), obj.dtype))
        elif dataclasses.is_dataclass(obj):
            for f in dataclasses.fields(obj):
                visit(getattr(obj, f.name))

    visit(arrays)
    return found


def _best_average(work: Any, calls: int, rounds: int) -> float:
    work()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            work()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def measure(name: str, nextstat_python: str | None) -> dict[str, Any]:
    ws_file, patch_file = WS_DIR / f"{name}.json", WS_DIR / f"{name}.signal.json"
    ws = hfx.load(ws_file)
    case = {"workspace": str(ws_file), "patch": str(patch_file)}
    calls = max(3, int(0.2 / max(_best_average(lambda: _model(case), 1, 1), 1e-6)))
    rounds = 7
    patches = [json.loads(patch_file.read_text())]
    patched = ws.apply_patches(patches)
    model = patched.model(modifier_settings=PYHF_MODEL)
    row: dict[str, Any] = {
        "name": name,
        "parameters": model.config.npars,
        "modifiers": sum(
            len(s["modifiers"]) for c in patched._spec["channels"] for s in c["samples"]
        ),
    }

    def timed(work: Any) -> float:
        return _best_average(work, calls, rounds)

    row["read"] = timed(lambda: (_read_bytes(ws_file), _read_bytes(patch_file)))
    ws_bytes, patch_bytes = _read_bytes(ws_file), _read_bytes(patch_file)
    row["parse"] = timed(lambda: (orjson.loads(ws_bytes), orjson.loads(patch_bytes)))
    row["floor"] = timed(lambda: python_floor(ws_file, patch_file))
    spec, ops = load_json(ws_file), load_json(patch_file)
    patched_spec = apply_patch_shared(spec, ops)
    unchecked = hfx.Workspace._adopt(patched_spec, validate=False)

    def checks() -> None:
        validate_workspace(spec)
        validate_jsonpatch(ops)
        validate_workspace(patched_spec, based_on=spec)
        _check_normsys_logs(unchecked, PYHF_MODEL)

    row["checks"] = timed(checks)
    lists = model_array_lists(model.arrays)
    row["narrays"] = len(lists)
    row["arrays"] = timed(lambda: [np.array(values, dtype=dtype) for values, dtype in lists])
    row["load"] = timed(lambda: hfx.load(ws_file))
    row["patch"] = timed(lambda: ws.apply_patches(patches))
    row["compile"] = timed(lambda: patched.model(modifier_settings=PYHF_MODEL))
    row["data"] = timed(lambda: np.asarray(patched.data(model)))
    row["row"] = timed(lambda: _model(case))
    if nextstat_python:
        ns_case = {**case, "calls": calls, "rounds": rounds}
        proc = subprocess.run(
            [nextstat_python, "-c", _NEXTSTAT, json.dumps(ns_case), str(HERE)],
            capture_output=True,
            text=True,
            check=False,
        )
        row["nextstat"] = float(proc.stdout) if proc.returncode == 0 else None
    return row


def refusals(nextstat_python: str | None) -> list[tuple[str, str, str]]:
    """(problem, hfx's answer, NextStat's answer) for each case of ``malformed.py``."""
    name = "2018-14_Comb_bkgonly"
    valid = hfx.load(WS_DIR / f"{name}.json").apply_patches([WS_DIR / f"{name}.signal.json"])
    with tempfile.TemporaryDirectory() as folder:
        files = write_cases(valid.spec, Path(folder))
        ours = {label: _hfx_answer(path) for label, path in files.items()}
        theirs: dict[str, str | None] = {}
        if nextstat_python:
            proc = subprocess.run(
                [
                    nextstat_python,
                    "-c",
                    _NEXTSTAT_REFUSALS,
                    json.dumps({label: str(path) for label, path in files.items()}),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            theirs = json.loads(proc.stdout) if proc.returncode == 0 else {}
    rows = []
    for label in files:
        if label not in theirs:
            answer = "-"
        elif theirs[label] is None:
            answer = "**accepted**"
        else:
            answer = "refused: " + _short(theirs[label])
        rows.append((label, ours[label], answer))
    return rows


def _hfx_answer(path: Path) -> str:
    """How hfx's build (load, model, data) answers the workspace in ``path``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ws = hfx.load(path)
            ws.data(ws.model())
        except hfx.HfxError as exc:
            return "refused: " + _short(str(exc).removeprefix(f"{path}: ").removeprefix(f"{path}"))
    if caught:
        return "accepted, warning: " + _short(str(caught[0].message).removeprefix(f"{path}: "))
    return "**accepted**"


def _short(text: str, limit: int = 110) -> str:
    text = " ".join(text.split()).replace("|", "/")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1e6:.0f} µs" if seconds < 1e-3 else f"{seconds * 1e3:.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nextstat-python", default=None)
    parser.add_argument("--workspaces", default=DEFAULT)
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS-build.md")
    args = parser.parse_args()
    rows = [measure(name, args.nextstat_python) for name in args.workspaces.split(",")]
    lines = [
        "# Model build: where the time goes, the Python floor, and NextStat",
        "",
        "`python benchmarks/build_floor.py"
        + (" --nextstat-python ..." if args.nextstat_python else "")
        + "`, one run on this machine; every figure is the minimum over 7 rounds of the "
        "average of repeated builds (about 0.2 s a round). Python floor: both files read "
        "and parsed (orjson), the patch's operations applied in place without any check, "
        "one walk that takes every sample's yields and every modifier's name, type and "
        "data, and the yields as one NumPy array: what any build written in Python spends "
        "before checking or compiling anything. hfx's stages: `hfx.load` (read, parse, "
        "schema and semantic checks), applying the patch and checking the patched "
        "workspace, compiling the model (pyhf's interpolation codes, as the benchmark "
        "suite), the data vector; `hfx row` is the suite's build row (`hfx_cases._model`: "
        "the files on disk to model and data). NextStat: its own path from the two files "
        "(both read as text, `apply_patchset` in Rust, `from_workspace`). hfx checks: "
        "the checks alone (the loaded workspace's schema and semantic checks, the patch's "
        "schema check, the patched workspace's incremental check, the normsys factors' "
        "signs), none of which may be weakened; floor + checks is what a Python build with "
        "these checks spends before it compiles anything. The model's arrays alone: turning "
        "the Python lists of every NumPy array the compiled model holds into those arrays, "
        "what even a compile with no logic at all would spend.",
        "",
        "| workspace | parameters | modifiers | read | parse | Python floor | hfx.load "
        "| patch + check | compile | data | hfx row | NextStat | NextStat / hfx "
        "| floor / NextStat | hfx checks | (floor + checks) / NextStat "
        "| the model's arrays alone | (floor + checks + arrays) / NextStat |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ns = r.get("nextstat")
        ratio = f"{ns / r['row']:.2f}x" if ns else "-"
        floor_share = f"{r['floor'] / ns:.0%}" if ns else "-"
        checked_share = f"{(r['floor'] + r['checks']) / ns:.0%}" if ns else "-"
        least = r["floor"] + r["checks"] + r["arrays"]
        least_share = f"{least / ns:.0%}" if ns else "-"
        lines.append(
            f"| {r['name']} | {r['parameters']} | {r['modifiers']} | {_fmt(r['read'])} "
            f"| {_fmt(r['parse'])} | {_fmt(r['floor'])} | {_fmt(r['load'])} "
            f"| {_fmt(r['patch'])} | {_fmt(r['compile'])} | {_fmt(r['data'])} "
            f"| {_fmt(r['row'])} | {_fmt(ns)} | {ratio} | {floor_share} "
            f"| {_fmt(r['checks'])} | {checked_share} "
            f"| {_fmt(r['arrays'])} ({r['narrays']} arrays) | {least_share} |"
        )
    lines += [
        "",
        "## Which malformed workspaces each build refuses",
        "",
        "`benchmarks/malformed.py`: 2018-14_Comb_bkgonly with its signal patch, each case "
        "broken in one way; hfx: `hfx.load`, `.model()`, `.data()`; NextStat: "
        "`HistFactoryModel.from_workspace` on the file's text. hfx's messages name the file "
        "(left out here) and the JSON pointer.",
        "",
        "| problem | hfx | NextStat |",
        "|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in refusals(args.nextstat_python)]
    lines.append("")
    args.output.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
