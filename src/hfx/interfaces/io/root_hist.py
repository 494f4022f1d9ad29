"""Histograms in ROOT files, read and written with uproot (the ``xml`` extra)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hfx.errors import MissingExtraError, SpecError

__all__ = ["Histogram", "RootReader", "require", "write_root_file"]


def require(module: str) -> Any:
    """Import ``module`` (uproot, lxml) or raise :class:`MissingExtraError` naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(
            f"HistFactory XML needs the {module!r} package: pip install 'hfx[xml]'"
        ) from None


class Histogram:
    """Bin contents and bin uncertainties of one histogram, flattened to 1-D."""

    __slots__ = ("errors", "ndim", "values")

    def __init__(self, values: list[float], errors: list[float], ndim: int = 1):
        self.values = values
        self.errors = errors
        self.ndim = ndim


class RootReader:
    """Reads histograms from ROOT files below ``basedir``, opening each file once.

    Use as a context manager so the files are closed afterwards.
    """

    def __init__(self, basedir: Path):
        self.basedir = basedir
        self._uproot = require("uproot")
        self._files: dict[Path, Any] = {}

    def __enter__(self) -> RootReader:
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()

    def resolve(self, filename: str) -> Path:
        """The local path of ``filename`` (relative names are taken from ``basedir``)."""
        return self.basedir / Path(filename)

    def _open(self, filename: str, where: str) -> Any:
        if "://" in filename:
            raise SpecError(f"{where}: InputFile {filename!r} is remote; only local files are read")
        path = self.resolve(filename)
        handle = self._files.get(path)
        if handle is None:
            if not path.is_file():
                raise SpecError(f"{where}: InputFile {filename!r} not found (looked for {path})")
            try:
                handle = self._uproot.open(path)
            except Exception as exc:
                raise SpecError(
                    f"{where}: cannot read ROOT file {path}: {type(exc).__name__}: {exc}"
                ) from None
            self._files[path] = handle
        return handle

    def read(self, filename: str, histopath: str, histoname: str, *, where: str) -> Histogram:
        """The histogram ``histopath/histoname`` in ``filename``; ``where`` names the element."""
        handle = self._open(filename, where)
        folder = histopath.strip("/")
        key = f"{folder}/{histoname}" if folder else histoname
        try:
            obj = handle[key]
        except Exception:
            raise SpecError(
                f"{where}: no histogram {key!r} in ROOT file {self.resolve(filename)}"
            ) from None
        if not hasattr(obj, "values") or not hasattr(obj, "variances"):
            raise SpecError(
                f"{where}: {key!r} in {self.resolve(filename)} is a {type(obj).__name__}, "
                "not a histogram"
            )
        values = np.asarray(obj.values(flow=False), dtype=float)
        if obj.weighted:
            variances = np.asarray(obj.variances(flow=False), dtype=float)
        else:  # no Sumw2: ROOT's bin error is sqrt(|content|)
            variances = np.abs(values)
        errors = np.sqrt(variances).ravel().tolist()
        return Histogram(values.ravel().tolist(), errors, values.ndim)


def write_root_file(
    path: Path,
    histograms: Mapping[str, tuple[Sequence[float], Sequence[float] | None]],
) -> None:
    """Write 1-D float64 histograms (name -> (contents, errors or None)) to a new ROOT file.

    Bins are numbered 0..n on the x axis; errors, when given, are stored as Sumw2 so that
    ROOT and hfx read them back exactly.
    """
    uproot = require("uproot")
    from uproot.writing.identify import to_TAxis, to_TH1x

    with uproot.recreate(path) as out:
        for name, (contents, errors) in histograms.items():
            values = np.asarray(contents, dtype=np.float64)
            nbins = len(values)
            data = np.zeros(nbins + 2)
            data[1:-1] = values
            if errors is not None:
                sumw2 = np.zeros(nbins + 2)
                sumw2[1:-1] = np.square(np.asarray(errors, dtype=np.float64))
            else:
                sumw2 = np.zeros(0)
            centres = np.arange(nbins) + 0.5
            hist = to_TH1x(
                fName=name,
                fTitle=name,
                data=data,
                fEntries=float(nbins),
                fTsumw=float(values.sum()),
                fTsumw2=float(sumw2.sum()) if errors is not None else float(values.sum()),
                fTsumwx=float((values * centres).sum()),
                fTsumwx2=float((values * centres**2).sum()),
                fSumw2=sumw2,
                fXaxis=to_TAxis("xaxis", "", nbins, 0.0, float(nbins)),
            )
            out[name] = hist
