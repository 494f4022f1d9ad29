"""Model build and NLL(+gradient) cost of hfx next to pyhf, on the shared ATLAS workspaces.

Usage (from the repository root):

    python benchmarks/bench_foundation.py [--pyhf-python PATH] [--repeats N]

pyhf runs in its own environment (``--pyhf-python``, default ``benchmarks/.pyhf-venv/bin/python``;
create it with ``python -m venv benchmarks/.pyhf-venv && benchmarks/.pyhf-venv/bin/pip install
pyhf==0.7.6 iminuit``).  Without it, only the hfx columns are filled.  Results are medians of
repeats; the table is printed and written to ``benchmarks/results/foundation.md``.
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

from hfx.spec.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
WS_DIR = ROOT.parent / "shared" / "data" / "workspaces" / "atlas"


def _median_ms(values: list[float]) -> float:
    return 1e3 * statistics.median(values)


def time_hfx(name: str, repeats: int) -> dict[str, float]:
    spec = json.loads((WS_DIR / f"{name}.json").read_text())
    patch = json.loads((WS_DIR / f"{name}.signal.json").read_text())
    builds = []
    for _ in range(repeats):
        start = time.perf_counter()
        ws = Workspace(spec)
        model = ws.model(patches=[patch])
        builds.append(time.perf_counter() - start)
    data = np.asarray(ws.data(model))
    pars = model.config.suggested_init()
    nll_calls, grad_calls = [], []
    for _ in range(repeats):
        n = 200
        start = time.perf_counter()
        for _ in range(n):
            model.logpdf(pars, data)
        nll_calls.append((time.perf_counter() - start) / n)
        start = time.perf_counter()
        for _ in range(n):
            model.nll_and_grad(pars, data)
        grad_calls.append((time.perf_counter() - start) / n)
    return {
        "npars": model.config.npars,
        "build_ms": _median_ms(builds),
        "logpdf_ms": _median_ms(nll_calls),
        "nll_grad_ms": _median_ms(grad_calls),
    }


def time_pyhf(python: Path, names: list[str], repeats: int) -> dict[str, dict[str, float]]:
    if not python.exists():
        print(f"pyhf environment {python} not found: pyhf columns left empty", file=sys.stderr)
        return {}
    worker = Path(__file__).with_name("pyhf_worker.py")
    proc = subprocess.run(
        [str(python), str(worker), str(WS_DIR), str(repeats), *names],
        check=True,
        capture_output=True,
        text=True,
    )
    raw = json.loads(proc.stdout)
    return {
        k: {"build_ms": _median_ms(v["build_s"]), "logpdf_ms": _median_ms(v["logpdf_s"])}
        for k, v in raw.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pyhf-python", type=Path, default=ROOT / "benchmarks/.pyhf-venv/bin/python"
    )
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    names = sorted(p.name[: -len(".signal.json")] for p in WS_DIR.glob("*.signal.json"))
    pyhf = time_pyhf(args.pyhf_python, names, args.repeats)
    header = (
        "| workspace | npars | build hfx ms | build pyhf ms | ratio | logpdf hfx ms "
        "| logpdf pyhf ms | ratio | NLL+grad hfx ms |"
    )
    lines = [header, "|" + "---|" * 9]
    for name in names:
        h = time_hfx(name, args.repeats)
        p = pyhf.get(name)
        pb = f"{p['build_ms']:.1f}" if p else "-"
        pl = f"{p['logpdf_ms']:.3f}" if p else "-"
        rb = f"{p['build_ms'] / h['build_ms']:.1f}x" if p else "-"
        rl = f"{p['logpdf_ms'] / h['logpdf_ms']:.1f}x" if p else "-"
        lines.append(
            f"| {name} | {h['npars']} | {h['build_ms']:.1f} | {pb} | {rb} | "
            f"{h['logpdf_ms']:.3f} | {pl} | {rl} | {h['nll_grad_ms']:.3f} |"
        )
    table = "\n".join(lines)
    print(table)
    out = Path(__file__).with_name("results") / "foundation.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        f"# Foundation benchmark (medians of {args.repeats} repeats)\n\n"
        "pyhf 0.7.6 numpy backend, measured in the same run. NLL+grad: hfx's analytic gradient "
        "(pyhf numpy has none).\n\n" + table + "\n"
    )


if __name__ == "__main__":
    main()
