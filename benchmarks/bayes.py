"""NUTS posterior of a published workspace: 2000 draws per chain on 2018-31_BkgOnlyA.

    python benchmarks/bayes.py [--draws 2000] [--warmup 1000] [--chains 2]

Writes benchmarks/RESULTS-bayes.md (time, R-hat, ESS, the POI's credible interval and
Bayesian upper limit) and docs/gallery/posterior.png.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

import numpy as np

import hfx
from hfx.infer.bayes import sample_posterior
from hfx.interfaces.plots import posterior_plot

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "workspaces" / "atlas"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--name", default="2018-31_BkgOnlyA")
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=2)
    args = parser.parse_args()
    ws = hfx.Workspace(json.loads((SHARED / f"{args.name}.json").read_text()))
    ws = ws.apply_patches([json.loads((SHARED / f"{args.name}.signal.json").read_text())])
    model = ws.model(backend="jax")
    data = ws.data(model)
    result = sample_posterior(
        model, data, draws=args.draws, warmup=args.warmup, chains=args.chains, seed=11
    )
    sampled = np.isfinite(result.rhat)
    poi = result.par_names[result.poi_index]
    low, high = result.interval(poi)
    mle = hfx.fit(ws.model(), np.asarray(data)).bestfit[result.poi_index]
    lines = [
        "# Bayesian posterior (NUTS) of a published workspace",
        "",
        f"{platform.machine()}, {os.cpu_count()} cores, CPU JAX; numpyro NUTS, "
        f"`python benchmarks/bayes.py` (seed 11).",
        "",
        "| workspace | parameters sampled | chains × draws (warm-up) | time (incl. compile) | "
        "max R-hat | min ESS | divergences |",
        "|---|---|---|---|---|---|---|",
        f"| {args.name} | {int(sampled.sum())} | {args.chains} × {args.draws} ({args.warmup}) | "
        f"{result.seconds:.1f} s | {np.nanmax(result.rhat):.4f} | {np.nanmin(result.ess):.0f} | "
        f"{result.divergences} |",
        "",
        f"POI `{poi}`: posterior mean {result.mean(poi):.4f}, 68 % central interval "
        f"[{low:.4f}, {high:.4f}], 95 % upper limit {result.upper_limit():.4f} "
        f"(maximum-likelihood estimate {mle:.4f}; flat prior on [0, 10]).",
        "",
    ]
    out = ROOT / "benchmarks" / "RESULTS-bayes.md"
    out.write_text("\n".join(lines))
    posterior_plot(result, path=ROOT / "docs" / "gallery" / "posterior.png")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
