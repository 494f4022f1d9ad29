"""HS3 document -> HistFactory JSON workspace (``hfx hs3 import``).

Reads what hfx writes and ROOT's own dialect (``RooJSONFactoryWSTool::exportJSON``):
constraint types ``Gauss``/``Poisson``/``Const`` (as ``constraint``, ``constraint_type`` or
``constraint_name`` of a ``gaussian_dist``), ``domains``, ``parameter_points``,
``misc.ROOT_internal`` and ROOT's names, which are mapped back to pyhf's: ``Lumi`` ->
``lumi``, ``alpha_<x>`` -> ``x``, a channel's staterror -> ``staterror_<channel>``.
What the JSON spec cannot express is an error naming the file and the element, or an
:class:`~hfx.errors.HfxWarning` where it is carried over approximately.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hfx.interfaces.io.hs3.common import (
    ALPHA,
    HFX_CODES,
    MODEL_PREFIX,
    NAMED_CODES,
    ROOT_DEFAULT_CODES,
    as_number,
    fail,
    note,
)
from hfx.interfaces.io.hs3.measurements import MeasurementReader, drop_defaults, items

__all__ = ["hs3_to_workspace"]

SPEC_VERSION = "1.0.0"
_STAT = re.compile(r"gamma_stat_(.+)_bin_\d+")
_GAMMA = re.compile(r"gamma_(.+)_bin_\d+")
_KNOWN_TYPES = ("normfactor", "normsys", "histosys", "staterror", "shapesys", "shapefactor")


def hs3_to_workspace(
    doc: Mapping[str, Any],
    *,
    likelihood: str | None = None,
    poi: str | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """Convert an HS3 document with HistFactory distributions to a JSON workspace dict.

    ``likelihood`` picks one of several likelihoods (default: the only one, or the only one
    whose name does not say Asimov); each analysis of it becomes a measurement, with bounds
    from its domains and inits, fixed parameters and auxiliary data from its parameter
    point.  ``poi`` names the parameter of interest when no analysis does.  The result is
    validated; errors name ``source`` and the element.
    """
    from hfx.spec.workspace import Workspace

    spec = _Importer(doc, source).convert(likelihood, poi)
    drop_defaults(spec, source)
    Workspace(spec, source=f"{source or '<HS3>'} (as JSON)")
    return spec


class _Importer(MeasurementReader):
    def __init__(self, doc: Mapping[str, Any], source: str | None):
        if not isinstance(doc, Mapping):
            raise fail(source, "", "expected an HS3 object at the top")
        self.doc = doc
        self.source = source
        self.dists = items(doc, "distributions", source)
        self.data = items(doc, "data", source)
        self.domains = items(doc, "domains", source)
        self.points = items(doc, "parameter_points", source)
        self.likelihoods = items(doc, "likelihoods", source)
        # pyhf modifier name -> (type, HS3 parameters); HS3 parameter -> pyhf name
        self.mods: dict[str, tuple[str, list[str]]] = {}
        self.pyhf_name: dict[str, str] = {}
        # pyhf name -> (global observable, sigma) of a Gaussian constraint
        self.gauss: dict[str, tuple[str, float]] = {}
        self.codes: dict[str, set[int]] = {"normsys": set(), "histosys": set()}
        self.used_constraints: set[str] = set()
        self.poisson_stat: dict[str, tuple[str, str]] = {}  # name -> (where, constraint)

    # --- which likelihood ---------------------------------------------------------------------
    def _pick(self, likelihood: str | None) -> tuple[str, Mapping[str, Any]]:
        if not self.likelihoods:
            raise fail(self.source, "/likelihoods", "no likelihood; nothing to convert")
        if likelihood is not None:
            if likelihood not in self.likelihoods:
                raise fail(
                    self.source,
                    "/likelihoods",
                    f"no likelihood named {likelihood!r}; there are {sorted(self.likelihoods)}",
                )
            return self.likelihoods[likelihood]
        names = list(self.likelihoods)
        if len(names) > 1:
            names = [n for n in names if "asimov" not in n.lower()]
        if len(names) != 1:
            raise fail(
                self.source,
                "/likelihoods",
                f"several likelihoods {sorted(self.likelihoods)}; choose one (--likelihood)",
            )
        return self.likelihoods[names[0]]

    def _channel_names(self) -> dict[str, str]:
        """ROOT's channel labels of its distributions (misc.ROOT_internal), if any."""
        misc = self.doc.get("misc", {})
        root = misc.get("ROOT_internal", {}) if isinstance(misc, Mapping) else {}
        combined = root.get("combined_distributions", {}) if isinstance(root, Mapping) else {}
        labels: dict[str, str] = {}
        if isinstance(combined, Mapping):
            for entry in combined.values():
                if isinstance(entry, Mapping):
                    dists, names = entry.get("distributions", []), entry.get("labels", [])
                    if isinstance(dists, list) and isinstance(names, list):
                        labels.update(zip(map(str, dists), map(str, names), strict=False))
        return labels

    # --- the conversion ----------------------------------------------------------------------
    def convert(self, likelihood: str | None, poi: str | None) -> dict[str, Any]:
        lh_where, lh = self._pick(likelihood)
        dist_names, data_names = lh.get("distributions"), lh.get("data")
        if not isinstance(dist_names, list) or not isinstance(data_names, list):
            raise fail(self.source, lh_where, "expected lists 'distributions' and 'data'")
        if len(dist_names) != len(data_names):
            raise fail(self.source, lh_where, "'distributions' and 'data' differ in length")
        aux = lh.get("aux_distributions", []) or []
        labels = self._channel_names()
        channels, observations = [], []
        for i, (dname, oname) in enumerate(zip(dist_names, data_names, strict=True)):
            if dname not in self.dists:
                raise fail(
                    self.source, f"{lh_where}/distributions/{i}", f"no distribution {dname!r}"
                )
            if oname not in self.data:
                raise fail(self.source, f"{lh_where}/data/{i}", f"no data {oname!r}")
            channel = labels.get(dname) or dname.removeprefix(MODEL_PREFIX)
            channels.append(self._channel(channel, *self.dists[dname]))
            nbins = len(channels[-1]["samples"][0]["data"])
            observations.append({"name": channel, "data": self._observed(*self.data[oname], nbins)})
        for i, extra in enumerate(aux):
            self._aux_distribution(extra, f"{lh_where}/aux_distributions/{i}")
        self._poisson_staterrors(channels)
        self._check_codes()
        order = sorted(range(len(channels)), key=lambda k: channels[k]["name"])
        spec = {
            "channels": [channels[k] for k in order],
            "observations": [observations[k] for k in order],
            "measurements": self._measurements(lh["name"], poi),
            "version": SPEC_VERSION,
        }
        return spec

    def _observed(self, where: str, item: Mapping[str, Any], nbins: int) -> list[float]:
        contents = item.get("contents")
        if item.get("type", "binned") != "binned" or not isinstance(contents, list):
            raise fail(self.source, where, "expected binned data with 'contents'")
        if len(contents) != nbins:
            raise fail(self.source, where, f"{len(contents)} bins, the distribution has {nbins}")
        return [as_number(v, self.source, f"{where}/contents") for v in contents]

    def _channel(self, name: str, where: str, dist: Mapping[str, Any]) -> dict[str, Any]:
        if dist.get("type") != "histfactory_dist":
            raise fail(
                self.source,
                where,
                f"distribution {dist['name']!r} of type {dist.get('type')!r}: only "
                "histfactory_dist has a HistFactory JSON equivalent",
            )
        samples = dist.get("samples")
        if not isinstance(samples, list) or not samples:
            raise fail(self.source, where, "a histfactory_dist without 'samples'")
        stat = dist.get("staterror", {})
        stat_default = None
        if isinstance(stat, Mapping):
            stat_default = stat.get("constraint_type", stat.get("constraint"))
            if float(stat.get("relThreshold", 0.0) or 0.0) > 0:
                note(
                    self.source,
                    f"{where}/staterror",
                    "a staterror relThreshold > 0 (bins below it are fixed) is not in the "
                    "JSON spec; all bins are kept free",
                )
        out = []
        for i, sample in enumerate(samples):
            out.append(self._sample(name, f"{where}/samples/{i}", sample, stat_default))
        nbins = {len(s["data"]) for s in out}
        if len(nbins) != 1:
            raise fail(self.source, where, f"samples with different bin counts {sorted(nbins)}")
        return {"name": name, "samples": out}

    def _sample(self, channel: str, where: str, sample: Any, stat_default: Any) -> dict[str, Any]:
        if not isinstance(sample, Mapping) or not isinstance(sample.get("data"), Mapping):
            raise fail(self.source, where, "expected a sample with 'data'")
        contents = sample["data"].get("contents")
        if not isinstance(contents, list):
            raise fail(self.source, f"{where}/data", "expected 'contents'")
        nominal = [as_number(v, self.source, f"{where}/data/contents") for v in contents]
        errors = sample["data"].get("errors")
        name = sample.get("name")
        if not isinstance(name, str):
            raise fail(self.source, where, "a sample without a 'name'")
        mods = []
        for j, mod in enumerate(sample.get("modifiers", []) or []):
            mwhere = f"{where}/modifiers/{j}"
            if not isinstance(mod, Mapping) or mod.get("type") not in _KNOWN_TYPES:
                kind = mod.get("type") if isinstance(mod, Mapping) else None
                raise fail(
                    self.source,
                    mwhere,
                    f"modifier type {kind!r} has no HistFactory JSON equivalent "
                    f"(known: {', '.join(_KNOWN_TYPES)})",
                )
            mods.append(self._modifier(channel, mwhere, mod, nominal, errors, stat_default))
        return {"name": name, "data": nominal, "modifiers": mods}

    # --- modifiers ----------------------------------------------------------------------------
    def _params(self, mod: Mapping[str, Any], where: str, nbins: int | None) -> list[str]:
        if nbins is None:
            param = mod.get("parameter", mod.get("name"))
            if not isinstance(param, str):
                raise fail(self.source, where, "expected a 'parameter' name")
            return [param]
        params = mod.get("parameters")
        if params is None and isinstance(mod.get("parameter"), str):
            params = [f"{mod['parameter']}_bin_{i}" for i in range(nbins)]
        if params is None and isinstance(mod.get("name"), str):
            params = [f"gamma_{mod['name']}_bin_{i}" for i in range(nbins)]
        if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
            raise fail(self.source, where, "expected a list 'parameters'")
        if len(params) != nbins:
            raise fail(self.source, where, f"{len(params)} parameters for {nbins} bins")
        return params

    def _register(self, name: str, kind: str, params: list[str], where: str) -> None:
        known = self.mods.get(name)
        if known is None:
            self.mods[name] = (kind, params)
        elif known[1] != params:
            raise fail(
                self.source,
                where,
                f"{kind} {name!r} has the parameters {params[:2]}..., elsewhere "
                f"{known[1][:2]}...; the JSON spec ties a modifier to one parameter set",
            )
        for param in params:
            other = self.pyhf_name.setdefault(param, name)
            if other != name:
                raise fail(
                    self.source,
                    where,
                    f"parameter {param!r} belongs to modifier {other!r} and to {name!r}; "
                    "the JSON spec shares a parameter only between modifiers of one name",
                )

    def _modifier(
        self,
        channel: str,
        where: str,
        mod: Mapping[str, Any],
        nominal: list[float],
        errors: Any,
        stat_default: Any,
    ) -> dict[str, Any]:
        kind = mod["type"]
        nbins = len(nominal)
        constraint = mod.get("constraint_type", mod.get("constraint"))
        if kind == "normfactor":
            (param,) = self._params(mod, where, None)
            cname = mod.get("constraint_name")
            if cname is None and constraint in (None, "Const"):
                self._register(param, kind, [param], where)
                return {"name": param, "type": "normfactor", "data": None}
            name = "lumi" if param == "Lumi" else param
            self._constraint(name, param, cname, constraint, where)
            self._register(name, "lumi", [param], where)
            return {"name": name, "type": "lumi", "data": None}
        if kind in ("normsys", "histosys"):
            (param,) = self._params(mod, where, None)
            name = param.removeprefix(ALPHA) if param.startswith(ALPHA) else param
            self._constraint(name, param, mod.get("constraint_name"), constraint, where)
            self._register(name, kind, [param], where)
            self._code(kind, mod.get("interpolation"), where)
            data = mod.get("data")
            if not isinstance(data, Mapping):
                raise fail(self.source, where, f"a {kind} without 'data'")
            if kind == "normsys":
                hi = as_number(data.get("hi"), self.source, f"{where}/data/hi")
                lo = as_number(data.get("lo"), self.source, f"{where}/data/lo")
                return {"name": name, "type": kind, "data": {"hi": hi, "lo": lo}}
            shifted = {}
            for key in ("hi", "lo"):
                values = (
                    data.get(key, {}).get("contents")
                    if isinstance(data.get(key), Mapping)
                    else None
                )
                if not isinstance(values, list) or len(values) != nbins:
                    raise fail(self.source, f"{where}/data/{key}", f"expected {nbins} 'contents'")
                shifted[f"{key}_data"] = [
                    as_number(v, self.source, f"{where}/data/{key}") for v in values
                ]
            return {"name": name, "type": kind, "data": shifted}
        params = self._params(mod, where, nbins)
        if kind == "staterror":
            return self._staterror(
                channel, where, mod, params, nominal, errors, constraint, stat_default
            )
        given = mod.get("name", mod.get("parameter"))
        match = _GAMMA.fullmatch(params[0])
        name = given if isinstance(given, str) else match.group(1) if match else params[0]
        if kind == "shapefactor":
            self._register(name, kind, params, where)
            return {"name": name, "type": kind, "data": None}
        # shapesys: relative uncertainties 'vals'; all 0 (or Const) is ROOT's shapefactor
        data = mod.get("data") or {}
        if not isinstance(data, Mapping):
            raise fail(self.source, f"{where}/data", "expected an object with 'vals'")
        vals = data.get("vals", [0.0] * nbins)
        if not isinstance(vals, list) or len(vals) != nbins:
            raise fail(self.source, f"{where}/data/vals", f"expected {nbins} values")
        rel = [as_number(v, self.source, f"{where}/data/vals") for v in vals]
        if constraint == "Const" or (constraint in (None, "Gauss") and not any(rel)):
            self._register(name, "shapefactor", params, where)
            return {"name": name, "type": "shapefactor", "data": None}
        sigma = [r * n for r, n in zip(rel, nominal, strict=True)]
        if constraint in (None, "Poisson"):
            self._register(name, kind, params, where)
            return {"name": name, "type": "shapesys", "data": sigma}
        if constraint == "Gauss":  # a Gaussian per bin: a staterror of this sample alone
            self._register(name, "staterror", params, where)
            return {"name": name, "type": "staterror", "data": sigma}
        raise fail(
            self.source, where, f"shapesys constraint {constraint!r} (JSON spec: Poisson or Gauss)"
        )

    def _staterror(
        self,
        channel: str,
        where: str,
        mod: Mapping[str, Any],
        params: list[str],
        nominal: list[float],
        errors: Any,
        constraint: Any,
        stat_default: Any,
    ) -> dict[str, Any]:
        name = mod.get("name")
        if not isinstance(name, str) or name == "staterror":
            match = _STAT.fullmatch(params[0])
            name = f"staterror_{match.group(1) if match else channel}"
        if errors is None:
            note(self.source, where, "a staterror on a sample without 'errors': taken as 0")
            sigma = [0.0] * len(nominal)
        elif not isinstance(errors, list) or len(errors) != len(nominal):
            raise fail(self.source, where, f"sample 'errors' must have {len(nominal)} values")
        else:
            sigma = [as_number(v, self.source, f"{where}/../../data/errors") for v in errors]
        kind = constraint if constraint is not None else stat_default
        if kind not in ("Gauss", "Poisson", None):
            raise fail(self.source, where, f"staterror constraint {kind!r} (known: Gauss, Poisson)")
        if kind != "Gauss":
            self.poisson_stat.setdefault(name, (where, kind or "default (Poisson)"))
        self._register(name, "staterror", params, where)
        return {"name": name, "type": "staterror", "data": sigma}

    def _poisson_staterrors(self, channels: list[dict[str, Any]]) -> None:
        """A Poisson staterror on one sample is a shapesys (τ = ν²/σ², the same constraint);
        on several samples the JSON spec has no equivalent: the Gaussian one, with a warning."""
        for name, (where, kind) in self.poisson_stat.items():
            carriers = [
                mod
                for channel in channels
                for sample in channel["samples"]
                for mod in sample["modifiers"]
                if mod["name"] == name
            ]
            if len(carriers) == 1:
                carriers[0]["type"] = "shapesys"
                continue
            note(
                self.source,
                where,
                f"staterror {name!r} has a {kind} constraint and is on {len(carriers)} samples; "
                "the JSON spec's staterror is Gaussian and is used (same width)",
            )

    def _constraint(self, name: str, param: str, cname: Any, constraint: Any, where: str) -> None:
        """Record the Gaussian constraint of a scalar parameter (global observable, sigma)."""
        if cname is None:
            if constraint not in (None, "Gauss"):
                raise fail(
                    self.source,
                    where,
                    f"constraint {constraint!r} of {param!r}: the JSON spec has Gaussian "
                    "constraints here",
                )
            self.gauss.setdefault(name, (f"?nom_{param}", 1.0))  # 0 unless a point says
            return
        if cname not in self.dists:
            raise fail(self.source, where, f"no constraint distribution {cname!r}")
        cwhere, dist = self.dists[cname]
        self.used_constraints.add(cname)
        if dist.get("type") != "gaussian_dist" or dist.get("x") != param:
            raise fail(
                self.source,
                cwhere,
                f"constraint {cname!r} of {param!r}: the JSON spec has only a gaussian_dist "
                f"of the parameter itself here, not {dist.get('type')!r}",
            )
        mean = dist.get("mean")
        sigma = dist.get("sigma", 1.0)
        if isinstance(sigma, str):
            sigma = self._value(sigma, None, cwhere)
        sigma = as_number(sigma, self.source, f"{cwhere}/sigma")
        if not isinstance(mean, str):
            mean_value = as_number(mean, self.source, f"{cwhere}/mean")
            mean = f"={mean_value!r}"
        self.gauss.setdefault(name, (mean, sigma))

    def _aux_distribution(self, dname: Any, where: str) -> None:
        if not isinstance(dname, str) or dname not in self.dists:
            raise fail(self.source, where, f"no distribution {dname!r}")
        if dname not in self.used_constraints:
            raise fail(
                self.source,
                where,
                f"constraint {dname!r} is not the constraint of a modifier; the JSON spec has "
                "constraints only as part of modifiers",
            )

    def _code(self, kind: str, code: Any, where: str) -> None:
        if code is None:
            code = ROOT_DEFAULT_CODES[kind]
        if isinstance(code, str):
            if code not in NAMED_CODES:
                raise fail(self.source, where, f"unknown interpolation {code!r}")
            code = NAMED_CODES[code]
        if not isinstance(code, int) or code not in HFX_CODES[kind]:
            raise fail(
                self.source,
                where,
                f"{kind} interpolation code {code!r} has no hfx equivalent "
                f"(ROOT codes {sorted(HFX_CODES[kind])})",
            )
        self.codes[kind].add(code)

    def _check_codes(self) -> None:
        from hfx.compile.settings import DEFAULT_MODIFIER_SETTINGS

        for kind, codes in self.codes.items():
            wanted = {HFX_CODES[kind][c] for c in codes}
            default = DEFAULT_MODIFIER_SETTINGS[kind]["interpcode"]
            if wanted - {default}:
                note(
                    self.source,
                    "/distributions",
                    f"{kind} interpolation {', '.join(sorted(wanted))} (hfx's default: {default}) "
                    "is a model setting, not part of the JSON spec; build the model with "
                    f"modifier_settings={{'{kind}': {{'interpcode': '{sorted(wanted)[0]}'}}}}",
                )

    # --- measurements -------------------------------------------------------------------------
