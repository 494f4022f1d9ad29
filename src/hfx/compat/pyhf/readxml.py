"""``pyhf.readxml``: HistFactory XML + ROOT histograms to a JSON workspace.

Forwards to hfx's one XML reader (:func:`hfx.interfaces.io.xml_import.read_xml`, extra
``xml``), which follows ROOT's ``hist2workspace`` and always validates its result.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

from hfx.errors import HfxError, HfxWarning

__all__ = ["clear_filecache", "parse"]

_log = logging.getLogger(__name__)


def parse(
    configfile: str | os.PathLike[str],
    rootdir: str | os.PathLike[str],
    mounts: Any = None,
    track_progress: bool = False,
    validation_as_error: bool = True,
) -> dict[str, Any]:
    """Read the top-level XML file ``configfile``; its relative paths start at ``rootdir``.

    ``mounts`` (pyhf's path remapping) is not supported: give ``rootdir`` instead.  What
    hfx's reader would warn about (e.g. a Poisson stat-error constraint imported as
    Gaussian) is logged instead, as pyhf does.  ``track_progress`` is accepted and ignored.
    hfx never returns a workspace that is not valid: it raises
    :class:`hfx.errors.SpecError` (caught by ``except pyhf.exceptions.InvalidSpecification``)
    whatever ``validation_as_error`` says.
    """
    from hfx.interfaces.io.xml_import import read_xml

    if mounts:
        raise HfxError(
            "readxml.parse(mounts=...) is not supported by hfx.compat.pyhf: "
            "pass the folder the paths are relative to as rootdir"
        )
    del track_progress, validation_as_error
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", HfxWarning)
        spec = read_xml(Path(configfile), basedir=Path(rootdir))
    for warning in caught:
        if issubclass(warning.category, HfxWarning):
            _log.warning("%s", warning.message)  # pyhf logs what it imports approximately
        else:
            warnings.warn_explicit(
                warning.message, warning.category, warning.filename, warning.lineno
            )
    return spec


def clear_filecache() -> None:
    """Accepted for pyhf compatibility: hfx's reader keeps no cache between calls."""
