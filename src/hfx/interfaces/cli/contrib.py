"""``hfx contrib``: helpers outside the statistics proper (HEPData downloads)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import click

from hfx.interfaces.cli._common import info

_UNITS = MappingProxyType(
    {
        "": 1,
        "b": 1,
        "k": 1 << 10,
        "kib": 1 << 10,
        "kb": 10**3,
        "m": 1 << 20,
        "mib": 1 << 20,
        "mb": 10**6,
        "g": 1 << 30,
        "gib": 1 << 30,
        "gb": 10**9,
        "t": 1 << 40,
        "tib": 1 << 40,
        "tb": 10**12,
    }
)
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*")


if TYPE_CHECKING:
    _IntParamType = click.ParamType[int]
else:  # click.ParamType is generic only from click 8.4 on
    _IntParamType = click.ParamType


class ByteSize(_IntParamType):
    """A size such as ``500M``, ``2GiB`` (powers of 1024) or ``3GB`` (powers of 1000)."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        match = _SIZE.fullmatch(str(value))
        unit = match.group(2).lower() if match else ""
        if match is None or unit not in _UNITS:
            self.fail(f"{value!r} is not a size; try e.g. 500M, 2G, 4GiB or 3GB", param, ctx)
        return int(float(match.group(1)) * _UNITS[unit])


@click.group()
def contrib() -> None:
    """Contributed helpers: download HEPData likelihood archives."""


@contrib.command()
@click.argument("archive_url", metavar="URL")
@click.argument("output_directory", metavar="DIR", type=click.Path(file_okay=True))
@click.option(
    "-f",
    "--force",
    is_flag=True,
    default=False,
    help="Replace DIR if it exists and is not empty (any https host is accepted anyway).",
)
@click.option(
    "-c",
    "--compress",
    is_flag=True,
    default=False,
    help="Keep the archive as downloaded (after checking it) in the file DIR instead of unpacking.",
)
@click.option(
    "--max-size",
    type=ByteSize(),
    default="2GiB",
    show_default=True,
    help="Largest download, and largest total unpacked size, to accept (e.g. 500M, 8GiB).",
)
@click.option(
    "--max-files",
    type=click.IntRange(min=1),
    default=100_000,
    show_default=True,
    help="Refuse archives with more members than this.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    help="Seconds to wait for the server before giving up.",
)
@click.option(
    "--progress/--no-progress",
    default=True,
    help="Show a progress bar on standard error (only when it is a terminal).",
)
@click.option("-v", "--verbose", is_flag=True, default=False, help="List the files written.")
def download(
    archive_url: str,
    output_directory: str,
    force: bool,
    compress: bool,
    max_size: int,
    max_files: int,
    timeout: float,
    progress: bool,
    verbose: bool,
) -> None:
    """Download a HEPData archive from URL and unpack it safely into DIR.

    URL must be https:// (e.g. a HEPData resource DOI); .tar, .tar.gz and .zip archives
    are recognised by their content.  Members with absolute paths, '..', links or device
    files are refused, as are archives over --max-size or --max-files.  DIR appears only
    when everything succeeded; a non-empty DIR is replaced only with --force.

    \b
    Example:
      hfx contrib download https://doi.org/10.17182/hepdata.90607.v3/r3 1Lbb-likelihoods
    """
    from hfx.interfaces.io.archive import format_size
    from hfx.interfaces.io.hepdata import download as fetch_archive

    target = fetch_archive(
        archive_url,
        output_directory,
        force=force,
        compress=compress,
        max_bytes=max_size,
        max_members=max_files,
        timeout=timeout,
        progress=progress,
    )
    files = [target] if target.is_file() else sorted(_files_under(target))
    if verbose:
        for path in files:
            shown = os.path.join(output_directory, os.path.relpath(path, target))
            click.echo(output_directory if path == target else shown)
    nbytes = sum(path.stat().st_size for path in files)
    what = "archive" if compress else f"{len(files)} file{'s' * (len(files) != 1)}"
    info(f"{archive_url}: wrote {what} ({format_size(nbytes)}) to {output_directory}")


def _files_under(root: Path) -> list[Path]:
    found: list[Path] = []
    for parent, _dirs, names in os.walk(root):
        found.extend(Path(parent, name) for name in names)
    return found


__all__ = ["ByteSize", "contrib", "download"]
