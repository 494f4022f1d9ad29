"""JSON measurements -> HistFactory ``<Measurement>`` elements and NormFactor attributes.

Per-measurement settings HistFactory can express are written as ``ParamSetting``
(``Const`` for fixed, ``Val`` for inits), with ROOT's parameter names: ``Lumi``,
``alpha_<name>`` for normsys/histosys, ``gamma_<prefix>_bin_<i>`` for per-bin parameters.
A setting that changes the likelihood and has no XML form is an error; one that only
changes the fit's starting point or range is dropped with a warning.
"""

from __future__ import annotations

import math
import warnings
import xml.etree.ElementTree as ET
from types import MappingProxyType
from typing import Any

from hfx.errors import HfxWarning, SpecError

__all__ = [
    "NORMFACTOR_DEFAULT_BOUNDS",
    "NORMFACTOR_DEFAULT_INIT",
    "MeasurementWriter",
    "fmt",
    "normfactor_attributes",
]

NORMFACTOR_DEFAULT_INIT = 1.0
NORMFACTOR_DEFAULT_BOUNDS = (0.0, 10.0)
_DEFAULT_BOUNDS = MappingProxyType(
    {
        "normsys": (-5.0, 5.0),
        "histosys": (-5.0, 5.0),
        "shapesys": (1e-10, 10.0),
        "staterror": (1e-10, 10.0),
        "shapefactor": (0.0, 10.0),
    }
)


def fmt(value: float) -> str:
    """A float as the shortest text that reads back to the same float."""
    return repr(float(value))


def normfactor_attributes(spec: dict[str, Any], name: str) -> dict[str, str]:
    """Val/Low/High of NormFactor ``name``: one value for all measurements, or an error."""
    seen: tuple[str, list[float]] | None = None
    for meas in spec["measurements"]:
        config = _config(meas, name)
        bounds = list(config.get("bounds", [NORMFACTOR_DEFAULT_BOUNDS])[0])
        if seen is None:
            seen = (meas["name"], bounds)
        elif bounds != seen[1]:
            raise SpecError(
                f"normfactor {name!r} has bounds {seen[1]} in measurement {seen[0]!r} and "
                f"{bounds} in {meas['name']!r}; HistFactory XML has one range per NormFactor"
            )
    low, high = seen[1] if seen else NORMFACTOR_DEFAULT_BOUNDS
    first = _config(spec["measurements"][0], name) if spec["measurements"] else {}
    val = first.get("inits", [NORMFACTOR_DEFAULT_INIT])[0]
    if not low <= val <= high:  # ROOT refuses an initial value outside the range
        val = min(max(NORMFACTOR_DEFAULT_INIT, low), high)
    return {"Val": fmt(val), "Low": fmt(low), "High": fmt(high)}


def _config(meas: dict[str, Any], name: str) -> dict[str, Any]:
    for config in meas["config"].get("parameters", []):
        if config["name"] == name:
            found: dict[str, Any] = config
            return found
    return {}


class MeasurementWriter:
    """Builds ``<Measurement>`` elements for a workspace whose modifiers are known."""

    def __init__(
        self,
        kinds: dict[str, str],
        nbins: dict[str, int],
        gamma_prefix: dict[str, str],
        lumi_used: bool,
    ):
        self.kinds = kinds  # parameter -> modifier type (first type, as in the model)
        self.nbins = nbins  # per-bin parameter -> number of bins
        self.gamma_prefix = gamma_prefix  # per-bin parameter -> ROOT gamma_<prefix>_bin_i
        self.lumi_used = lumi_used

    def element(self, meas: dict[str, Any], normfactor_vals: dict[str, str]) -> ET.Element:
        """The ``<Measurement>`` for one JSON measurement."""
        name = meas["name"]
        configs = {c["name"]: c for c in meas["config"].get("parameters", [])}
        lumi, rel_err = 1.0, 0.1
        const: list[str] = []
        values: dict[float, list[str]] = {}
        for pname, config in configs.items():
            where = f"measurement {name!r}, parameter {pname!r}"
            if pname == "lumi" and self.kinds.get(pname) == "lumi":
                lumi, rel_err = self._lumi(config, where, const, values)
                continue
            kind = self.kinds.get(pname)
            if kind is None:
                _dropped(
                    where, "the settings of a parameter no modifier declares", "they have no effect"
                )
                continue
            self._check_unrepresentable(config, kind, where)
            if kind == "normfactor":
                continue  # below, with the normfactors the measurement does not configure
            roots = self._root_names(pname, kind)
            if config.get("fixed"):
                const.extend(roots)
            for root, init in zip(roots, config.get("inits", ()), strict=False):
                values.setdefault(init, []).append(root)
        for pname, val in normfactor_vals.items():
            config = configs.get(pname, {})
            if config.get("fixed"):
                const.append(pname)
            init = config.get("inits", [NORMFACTOR_DEFAULT_INIT])[0]
            if fmt(init) != val:
                values.setdefault(init, []).append(pname)
        element = ET.Element(
            "Measurement",
            Name=name,
            Lumi=fmt(lumi),
            LumiRelErr=fmt(rel_err),
            ExportOnly="True",
        )
        ET.SubElement(element, "POI").text = meas["config"]["poi"]
        if const:
            ET.SubElement(element, "ParamSetting", Const="True").text = " ".join(const)
        for value, roots in values.items():
            ET.SubElement(element, "ParamSetting", Val=fmt(value)).text = " ".join(roots)
        return element

    def _root_names(self, pname: str, kind: str) -> list[str]:
        if kind in ("normsys", "histosys"):
            return [f"alpha_{pname}"]
        if pname in self.nbins:
            prefix = self.gamma_prefix[pname]
            return [f"gamma_{prefix}_bin_{i}" for i in range(self.nbins[pname])]
        return [pname]

    def _lumi(
        self,
        config: dict[str, Any],
        where: str,
        const: list[str],
        values: dict[float, list[str]],
    ) -> tuple[float, float]:
        try:
            lumi = float(config["auxdata"][0])
            sigma = float(config["sigmas"][0])
        except (KeyError, IndexError):
            raise SpecError(f"{where}: the lumi configuration needs auxdata and sigmas") from None
        if lumi == 0:
            raise SpecError(f"{where}: Lumi=0 cannot carry a relative uncertainty")
        if config.get("fixed"):
            const.append("Lumi")
        inits = config.get("inits", [lumi])
        if inits[0] != lumi:
            values.setdefault(inits[0], []).append("Lumi")
        bounds = config.get("bounds")
        rel_err = sigma / lumi
        expected = [lumi - 5.0 * lumi * rel_err, lumi + 5.0 * lumi * rel_err]
        if bounds is not None and not all(
            math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)
            for a, b in zip(bounds[0], expected, strict=True)
        ):
            _dropped(where, f"bounds {bounds[0]} (read back as Lumi ± 5 sigma {expected})")
        return lumi, rel_err

    def _check_unrepresentable(self, config: dict[str, Any], kind: str, where: str) -> None:
        default_bounds = _DEFAULT_BOUNDS.get(kind)
        if "bounds" in config and kind != "normfactor":
            bounds = config["bounds"]
            if any(tuple(b) != default_bounds for b in bounds):
                _dropped(where, f"bounds {bounds}")
        for key, default in (("auxdata", 0.0), ("sigmas", 1.0)):
            if key not in config:
                continue
            if kind not in ("normsys", "histosys") or list(config[key]) != [default]:
                raise SpecError(
                    f"{where}: a {key} setting on a {kind} parameter changes the likelihood "
                    "and has no HistFactory XML form"
                )


def _dropped(where: str, what: str, why: str = "affect only the fit range") -> None:
    warnings.warn(
        f"{where}: {what} cannot be written to HistFactory XML and are dropped ({why})",
        HfxWarning,
        stacklevel=4,
    )
