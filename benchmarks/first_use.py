"""First use of hfx's compiled small-model kernels on a new machine, as whole processes.

Every case is a new Python process whose ``HFX_CACHE_DIR`` is a directory of this run.  The
default installation ships the kernels compiled into the package (``hatch_build.py``): the
first row runs so, on an empty cache.  The other rows ignore those
(``HFX_PACKAGED_KERNELS=0``, as an installation built without a C compiler) and take the
states such a user's cache passes through:

- empty, ``engine="numba"``: the process compiles the kernels before its first fit (what
  every first use did before the background build; engine "numba" still does);
- empty, the default engine: the first CLs runs on NumPy at once and starts the background
  build; the run then waits for that build and times it (JIT cache, then the ahead-of-time
  module);
- numba's JIT cache only (the state of a machine without a C compiler: the ahead-of-time
  step failed): a new process loads the kernels through numba;
- JIT cache and ahead-of-time module: a new process loads the extension module.

Each process reads and builds a shared ATLAS workspace with its signal patch and times its
first asymptotic CLs (with band) and then the median of further CLs; ``hfx cls`` is timed
as a whole process in the last three states.  Writes ``RESULTS-first-use.md``.

Usage: ``python benchmarks/first_use.py [--name 2018-31_simplifiedA] [--repeats 5]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WS_DIR = HERE.parent.parent / "shared" / "data" / "workspaces" / "atlas"

_PROCESS = r"""
import json, sys, time
started = time.perf_counter()
import numpy as np
import hfx
from hfx.optimize.plan import make_plan
name, engine, ws_dir = sys.argv[1], sys.argv[2], sys.argv[3]
ws = hfx.load(f"{ws_dir}/{name}.json")
with open(f"{ws_dir}/{name}.signal.json") as f:
    model = ws.model(patches=[json.load(f)])
data = ws.data(model)
ready = time.perf_counter()
first = hfx.hypotest(model, data, 1.0, engine=engine)
done = time.perf_counter()
steady = []
for _ in range(200):
    t = time.perf_counter()
    hfx.hypotest(model, data, 1.0, engine=engine)
    steady.append(time.perf_counter() - t)
print(json.dumps({
    "import_build_s": ready - started,
    "first_cls_s": done - ready,
    "steady_s": float(np.median(steady)),
    "engine": make_plan(model, engine=engine).engine,
    "numba_imported": "numba" in sys.modules,
    "cls": first.cls,
}))
"""


def _env(cache: Path, packaged: bool) -> dict[str, str]:
    """The environment of a process with the cache ``cache``; unless ``packaged``, as an
    installation without the kernels compiled into the package (``HFX_PACKAGED_KERNELS=0``)."""
    env = {**os.environ, "HFX_CACHE_DIR": str(cache), "HFX_PACKAGED_KERNELS": "0"}
    if packaged:
        del env["HFX_PACKAGED_KERNELS"]
    return env


def _process(cache: Path, name: str, engine: str, packaged: bool = False) -> dict[str, Any]:
    env = _env(cache, packaged)
    out = subprocess.run(
        [sys.executable, "-c", _PROCESS, name, engine, str(WS_DIR)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["stderr"] = out.stderr.strip()
    return result


def _cli(cache: Path, name: str, repeats: int, *extra: str, packaged: bool = False) -> float:
    env = _env(cache, packaged)
    hfx = str(Path(sys.executable).with_name("hfx"))
    files = [str(WS_DIR / f"{name}.json"), "-p", str(WS_DIR / f"{name}.signal.json")]
    args = [hfx, "cls", *files, *extra]
    times = []
    for _ in range(repeats + 1):
        start = time.perf_counter()
        subprocess.run(args, env=env, capture_output=True, check=True, timeout=600)
        times.append(time.perf_counter() - start)
    return statistics.median(times[1:])  # (the first run warms the file system cache)


def _median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out = dict(runs[0])
    for key in ("import_build_s", "first_cls_s", "steady_s"):
        out[key] = statistics.median(r[key] for r in runs)
    out["n"] = len(runs)
    return out


def _wait_for(path_test: Any, since: float, limit: float = 900.0) -> float | None:
    while time.perf_counter() - since < limit:
        if path_test():
            return time.perf_counter() - since
        time.sleep(0.1)
    return None


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1e3:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="2018-31_simplifiedA")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS-first-use.md")
    args = parser.parse_args()

    from hfx.optimize import kernel_cache

    rows: list[tuple[str, dict[str, Any], str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        # 0. an installation with the kernels compiled into the package, on an empty cache
        if kernel_cache.packaged_file().is_file():
            shipped = Path(tmp) / "packaged"
            runs = [
                _process(shipped, args.name, "auto", packaged=True) for _ in range(args.repeats)
            ]
            cli = _ms(_cli(shipped, args.name, args.repeats, packaged=True))
            if any(shipped.rglob("*")):
                raise SystemExit(f"a process with the packaged kernels wrote to {shipped}")
            label = "kernels compiled into the package at install, empty cache"
            rows.append((label, _median_of(runs), cli))

        # without the kernels in the package (an install where no C compiler was found):
        # 1. engine "numba" on an empty cache: the process compiles before its first fit
        compiling = _process(Path(tmp) / "inline", args.name, "numba")
        rows.append(("empty cache, `engine='numba'` (compiles in the process)", compiling, "-"))

        # 2. the default engine on an empty cache: NumPy at once, the build in the background
        cache = Path(tmp) / "background"
        os.environ["HFX_CACHE_DIR"] = str(cache)
        try:
            root = kernel_cache.cache_root()
        finally:
            del os.environ["HFX_CACHE_DIR"]
        start = time.perf_counter()
        first = _process(cache, args.name, "auto")
        jit_s = _wait_for(lambda: kernel_cache.holds_kernels(root), start)
        aot = kernel_cache.aot_file(root)
        lock = root / kernel_cache.BUILD_LOCK
        build_s = _wait_for(lambda: not lock.exists(), start)
        aot_s = (build_s if aot.is_file() else None) if build_s is not None else None
        label = "empty cache, default engine (the build starts in the background)"
        rows.append((label, first, "-"))

        # 3. the JIT cache only: a machine without a C compiler (the AOT step failed)
        jit_only = Path(tmp) / "jit-only"
        shutil.copytree(cache, jit_only)
        os.environ["HFX_CACHE_DIR"] = str(jit_only)
        try:
            jit_root = kernel_cache.cache_root()
        finally:
            del os.environ["HFX_CACHE_DIR"]
        shutil.rmtree(kernel_cache.aot_file(jit_root).parent, ignore_errors=True)
        (jit_root / kernel_cache.AOT_FAILED).write_text("(no C compiler: simulated)\n")
        runs = [_process(jit_only, args.name, "auto") for _ in range(args.repeats)]
        rows.append(
            (
                "JIT cache only (no C compiler)",
                _median_of(runs),
                _ms(_cli(jit_only, args.name, args.repeats)),
            )
        )

        # 4. JIT cache and the ahead-of-time module
        if aot.is_file():
            runs = [_process(cache, args.name, "auto") for _ in range(args.repeats)]
            rows.append(
                (
                    "JIT cache + ahead-of-time module",
                    _median_of(runs),
                    _ms(_cli(cache, args.name, args.repeats)),
                )
            )
        numpy_runs = [_process(cache, args.name, "numpy") for _ in range(args.repeats)]
        numpy_cli = _ms(_cli(cache, args.name, args.repeats, "--engine", "numpy"))
        rows.append(("`engine='numpy'` (for comparison)", _median_of(numpy_runs), numpy_cli))

    lines = [
        "# First use of the compiled kernels (whole processes)",
        "",
        f"`python benchmarks/first_use.py --name {args.name}`: every row is a new Python "
        "process with its own `HFX_CACHE_DIR` in the state named; it reads and builds "
        f"{args.name} with its signal patch, then times its first asymptotic CLs (with "
        "band) and the median of 200 more. Medians of "
        f"{args.repeats} processes where `n` says so, single processes otherwise. `hfx cls` "
        "is the whole command as a process (median after one warm-up run; `--engine numpy` "
        "in the last row). Interpreter start-up is not in the per-process columns.",
        "",
        "| cache state | engine used | import + build | first CLs | to the first CLs "
        "| later CLs (median) | numba imported | `hfx cls` process | CLs |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, r, cli in rows:
        n = f" (n={r['n']})" if "n" in r else ""
        lines.append(
            f"| {label}{n} | {r['engine']} | {_ms(r['import_build_s'])} | "
            f"{_ms(r['first_cls_s'])} | {_ms(r['import_build_s'] + r['first_cls_s'])} | "
            f"{r['steady_s'] * 1e6:.0f} µs | {'yes' if r['numba_imported'] else 'no'} | {cli} | "
            f"{r['cls']:.10f} |"
        )
    lines += [
        "",
        "The background build started by the default engine's first process (at lower "
        "priority, while nothing else ran):",
        "",
        f"- numba's JIT cache complete after {_ms(jit_s)} (from the start of that process);",
        f"- the ahead-of-time module after {_ms(aot_s)}"
        + ("" if aot_s is not None else " (not built: see the cache's aot-failed.txt)")
        + ";",
        f"- the build process ended after {_ms(build_s)}.",
        "",
        f"stderr of the first process: `{first['stderr']}`",
        "",
    ]
    args.output.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
