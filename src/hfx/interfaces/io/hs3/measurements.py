"""The measurements of an imported HS3 likelihood: its analyses, domains and parameter points.

Each analysis of the chosen likelihood becomes a measurement: its parameters of interest,
bounds from its domains (and ROOT's ``default_domain``), inits and constant parameters from
its parameter point (and ROOT's ``default_values``), auxiliary data from the global
observables.  Only what differs from hfx's defaults is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hfx.interfaces.io.hs3.common import as_number, fail, note

__all__ = ["MeasurementReader", "drop_defaults", "items"]


def items(doc: Mapping[str, Any], key: str, source: str | None) -> dict[str, tuple[str, Any]]:
    """Top-level list ``key`` by name: name -> (JSON pointer, element)."""
    value = doc.get(key, [])
    if not isinstance(value, list):
        raise fail(source, f"/{key}", "expected a list")
    out: dict[str, tuple[str, Any]] = {}
    for i, item in enumerate(value):
        where = f"/{key}/{i}"
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise fail(source, where, "expected an object with a 'name'")
        out.setdefault(item["name"], (where, item))
    return out


def drop_defaults(spec: dict[str, Any], source: str | None) -> None:
    """Keep only the parameter settings that differ from what hfx gives by default."""
    from hfx.spec.workspace import Workspace

    bare = {**spec, "measurements": []}
    for meas in spec["measurements"]:
        needed = [
            {key: cfg[key] for key in ("name", "auxdata", "sigmas") if key in cfg}
            for cfg in meas["config"]["parameters"]
            if "sigmas" in cfg
        ]
        bare["measurements"].append(
            {"name": meas["name"], "config": {"poi": meas["config"]["poi"], "parameters": needed}}
        )
    workspace = Workspace(bare, source=f"{source or '<HS3>'} (as JSON)")
    for meas in spec["measurements"]:
        config = workspace.model(meas["name"], poi_name=None).config
        kept = []
        for cfg in meas["config"]["parameters"]:
            pset = config.param_set(cfg["name"])
            out: dict[str, Any] = {"name": cfg["name"]}
            if "bounds" in cfg and [tuple(b) for b in cfg["bounds"]] != list(pset.bounds):
                out["bounds"] = cfg["bounds"]
            if "inits" in cfg and cfg["inits"] != list(pset.inits):
                out["inits"] = cfg["inits"]
            const = cfg["_const"]
            if all(const) and not all(pset.fixed):
                out["fixed"] = True
            elif any(const) and not all(const) and const != list(pset.fixed):
                note(
                    source,
                    f"/analyses ({meas['name']})",
                    f"parameter {cfg['name']!r} is constant in some bins only; the JSON spec "
                    "fixes a whole parameter or none (hfx fixes only bins without content)",
                )
            for key in ("auxdata", "sigmas"):
                if key in cfg and (pset.kind == "lumi" or cfg[key] != list(getattr(pset, key))):
                    out[key] = cfg[key]
            if len(out) > 1:
                kept.append(out)
        meas["config"]["parameters"] = kept


class MeasurementReader:
    """The measurement half of the HS3 reader (state filled in by the modifiers' half)."""

    doc: Mapping[str, Any]
    source: str | None
    points: dict[str, tuple[str, Any]]
    domains: dict[str, tuple[str, Any]]
    mods: dict[str, tuple[str, list[str]]]  # pyhf modifier name -> (type, HS3 parameters)
    pyhf_name: dict[str, str]  # HS3 parameter -> pyhf name
    gauss: dict[str, tuple[str, float]]  # pyhf name -> (global observable, sigma)

    def _value(
        self,
        param: str,
        point: Mapping[str, Any] | None,
        where: str,
        default: float | None = None,
    ) -> float:
        for candidate in (point, self.points.get("default_values", ("", None))[1]):
            if isinstance(candidate, Mapping):
                for entry in candidate.get("parameters", []):
                    if isinstance(entry, Mapping) and entry.get("name") == param:
                        return as_number(entry.get("value"), self.source, where)
        if default is not None:
            return default
        raise fail(self.source, where, f"no value for {param!r} in the parameter points")

    def _measurements(self, lh_name: str, poi: str | None) -> list[dict[str, Any]]:
        analyses = [
            (where, a)
            for where, a in items(self.doc, "analyses", self.source).values()
            if a.get("likelihood") == lh_name
        ]
        if not analyses:
            analyses = [("/analyses", {"name": "measurement"})]
        out = []
        for where, analysis in analyses:
            pois = analysis.get("parameters_of_interest") or ([poi] if poi else [])
            if poi is not None:
                pois = [poi]
            if not pois:
                raise fail(
                    self.source,
                    where,
                    "no parameter of interest: the JSON spec needs one (--poi)",
                )
            if len(pois) > 1:
                note(
                    self.source, where, f"several parameters of interest {pois}; using {pois[0]!r}"
                )
            name = self.pyhf_name.get(pois[0], pois[0])
            out.append(self._measurement(analysis, where, name))
        return out

    def _measurement(self, analysis: Mapping[str, Any], where: str, poi: str) -> dict[str, Any]:
        point_name = analysis.get("init", "default_values")
        point = self.points.get(point_name, ("", None))[1]
        values: dict[str, Mapping[str, Any]] = {}
        for candidate in (self.points.get("default_values", ("", None))[1], point):
            if isinstance(candidate, Mapping):
                for entry in candidate.get("parameters", []):
                    if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
                        values[entry["name"]] = entry
        bounds: dict[str, tuple[float, float]] = {}
        for dname in ["default_domain", *(analysis.get("domains") or [])]:
            dwhere, domain = self.domains.get(dname, ("", None))
            if isinstance(domain, Mapping):
                for axis in domain.get("axes", []):
                    if isinstance(axis, Mapping) and axis.get("name") in self.pyhf_name:
                        bounds[axis["name"]] = (
                            as_number(axis.get("min"), self.source, f"{dwhere}/axes"),
                            as_number(axis.get("max"), self.source, f"{dwhere}/axes"),
                        )
        params: list[dict[str, Any]] = []
        for name, (_kind, hs3) in sorted(self.mods.items()):
            cfg: dict[str, Any] = {"name": name}
            if all(p in bounds for p in hs3):
                cfg["bounds"] = [list(bounds[p]) for p in hs3]
            if all(p in values and "value" in values[p] for p in hs3):
                cfg["inits"] = [as_number(values[p]["value"], self.source, where) for p in hs3]
            const = [bool(values.get(p, {}).get("const", False)) for p in hs3]
            cfg["_const"] = const
            if name in self.gauss:
                glob, sigma = self.gauss[name]
                if glob.startswith("="):
                    aux = float(glob[1:])
                elif glob.startswith("?"):  # implicit constraint: the convention's nominal 0
                    aux = self._value(glob[1:], point, where, default=0.0)
                else:
                    aux = self._value(glob, point, where)
                cfg["auxdata"], cfg["sigmas"] = [aux], [sigma]
            params.append(cfg)
        config = {"poi": poi, "parameters": params}
        return {"name": str(analysis.get("name", "measurement")), "config": config}
