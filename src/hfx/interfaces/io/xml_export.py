"""HistFactory JSON workspace -> HistFactory XML + ROOT histograms (``hfx json2xml``).

Layout of the output folder (run ``hist2workspace FitConfig.xml`` from inside it)::

    FitConfig.xml               the Combination: channel files and measurements
    HistFactorySchema.dtd
    config/FitConfig_<channel>.xml, config/HistFactorySchema.dtd
    data/data.root              every histogram, 1-D float64, bins 0..n
    results/                    where hist2workspace writes its output

The folder appears complete or not at all: it is built beside the target and renamed into
place, and every XML file is first validated against the DTD (with lxml, when installed).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import warnings
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hfx.errors import HfxWarning, SpecError
from hfx.interfaces.io.root_hist import require, write_root_file
from hfx.interfaces.io.xml_measurements import MeasurementWriter, fmt, normfactor_attributes
from hfx.spec.jsonio import new_file_mode

__all__ = ["DTD_NAME", "DTD_PATH", "ROOT_FILE", "PathLike", "write_xml"]

PathLike = str | os.PathLike[str]
DTD_NAME = "HistFactorySchema.dtd"
DTD_PATH = Path(__file__).with_name(DTD_NAME)
ROOT_FILE = "data.root"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.+-]")


def write_xml(
    spec: Mapping[str, Any] | Any,
    output_dir: PathLike,
    *,
    specroot: str = "config",
    dataroot: str = "data",
    resultprefix: str = "FitConfig",
) -> Path:
    """Write a workspace (dict or :class:`~hfx.Workspace`) as HistFactory XML + ROOT file.

    ``output_dir`` must not exist or be empty.  Returns the path of the top-level XML file.
    Raises :class:`~hfx.errors.SpecError` for content HistFactory XML cannot express.
    """
    from hfx.spec.workspace import Workspace

    require("uproot")
    workspace = spec if isinstance(spec, Workspace) else Workspace(spec)
    for label, part in (("specroot", specroot), ("dataroot", dataroot)):
        if not part or Path(part).is_absolute() or ".." in Path(part).parts:
            raise SpecError(f"{label} {part!r} must be a relative folder name inside the output")
    if not resultprefix or _UNSAFE.search(resultprefix):
        raise SpecError(f"resultprefix {resultprefix!r} must be letters, digits, _ . + -")
    target = Path(output_dir)
    _check_target(target)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    except OSError as exc:
        raise SpecError(f"cannot create: {exc.strerror or exc}", source=str(target)) from None
    try:
        tmp.chmod(new_file_mode(directory=True))  # mkdtemp's 0o700 is not what mkdir gives
        _Exporter(workspace.spec, tmp, specroot, dataroot, resultprefix).write()
        if target.exists():
            target.rmdir()  # empty, checked above
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target / f"{resultprefix}.xml"


def _check_target(target: Path) -> None:
    if not target.parent.is_dir():
        raise SpecError("the folder to create it in does not exist", source=str(target))
    if target.exists():
        if not target.is_dir():
            raise SpecError("exists and is not a folder", source=str(target))
        if any(target.iterdir()):
            raise SpecError(
                "the output folder exists and is not empty; give a new or empty folder",
                source=str(target),
            )


class _Exporter:
    def __init__(self, spec: dict[str, Any], out: Path, specroot: str, dataroot: str, prefix: str):
        self.spec = spec
        self.out = out
        self.specroot = Path(specroot)
        self.dataroot = Path(dataroot)
        self.prefix = prefix
        self.root_file = (self.dataroot / ROOT_FILE).as_posix()
        self.histograms: dict[str, tuple[list[float], list[float] | None]] = {}
        self.files: list[Path] = []
        self._plan()

    # --- what each modifier becomes -----------------------------------------------------
    def _plan(self) -> None:
        kinds: dict[str, str] = {}
        nbins: dict[str, int] = {}
        prefixes: dict[str, str] = {}
        carriers: dict[str, list[tuple[str, str]]] = {}  # per-bin modifier -> (channel, sample)
        for channel in self.spec["channels"]:
            ch = channel["name"]
            size = len(channel["samples"][0]["data"])
            for sample in channel["samples"]:
                for mod in sample["modifiers"]:
                    name, mtype = mod["name"], mod["type"]
                    kinds.setdefault(name, mtype)
                    if mtype == "lumi" and name != "lumi":
                        raise SpecError(
                            f"lumi modifier {name!r} (channel {ch!r}, sample "
                            f"{sample['name']!r}): HistFactory XML has one luminosity, "
                            "read back as 'lumi'; rename it first (hfx rename -m "
                            f"{name} lumi)"
                        )
                    if mtype in ("shapesys", "staterror", "shapefactor"):
                        nbins[name] = size
                        prefixes[name] = name
                    if mtype in ("shapesys", "staterror"):
                        carriers.setdefault(name, []).append((ch, sample["name"]))
        self.statgamma = self._stat_errors(carriers, kinds)
        for ch, name in self.statgamma:
            prefixes[name] = f"stat_{ch}"
        self.measurements = MeasurementWriter(kinds, nbins, prefixes, "lumi" in kinds)
        self.normfactors = {
            name: normfactor_attributes(self.spec, name)
            for name, kind in kinds.items()
            if kind == "normfactor"
        }

    @staticmethod
    def _stat_errors(
        carriers: dict[str, list[tuple[str, str]]], kinds: dict[str, str]
    ) -> set[tuple[str, str]]:
        """The (channel, staterror) pairs written as the channel's StatError.

        A staterror named ``staterror_<channel>``, or shared by several samples of one
        channel, becomes StatError (the latter reads back as ``staterror_<channel>``); one
        on a single sample becomes a Gaussian ShapeSys of its own name; a shapesys must be
        on a single sample.
        """
        chosen: dict[str, str] = {}  # channel -> staterror written as its StatError
        for name, where in carriers.items():
            channels = {ch for ch, _ in where}
            samples = [s for _, s in where]
            places = ", ".join(f"{s!r} in {c!r}" for c, s in where)
            single = len(where) == 1
            if (
                len(channels) > 1
                or len(set(samples)) < len(samples)
                or (kinds[name] == "shapesys" and not single)
            ):
                raise SpecError(
                    f"{kinds[name]} {name!r} is carried by {places}; HistFactory XML has one "
                    "stat error per channel and sample, and a ShapeSys per sample"
                )
            (ch,) = channels
            if kinds[name] != "staterror" or (single and name != f"staterror_{ch}"):
                continue
            if ch in chosen:
                raise SpecError(
                    f"channel {ch!r} has the staterrors {chosen[ch]!r} and {name!r} on several "
                    "samples each; HistFactory XML has one StatError per channel"
                )
            chosen[ch] = name
        for ch, name in chosen.items():
            if name != f"staterror_{ch}":
                warnings.warn(
                    f"staterror {name!r} of channel {ch!r} is written as the channel's "
                    f"StatError, which reads back as 'staterror_{ch}'",
                    HfxWarning,
                    stacklevel=5,
                )
        return set(chosen.items())

    # --- files ------------------------------------------------------------------------
    def write(self) -> None:
        (self.out / self.specroot).mkdir(parents=True, exist_ok=True)
        (self.out / self.dataroot).mkdir(parents=True, exist_ok=True)
        (self.out / "results").mkdir(exist_ok=True)
        observations = {obs["name"]: obs["data"] for obs in self.spec["observations"]}
        combination = ET.Element("Combination", OutputFilePrefix=f"./results/{self.prefix}")
        used_files: set[str] = set()
        for channel in self.spec["channels"]:
            filename = _unique(f"{self.prefix}_{_safe(channel['name'])}", used_files) + ".xml"
            element = self._channel(channel, observations[channel["name"]])
            path = self.out / self.specroot / filename
            self._write_xml(path, element, "Channel")
            ET.SubElement(combination, "Input").text = (self.specroot / filename).as_posix()
        for meas in self.spec["measurements"]:
            vals = {name: attrs["Val"] for name, attrs in self.normfactors.items()}
            combination.append(self.measurements.element(meas, vals))
        self._write_xml(self.out / f"{self.prefix}.xml", combination, "Combination")
        for folder in {self.out, self.out / self.specroot}:
            shutil.copyfile(DTD_PATH, folder / DTD_NAME)
        write_root_file(self.out / self.dataroot / ROOT_FILE, self.histograms)
        self._validate()

    def _write_xml(self, path: Path, element: ET.Element, doctype: str) -> None:
        ET.indent(element, space="  ")
        body = ET.tostring(element, encoding="unicode")
        text = f"<?xml version='1.0' encoding='UTF-8'?>\n<!DOCTYPE {doctype} SYSTEM '{DTD_NAME}'>\n"
        path.write_text(text + body + "\n", encoding="utf-8")
        self.files.append(path)

    def _validate(self) -> None:
        """Every written file must follow the DTD (a failure here is a bug in hfx).

        The check needs lxml (part of the ``xml`` extra); without it the files are written
        unchecked.
        """
        try:
            from lxml import etree
        except ImportError:  # pragma: no cover - lxml comes with the xml extra
            return

        dtd = etree.DTD(str(DTD_PATH))
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        for path in self.files:
            root = etree.parse(str(path), parser).getroot()
            if not dtd.validate(root):
                error = dtd.error_log.filter_from_errors()[0]
                raise SpecError(
                    f"internal error: the exported XML does not follow the DTD: {error.message}",
                    source=path.name,
                )

    # --- elements and histograms ------------------------------------------------------
    def _hist(self, name: str, values: list[float], errors: list[float] | None = None) -> str:
        key = _unique(_safe(name), self.histograms)
        self.histograms[key] = (list(values), None if errors is None else list(errors))
        return key

    def _channel(self, channel: dict[str, Any], observed: list[float]) -> ET.Element:
        ch = channel["name"]
        element = ET.Element("Channel", Name=ch, InputFile=self.root_file)
        ET.SubElement(element, "Data", HistoName=self._hist(f"{ch}_data", observed))
        if any(c == ch for c, _ in self.statgamma):
            # Gaussian, with no threshold: exactly the JSON staterror; see the module doc.
            ET.SubElement(
                element, "StatErrorConfig", RelErrorThreshold="0.0", ConstraintType="Gaussian"
            )
        for sample in channel["samples"]:
            element.append(self._sample(ch, sample))
        return element

    def _sample(self, ch: str, sample: dict[str, Any]) -> ET.Element:
        sname, nominal = sample["name"], sample["data"]
        base = f"{ch}_{sname}"
        stat = [m for m in sample["modifiers"] if (ch, m["name"]) in self.statgamma]
        stat_errors = stat[0]["data"] if stat else None
        by_theory = any(m["type"] == "lumi" for m in sample["modifiers"])
        element = ET.Element(
            "Sample",
            Name=sname,
            HistoName=self._hist(base, nominal, stat_errors),
            NormalizeByTheory=str(by_theory),
        )
        for mod in sample["modifiers"]:
            name, mtype, data = mod["name"], mod["type"], mod["data"]
            if mtype == "lumi":
                continue
            if mtype == "normfactor":
                ET.SubElement(element, "NormFactor", {"Name": name, **self.normfactors[name]})
            elif mtype == "normsys":
                ET.SubElement(
                    element, "OverallSys", Name=name, High=fmt(data["hi"]), Low=fmt(data["lo"])
                )
            elif mtype == "histosys":
                ET.SubElement(
                    element,
                    "HistoSys",
                    Name=name,
                    HistoNameHigh=self._hist(f"{base}_{name}_High", data["hi_data"]),
                    HistoNameLow=self._hist(f"{base}_{name}_Low", data["lo_data"]),
                )
            elif mtype == "shapefactor":
                ET.SubElement(element, "ShapeFactor", Name=name)
            elif (ch, name) in self.statgamma:
                ET.SubElement(element, "StatError", Activate="True")
            else:  # shapesys (Poisson) or a staterror of its own name (Gaussian)
                rel = self._relative(data, nominal, f"channel {ch!r}, sample {sname!r}", name)
                ET.SubElement(
                    element,
                    "ShapeSys",
                    Name=name,
                    HistoName=self._hist(f"{base}_{name}_relErr", rel),
                    ConstraintType="Poisson" if mtype == "shapesys" else "Gaussian",
                )
        return element

    @staticmethod
    def _relative(deltas: list[float], nominal: list[float], where: str, name: str) -> list[float]:
        rel = []
        for b, (delta, rate) in enumerate(zip(deltas, nominal, strict=True)):
            if rate == 0:
                if delta != 0:
                    warnings.warn(
                        f"{where}: modifier {name!r} bin {b} has uncertainty {delta} on an "
                        "empty bin; HistFactory XML stores relative uncertainties, so it is "
                        "written as 0 (the bin's parameter is fixed either way)",
                        HfxWarning,
                        stacklevel=4,
                    )
                rel.append(0.0)
            else:
                rel.append(delta / rate)
        return rel


def _safe(name: str) -> str:
    return _UNSAFE.sub("_", name) or "_"


def _unique(name: str, taken: Any) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    if isinstance(taken, set):
        taken.add(candidate)
    return candidate
