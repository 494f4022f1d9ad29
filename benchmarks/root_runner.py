"""Times ROOT/RooFit's unconditional fit of one benchmark case; run by ``suite.py`` in a ROOT env.

Usage: ``python root_runner.py '<case JSON>'``.  The case names a HistFactory JSON workspace
(pyhf's format) and optionally a JSON Patch file, a number of repeats (cut short once
``budget_s`` seconds are spent) and any keys the other runners take (ignored here).

The model is built with ROOT's own HistFactory classes (``Measurement``/``Channel``/``Sample``
and ``HistoToWorkspaceFactoryFast::MakeCombinedModel``) with pyhf's conventions: normsys
interpolated with RooFit's FlexibleInterpVar code 5 (6th-order polynomial in the exponential,
exponential extrapolation: pyhf's code 4), histosys with PiecewiseInterpolation code 4
(6th-order polynomial, linear extrapolation: pyhf's code 4p) without RooFit's clipping of a
sample's negative yield, Gaussian staterror constraints with no pruning of small
uncertainties, Poisson shapesys constraints, and pyhf's parameter inits, bounds and fixed
flags.  pyhf's lumi is a normfactor with an external Gaussian constraint (ROOT 6.40 puts its
own ``Lumi`` on every sample, ``NormalizeByTheory`` or not, so that one is fixed at 1), and
the global observables' ranges are opened so that RooFit's constraint terms are pyhf's
untruncated ones.  The likelihood is then pyhf's up to a constant.  Each repeat resets the
parameters and times one ``fitTo`` (Minuit2 MIGRAD, strategy 1, no HESSE, RooFit's default
tolerance and evaluation backend); the first fit in a process also pays ROOT's one-off JIT
and library loading (about 0.3 s).

RooFit's NLL leaves out parameter-free terms (the log n! of the Poisson terms and the
normalisation of the constraint terms), so the reported ``value`` is recomputed at RooFit's
minimum in pyhf's convention, ``-2 log L`` with every constant: the Poisson terms from
RooFit's own expected yields, the constraint terms from the fitted parameters.

Prints one JSON line: ``{"times": [...], "value": twice_nll, "npars": ..., "version": ...,
"build_s": ..., ...}`` (``cpu_times`` too: the process's CPU seconds per fit, for busy
machines).  Imports only ROOT and the standard library (not hfx).
"""

from __future__ import annotations

import copy
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

from repeats import keep_going

# pyhf's default inits and bounds for parameters the measurement's config does not set.
_DEFAULTS = {
    "normfactor": (1.0, (0.0, 10.0)),
    "shapefactor": (1.0, (0.0, 10.0)),
    "normsys": (0.0, (-5.0, 5.0)),
    "histosys": (0.0, (-5.0, 5.0)),
    "staterror": (1.0, (1e-10, 10.0)),
    "shapesys": (1.0, (1e-10, 10.0)),
}
_NORMSYS_CODE = 5  # RooFit's exponential-polynomial code (pyhf code 4)
_HISTOSYS_CODE = 4  # RooFit's additive polynomial / linear code (pyhf code 4p)
_POISSON_AUX_MAX = 1e9  # upper end of a shapesys global observable's range
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


# --- JSON Patch (RFC 6902) with the standard library -------------------------------------


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise ValueError(f"bad JSON pointer {path!r}")
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc: Any, tokens: list[str]) -> Any:
    for token in tokens:
        doc = doc[int(token)] if isinstance(doc, list) else doc[token]
    return doc


def _add(doc: Any, tokens: list[str], value: Any) -> Any:
    if not tokens:
        return value
    parent, last = _walk(doc, tokens[:-1]), tokens[-1]
    if isinstance(parent, list):
        parent.insert(len(parent) if last == "-" else int(last), value)
    else:
        parent[last] = value
    return doc


def _remove(doc: Any, tokens: list[str]) -> Any:
    parent, last = _walk(doc, tokens[:-1]), tokens[-1]
    return parent.pop(int(last) if isinstance(parent, list) else last)


def apply_patch(doc: Any, ops: list[dict[str, Any]]) -> Any:
    """Apply a JSON Patch (add, remove, replace, move, copy, test) to a copy of ``doc``."""
    doc = copy.deepcopy(doc)
    for op in ops:
        kind, tokens = op["op"], _pointer(op["path"])
        if kind == "add":
            doc = _add(doc, tokens, copy.deepcopy(op["value"]))
        elif kind == "remove":
            _remove(doc, tokens)
        elif kind == "replace":
            if tokens:
                _remove(doc, tokens)
            doc = _add(doc, tokens, copy.deepcopy(op["value"]))
        elif kind in ("move", "copy"):
            source = _pointer(op["from"])
            value = _remove(doc, source) if kind == "move" else copy.deepcopy(_walk(doc, source))
            doc = _add(doc, tokens, value)
        elif kind == "test":
            if _walk(doc, tokens) != op["value"]:
                raise ValueError(f"JSON Patch test failed at {op['path']!r}")
        else:
            raise ValueError(f"unknown JSON Patch op {kind!r}")
    return doc


# --- the RooFit model ----------------------------------------------------------------------


class _Model:
    """A pyhf-format spec turned into a RooFit workspace, with what pyhf's value needs."""

    def __init__(self, ROOT: Any, spec: dict[str, Any]) -> None:
        self.ROOT = ROOT
        self.hf = ROOT.RooStats.HistFactory
        measurement = spec["measurements"][0]
        self.config = {p["name"]: p for p in measurement["config"].get("parameters", [])}
        self.poi = measurement["config"]["poi"]
        observed = {o["name"]: [float(x) for x in o["data"]] for o in spec["observations"]}
        self.channels = sorted(spec["channels"], key=lambda c: c["name"])
        self.observed = {c["name"]: observed[c["name"]] for c in self.channels}
        self.kinds: dict[str, str] = {}  # pyhf parameter name -> modifier type
        self.roo_names: dict[str, list[str]] = {}  # pyhf parameter name -> RooRealVar names
        self.stat: dict[tuple[str, str], list[float]] = {}  # (name, channel) -> sigmas
        self.shapesys: dict[tuple[str, str], list[float]] = {}  # (name, channel) -> taus
        self._hist_count = 0
        self._collect()
        self.ws = self.hf.HistoToWorkspaceFactoryFast.MakeCombinedModel(self._measurement())
        self.mc = self.ws.obj("ModelConfig")
        self.pdf = self.mc.GetPdf()
        self.data = self.ws.data("obsData")
        self._configure()

    # pyhf's bookkeeping: parameter kinds, staterror sigmas, shapesys taus
    def _collect(self) -> None:
        for channel in self.channels:
            cname = channel["name"]
            nbins = len(self.observed[cname])
            stat_sum: dict[str, tuple[list[float], list[float]]] = {}
            for sample in channel["samples"]:
                nominal = [float(x) for x in sample["data"]]
                for mod in sample["modifiers"]:
                    name, kind = mod["name"], mod["type"]
                    self.kinds.setdefault(name, kind)
                    if kind == "staterror":
                        noms, vars_ = stat_sum.setdefault(name, ([0.0] * nbins, [0.0] * nbins))
                        for i, (n, e) in enumerate(zip(nominal, mod["data"], strict=True)):
                            noms[i] += n
                            vars_[i] += float(e) ** 2
                    elif kind == "shapesys":
                        self.shapesys[(name, cname)] = [
                            (n / float(s)) ** 2 if n > 0 and float(s) > 0 else 0.0
                            for n, s in zip(nominal, mod["data"], strict=True)
                        ]
            for name, (noms, vars_) in stat_sum.items():
                self.stat[(name, cname)] = [
                    math.sqrt(v) / n if n > 0 else 0.0 for n, v in zip(noms, vars_, strict=True)
                ]
        for channel in self.channels:
            cname, nbins = channel["name"], len(self.observed[channel["name"]])
            for name, kind in self.kinds.items():
                if kind == "staterror" and (name, cname) in self.stat:
                    names = [f"gamma_stat_{cname}_bin_{i}" for i in range(nbins)]
                    self.roo_names.setdefault(name, []).extend(names)
                elif kind in ("shapesys", "shapefactor") and self._in_channel(name, channel):
                    names = [f"gamma_{name}_bin_{i}" for i in range(nbins)]
                    if names[0] not in self.roo_names.get(name, []):
                        self.roo_names.setdefault(name, []).extend(names)
        for name, kind in self.kinds.items():
            if kind in ("normsys", "histosys"):
                self.roo_names[name] = [f"alpha_{name}"]
            elif kind in ("lumi", "normfactor"):
                self.roo_names[name] = [name]

    @staticmethod
    def _in_channel(name: str, channel: dict[str, Any]) -> bool:
        return any(m["name"] == name for s in channel["samples"] for m in s["modifiers"])

    def _hist(self, values: list[float], errors: list[float] | None = None) -> Any:
        self._hist_count += 1
        hist = self.ROOT.TH1D(f"h{self._hist_count}", "", len(values), 0.0, float(len(values)))
        hist.SetDirectory(0)
        self.ROOT.SetOwnership(hist, False)  # HistFactory's HistRef owns it
        for i, value in enumerate(values):
            hist.SetBinContent(i + 1, float(value))
            if errors is not None:
                hist.SetBinError(i + 1, float(errors[i]))
        return hist

    def _measurement(self) -> Any:
        hf = self.hf
        meas = hf.Measurement("meas", "")
        meas.SetPOI(self.poi)
        # ROOT 6.40 multiplies every sample by its Lumi, whatever NormalizeByTheory says, so
        # its Lumi stays fixed at 1 and pyhf's lumi is a normfactor with a Gaussian constraint.
        meas.SetLumi(1.0)
        meas.SetLumiRelErr(0.1)
        meas.AddConstantParam("Lumi")
        for channel in self.channels:
            cname = channel["name"]
            chan = hf.Channel(cname)
            chan.SetData(self._hist(self.observed[cname]))
            chan.SetStatErrorConfig(1e-12, "Gaussian")  # keep every bin, as pyhf does
            for sample in channel["samples"]:
                chan.AddSample(self._sample(sample))
            meas.AddChannel(chan)
        return meas

    def _lumi_defaults(self, name: str) -> tuple[float, tuple[float, float]]:
        aux = float(self.config.get(name, {}).get("auxdata", [1.0])[0])
        return aux, (0.0, 10.0 * aux)

    def _norm_factor_args(self, name: str) -> tuple[float, float, float]:
        init, (low, high) = _DEFAULTS["normfactor"]
        cfg = self.config.get(name, {})
        if "inits" in cfg:
            init = float(cfg["inits"][0])
        if "bounds" in cfg:
            low, high = (float(b) for b in cfg["bounds"][0])
        return init, low, high

    def _sample(self, sample: dict[str, Any]) -> Any:
        hf = self.hf
        nominal = [float(x) for x in sample["data"]]
        smp = hf.Sample(sample["name"])
        smp.SetNormalizeByTheory(False)
        stat_errors = None
        for mod in sample["modifiers"]:
            name, kind, data = mod["name"], mod["type"], mod.get("data")
            if kind == "normfactor":
                smp.AddNormFactor(name, *self._norm_factor_args(name))
            elif kind == "normsys":
                smp.AddOverallSys(name, float(data["lo"]), float(data["hi"]))
            elif kind == "histosys":
                sys_ = hf.HistoSys()
                sys_.SetName(name)
                sys_.SetHistoLow(self._hist(data["lo_data"]))
                sys_.SetHistoHigh(self._hist(data["hi_data"]))
                smp.AddHistoSys(sys_)
            elif kind == "staterror":
                stat_errors = data
                smp.ActivateStatError()
            elif kind == "shapesys":
                sys_ = hf.ShapeSys()
                sys_.SetName(name)
                sys_.SetConstraintType(hf.Constraint.Poisson)
                rel = [float(s) / n if n > 0 else 0.0 for n, s in zip(nominal, data, strict=True)]
                sys_.SetErrorHist(self._hist(rel))
                smp.AddShapeSys(sys_)
            elif kind == "shapefactor":
                smp.AddShapeFactor(name)
            elif kind == "lumi":
                init, (low, high) = self._lumi_defaults(name)
                smp.AddNormFactor(name, init, low, high)
            else:
                raise ValueError(f"unsupported modifier type {kind!r}")
        smp.SetHisto(self._hist(nominal, stat_errors))
        return smp

    def _configure(self) -> None:
        """pyhf's inits, bounds and fixed flags; pyhf's interpolation codes."""
        for name, roo_names in self.roo_names.items():
            kind = self.kinds[name]
            cfg = self.config.get(name, {})
            if kind == "lumi":
                init, bounds = self._lumi_defaults(name)
            else:
                init, bounds = _DEFAULTS[kind]
            inits = [float(x) for x in cfg.get("inits", [init] * len(roo_names))]
            limits = [tuple(b) for b in cfg.get("bounds", [bounds] * len(roo_names))]
            for roo_name, value, (low, high) in zip(roo_names, inits, limits, strict=True):
                var = self.ws.var(roo_name)
                if not var:
                    raise KeyError(f"RooFit has no parameter {roo_name} (pyhf's {name})")
                var.setRange(float(low), float(high))
                var.setVal(value)
                if cfg.get("fixed", False):
                    var.setConstant(True)
        for (_, cname), sigmas in self.stat.items():
            for i, sigma in enumerate(sigmas):
                var = self.ws.var(f"gamma_stat_{cname}_bin_{i}")
                if sigma <= 0 and var:  # no staterror where the channel's nominal is empty
                    var.setVal(1.0)
                    var.setConstant(True)
        for (name, _), taus in self.shapesys.items():
            for i, tau in enumerate(taus):
                var = self.ws.var(f"gamma_{name}_bin_{i}")
                if tau <= 0 and var:  # pyhf fixes shapesys bins without yield or uncertainty
                    var.setVal(1.0)
                    var.setConstant(True)
        # RooFit normalises a constraint term over its global observable's range; pyhf's
        # terms are the full Gaussian and Poisson, so those ranges are opened up.
        globs = self.mc.GetGlobalObservables()
        for pdf in self.ws.allPdfs():
            kind = pdf.ClassName()
            if kind not in ("RooGaussian", "RooPoisson"):
                continue
            for server in pdf.servers():
                if globs.find(server.GetName()):
                    if kind == "RooGaussian":
                        server.removeRange()
                    else:
                        server.setRange(0.0, _POISSON_AUX_MAX)
        self.constraints = self.ROOT.RooArgSet()
        self._keep = []
        for name, kind in self.kinds.items():
            if kind == "lumi":
                cfg = self.config[name]
                aux = self.ROOT.RooConstVar(f"{name}_aux", "", float(cfg["auxdata"][0]))
                sigma = self.ROOT.RooConstVar(f"{name}_sigma", "", float(cfg["sigmas"][0]))
                term = self.ROOT.RooGaussian(
                    f"{name}_constraint", "", self.ws.var(name), aux, sigma
                )
                self._keep += [aux, sigma, term]
                self.constraints.add(term)
        for func in self.ws.allFunctions():
            if func.InheritsFrom("RooStats::HistFactory::FlexibleInterpVar"):
                func.setAllInterpCodes(_NORMSYS_CODE)
            elif func.InheritsFrom("PiecewiseInterpolation"):
                func.setAllInterpCodes(_HISTOSYS_CODE)
                func.setPositiveDefinite(False)  # pyhf lets a sample's yield go negative
        self.params = self.pdf.getParameters(self.data)
        self.initial = self.params.snapshot()

    @property
    def npars(self) -> int:
        return sum(len(v) for v in self.roo_names.values())

    def reset(self) -> None:
        self.params.assign(self.initial)

    def fit(self) -> Any:
        RooFit = self.ROOT.RooFit
        return self.pdf.fitTo(
            self.data,
            RooFit.Minimizer("Minuit2", "Migrad"),
            RooFit.Strategy(1),
            RooFit.PrintLevel(-1),
            RooFit.Hesse(False),
            RooFit.Save(),
            RooFit.GlobalObservables(self.mc.GetGlobalObservables()),
            RooFit.ExternalConstraints(self.constraints),
        )

    # --- pyhf's -2 log L at the current parameter values ------------------------------------

    def expected(self, cname: str) -> list[float]:
        """RooFit's expected yields of one channel (bins are of unit width)."""
        obs = self.ws.var(f"obs_x_{cname}")
        model = self.ws.pdf(f"{cname}_model")
        values = []
        for i in range(len(self.observed[cname])):
            obs.setVal(i + 0.5)
            values.append(model.getVal())
        return values

    def twice_nll(self) -> float:
        logl = 0.0
        for cname, observed in self.observed.items():
            for n, nu in zip(observed, self.expected(cname), strict=True):
                logl += n * math.log(nu) - nu - math.lgamma(n + 1.0) if n > 0 else -nu
        val = {n: self.ws.var(n).getVal() for names in self.roo_names.values() for n in names}
        for name, kind in self.kinds.items():
            if kind in ("normsys", "histosys"):
                logl -= 0.5 * val[f"alpha_{name}"] ** 2 + _HALF_LOG_2PI
            elif kind == "lumi":
                cfg = self.config[name]
                aux, sigma = float(cfg["auxdata"][0]), float(cfg["sigmas"][0])
                z = (val[name] - aux) / sigma
                logl -= 0.5 * z * z + math.log(sigma) + _HALF_LOG_2PI
        # pyhf fixes a bin without uncertainty at 1 but keeps its constraint term, with
        # sigma = 1 (staterror) or tau = 1 (shapesys)
        for (_, cname), sigmas in self.stat.items():
            for i, sigma in enumerate(sigmas):
                gamma = val[f"gamma_stat_{cname}_bin_{i}"] if sigma > 0 else 1.0
                z = (gamma - 1.0) / sigma if sigma > 0 else 0.0
                logl -= 0.5 * z * z + math.log(sigma if sigma > 0 else 1.0) + _HALF_LOG_2PI
        for (name, _), taus in self.shapesys.items():
            for i, tau in enumerate(taus):
                gamma = val[f"gamma_{name}_bin_{i}"] if tau > 0 else 1.0
                tau = tau if tau > 0 else 1.0
                logl += tau * math.log(gamma * tau) - gamma * tau - math.lgamma(tau + 1.0)
        return -2.0 * logl


def _run(case: dict[str, Any]) -> dict[str, Any]:
    import ROOT

    ROOT.RooMsgService.instance().setGlobalKillBelow(ROOT.RooFit.WARNING)
    ROOT.TH1.AddDirectory(False)
    spec = json.loads(Path(case["workspace"]).read_text())
    patch = json.loads(Path(case["patch"]).read_text()) if case.get("patch") else None
    start = time.perf_counter()
    model = _Model(ROOT, apply_patch(spec, patch) if patch else spec)
    build_s = time.perf_counter() - start
    times, cpu_times, result = [], [], None
    while keep_going(times, case):
        model.reset()
        start, cpu_start = time.perf_counter(), time.process_time()
        result = model.fit()
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    poi = model.ws.var(model.poi)
    return {
        "times": times,
        "cpu_times": cpu_times,
        "value": model.twice_nll(),
        "npars": model.npars,
        "version": str(ROOT.gROOT.GetVersion()),
        "build_s": build_s,
        "poi": poi.getVal() if poi else None,
        "status": int(result.status()) if result else None,
        "roofit_min_nll": float(result.minNll()) if result else None,
        "value_note": "pyhf-convention twice_nll recomputed at RooFit's minimum",
    }


def main() -> None:
    case = json.loads(sys.argv[1])
    # ROOT writes to C's stdout; keep that on stderr so stdout holds only the JSON line.
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    try:
        answer = _run(case)
    except Exception as exc:
        sys.stderr.write(f"\nroot_runner: {type(exc).__name__}: {exc}\n")
        sys.stderr.flush()
        os._exit(1)
    out.write(json.dumps(answer) + "\n")
    out.flush()
    sys.stderr.flush()
    os._exit(0)  # skip ROOT's teardown, which can crash on HistFactory's histogram ownership


if __name__ == "__main__":
    main()
