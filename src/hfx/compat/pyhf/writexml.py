"""``pyhf.writexml``: a JSON workspace as HistFactory XML + a ROOT file, in pyhf's layout.

hfx's one XML writer (:func:`hfx.interfaces.io.xml_export.write_xml`, extra ``xml``) makes
the files; this module places them where pyhf's ``writexml`` does: the channel files in
``specdir``, the histograms in ``data_rootdir/data.root``, the DTD beside ``specdir``, and
returns the top-level file's text for the caller to write.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

__all__ = ["writexml"]


def writexml(
    spec: Any,
    specdir: str | os.PathLike[str],
    data_rootdir: str | os.PathLike[str],
    resultprefix: str | os.PathLike[str],
) -> bytes:
    """Write the channel XML files and ``data.root``; return the top-level XML (bytes).

    The paths written into the files are ``specdir``, ``data_rootdir`` and
    ``resultprefix`` as given (relative ones are read from where the XML is read).
    """
    from hfx.interfaces.io.xml_export import DTD_NAME, ROOT_FILE, write_xml

    specdir, data_rootdir, resultprefix = Path(specdir), Path(data_rootdir), Path(resultprefix)
    with tempfile.TemporaryDirectory(prefix="hfx-writexml-") as scratch:
        top_file = write_xml(spec, Path(scratch) / "out", resultprefix=resultprefix.name)
        out = top_file.parent
        old_root, new_root = f"data/{ROOT_FILE}", data_rootdir / ROOT_FILE
        top = top_file.read_text(encoding="utf-8")
        for channel_file in sorted((out / "config").glob("*.xml")):
            text = channel_file.read_text(encoding="utf-8")
            text = text.replace(f"'{DTD_NAME}'", f"'../{DTD_NAME}'")
            text = text.replace(quoteattr(old_root), quoteattr(str(new_root)))
            (specdir / channel_file.name).write_text(text, encoding="utf-8")
            top = top.replace(f">config/{channel_file.name}<", f">{specdir / channel_file.name}<")
        shutil.copyfile(out / "data" / ROOT_FILE, new_root)
        shutil.copyfile(out / "config" / DTD_NAME, specdir.parent / DTD_NAME)
        top = top.replace(
            quoteattr(f"./results/{resultprefix.name}"), quoteattr(str(specdir / resultprefix.name))
        )
    return top.encode("utf-8")
