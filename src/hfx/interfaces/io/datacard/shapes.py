"""Template histograms of a shape datacard: ``shapes`` lines resolved and read with uproot.

A ``shapes process channel file histogram [systematic]`` line maps (channel, process) to
histograms; ``$PROCESS``, ``$CHANNEL``, ``$SYSTEMATIC`` (the nuisance name + ``Up`` or
``Down``) and ``$MASS`` are replaced as Combine does, and lookups fall back from the exact
channel/process to ``*`` in Combine's order.  ``FAKE`` marks a counting channel.  Only
TH1 histograms in ROOT files are read; RooFit workspaces (``file ws:object``) and data
frames are refused, naming the ``shapes`` line.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np

from hfx.errors import MissingExtraError
from hfx.interfaces.io.datacard.records import Datacard, ShapesLine

__all__ = ["Template", "TemplateReader"]

_DATAFRAME_SUFFIXES = (".csv", ".json", ".html", ".pkl", ".xlsx", ".h5", ".parquet")


class Template:
    """Bin contents and bin errors (TH1::GetBinError) of one 1-D histogram, no flow bins."""

    __slots__ = ("errors", "name", "values")

    def __init__(self, values: np.ndarray, errors: np.ndarray, name: str):
        self.values = values
        self.errors = errors
        self.name = name

    @property
    def integral(self) -> float:
        """TH1::Integral(): the sum of the contents of the bins, flow bins excluded."""
        return float(self.values.sum())


class TemplateReader:
    """Finds and reads the histograms the ``shapes`` lines of ``card`` point to.

    Relative file names are looked up in the current folder first and then in
    ``basedir`` (by default the datacard's folder), as Combine does.  Use it as a context
    manager: the ROOT files are closed afterwards.
    """

    def __init__(self, card: Datacard, basedir: Path | None = None, mass: float = 0.0):
        self.card = card
        self.basedir = basedir if basedir is not None else card.path.absolute().parent
        self.mass = f"{mass:.0f}" if float(mass).is_integer() else str(mass)
        self._map: dict[str, dict[str, ShapesLine]] = {}
        for entry in card.shapes:
            self._map.setdefault(entry.channel, {})[entry.process] = entry
        self._uproot: Any = None
        self._files: dict[Path, Any] = {}
        self._read_cache: dict[tuple[str, str], Template | None] = {}

    def __enter__(self) -> TemplateReader:
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()

    @property
    def has_shapes(self) -> bool:
        return bool(self._map)

    def entry(self, channel: str, process: str) -> ShapesLine:
        """The ``shapes`` line for (channel, process), in Combine's order of fallbacks."""
        by_channel = self._map.get(channel, self._map.get("*"))
        if by_channel is None:
            raise self.card.fail(None, f"no 'shapes' line for channel {channel!r}")
        found = by_channel.get(process, by_channel.get("*"))
        if found is None:
            found = self._map.get("*", {}).get(process, self._map.get("*", {}).get("*"))
        if found is None:
            raise self.card.fail(
                None, f"no 'shapes' line for process {process!r} in channel {channel!r}"
            )
        return found

    def is_counting(self, channel: str, process: str) -> bool:
        """Whether (channel, process) has no templates (no shapes lines, or ``FAKE``)."""
        if not self._map:
            return True
        return self.entry(channel, process).names == ("FAKE",)

    def nominal(self, channel: str, process: str) -> Template:
        """The nominal histogram (``data_obs`` for the observation)."""
        entry = self.entry(channel, process)
        if len(entry.names) < 2:
            raise self.card.fail(
                entry.line, "this 'shapes' line names a file but no histogram (or FAKE)"
            )
        return self._read(entry, channel, process, "", entry.names[1], optional=False)  # type: ignore[return-value]

    def variation(
        self, channel: str, process: str, syst: str, *, optional: bool
    ) -> tuple[Template, Template] | None:
        """(down, up) histograms of nuisance ``syst``; None if ``optional`` and there are none.

        As in Combine, ``optional`` (``shape?``) only asks whether the Up histogram exists.
        """
        entry = self.entry(channel, process)
        if len(entry.names) < 3:
            if optional:
                return None
            raise self.card.fail(
                entry.line,
                f"shape nuisance {syst!r} affects process {process!r} in channel {channel!r}, "
                "but this 'shapes' line has no pattern for systematic histograms",
            )
        up = self._read(entry, channel, process, syst + "Up", entry.names[2], optional=optional)
        if up is None:
            return None
        down = self._read(entry, channel, process, syst + "Down", entry.names[2], optional=False)
        assert down is not None
        return down, up

    # --- reading -----------------------------------------------------------------------
    def _substitute(self, text: str, channel: str, process: str, syst: str) -> str:
        return (
            text.replace("$PROCESS", process)
            .replace("$CHANNEL", channel)
            .replace("$SYSTEMATIC", syst)
            .replace("$MASS", self.mass)
        )

    def _read(
        self,
        entry: ShapesLine,
        channel: str,
        process: str,
        syst: str,
        pattern: str,
        *,
        optional: bool,
    ) -> Template | None:
        card = self.card
        filename = self._substitute(entry.names[0], channel, process, syst)
        objname = self._substitute(pattern, channel, process, syst)
        key = (filename, objname)
        if key in self._read_cache and (optional or self._read_cache[key] is not None):
            return self._read_cache[key]
        if filename.endswith(_DATAFRAME_SUFFIXES):
            raise card.fail(
                entry.line, f"shapes from the data frame {filename!r} are not supported"
            )
        if ":" in objname:
            raise card.fail(
                entry.line,
                f"{objname!r} is an object in a RooFit workspace (a parametric or RooFit "
                "shape), which cannot be represented in the HistFactory JSON spec",
            )
        handle = self._open(entry, filename)
        try:
            obj = handle[objname]
        except Exception:
            if optional:
                self._read_cache[key] = None
                return None
            what = f"{syst} of " if syst else ""
            raise card.fail(
                entry.line,
                f"no histogram {objname!r} in {self._path(filename)} (the {what}process "
                f"{process!r} in channel {channel!r})",
            ) from None
        if not (hasattr(obj, "values") and hasattr(obj, "variances")):
            raise card.fail(
                entry.line,
                f"{objname!r} in {self._path(filename)} is a {type(obj).__name__}, not a TH1",
            )
        values = np.asarray(obj.values(flow=False), dtype=float)
        if values.ndim != 1:
            raise card.fail(
                entry.line, f"{objname!r} is a {values.ndim}-D histogram; only TH1 are read"
            )
        if getattr(obj, "weighted", True):
            variances = np.asarray(obj.variances(flow=False), dtype=float)
        else:  # no Sumw2: ROOT's bin error is sqrt(|content|)
            variances = np.abs(values)
        if not (np.all(np.isfinite(values)) and np.all(np.isfinite(variances))):
            raise card.fail(entry.line, f"histogram {objname!r} has a NaN or infinite bin")
        template = Template(values, np.sqrt(np.abs(variances)), objname)
        self._read_cache[key] = template
        return template

    def _path(self, filename: str) -> Path:
        path = Path(filename)
        if path.is_absolute() or path.exists():
            return path
        return self.basedir / path

    def _open(self, entry: ShapesLine, filename: str) -> Any:
        if "://" in filename:
            raise self.card.fail(
                entry.line, f"shape file {filename!r} is remote; only local files are read"
            )
        path = self._path(filename)
        handle = self._files.get(path)
        if handle is not None:
            return handle
        if not path.is_file():
            raise self.card.fail(
                entry.line, f"shape file {filename!r} not found (looked for {path})"
            )
        if self._uproot is None:
            self._uproot = _require_uproot()
        try:
            handle = self._uproot.open(path)
        except Exception as exc:
            raise self.card.fail(
                entry.line, f"cannot read ROOT file {path}: {type(exc).__name__}: {exc}"
            ) from None
        self._files[path] = handle
        return handle


def _require_uproot() -> Any:
    try:
        return importlib.import_module("uproot")
    except ImportError:
        raise MissingExtraError(
            "shape datacards need the 'uproot' package to read ROOT files: pip install 'hfx[xml]'"
        ) from None
