"""HistFactory XML + ROOT histograms -> HistFactory JSON workspace (``hfx xml2json``).

The semantics are ROOT's (``hist2workspace``), see :mod:`hfx.interfaces.io.xml_channel`
for the channel defaults.  Anything the JSON spec cannot express is either an error or,
where the rest of the file is still meaningful, an :class:`~hfx.errors.HfxWarning`; nothing
is dropped silently.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hfx.errors import SpecError
from hfx.interfaces.io.root_hist import RootReader
from hfx.interfaces.io.safe_xml import XmlNode, parse_xml_file
from hfx.interfaces.io.xml_channel import ChannelData, read_channel
from hfx.interfaces.io.xml_common import (
    SPEC_VERSION,
    check_attributes,
    fail,
    get_float,
    get_name,
    warn,
)

__all__ = ["PathLike", "read_xml"]

PathLike = str | os.PathLike[str]

# ROOT's ConstraintTerm types; with RelativeUncertainty 0 ROOT leaves the term Gaussian.
_CONSTRAINT_TYPES = ("Gamma", "Uniform", "LogNormal", "NoConstraint", "Gaussian")
_GAMMA_BIN = re.compile(r"gamma_(.+)_bin_(\d+)")


def read_xml(config_path: PathLike, basedir: PathLike | None = None) -> dict[str, Any]:
    """Read a HistFactory top-level XML file (``<Combination>``) into a JSON workspace dict.

    Paths in the files (``<Input>``, ``InputFile``) are relative to ``basedir``, as for
    ROOT's ``hist2workspace`` run from that folder.  Without ``basedir`` the first of the
    config's folder, its parent folders and the current folder in which the first
    ``<Input>`` exists is used.  The result is validated; errors name the file and element.
    """
    from hfx.spec.workspace import Workspace

    config = Path(config_path)
    source = str(config_path)
    top = parse_xml_file(config, source=source)
    if top.tag != "Combination":
        raise fail(source, top, "expected a <Combination> element at the top")
    check_attributes(source, top, ("OutputFilePrefix", "Mode"))
    inputs = _inputs(top, source)
    measurements = [_Measurement.parse(node, source) for node in top.find_all("Measurement")]
    if not measurements:
        raise fail(source, top, "no <Measurement>")
    for child in top.children:
        if child.tag not in ("Input", "Measurement", "Function"):
            raise fail(source, child, "unknown element in <Combination>")
    base = _basedir(config, inputs, basedir, source)
    with RootReader(base) as reader:
        channels = [read_channel(base / inp, str(base / inp), reader) for inp in inputs]
    model = _ModelParams.collect(channels)
    for node in top.find_all("Function"):
        _check_function(node, source, model)
    built = []
    for meas in measurements:
        config_out = meas.build(model, source)
        if config_out is not None:
            built.append(config_out)
    if not built:
        raise SpecError(
            "no measurement can be represented in the HistFactory JSON spec", source=source
        )
    spec = {
        "channels": [{"name": ch.name, "samples": ch.samples} for ch in channels],
        "observations": [{"name": ch.name, "data": ch.observed} for ch in channels],
        "measurements": built,
        "version": SPEC_VERSION,
    }
    Workspace(spec, source=f"{source} (as JSON)")
    return spec


def _inputs(top: XmlNode, source: str) -> list[str]:
    inputs = []
    for node in top.find_all("Input"):
        if not node.text:
            raise fail(source, node, "empty <Input>; expected a channel file name")
        inputs.append(node.text)
    if not inputs:
        raise fail(source, top, "no <Input> channel file")
    return inputs


def _basedir(config: Path, inputs: list[str], basedir: PathLike | None, source: str) -> Path:
    if basedir is not None:
        return Path(basedir)
    first = Path(inputs[0])
    if first.is_absolute():
        return Path.cwd()
    folder = config.absolute().parent
    for candidate in (folder, *folder.parents, Path.cwd()):
        if (candidate / first).is_file():
            return candidate
    raise SpecError(
        f"the channel file {inputs[0]!r} is not found from the config's folder, its parent "
        "folders or the current folder; pass the folder the paths are relative to "
        "(--basedir)",
        source=source,
    )


def _check_function(node: XmlNode, source: str, model: _ModelParams) -> None:
    name = get_name(source, node)
    if name in model.kinds:
        raise fail(
            source,
            node,
            f"parameter {name!r} is defined as the expression "
            f"{node.attrib.get('Expression', '?')!r}; the HistFactory JSON spec has no "
            "functions of parameters",
        )
    warn(source, node, "this Function is used by no modifier; ignored")


@dataclass
class _ModelParams:
    """The parameters the channels declare: kind, bins, configs from the channel files."""

    kinds: dict[str, str] = field(default_factory=dict)
    nbins: dict[str, int] = field(default_factory=dict)
    always_fixed_bins: dict[str, set[int]] = field(default_factory=dict)
    configs: dict[str, dict[str, Any]] = field(default_factory=dict)
    gamma_prefix: dict[str, str] = field(default_factory=dict)  # ROOT gamma_<prefix>_bin_i
    uses_lumi: bool = False

    @classmethod
    def collect(cls, channels: list[ChannelData]) -> _ModelParams:
        out = cls()
        normfactors: dict[str, tuple[dict[str, Any], Any]] = {}
        shape_seen: dict[str, list[Any]] = {}
        for ch in channels:
            out.uses_lumi |= ch.uses_lumi
            for name, (config, origin) in ch.normfactors.items():
                if name in normfactors and normfactors[name][0] != config:
                    raise SpecError(
                        f"{origin.node.describe()}: NormFactor {name!r} is configured "
                        f"differently at {normfactors[name][1]}",
                        source=origin.source,
                    )
                normfactors.setdefault(name, (config, origin))
            for name, origins in ch.shape_modifiers.items():
                shape_seen.setdefault(name, []).extend(origins)
            for name in ch.fixed_shapefactors:
                out.configs[name] = {"name": name, "fixed": True}
            for sample in ch.samples:
                for mod in sample["modifiers"]:
                    out._add(ch, sample, mod)
        for name, origins in shape_seen.items():
            if len(origins) > 1:
                first, second = origins[0], origins[1]
                raise SpecError(
                    f"{second.node.describe()}: ShapeSys {name!r} also appears at {first}; "
                    "a ShapeSys must have a name of its own to be represented",
                    source=second.source,
                )
        for name, (config, _) in normfactors.items():
            out.configs[name] = dict(config)
        return out

    def _add(self, ch: ChannelData, sample: dict[str, Any], mod: dict[str, Any]) -> None:
        name, mtype = mod["name"], mod["type"]
        self.kinds.setdefault(name, mtype)
        if mtype in ("shapesys", "staterror", "shapefactor"):
            self.nbins[name] = len(ch.observed)
            stat_name = f"staterror_{ch.name}"
            prefix = f"stat_{ch.name}" if name == stat_name and mtype == "staterror" else name
            self.gamma_prefix[prefix] = name
            if mtype != "shapefactor":
                fixed = self.always_fixed_bins.setdefault(name, set(range(len(ch.observed))))
                for b, (delta, rate) in enumerate(zip(mod["data"], sample["data"], strict=True)):
                    if delta != 0 and rate != 0:
                        fixed.discard(b)

    def resolve(self, rootname: str) -> tuple[str, int | None] | None:
        """(parameter, bin or None) for a ROOT parameter name, or None if there is none."""
        if rootname == "Lumi":
            return ("lumi", None) if self.uses_lumi else None
        if rootname in self.kinds and rootname not in self.nbins:
            return rootname, None
        if rootname.startswith("alpha_"):
            name = rootname[len("alpha_") :]
            if self.kinds.get(name) in ("normsys", "histosys"):
                return name, None
        match = _GAMMA_BIN.fullmatch(rootname)
        if match and match[1] in self.gamma_prefix:
            name = self.gamma_prefix[match[1]]
            index = int(match[2])
            if index < self.nbins[name]:
                return name, index
        return None


class _Measurement:
    """One ``<Measurement>``: checked when read, turned into a JSON measurement later."""

    # set by parse()
    name: str
    lumi: float
    lumi_rel_err: float
    poi: str

    def __init__(self, node: XmlNode, source: str):
        self.node = node
        self.source = source

    @classmethod
    def parse(cls, node: XmlNode, source: str) -> _Measurement:
        check_attributes(
            source,
            node,
            ("Name", "Lumi", "LumiRelErr", "BinLow", "BinHigh", "Mode", "ExportOnly"),
        )
        self = cls(node, source)
        self.name = get_name(source, node)
        self.lumi = get_float(source, node, "Lumi", 1.0)
        self.lumi_rel_err = get_float(source, node, "LumiRelErr", 0.1)
        for attr in ("BinLow", "BinHigh"):
            if attr in node.attrib:
                warn(source, node, f"{attr} is ignored (ROOT ignores it too)")
        pois = node.find_all("POI")
        if not pois or not pois[0].text:
            raise fail(source, node, f"measurement {self.name!r} has no <POI>")
        names = pois[0].text.split()
        if len(names) > 1 or len(pois) > 1:
            warn(source, pois[0], f"several POIs; the JSON spec has one, {names[0]!r} is used")
        self.poi = names[0]
        for child in node.children:
            if child.tag == "Asimov":
                warn(source, child, "Asimov datasets are not part of the JSON spec; ignored")
            elif child.tag not in ("POI", "ParamSetting", "ConstraintTerm"):
                raise fail(source, child, "unknown element in a <Measurement>")
        return self

    def build(self, model: _ModelParams, source: str) -> dict[str, Any] | None:
        """The JSON measurement, or None (with a warning) if it cannot be represented."""
        reason = self._unrepresentable_constraint()
        if reason is not None:
            warn(source, self.node, f"measurement skipped: {reason}")
            return None
        if self.poi not in model.kinds:  # kept: a background-only workspace is still useful
            warn(source, self.node, f"the POI {self.poi!r} is no parameter of the model")
        configs = {name: dict(config) for name, config in model.configs.items()}
        if model.uses_lumi:
            sigma = self.lumi * self.lumi_rel_err
            if not sigma > 0:
                raise fail(
                    source,
                    self.node,
                    f"LumiRelErr={self.lumi_rel_err} with Lumi={self.lumi}: the luminosity "
                    "uncertainty must be positive when a sample has NormalizeByTheory=True",
                )
            configs["lumi"] = {
                "name": "lumi",
                "auxdata": [self.lumi],
                "bounds": [[self.lumi - 5.0 * sigma, self.lumi + 5.0 * sigma]],
                "inits": [self.lumi],
                "sigmas": [sigma],
            }
        vector_fixed: dict[str, set[int]] = {}
        vector_inits: dict[str, dict[int, float]] = {}
        for setting in self.node.find_all("ParamSetting"):
            self._param_setting(setting, model, configs, vector_fixed, vector_inits)
        for name, bins in vector_fixed.items():
            auto = model.always_fixed_bins.get(name, set())
            missing = set(range(model.nbins[name])) - bins - auto
            if missing:
                raise fail(
                    source,
                    self.node,
                    f"ParamSetting fixes only some bins of {name!r} (not bin(s) "
                    f"{', '.join(map(str, sorted(missing)))}); the JSON spec fixes a whole "
                    "parameter",
                )
            configs.setdefault(name, {"name": name})["fixed"] = True
        for name, values in vector_inits.items():
            inits = [values.get(b, 1.0) for b in range(model.nbins[name])]
            configs.setdefault(name, {"name": name})["inits"] = inits
        parameters = [configs[name] for name in sorted(configs)]
        return {"name": self.name, "config": {"poi": self.poi, "parameters": parameters}}

    def _unrepresentable_constraint(self) -> str | None:
        for term in self.node.find_all("ConstraintTerm"):
            check_attributes(self.source, term, ("Type", "RelativeUncertainty"))
            kind = term.attrib.get("Type", "")
            if kind not in _CONSTRAINT_TYPES:
                raise fail(
                    self.source,
                    term,
                    f"Type={kind!r}; expected one of {', '.join(_CONSTRAINT_TYPES)}",
                )
            rel = get_float(self.source, term, "RelativeUncertainty", 0.0)
            if kind == "Gaussian" or (kind != "NoConstraint" and rel == 0):
                continue  # leaves the default Gaussian constraint
            return (
                f"{term.describe()} gives {term.text or '(nothing)'} a {kind} constraint, "
                "which the HistFactory JSON spec cannot express"
            )
        return None

    def _param_setting(
        self,
        node: XmlNode,
        model: _ModelParams,
        configs: dict[str, dict[str, Any]],
        vector_fixed: dict[str, set[int]],
        vector_inits: dict[str, dict[int, float]],
    ) -> None:
        src = self.source
        check_attributes(src, node, ("Const", "Val"))
        const = node.attrib.get("Const") == "True"
        val = get_float(src, node, "Val") if "Val" in node.attrib else None
        for rootname in node.text.split():
            found = model.resolve(rootname)
            if found is None:
                if rootname != "Lumi":  # Lumi with no NormalizeByTheory sample has no effect
                    warn(src, node, f"{rootname!r} is no parameter of the model; ignored")
                continue
            name, index = found
            if index is None:
                config = configs.setdefault(name, {"name": name})
                if const:
                    config["fixed"] = True
                if val is not None:
                    config["inits"] = [val]
                continue
            if const:
                vector_fixed.setdefault(name, set()).add(index)
            if val is not None:
                vector_inits.setdefault(name, {})[index] = val
