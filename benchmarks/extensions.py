"""hfx's ABCD builder and spey backend side by side with their peers; writes RESULTS-extensions.md.

- ABCD: abcd-pyhf's ``ABCD`` (pyhf underneath) vs :func:`hfx.abcd.abcd_workspace` + hfx, from
  the region counts to a fit, one CLs and the upper limits (each side as its users call it,
  model building included); closed forms where they exist.
- spey: spey-pyhf's ``"pyhf"`` backend vs hfx's ``"hfx"`` backend through spey's own
  ``exclusion_confidence_level`` and ``poi_upper_limit`` on the shared ATLAS workspaces that
  load quickly, with hfx called directly (hfx.hypotest / hfx.upper_limit) as a third column.

Times are medians of repeats (:mod:`repeats`: at least 3, fewer where a case passes its time
budget; ``n=`` says so).  spey keeps fit results per statistical model, so every timed spey
call gets a freshly built one (building is timed in its own row).  One untimed warm-up run of
each side first (imports, hfx's compiled kernels).

Usage: ``python benchmarks/extensions.py`` (needs spey, spey-pyhf, abcd-pyhf and ../shared/data).
"""

from __future__ import annotations

import json
import logging
import platform
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from repeats import keep_going  # this script's folder is on sys.path when it runs

warnings.simplefilter("ignore")  # pyhf 0.7.6's jsonschema deprecations
logging.getLogger("Spey").setLevel(logging.ERROR)

HERE = Path(__file__).resolve().parent
ATLAS = HERE.parents[1] / "shared" / "data" / "workspaces" / "atlas"
OUT = HERE / "RESULTS-extensions.md"
CASE = {"repeats": 3, "budget_s": 60.0, "min_time_s": 0.5, "max_repeats": 20}


def timed(fn: Callable[[], Any], case: dict[str, Any] = CASE) -> tuple[float, int, Any]:
    """(median seconds, runs, last result) of ``fn``."""
    times: list[float] = []
    result = None
    while keep_going(times, case):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), len(times), result


def fmt_t(seconds: float, n: int) -> str:
    text = f"{seconds * 1e3:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"
    return text + (f" (n={n})" if n < CASE["repeats"] else "")


def fmt(x: Any) -> str:
    if isinstance(x, (list, tuple, np.ndarray)):
        return "[" + ", ".join(fmt(v) for v in x) + "]"
    return f"{float(x):.6g}"


def ratio(theirs: float, ours: float) -> str:
    return f"{theirs / ours:.0f}x" if theirs / ours >= 10 else f"{theirs / ours:.1f}x"


# --- ABCD -----------------------------------------------------------------------------------

ABCD_CASES = [
    {
        "name": "unblinded, signal contamination, 10 % signal and 20 % closure uncertainty",
        "observed": {"A": 30, "B": 40, "C": 60, "D": 120},
        "signal": {"A": 1.0, "B": 0.1, "C": 0.2, "D": 0.01},
        "sig_unc": 0.1,
        "bkg_unc": 0.2,
        "mu": 10.0,
    },
    {
        "name": "small counts, contamination in C only, 5 % / 10 %",
        "observed": {"A": 3, "B": 9, "C": 14, "D": 31},
        "signal": {"A": 1.0, "B": 0.0, "C": 0.3, "D": 0.0},
        "sig_unc": 0.05,
        "bkg_unc": 0.1,
        "mu": 4.0,
    },
]


def abcd_peer(case: dict[str, Any]) -> dict[str, Any]:
    """abcd-pyhf's timings and numbers for ``case``, in a process without hfx (``--abcd-peer``):
    its limit forks a multiprocessing pool, which must not inherit hfx's threads."""
    import pyhf
    from abcd_pyhf.abcd import ABCD

    obs, sig, su, bu, mu = (case[k] for k in ("observed", "signal", "sig_unc", "bkg_unc", "mu"))

    def peer() -> Any:
        return ABCD(obs, sig, su, bu)

    def peer_fit() -> Any:
        return peer().fit(return_uncertainties=False)

    def peer_cls() -> Any:
        p = peer()  # what ABCD.cls() runs at each scan point
        return pyhf.infer.hypotest(
            mu,
            p.data,
            p.model,
            p.init_pars,
            p.par_bounds,
            p.fixed_params(),
            return_tail_probs=True,
            return_expected_set=True,
        )

    def peer_limit() -> Any:
        return peer().upper_limit()  # its scan: CLs on the integers 0 … POI bound, in a pool

    peer_fit()
    peer_cls()  # warm-up
    out: dict[str, Any] = {}
    t, n, r = timed(peer_fit)
    out["fit"] = (t, n, [float(r[1]), float(r[0])])
    t, n, r = timed(peer_cls)
    out["cls"] = (t, n, [float(r[0]), float(r[2][2])])
    t, n, r = timed(peer_limit)
    out["limit"] = (t, n, [float(r[0]), float(r[1][2])])
    return out


def abcd_rows(case: dict[str, Any], peer_results: dict[str, Any]) -> list[str]:
    import hfx
    from hfx.abcd import abcd_workspace

    obs, sig, su, bu, mu = (case[k] for k in ("observed", "signal", "sig_unc", "bkg_unc", "mu"))

    def ours() -> tuple[Any, Any]:
        ws = abcd_workspace(obs, signal=sig, signal_uncertainty=su, closure_uncertainty=bu)
        model = ws.model()
        return model, ws.data(model)

    def our_fit() -> Any:
        model, data = ours()
        return hfx.fit(model, data, uncertainties=False)

    def our_cls() -> Any:
        model, data = ours()
        return hfx.hypotest(model, data, mu)

    def our_limit() -> Any:
        model, data = ours()
        return hfx.upper_limit(model, data)

    def our_grid_limit() -> Any:
        model, data = ours()
        top = model.config.suggested_bounds()[model.config.poi_index][1]
        return hfx.upper_limit(model, data, scan=np.linspace(0.0, top, int(top) + 1))

    our_fit()
    our_cls()  # warm-up
    rows = []
    t_p, n_p, r_p = peer_results["fit"]
    t_h, n_h, r_h = timed(our_fit)
    mu_hat, b_hat = r_h.value("mu"), r_h.value("mu_b")
    check = (
        f"b̂_A + μ̂ s_A = N_A = {obs['A']}: {fmt(b_hat + mu_hat)}"
        if mu_hat > 1e-6
        else f"μ̂ at its bound 0 (N_A = {obs['A']} < b̂_A)"
    )
    rows.append(
        f"| fit: μ̂, b̂_A | {fmt_t(t_p, n_p)} | {fmt_t(t_h, n_h)} | {ratio(t_p, t_h)} | "
        f"{fmt(r_p)} | {fmt([mu_hat, b_hat])} | {check} |"
    )
    t_p, n_p, r_p = peer_results["cls"]
    t_h, n_h, r_h = timed(our_cls)
    rows.append(
        f"| CLs at μ = {mu:g}: obs, expected median | {fmt_t(t_p, n_p)} | {fmt_t(t_h, n_h)} | "
        f"{ratio(t_p, t_h)} | {fmt(r_p)} | {fmt([r_h.cls, r_h.cls_expected[2]])} "
        "| |"
    )
    t_p, n_p, r_p = peer_results["limit"]
    t_h, n_h, r_h = timed(our_limit)
    t_g, n_g, r_g = timed(our_grid_limit)
    rows.append(
        f"| upper limit: obs, expected median | {fmt_t(t_p, n_p)} | {fmt_t(t_h, n_h)} | "
        f"{ratio(t_p, t_h)} | {fmt(r_p)} | {fmt([r_h.obs, r_h.exp[2]])} | "
        f"hfx on abcd-pyhf's integer grid ({fmt_t(t_g, n_g)}): {fmt([r_g.obs, r_g.exp[2]])} |"
    )
    return rows


def abcd_closed_form_rows() -> list[str]:
    import hfx
    from hfx.abcd import abcd_workspace

    rows = []
    blinded = {"B": 40, "C": 60, "D": 120}

    def blind() -> Any:
        model = abcd_workspace(blinded).model()
        return hfx.fit(model, [40.0, 60.0, 120.0], uncertainties=False)

    t, n, r = timed(blind)
    rows.append(
        f"| blinded {blinded}, no signal | b̂_A = N_B N_C / N_D = {fmt(40 * 60 / 120)} | "
        f"{fmt(r.value('mu_b'))} | {fmt_t(t, n)} |"
    )
    full = {"A": 30, "B": 40, "C": 60, "D": 120}

    def unblind() -> Any:
        ws = abcd_workspace(full)
        model = ws.model()
        return hfx.fit(model, ws.data(model), uncertainties=False)

    t, n, r = timed(unblind)
    rows.append(
        f"| unblinded {full}, no signal | b̂_A = (N_A+N_B)(N_A+N_C)/N = "
        f"{fmt((30 + 40) * (30 + 60) / 250)} | {fmt(r.value('mu_b'))} | {fmt_t(t, n)} |"
    )
    return rows


# --- spey -----------------------------------------------------------------------------------

SPEY_WORKSPACES = ("2018-31_simplifiedA", "2018-14_Comb_bkgonly", "2018-04_SRcombined")
SPEY_CASE = {"repeats": 3, "budget_s": 90.0, "min_time_s": 0.3, "max_repeats": 10}


def spey_rows(name: str) -> tuple[int, list[str]]:
    import spey

    import hfx

    ws = json.loads((ATLAS / f"{name}.json").read_text())
    patch = json.loads((ATLAS / f"{name}.signal.json").read_text())
    workspace = hfx.Workspace(ws)
    direct = workspace.model(patches=[patch])
    data = workspace.data(direct)
    post = spey.ExpectationType.aposteriori

    def build(backend: str) -> Callable[[], Any]:
        return lambda: spey.get_backend(backend)(
            background_only_model=ws, signal_patch=patch, analysis=name, xsection=1.0
        )

    tasks: list[tuple[str, Callable[[Any], Any], Callable[[], Any]]] = [
        (
            "exclusion CL (1 − CLs), μ = 1",
            lambda m: m.exclusion_confidence_level()[0],
            lambda: 1.0 - hfx.hypotest(direct, data, 1.0).cls,
        ),
        (
            "expected CL band (aposteriori)",
            lambda m: m.exclusion_confidence_level(expected=post),
            lambda: [1.0 - c for c in hfx.hypotest(direct, data, 1.0).cls_expected],
        ),
        (
            "upper limit, observed",
            lambda m: m.poi_upper_limit(),
            lambda: hfx.upper_limit(direct, data).obs,
        ),
        (
            "upper limit, expected ±2σ band",
            lambda m: m.poi_upper_limit(expected=post, expected_pvalue="2sigma"),
            lambda: hfx.upper_limit(direct, data).exp,
        ),
    ]
    for backend in ("pyhf", "hfx"):  # warm-up: imports, kernels
        tasks[0][1](build(backend)())
    rows = []
    t_p, n_p, _ = timed(build("pyhf"), SPEY_CASE)
    t_h, n_h, _ = timed(build("hfx"), SPEY_CASE)
    rows.append(
        f"| build statistical model | {fmt_t(t_p, n_p)} | {fmt_t(t_h, n_h)} | {ratio(t_p, t_h)} "
        "| | | | |"
    )
    for label, call, on_hfx in tasks:
        results: dict[str, Any] = {}
        times: dict[str, tuple[float, int]] = {}
        for backend in ("pyhf", "hfx"):
            spent: list[float] = []
            while keep_going(spent, SPEY_CASE):
                model = build(backend)()  # spey caches fits per model: a fresh one each run
                t0 = time.perf_counter()
                results[backend] = call(model)
                spent.append(time.perf_counter() - t0)
            times[backend] = (statistics.median(spent), len(spent))
        t_d, n_d, r_d = timed(on_hfx, SPEY_CASE)
        (t_p, n_p), (t_h, n_h) = times["pyhf"], times["hfx"]
        rows.append(
            f"| {label} | {fmt_t(t_p, n_p)} | {fmt_t(t_h, n_h)} | {ratio(t_p, t_h)} | "
            f"{fmt(results['pyhf'])} | {fmt(results['hfx'])} | {fmt(r_d)} | {fmt_t(t_d, n_d)} |"
        )
    return direct.config.npars, rows


def main() -> None:
    from importlib.metadata import version

    import abcd_pyhf  # noqa: F401  (fail early when a peer is missing)
    import spey
    import spey_pyhf

    start = time.perf_counter()
    progress("abcd-pyhf (separate process)")
    peer = subprocess.run(
        [sys.executable, __file__, "--abcd-peer"], capture_output=True, text=True, check=True
    )
    peer_results = json.loads(peer.stdout.strip().splitlines()[-1])
    lines = [
        "# hfx extensions vs their peers: ABCD (abcd-pyhf) and the spey backend (spey-pyhf)",
        "",
        f"Written by `benchmarks/extensions.py` on {platform.node() or 'this machine'} "
        f"(Python {platform.python_version()}; pyhf {version('pyhf')}, abcd-pyhf "
        f"{version('abcd-pyhf')}, spey {spey.__version__}, spey-pyhf {spey_pyhf.__version__}, "
        f"hfx {version('hfx')}).  Times are medians of at least 3 runs (more for fast cases, "
        "fewer where a case passed its time budget: `n=`), after one untimed warm-up; ratios "
        "are peer / hfx.",
        "",
        "## ABCD: abcd-pyhf vs `hfx.abcd.abcd_workspace`",
        "",
        "Both sides from the region counts: abcd-pyhf's `ABCD(...)` methods (which rebuild "
        "the pyhf model on every property access) against `abcd_workspace(...).model()` and "
        "hfx's fit / hypotest / upper_limit.  μ counts signal events in A (signal yields "
        "normalised to s_A = 1).  abcd-pyhf's limit interpolates CLs linearly on the integers "
        "0 … POI bound (a multiprocessing pool of hypotests); hfx's finds the CLs = 0.05 "
        "crossing by root finding, and on abcd-pyhf's grid (last column) gives its numbers.",
        "",
    ]
    for case, peer_case in zip(ABCD_CASES, peer_results, strict=True):
        progress(f"ABCD: {case['name']}")
        lines += [
            f"### {case['name']}",
            "",
            f"observed {case['observed']}, signal {case['signal']}",
            "",
            "| task | abcd-pyhf | hfx | ratio | abcd-pyhf value | hfx value | check |",
            "|---|---|---|---|---|---|---|",
            *abcd_rows(case, peer_case),
            "",
        ]
    lines += [
        "### Closed forms (no peer needed)",
        "",
        "| plane | hand computation | hfx fit | hfx time (build + fit) |",
        "|---|---|---|---|",
        *abcd_closed_form_rows(),
        "",
        '## spey: spey-pyhf\'s `"pyhf"` backend vs hfx\'s `"hfx"` backend',
        "",
        "The same calls through spey's interface (`spey.get_backend(name)(background_only_model"
        "=..., signal_patch=...)`), then hfx called directly for the same numbers "
        "(hfx.hypotest / hfx.upper_limit on a model built once).  spey's limits search "
        "with its own root finder on both backends; with hfx's backend every "
        "profiled likelihood spey asks for is one hfx fit.",
        "",
    ]
    for name in SPEY_WORKSPACES:
        progress(f"spey: {name}")
        npars, rows = spey_rows(name)
        lines += [
            f"### {name} ({npars} parameters)",
            "",
            "| task | spey-pyhf | spey + hfx | ratio | spey-pyhf value | spey + hfx value | "
            "hfx direct value | hfx direct time |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
            "",
        ]
    lines.append(f"Total benchmark wall time: {time.perf_counter() - start:.0f} s.")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


def progress(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--abcd-peer"]:
        print(json.dumps([abcd_peer(case) for case in ABCD_CASES]))
    else:
        main()
