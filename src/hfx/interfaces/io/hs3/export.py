"""HistFactory JSON workspace -> HS3 document (``hfx hs3 export``)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from hfx.errors import HfxWarning, SpecError
from hfx.interfaces.io.hs3.common import (
    DATA_PREFIX,
    LIKELIHOOD,
    MODEL_PREFIX,
    ROOT_CODES,
    gamma_names,
    scalar_parameter,
)

__all__ = ["workspace_to_hs3"]

_VECTOR = ("staterror", "shapesys", "shapefactor")


def workspace_to_hs3(
    spec: Mapping[str, Any] | Any,
    *,
    measurement: str | None = None,
    modifier_settings: Mapping[str, Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    """Convert a workspace (dict or :class:`~hfx.Workspace`) to an HS3 document.

    Every measurement (or only ``measurement``) becomes an analysis with its own domain
    (bounds) and parameter point (inits, fixed parameters, auxiliary data).  Interpolation
    codes are hfx's defaults unless ``modifier_settings`` chooses others.  The document
    follows ROOT's dialect, so ``RooJSONFactoryWSTool::importJSON`` (checked: ROOT 6.40)
    loads it with the same likelihood; a staterror is written so that ROOT keeps it Gaussian.
    Raises :class:`~hfx.errors.SpecError` for what HS3 cannot express.
    """
    from hfx.spec.workspace import Workspace

    workspace = spec if isinstance(spec, Workspace) else Workspace(spec)
    return _Exporter(workspace, measurement, modifier_settings).document()


def _package() -> dict[str, str]:
    """hfx's entry in the HS3 metadata (the installed distribution's version)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return {"name": "hfx", "version": version("hfx")}
    except PackageNotFoundError:  # pragma: no cover - a source tree that is not installed
        return {"name": "hfx"}


class _Exporter:
    def __init__(
        self,
        workspace: Any,
        measurement: str | None,
        modifier_settings: Mapping[str, Mapping[str, str]] | None,
    ):
        from hfx.compile.settings import resolve_modifier_settings

        self.ws = workspace
        self.spec: dict[str, Any] = workspace.spec
        self.source = workspace.source
        names = [measurement] if measurement is not None else list(workspace.measurement_names)
        self.measurements = [workspace.get_measurement(name) for name in names]
        self.settings = modifier_settings
        codes = resolve_modifier_settings(modifier_settings)
        self.codes: dict[str, int] = {}
        for kind, code in codes.items():
            root = ROOT_CODES[kind].get(code)
            if root is None:
                raise SpecError(f"{kind} interpolation {code} has no ROOT/HS3 equivalent")
            self.codes[kind] = root
        self.kinds: dict[str, str] = {}  # modifier name -> type (the first seen)
        self.params: dict[str, list[str]] = {}  # modifier name -> HS3 parameter names
        self.owner: dict[str, str] = {}  # HS3 parameter -> modifier name
        self.constraints: dict[str, dict[str, Any]] = {}  # modifier name -> gaussian_dist

    # --- the document ---------------------------------------------------------------------
    def document(self) -> dict[str, Any]:
        distributions = [self._channel(ch) for ch in self.spec["channels"]]
        observed = {obs["name"]: obs["data"] for obs in self.spec["observations"]}
        data = []
        for channel in self.spec["channels"]:
            name = channel["name"]
            data.append(
                {
                    "name": DATA_PREFIX + name,
                    "type": "binned",
                    "axes": [self._axis(channel)],
                    "contents": list(observed[name]),
                }
            )
        models = [
            self.ws.model(m["name"], modifier_settings=self.settings, poi_name=None)
            for m in self.measurements
        ]
        lumi_sigma = self._lumi_sigmas(models)
        for name, dist in self.constraints.items():
            if self.kinds[name] == "lumi":
                dist["sigma"] = lumi_sigma[name]
        distributions.extend(self.constraints[name] for name in sorted(self.constraints))
        analyses, domains, points = [], [], []
        for meas, model in zip(self.measurements, models, strict=True):
            domain, point = self._configuration(meas["name"], model)
            domains.append(domain)
            points.append(point)
            analysis: dict[str, Any] = {
                "name": meas["name"],
                "likelihood": LIKELIHOOD,
                "domains": [domain["name"]],
                "init": point["name"],
            }
            poi = meas["config"].get("poi")
            if poi in self.params:
                analysis["parameters_of_interest"] = self.params[poi]
            else:
                warnings.warn(
                    f"measurement {meas['name']!r}: its POI {poi!r} is not a parameter of the "
                    "model (a background-only workspace without its signal patch?); the HS3 "
                    "analysis has no parameter of interest",
                    HfxWarning,
                    stacklevel=3,
                )
            analyses.append(analysis)
        # ROOT reads its ranges and start values from these two names.
        domains.append({**domains[0], "name": "default_domain"})
        points.append({**points[0], "name": "default_values"})
        channels = [ch["name"] for ch in self.spec["channels"]]
        combined = {
            "index_cat": "channelCat",
            "indices": list(range(len(channels))),
            "labels": channels,
        }
        return {
            "metadata": {
                "hs3_version": "0.2",
                "packages": [_package()],
            },
            "distributions": distributions,
            "data": data,
            "likelihoods": [
                {
                    "name": LIKELIHOOD,
                    "distributions": [MODEL_PREFIX + ch for ch in channels],
                    "data": [DATA_PREFIX + ch for ch in channels],
                }
            ],
            "domains": domains,
            "parameter_points": points,
            "analyses": analyses,
            "misc": {
                "ROOT_internal": {
                    "combined_distributions": {
                        "simPdf": {
                            **combined,
                            "distributions": [MODEL_PREFIX + c for c in channels],
                        }
                    },
                    "combined_datasets": {"obsData": dict(combined)},
                }
            },
        }

    # --- channels and modifiers -------------------------------------------------------------
    @staticmethod
    def _axis(channel: Mapping[str, Any]) -> dict[str, Any]:
        nbins = len(channel["samples"][0]["data"])
        return {"name": f"obs_x_{channel['name']}", "min": 0.0, "max": float(nbins), "nbins": nbins}

    def _channel(self, channel: Mapping[str, Any]) -> dict[str, Any]:
        name = channel["name"]
        samples = [self._sample(name, sample) for sample in channel["samples"]]
        stat = {
            mod["name"]
            for sample in channel["samples"]
            for mod in sample["modifiers"]
            if mod["type"] == "staterror"
        }
        dist: dict[str, Any] = {
            "name": MODEL_PREFIX + name,
            "type": "histfactory_dist",
            "axes": [self._axis(channel)],
            "samples": samples,
        }
        if stat:
            if len(stat) > 1:
                warnings.warn(
                    f"channel {name!r} has the staterrors {sorted(stat)}: hfx reads them back, "
                    "but ROOT builds one staterror per channel from all of them",
                    HfxWarning,
                    stacklevel=4,
                )
            # ROOT 6.40 reads the constraint of a channel's staterror from here, and
            # makes it Poisson when this is absent, whatever the modifiers say.
            dist["staterror"] = {"constraint_type": "Gauss", "relThreshold": 0.0}
        return dist

    def _sample(self, channel: str, sample: Mapping[str, Any]) -> dict[str, Any]:
        nominal = [float(v) for v in sample["data"]]
        data: dict[str, Any] = {"contents": nominal}
        modifiers = []
        where = f"channel {channel!r}, sample {sample['name']!r}"
        for mod in sample["modifiers"]:
            kind, name = mod["type"], mod["name"]
            params = self._declare(kind, name, channel, len(nominal), where)
            out: dict[str, Any] = {"name": name, "type": kind}
            if kind in _VECTOR:
                out["parameters"] = params
            else:
                out["parameter"] = params[0]
            if kind == "lumi":
                out["type"] = "normfactor"
                out["constraint_name"] = self._gaussian(name, params[0], None)
            elif kind in ("normsys", "histosys"):
                out["constraint_name"] = self._gaussian(name, params[0], 1.0)
                out["interpolation"] = self.codes[kind]
                if kind == "normsys":
                    out["data"] = {"hi": float(mod["data"]["hi"]), "lo": float(mod["data"]["lo"])}
                else:
                    out["data"] = {
                        "hi": {"contents": [float(v) for v in mod["data"]["hi_data"]]},
                        "lo": {"contents": [float(v) for v in mod["data"]["lo_data"]]},
                    }
            elif kind == "staterror":
                if "errors" in data:
                    raise SpecError(
                        f"{where}: more than one staterror; HS3 has one set of errors per sample",
                        source=self.source,
                    )
                data["errors"] = [float(v) for v in mod["data"]]
                out["constraint_type"] = "Gauss"
            elif kind == "shapesys":
                vals = [
                    float(s) / n if n > 0 and s > 0 else 0.0
                    for s, n in zip(mod["data"], nominal, strict=True)
                ]
                out["constraint_type"] = "Poisson"
                out["data"] = {"vals": vals}
            modifiers.append(out)
        return {"name": sample["name"], "data": data, "modifiers": modifiers}

    def _declare(self, kind: str, name: str, channel: str, nbins: int, where: str) -> list[str]:
        known = self.params.get(name)
        if known is not None:
            return known
        self.kinds[name] = kind
        if kind in _VECTOR:
            params = gamma_names(kind, name, channel, nbins)
        else:
            params = [scalar_parameter(kind, name)]
        for param in params:
            other = self.owner.get(param)
            if other is not None:
                raise SpecError(
                    f"{where}: the HS3 parameter {param!r} of {kind} {name!r} is also that of "
                    f"{self.kinds[other]} {other!r}; rename one of them (hfx rename -m)",
                    source=self.source,
                )
            self.owner[param] = name
        self.params[name] = params
        return params

    def _gaussian(self, name: str, param: str, sigma: float | None) -> str:
        dist_name = f"{param}Constraint"
        self.constraints.setdefault(
            name,
            {
                "name": dist_name,
                "type": "gaussian_dist",
                "x": param,
                "mean": f"nom_{param}",
                "sigma": sigma,
            },
        )
        return dist_name

    # --- measurements -----------------------------------------------------------------------
    def _lumi_sigmas(self, models: list[Any]) -> dict[str, float]:
        sigmas: dict[str, float] = {}
        for meas, model in zip(self.measurements, models, strict=True):
            for name, kind in self.kinds.items():
                if kind != "lumi":
                    continue
                sigma = float(model.config.param_set(name).sigmas[0])
                if sigmas.setdefault(name, sigma) != sigma:
                    raise SpecError(
                        f"measurement {meas['name']!r} gives lumi {name!r} the uncertainty "
                        f"{sigma}, another one {sigmas[name]}; an HS3 constraint has one width: "
                        "export one measurement at a time",
                        source=self.source,
                    )
        return sigmas

    def _configuration(self, meas: str, model: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """The domain (bounds) and parameter point (inits, fixed, global observables)."""
        axes: list[dict[str, Any]] = []
        values: list[dict[str, Any]] = []
        globs: list[dict[str, Any]] = []
        for name in model.config.par_order:
            pset = model.config.param_set(name)
            params = self.params[name]
            for i, param in enumerate(params):
                lo, hi = pset.bounds[i]
                axes.append({"name": param, "min": float(lo), "max": float(hi)})
                value: dict[str, Any] = {"name": param, "value": float(pset.inits[i])}
                if pset.fixed[i]:
                    value["const"] = True
                values.append(value)
            if name in self.constraints:
                dist = self.constraints[name]
                aux = float(pset.auxdata[0])
                sigma = float(pset.sigmas[0])
                if dist["sigma"] != sigma:
                    raise SpecError(
                        f"measurement {meas!r} gives {pset.kind} {name!r} the constraint width "
                        f"{sigma}, not {dist['sigma']}; HS3 has one width per constraint",
                        source=self.source,
                    )
                globs.append({"name": dist["mean"], "value": aux, "const": True})
        domain = {"name": f"{meas}_parameters", "type": "product_domain", "axes": axes}
        return domain, {"name": f"{meas}_init", "parameters": values + globs}
