"""hfx's HS3 export, loaded in ROOT: same likelihood, same fit (issue 19).

For every shared ATLAS workspace (signal patch applied) the workspace is written as HS3
with :func:`hfx.interfaces.io.hs3.workspace_to_hs3`, read by ROOT's
``RooJSONFactoryWSTool::importJSON`` and compared with hfx:

* NLL differences between a few parameter points (hfx's and ROOT's NLL differ by a
  constant, so only differences are compared);
* the best-fit POI μ̂ and q̃μ(μ=1) = 2 (NLL(μ=1, θ̂̂) − NLL(μ̂, θ̂)) (0 when μ̂ > 1), with
  ROOT's Minuit2 fits against hfx's.

Run with hfx's Python (ROOT is driven as a subprocess of ``--root-python``)::

    .venv/bin/python benchmarks/hs3_root_check.py [--root-python /work/root-env/bin/python]
        [--only NAME] [--markdown benchmarks/RESULTS-hs3.md]

``--root-worker HS3 POINTS OUT`` is the ROOT side (run with ROOT's Python; no hfx).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared" / "data"
ATLAS = SHARED / "workspaces" / "atlas"
NAMES = (
    "2018-04_SRcombined",
    "2018-14_Comb_bkgonly",
    "2018-31_BkgOnlyA",
    "2018-31_BkgOnlyC",
    "2018-31_simplifiedA",
    "2019-09_bkg_onshell",
)


# --- the ROOT side --------------------------------------------------------------------------
def root_worker(hs3_path: str, points_path: str, out_path: str) -> None:
    import ROOT

    ROOT.gROOT.SetBatch(True)
    ROOT.RooMsgService.instance().setGlobalKillBelow(ROOT.RooFit.WARNING)
    request = json.loads(Path(points_path).read_text())
    ws = ROOT.RooWorkspace("w")
    if not ROOT.RooJSONFactoryWSTool(ws).importJSON(hs3_path):
        raise SystemExit(f"ROOT could not import {hs3_path}")
    mc = ws.obj(request.get("model_config", "ModelConfig"))
    if not mc:
        mcs = [o for o in ws.allGenericObjects() if o.ClassName() == "RooStats::ModelConfig"]
        mc = mcs[0]
    pdf = mc.GetPdf()
    data = ws.data("obsData")
    constraints: dict[str, int] = {}
    for p in ws.allPdfs():
        if p.ClassName() in ("RooPoisson", "RooGaussian") and p.GetName().startswith("gamma_"):
            constraints[p.ClassName()] = constraints.get(p.ClassName(), 0) + 1
    codes: dict[str, list[int]] = {}
    for f in ws.allFunctions():
        if f.ClassName() in ("RooStats::HistFactory::FlexibleInterpVar", "PiecewiseInterpolation"):
            codes.setdefault(f.ClassName().split(":")[-1], []).extend(f.interpolationCodes())
    params = pdf.getParameters(data)
    nll = pdf.createNLL(
        data,
        ROOT.RooFit.GlobalObservables(mc.GetGlobalObservables()),
        ROOT.RooFit.EvalBackend("cpu"),
    )
    snapshot = params.snapshot()

    def set_point(values: dict[str, float]) -> None:
        params.assign(snapshot)
        for name, value in values.items():
            var = params.find(name)
            if not var:
                raise SystemExit(f"ROOT's model has no parameter {name!r}")
            var.setVal(value)

    nlls = []
    for point in request["points"]:
        set_point(point)
        nlls.append(nll.getVal())
    set_point({})
    start = time.perf_counter()
    # The fits use an offset NLL (RooFit's usual setting for large models: the sum is
    # taken relative to its value at the start, which keeps Minuit's steps precise).
    fit_nll = pdf.createNLL(
        data,
        ROOT.RooFit.GlobalObservables(mc.GetGlobalObservables()),
        ROOT.RooFit.EvalBackend("cpu"),
        ROOT.RooFit.Offset("initial"),
    )
    fit = _fit_poi(ROOT, fit_nll, params, request["poi"], request["test_poi"])
    seconds = time.perf_counter() - start
    out = {
        "nll": nlls,
        **fit,
        "constraints": constraints,
        "codes": {k: sorted(set(v)) for k, v in codes.items()},
        "fit_seconds": seconds,
        "version": ROOT.gROOT.GetVersion(),
    }
    Path(out_path).write_text(json.dumps(out))


def root_reexport(hs3_path: str, out_path: str) -> None:
    """Import an HS3 file into ROOT and export it again in ROOT's own dialect."""
    import ROOT

    ROOT.gROOT.SetBatch(True)
    ROOT.RooMsgService.instance().setGlobalKillBelow(ROOT.RooFit.WARNING)
    ws = ROOT.RooWorkspace("w")
    if not ROOT.RooJSONFactoryWSTool(ws).importJSON(hs3_path):
        raise SystemExit(f"ROOT could not import {hs3_path}")
    ROOT.RooJSONFactoryWSTool(ws).exportJSON(out_path)


def _fit_poi(ROOT: Any, nll: Any, params: Any, poi_name: str, test_poi: float) -> dict[str, Any]:
    """μ̂ and both NLL minima (free, POI fixed at ``test_poi``) with Minuit2."""
    snapshot = params.snapshot()
    poi = params.find(poi_name)

    def minimize() -> tuple[float, int]:
        minim = ROOT.RooMinimizer(nll)
        minim.setPrintLevel(-1)
        minim.setStrategy(1)
        minim.setEps(1e-4)  # tolerance 1e-4: EDM < 1e-7
        minim.setMinimizerType("Minuit2")
        status = minim.minimize("Minuit2", "Migrad")
        return nll.getVal(), int(status)

    free_nll, free_status = minimize()
    muhat = poi.getVal()
    params.assign(snapshot)
    poi.setVal(test_poi)
    poi.setConstant(True)
    fixed_nll, fixed_status = minimize()
    poi.setConstant(False)
    params.assign(snapshot)
    return {
        "muhat": muhat,
        "free_nll": free_nll,
        "fixed_nll": fixed_nll,
        "status": [free_status, fixed_status],
    }


def make_fixture(spec_path: str, out_dir: str) -> None:
    """Build a workspace with ROOT's HistFactory classes, export it with ROOT (the fixture
    of tests/io/test_hs3_root_dialect.py) and record ROOT's NLL at a few points and its fit.

    Run with ROOT's Python: ``hs3_root_check.py --make-fixture SPEC.json OUTDIR``.  Every
    sample's modifiers map one to one: normfactor -> NormFactor, lumi -> the measurement's
    luminosity, normsys -> OverallSys, histosys -> HistoSys, staterror -> StatError
    (Gaussian), shapesys -> ShapeSys (Poisson), shapefactor -> ShapeFactor.
    """
    import ROOT

    ROOT.gROOT.SetBatch(True)
    ROOT.RooMsgService.instance().setGlobalKillBelow(ROOT.RooFit.WARNING)
    hf = ROOT.RooStats.HistFactory
    spec = json.loads(Path(spec_path).read_text())
    keep: list[Any] = []

    def hist(name: str, values: list[float]) -> Any:
        h = ROOT.TH1D(name, name, len(values), 0.0, float(len(values)))
        h.SetDirectory(0)
        for i, v in enumerate(values):
            h.SetBinContent(i + 1, v)
        keep.append(h)
        return h

    meas_spec = spec["measurements"][0]
    config = {p["name"]: p for p in meas_spec["config"]["parameters"]}
    meas = hf.Measurement(meas_spec["name"], meas_spec["name"])
    meas.SetPOI(meas_spec["config"]["poi"])
    lumi = config.get("lumi", {"auxdata": [1.0], "sigmas": [0.0]})
    meas.SetLumi(lumi["auxdata"][0])
    meas.SetLumiRelErr(lumi["sigmas"][0] / lumi["auxdata"][0])
    observed = {o["name"]: o["data"] for o in spec["observations"]}
    for ch in spec["channels"]:
        cname = ch["name"]
        channel = hf.Channel(cname)
        channel.SetData(hist(f"{cname}_data", observed[cname]))
        channel.SetStatErrorConfig(0.0, "Gaussian")
        for s in ch["samples"]:
            sample = hf.Sample(s["name"])
            sample.SetHisto(hist(f"{cname}_{s['name']}", s["data"]))
            sample.SetNormalizeByTheory(any(m["type"] == "lumi" for m in s["modifiers"]))
            for m in s["modifiers"]:
                kind, name = m["type"], m["name"]
                stem = f"{cname}_{s['name']}_{name}"
                if kind == "normfactor":
                    lo, hi = config.get(name, {}).get("bounds", [[0.0, 10.0]])[0]
                    sample.AddNormFactor(name, 1.0, lo, hi)
                elif kind == "normsys":
                    sample.AddOverallSys(name, m["data"]["lo"], m["data"]["hi"])
                elif kind == "histosys":
                    sys_ = hf.HistoSys()
                    sys_.SetName(name)
                    sys_.SetHistoHigh(hist(f"{stem}_hi", m["data"]["hi_data"]))
                    sys_.SetHistoLow(hist(f"{stem}_lo", m["data"]["lo_data"]))
                    sample.GetHistoSysList().push_back(sys_)
                elif kind == "staterror":
                    rel = [e / v for e, v in zip(m["data"], s["data"], strict=True)]
                    sample.ActivateStatError()
                    sample.GetStatError().SetErrorHist(hist(f"{stem}_rel", rel))
                elif kind == "shapesys":
                    rel = [e / v for e, v in zip(m["data"], s["data"], strict=True)]
                    shape = hf.ShapeSys()
                    shape.SetName(name)
                    shape.SetErrorHist(hist(f"{stem}_rel", rel))
                    shape.SetConstraintType(hf.Constraint.Poisson)
                    sample.GetShapeSysList().push_back(shape)
                elif kind == "shapefactor":
                    sample.AddShapeFactor(name)
            channel.AddSample(sample)
        meas.AddChannel(channel)
    out = Path(out_dir).resolve()
    spec_path = str(Path(spec_path).resolve())
    os.chdir(tempfile.mkdtemp())  # HistFactory writes ROOT files of its own here
    ws = hf.MakeModelAndMeasurementFast(meas)
    stem = Path(spec_path).stem
    ROOT.RooJSONFactoryWSTool(ws).exportJSON(str(out / f"{stem}.root.hs3.json"))
    mc = ws.obj("ModelConfig")
    pdf, data = mc.GetPdf(), ws.data("obsData")
    params = pdf.getParameters(data)
    nll = pdf.createNLL(data, ROOT.RooFit.GlobalObservables(mc.GetGlobalObservables()))
    free = sorted(p.GetName() for p in params if not p.isConstant())
    snapshot = params.snapshot()
    rng = __import__("random").Random(19)
    points: list[dict[str, float]] = [{}]
    for scale in (0.3, 0.6):
        point = {}
        for name in free:
            var = params.find(name)
            if name.startswith("alpha_"):
                point[name] = var.getVal() + scale * rng.gauss(0, 1)
            else:
                point[name] = var.getVal() * (1 + scale * 0.05 * rng.gauss(0, 1))
        points.append(point)
    nlls = []
    for point in points:
        params.assign(snapshot)
        for name, value in point.items():
            params.find(name).setVal(value)
        nlls.append(nll.getVal())
    params.assign(snapshot)
    fit = _fit_poi(ROOT, nll, params, meas_spec["config"]["poi"], 1.0)
    values = {
        "about": "ROOT's NLL of the model MakeModelAndMeasurementFast built from "
        f"{Path(spec_path).name} (HistFactory classes), at parameter points in ROOT's names; "
        "written by benchmarks/hs3_root_check.py --make-fixture",
        "root_version": ROOT.gROOT.GetVersion(),
        "points": points,
        "nll": nlls,
        **fit,
    }
    (out / f"{stem}.root_values.json").write_text(json.dumps(values, indent=1) + "\n")
    sys.stdout.flush()
    os._exit(0)  # ROOT 6.40 may crash tearing down the HistFactory objects at exit


# --- the hfx side ---------------------------------------------------------------------------
def hfx_side(
    name: str, folder: Path, poisson_staterror: bool = False
) -> tuple[dict[str, Any], dict[str, Any], Path]:
    """Export ``name`` (a shared workspace, or a workspace file) and compute hfx's numbers."""
    import numpy as np

    import hfx
    from hfx.infer import qmu_tilde
    from hfx.interfaces.io.hs3 import workspace_to_hs3
    from hfx.spec.jsonio import write_json_atomic

    if name.endswith(".json"):  # a workspace file of its own, e.g. one with every modifier type
        ws = hfx.Workspace(json.loads(Path(name).read_text()))
        name = Path(name).stem
    else:
        spec = json.loads((ATLAS / f"{name}.json").read_text())
        patch = json.loads((ATLAS / f"{name}.signal.json").read_text())
        ws = hfx.Workspace(spec).apply_patches([patch])
    doc = workspace_to_hs3(ws)
    if poisson_staterror:  # as ROOT's own export: ROOT then rebuilds the staterror Poisson
        for dist in doc["distributions"]:
            dist.pop("staterror", None)
    path = folder / f"{name}.hs3.json"
    write_json_atomic(path, doc)
    model = ws.model()
    data = np.asarray(ws.data(model))
    config = model.config
    names = _hs3_names(doc, config)  # HS3 names of the parameter vector's components
    rng = np.random.default_rng(19)
    init = config.suggested_init()
    bounds = config.suggested_bounds()
    fixed = config.suggested_fixed()
    points = [init]
    width = np.ones_like(init)
    for pname in config.par_order:
        if config.param_set(pname).kind not in ("normsys", "histosys"):
            width[config.par_slice(pname)] = 0.05
    for scale in (0.3, 0.6):
        step = rng.normal(0.0, 1.0, size=init.shape) * width
        # Stay where every sample's yield is >= 0: below that ROOT cuts each sample's
        # histosys sum at 0 (PiecewiseInterpolation's positiveDefinite) and pyhf/hfx do not.
        while True:
            x = np.where(fixed, init, np.clip(init + scale * step, bounds[:, 0], bounds[:, 1]))
            if np.min(model.expected_by_sample(x)) >= 0:
                break
            scale *= 0.8
        points.append(x)
    nlls = [float(model.nll(x, data)) for x in points]
    poi = config.poi_index
    assert poi is not None
    fit = hfx.fit(model, data, uncertainties=False)
    qt = float(qmu_tilde(model, data, 1.0))  # type: ignore[arg-type]
    request = {
        "points": [
            {n: float(v) for n, v, f in zip(names, x, fixed, strict=True) if not f} for x in points
        ],
        "poi": names[poi],
        "test_poi": 1.0,
    }
    hfx_result = {
        "nll": nlls,
        "muhat": float(fit.bestfit[poi]),
        "qtilde": float(qt),
        "npars": int(config.npars),
    }
    return request, hfx_result, path


def _hs3_names(doc: dict[str, Any], config: Any) -> list[str]:
    """The HS3 parameter name of each component of hfx's parameter vector."""
    per_modifier: dict[str, list[str]] = {}
    for dist in doc["distributions"]:
        for sample in dist.get("samples", []):
            for mod in sample["modifiers"]:
                params = mod.get("parameters") or [mod["parameter"]]
                per_modifier.setdefault(mod["name"], params)
    out: list[str] = []
    for pname in config.par_order:
        out.extend(per_modifier[pname])
    return out


def run(
    names: tuple[str, ...], root_python: str, poisson_staterror: bool = False
) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in names:
            request, mine, path = hfx_side(name, folder, poisson_staterror)
            points = folder / f"{name}.points.json"
            out = folder / f"{name}.root.json"
            points.write_text(json.dumps(request))
            start = time.perf_counter()
            proc = subprocess.run(
                [root_python, __file__, "--root-worker", str(path), str(points), str(out)],
                capture_output=True,
                text=True,
                check=False,
                env={**os.environ, "PYTHONWARNINGS": "ignore"},
            )
            if proc.returncode != 0 or not out.exists():
                rows.append({"name": name, "error": proc.stderr.strip().splitlines()[-3:]})
                print(name, "ROOT failed:", proc.stderr[-2000:], file=sys.stderr)
                continue
            root = json.loads(out.read_text())
            root["seconds"] = time.perf_counter() - start
            muhat = root["muhat"]
            q_root = 0.0 if muhat > 1.0 else 2.0 * (root["fixed_nll"] - root["free_nll"])
            dnll_hfx = [v - mine["nll"][0] for v in mine["nll"][1:]]
            dnll_root = [v - root["nll"][0] for v in root["nll"][1:]]
            row = {
                "name": name,
                "npars": mine["npars"],
                "muhat_hfx": mine["muhat"],
                "muhat_root": muhat,
                "q_hfx": mine["qtilde"],
                "q_root": q_root,
                "dnll_hfx": dnll_hfx,
                "dnll_root": dnll_root,
                "status": root["status"],
                "constraints": root["constraints"],
                "codes": root["codes"],
                "root_seconds": root["seconds"],
                "root_version": root["version"],
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def through_root(names: tuple[str, ...], root_python: str) -> list[dict[str, Any]]:
    """hfx -> HS3 -> ROOT import -> ROOT's export -> hfx: the likelihood of what comes back
    (ROOT's dialect, read by hfx) against the original's: NLL differences and CLs(μ=1)."""
    import warnings

    import numpy as np

    import hfx
    from hfx.infer import hypotest
    from hfx.interfaces.io.hs3 import hs3_to_workspace, workspace_to_hs3
    from hfx.spec.jsonio import write_json_atomic

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            spec = json.loads((ATLAS / f"{name}.json").read_text())
            patch = json.loads((ATLAS / f"{name}.signal.json").read_text())
            original = hfx.Workspace(spec).apply_patches([patch])
            ours, theirs = Path(tmp) / f"{name}.hs3.json", Path(tmp) / f"{name}.root.hs3.json"
            write_json_atomic(ours, workspace_to_hs3(original))
            proc = subprocess.run(
                [root_python, __file__, "--root-reexport", str(ours), str(theirs)],
                capture_output=True,
                text=True,
                check=False,
                env={**os.environ, "PYTHONWARNINGS": "ignore"},
            )
            if proc.returncode != 0 or not theirs.exists():
                rows.append({"name": name, "error": proc.stderr.strip().splitlines()[-3:]})
                continue
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                back = hfx.Workspace(
                    hs3_to_workspace(json.loads(theirs.read_text()), source=theirs.name)
                )
            row: dict[str, Any] = {"name": name, "warnings": [str(w.message) for w in caught]}
            m0, m1 = original.model(), back.model()
            d0, d1 = np.asarray(original.data(m0)), np.asarray(back.data(m1))
            same_pars = m0.config.par_order == m1.config.par_order
            row["same_parameters"] = same_pars
            if same_pars:
                rng = np.random.default_rng(7)
                init, fixed = m0.config.suggested_init(), m0.config.suggested_fixed()
                points = [init] + [
                    np.where(fixed, init, init + 0.02 * rng.normal(size=init.shape))
                    for _ in range(2)
                ]
                n0 = [float(m0.nll(x, d0)) for x in points]
                n1 = [float(m1.nll(x, d1)) for x in points]
                row["max_dnll_diff"] = max(
                    abs((a - n0[0]) - (b - n1[0])) for a, b in zip(n0, n1, strict=True)
                )
            row["cls_original"] = float(hypotest(m0, d0, 1.0, test_stat="qtilde").cls)
            row["cls_through_root"] = float(hypotest(m1, d1, 1.0, test_stat="qtilde").cls)
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


def _rel(a: float, b: float) -> float:
    """Relative difference; absolute where |b| < 1e-3 (a POI fitted onto its bound at 0)."""
    return abs(a - b) / max(abs(b), 1e-3)


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| workspace | pars | μ̂ hfx | μ̂ ROOT | rel. diff | q̃(μ=1) hfx | q̃(μ=1) ROOT | rel. diff "
        "| max ΔNLL diff | ROOT status | ROOT gamma constraints | ROOT s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['name']} | ROOT failed: {' '.join(r['error'])} |")
            continue
        dn = max(
            (abs(a - b) for a, b in zip(r["dnll_hfx"], r["dnll_root"], strict=True)), default=0.0
        )
        cons = ", ".join(
            f"{k.removeprefix('Roo')} {v}" for k, v in sorted(r["constraints"].items())
        )
        lines.append(
            f"| {Path(r['name']).stem} | {r['npars']} | {r['muhat_hfx']:.6f} | "
            f"{r['muhat_root']:.6f} | "
            f"{_rel(r['muhat_root'], r['muhat_hfx']):.1e} | {r['q_hfx']:.6f} | {r['q_root']:.6f} | "
            f"{_rel(r['q_root'], r['q_hfx']):.1e} | {dn:.1e} | {r['status']} | {cons or '-'} | "
            f"{r['root_seconds']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root-worker", nargs=3, metavar=("HS3", "POINTS", "OUT"))
    parser.add_argument("--make-fixture", nargs=2, metavar=("SPEC", "OUTDIR"))
    parser.add_argument("--root-reexport", nargs=2, metavar=("HS3", "OUT"))
    parser.add_argument(
        "--through-root",
        action="store_true",
        help="instead: hfx -> HS3 -> ROOT -> ROOT's HS3 -> hfx, compared with the original",
    )
    parser.add_argument("--root-python", default="/work/root-env/bin/python")
    parser.add_argument("--only", action="append", default=None)
    parser.add_argument("--json", type=Path, default=None, help="write the rows as JSON here")
    parser.add_argument(
        "--poisson-staterror",
        action="store_true",
        help="leave out the channels' 'staterror' key, as ROOT's own export does: ROOT then "
        "builds Poisson staterror constraints (to measure what that changes)",
    )
    args = parser.parse_args()
    if args.root_worker:
        root_worker(*args.root_worker)
        return
    if args.make_fixture:
        make_fixture(*args.make_fixture)
        return
    if args.root_reexport:
        root_reexport(*args.root_reexport)
        return
    if args.through_root:
        rows = through_root(tuple(args.only or NAMES), args.root_python)
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1))
        return
    rows = run(tuple(args.only or NAMES), args.root_python, args.poisson_staterror)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    print(markdown(rows))


if __name__ == "__main__":
    main()
