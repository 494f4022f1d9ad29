"""One HistFactory channel file (``<Channel>``) read into JSON-spec channel data.

Defaults follow ROOT's HistFactory reader: InputFile and HistoPath are inherited from the
channel by its Data and Samples and from a Sample by its modifiers; NormalizeByTheory
defaults to True; a ShapeSys without ConstraintType is Gaussian; a StatErrorConfig
element without ConstraintType means Poisson, and its RelErrorThreshold defaults to 0.05.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hfx.errors import SpecError
from hfx.interfaces.io.root_hist import Histogram, RootReader
from hfx.interfaces.io.safe_xml import XmlNode, parse_xml_file
from hfx.interfaces.io.xml_common import (
    check_attributes,
    fail,
    get_bool,
    get_float,
    get_name,
    get_text,
    warn,
)

__all__ = ["DEFAULT_REL_ERROR_THRESHOLD", "ChannelData", "Origin", "read_channel"]

DEFAULT_REL_ERROR_THRESHOLD = 0.05


@dataclass
class Origin:
    """Where a parameter was declared: file and element, for messages."""

    source: str
    node: XmlNode

    def __str__(self) -> str:
        return f"{self.source}: {self.node.describe()}"


@dataclass
class ChannelData:
    """What one channel file contributes to the workspace."""

    name: str
    source: str
    observed: list[float]
    samples: list[dict[str, Any]] = field(default_factory=list)
    # normfactor name -> (parameter config, where it was declared)
    normfactors: dict[str, tuple[dict[str, Any], Origin]] = field(default_factory=dict)
    fixed_shapefactors: dict[str, Origin] = field(default_factory=dict)
    # shapesys/staterror modifiers made from ShapeSys elements: name -> where
    shape_modifiers: dict[str, list[Origin]] = field(default_factory=dict)
    uses_lumi: bool = False


class _StatConfig:
    def __init__(self) -> None:
        self.threshold = DEFAULT_REL_ERROR_THRESHOLD
        self.constraint: str | None = None  # None: not given (ROOT's default depends on version)
        self.node: XmlNode | None = None


def read_channel(path: Path, source: str, reader: RootReader) -> ChannelData:
    """Read the channel file at ``path`` (``source`` is its name in messages)."""
    root = parse_xml_file(path, source=source)
    try:
        return _Channel(root, source, reader).read()
    except SpecError as exc:
        raise exc.with_source(source) from None


class _Channel:
    def __init__(self, root: XmlNode, source: str, reader: RootReader):
        self.root = root
        self.source = source
        self.reader = reader
        self.ndim = 1

    def read(self) -> ChannelData:
        root, src = self.root, self.source
        if root.tag != "Channel":
            raise fail(src, root, "expected a <Channel> element at the top of a channel file")
        check_attributes(src, root, ("Name", "InputFile", "HistoPath", "HistoName"))
        name = get_name(src, root)
        if "HistoName" in root.attrib:
            warn(src, root, "HistoName on a Channel is ignored (as ROOT does)")
        infile = root.attrib.get("InputFile", "")
        histopath = root.attrib.get("HistoPath", "")
        data_nodes = root.find_all("Data")
        samples = root.find_all("Sample")
        stat = _StatConfig()
        for child in root.children:
            if child.tag == "StatErrorConfig":
                self._stat_config(child, stat)
            elif child.tag not in ("Data", "Sample"):
                raise fail(src, child, f"unknown element in channel {name!r}")
        if not data_nodes:
            raise fail(
                src,
                root,
                f"channel {name!r} has no <Data> element; hfx needs the observed data "
                "(ROOT would fit Asimov data instead)",
            )
        if len(data_nodes) > 1:
            warn(src, data_nodes[1], "only the first <Data> of a channel is imported")
        if not samples:
            raise fail(src, root, f"channel {name!r} has no <Sample>")
        data_hist = self._data(data_nodes[0], infile, histopath)
        self.ndim = data_hist.ndim
        if data_hist.ndim > 1:
            warn(
                src,
                root,
                f"the histograms of channel {name!r} have {data_hist.ndim} dimensions; their "
                "bins are read as one row (x outermost), which gives the same likelihood",
            )
        out = ChannelData(name=name, source=src, observed=data_hist.values)
        for node in samples:
            out.samples.append(self._sample(node, infile, histopath, out))
        self._apply_stat_config(out, stat)
        return out

    # --- channel parts ---------------------------------------------------------------
    def _stat_config(self, node: XmlNode, stat: _StatConfig) -> None:
        check_attributes(self.source, node, ("RelErrorThreshold", "ConstraintType"))
        stat.node = node
        stat.threshold = get_float(
            self.source, node, "RelErrorThreshold", DEFAULT_REL_ERROR_THRESHOLD
        )
        stat.constraint = _constraint_type(self.source, node, default="Poisson")

    def _data(self, node: XmlNode, infile: str, histopath: str) -> Histogram:
        check_attributes(self.source, node, ("InputFile", "HistoPath", "HistoName", "Name"))
        infile = node.attrib.get("InputFile", infile)
        histopath = node.attrib.get("HistoPath", histopath)
        histoname = node.attrib.get("HistoName", "")
        if not infile.strip():
            raise fail(self.source, node, "the observed data have no InputFile")
        if not histoname.strip():
            raise fail(self.source, node, "the observed data have no HistoName")
        return self.reader.read(infile, histopath, histoname, where=node.describe())

    def _hist(
        self, node: XmlNode, infile: str, histopath: str, histoname: str, nbins: int
    ) -> Histogram:
        hist = self.reader.read(infile, histopath, histoname, where=node.describe())
        if len(hist.values) != nbins or hist.ndim != self.ndim:
            raise fail(
                self.source,
                node,
                f"histogram {histoname!r} has {len(hist.values)} bins in {hist.ndim} "
                f"dimension(s), the channel's data {nbins} in {self.ndim}",
            )
        return hist

    def _sample(
        self, node: XmlNode, infile: str, histopath: str, out: ChannelData
    ) -> dict[str, Any]:
        src = self.source
        check_attributes(
            src, node, ("Name", "InputFile", "HistoName", "HistoPath", "NormalizeByTheory")
        )
        name = get_name(src, node)
        infile = node.attrib.get("InputFile", infile)
        histopath = node.attrib.get("HistoPath", histopath)
        histoname = node.attrib.get("HistoName", "")
        if not infile.strip():
            raise fail(src, node, "no InputFile (on the sample or its channel)")
        if not histoname.strip():
            raise fail(src, node, "no HistoName")
        nbins = len(out.observed)
        nominal = self._hist(node, infile, histopath, histoname, nbins)
        modifiers: list[dict[str, Any]] = []
        if get_bool(src, node, "NormalizeByTheory", True):
            modifiers.append({"name": "lumi", "type": "lumi", "data": None})
            out.uses_lumi = True
        for child in node.children:
            modifier = self._modifier(child, infile, histopath, nominal, out)
            if modifier is not None:
                modifiers.append(modifier)
        return {"name": name, "data": nominal.values, "modifiers": modifiers}

    def _modifier(
        self, node: XmlNode, infile: str, histopath: str, nominal: Histogram, out: ChannelData
    ) -> dict[str, Any] | None:
        src, tag = self.source, node.tag
        nbins = len(nominal.values)
        if tag == "NormFactor":
            return self._normfactor(node, out)
        if tag == "OverallSys":
            check_attributes(src, node, ("Name", "High", "Low"))
            data = {"hi": get_float(src, node, "High"), "lo": get_float(src, node, "Low")}
            return {"name": get_name(src, node), "type": "normsys", "data": data}
        if tag == "HistoSys":
            return self._histosys(node, infile, histopath, nbins)
        if tag == "ShapeSys":
            return self._shapesys(node, infile, histopath, nominal, out)
        if tag == "ShapeFactor":
            check_attributes(src, node, ("Name", "Const", "HistoName", "InputFile", "HistoPath"))
            name = get_name(src, node)
            if any(key in node.attrib for key in ("HistoName", "InputFile", "HistoPath")):
                raise fail(src, node, "a ShapeFactor with an initial shape cannot be represented")
            if get_bool(src, node, "Const", False):
                out.fixed_shapefactors[name] = Origin(src, node)
            return {"name": name, "type": "shapefactor", "data": None}
        if tag == "StatError":
            return self._staterror(node, infile, histopath, nominal, out.name)
        if tag == "HistoFactor":
            warn(src, node, "HistoFactor is not supported (ROOT ignores it too); ignored")
            return None
        raise fail(src, node, "unknown element in a <Sample>")

    def _normfactor(self, node: XmlNode, out: ChannelData) -> dict[str, Any]:
        src = self.source
        check_attributes(src, node, ("Name", "Val", "High", "Low", "Const"))
        name = get_name(src, node)
        val = get_float(src, node, "Val")
        low, high = get_float(src, node, "Low"), get_float(src, node, "High")
        if not low < high:
            raise fail(src, node, f"Low={low} is not below High={high}")
        if not low <= val <= high:
            raise fail(src, node, f"Val={val} is outside [Low, High] = [{low}, {high}]")
        config: dict[str, Any] = {"name": name, "inits": [val], "bounds": [[low, high]]}
        if get_bool(src, node, "Const", False):
            config["fixed"] = True
        origin = Origin(src, node)
        seen = out.normfactors.get(name)
        if seen is not None and seen[0] != config:
            raise fail(src, node, f"NormFactor {name!r} is configured differently at {seen[1]}")
        out.normfactors.setdefault(name, (config, origin))
        return {"name": name, "type": "normfactor", "data": None}

    def _histosys(self, node: XmlNode, infile: str, histopath: str, nbins: int) -> dict[str, Any]:
        src = self.source
        allowed = ("Name", "InputFile", "HistoFileHigh", "HistoPathHigh", "HistoNameHigh")
        check_attributes(src, node, (*allowed, "HistoFileLow", "HistoPathLow", "HistoNameLow"))
        name = get_name(src, node)
        infile = node.attrib.get("InputFile", infile)
        data = {}
        for side, key in (("High", "hi_data"), ("Low", "lo_data")):
            histoname = node.attrib.get(f"HistoName{side}", "")
            if not histoname.strip():
                raise fail(src, node, f"no HistoName{side}")
            hist = self._hist(
                node,
                node.attrib.get(f"HistoFile{side}", infile),
                node.attrib.get(f"HistoPath{side}", histopath),
                histoname,
                nbins,
            )
            data[key] = hist.values
        return {"name": name, "type": "histosys", "data": data}

    def _relative(
        self, node: XmlNode, infile: str, histopath: str, nominal: Histogram
    ) -> list[float]:
        """Absolute uncertainties from a histogram of relative ones (times the nominal)."""
        infile = node.attrib.get("InputFile", infile)
        histopath = node.attrib.get("HistoPath", histopath)
        histoname = get_text(self.source, node, "HistoName")
        rel = self._hist(node, infile, histopath, histoname, len(nominal.values))
        return [r * n for r, n in zip(rel.values, nominal.values, strict=True)]

    def _shapesys(
        self, node: XmlNode, infile: str, histopath: str, nominal: Histogram, out: ChannelData
    ) -> dict[str, Any]:
        src = self.source
        check_attributes(
            src, node, ("Name", "HistoName", "HistoPath", "InputFile", "ConstraintType")
        )
        name = get_name(src, node)
        kind = _constraint_type(src, node, default="Gaussian")
        data = self._relative(node, infile, histopath, nominal)
        out.shape_modifiers.setdefault(name, []).append(Origin(src, node))
        # A Gaussian ShapeSys on one sample is exactly a staterror of its own name.
        mtype = "shapesys" if kind == "Poisson" else "staterror"
        return {"name": name, "type": mtype, "data": data}

    def _staterror(
        self, node: XmlNode, infile: str, histopath: str, nominal: Histogram, channel: str
    ) -> dict[str, Any] | None:
        src = self.source
        check_attributes(src, node, ("Activate", "HistoName", "HistoPath", "InputFile"))
        if "Activate" not in node.attrib:
            raise fail(src, node, "missing attribute Activate")
        if not get_bool(src, node, "Activate", False):
            return None
        if node.attrib.get("HistoName", "").strip():
            data = self._relative(node, infile, histopath, nominal)
        else:
            data = list(nominal.errors)
        return {"name": f"staterror_{channel}", "type": "staterror", "data": data}

    def _apply_stat_config(self, out: ChannelData, stat: _StatConfig) -> None:
        """Zero the bins under RelErrorThreshold (fixed at 1, as in ROOT); flag Poisson."""
        name = f"staterror_{out.name}"
        carriers = [
            (sample["data"], mod)
            for sample in out.samples
            for mod in sample["modifiers"]
            if mod["type"] == "staterror" and mod["name"] == name
        ]
        if not carriers:
            return
        for b in range(len(out.observed)):
            total = sum(rate[b] for rate, _ in carriers)
            spread = math.sqrt(sum(mod["data"][b] ** 2 for _, mod in carriers))
            if total > 0 and spread / total < stat.threshold:
                for _, mod in carriers:
                    mod["data"][b] = 0.0
        if stat.constraint != "Gaussian":
            given = (
                "ConstraintType=Poisson"
                if stat.constraint == "Poisson"
                else "no StatErrorConfig (ROOT 6.22 and later then use Poisson constraints)"
            )
            warn(
                self.source,
                stat.node or self.root,
                f"channel {out.name!r} has {given}; the HistFactory JSON spec has Gaussian "
                "stat-error constraints only, so they are imported as Gaussian",
            )


def _constraint_type(source: str, node: XmlNode, *, default: str) -> str:
    raw = node.attrib.get("ConstraintType")
    if raw is None:
        return default
    if raw in ("Gaussian", "Gauss"):
        return "Gaussian"
    if raw in ("Poisson", "Pois"):
        return "Poisson"
    raise fail(source, node, f"ConstraintType={raw!r} must be Gaussian or Poisson")
