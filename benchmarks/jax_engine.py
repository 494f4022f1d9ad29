"""JAX engine vs NumPy on CPU: asymptotic CLs (cold, later process, steady state) and toys.

    python benchmarks/jax_engine.py [--toys 10000] [--output benchmarks/RESULTS-jax.md]

Each CLs row runs in fresh processes with an empty cache folder of its own
(``HFX_CACHE_DIR``): the first process compiles the fits, the second finds them on disk.
Steady state is the median of repeats in one process.  Toys: one hypothesis (μ = 1, q̃μ),
the same seed on both engines (hence the same toys), timed once each.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "workspaces" / "atlas"
NAMES = (
    "2018-04_SRcombined",
    "2018-14_Comb_bkgonly",
    "2018-31_BkgOnlyA",
    "2018-31_BkgOnlyC",
    "2018-31_simplifiedA",
    "2019-09_bkg_onshell",
)

CLS_RUN = """
import json, statistics, sys, time
t0 = time.perf_counter()
import hfx
from hfx.infer import hypotest
name, repeats = sys.argv[1], int(sys.argv[2])
folder = sys.argv[3]
ws = hfx.Workspace(json.load(open(f"{folder}/{name}.json")))
ws = ws.apply_patches([json.load(open(f"{folder}/{name}.signal.json"))])
numpy_model = ws.model()
data = ws.data(numpy_model)
jax_model = ws.model(backend="jax")
t = time.perf_counter()
first = hypotest(jax_model, data, 1.0)
first_s = time.perf_counter() - t
out = {"first_s": first_s, "process_s": time.perf_counter() - t0, "cls_jax": first.cls,
       "exp_jax": list(first.cls_expected)}
if repeats:
    steady = []
    for _ in range(repeats):
        t = time.perf_counter()
        hypotest(jax_model, data, 1.0)
        steady.append(time.perf_counter() - t)
    hypotest(numpy_model, data, 1.0, engine="numpy")
    numpy_times = []
    for _ in range(repeats):
        t = time.perf_counter()
        ref = hypotest(numpy_model, data, 1.0, engine="numpy")
        numpy_times.append(time.perf_counter() - t)
    out.update(steady_s=statistics.median(steady), numpy_s=statistics.median(numpy_times),
               cls_numpy=ref.cls, exp_numpy=list(ref.cls_expected))
print(json.dumps(out))
"""

TOYS_RUN = """
import json, sys, time
import numpy as np
import hfx
from hfx.infer.toys import ToyCalculator
name, ntoys, engine, folder, samples = sys.argv[1], int(sys.argv[2]), sys.argv[3], *sys.argv[4:]
ws = hfx.Workspace(json.load(open(f"{folder}/{name}.json")))
ws = ws.apply_patches([json.load(open(f"{folder}/{name}.signal.json"))])
model = ws.model(backend="jax" if engine == "jax" else "numpy")
data = ws.data(ws.model())
t = time.perf_counter()
engine = "auto" if engine == "jax" else "numpy"
# hypotest's steps (hfx.infer.hypotest.run_hypotest), keeping every toy's statistic
calc = ToyCalculator(model, data, ntoys=ntoys, seed=7, engine=engine)
q = calc.teststatistic(1.0)
sb, b = calc.distributions(1.0)
cls = calc.pvalues(q, sb, b)[2]
calc.expected_pvalues(sb, b)
seconds = time.perf_counter() - t
np.save(samples, np.stack([sb.samples, b.samples]))
print(json.dumps({"seconds": seconds, "cls": cls, "q": q}))
"""


def run(script: str, *args: str, env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", script, *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise RuntimeError(done.stderr.strip().splitlines()[-1])
    return json.loads(done.stdout.strip().splitlines()[-1])


def seconds(value: float) -> str:
    return f"{value * 1e3:.1f} ms" if value < 1 else f"{value:.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--toys", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--names", nargs="*", default=list(NAMES))
    parser.add_argument("--output", type=Path, default=Path(__file__).with_name("RESULTS-jax.md"))
    args = parser.parse_args()
    import jax

    start = time.perf_counter()
    lines = [
        "# JAX engine vs NumPy (CPU)",
        "",
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, no GPU (the "
        f"device tool lent none to this task); jax {jax.__version__}. Made by "
        "`python benchmarks/jax_engine.py`.",
        "",
        "## Asymptotic CLs with its band (μ = 1, q̃μ)",
        "",
        "| workspace | first call, new cache | first call, later process | later process, "
        "whole | JAX steady | NumPy steady | JAX / NumPy | CLs (JAX vs NumPy) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in args.names:
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, HFX_CACHE_DIR=cache)
            cold = run(CLS_RUN, name, "0", str(SHARED), env=env)
            warm = run(CLS_RUN, name, str(args.repeats), str(SHARED), env=env)
        diff = max(
            abs(a - b) / max(abs(b), 1e-300)
            for a, b in zip(
                [warm["cls_jax"], *warm["exp_jax"]],
                [warm["cls_numpy"], *warm["exp_numpy"]],
                strict=True,
            )
        )
        lines.append(
            f"| {name} | {seconds(cold['first_s'])} | {seconds(warm['first_s'])} | "
            f"{seconds(warm['process_s'])} | {seconds(warm['steady_s'])} | "
            f"{seconds(warm['numpy_s'])} | {warm['steady_s'] / warm['numpy_s']:.1f}x | "
            f"{'ok' if diff < 1e-6 else 'DIFFERS'} ({diff:.0e}) |"
        )
        print(lines[-1], flush=True)
    lines += ["", f"## Toys on 2018-31_BkgOnlyA ({args.toys} per ensemble, seed 7)", ""]
    lines += [
        "| engine | time | CLs | toys whose q̃μ differs from NumPy's (> 1e-6; s+b, b) "
        "| largest difference | toys on the other side of the observed q̃μ |",
        "|---|---|---|---|---|---|",
    ]
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as folder:
        samples = {}
        for engine in ("numpy", "jax"):
            path = str(Path(folder) / f"{engine}.npy")
            toy_args = ("2018-31_BkgOnlyA", str(args.toys), engine, str(SHARED), path)
            out = run(TOYS_RUN, *toy_args, env=env)
            samples[engine] = np.load(path)
            row = f"| {engine} | {seconds(out['seconds'])} | {out['cls']:.6f} |"
            if engine == "numpy":
                lines.append(row + " - | - | - |")
            else:
                a, b = samples["numpy"], samples["jax"]
                diff = np.abs(a - b)
                far = (diff > 1e-6).sum(axis=1)
                sides = int(np.sum((a >= out["q"]) != (b >= out["q"])))
                lines.append(row + f" {far[0]}, {far[1]} | {diff.max():.2g} | {sides} |")
            print(lines[-1], flush=True)
    lines += ["", f"Total benchmark wall time: {time.perf_counter() - start:.0f} s.", ""]
    args.output.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
