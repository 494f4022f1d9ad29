"""Download a HEPData likelihood archive ("pallet") and unpack it safely and atomically.

Everything happens in a private temporary directory next to the target: the archive is
streamed there (with a progress bar on stderr when stderr is a terminal), checked and
extracted (see :mod:`hfx.interfaces.io.archive`), and only then renamed into place.  Any
failure, Ctrl-C included, removes the temporary directory, so the target is either
untouched or complete.

Only ``https://`` URLs are fetched (redirects included); plain ``http://`` is accepted
for the local machine alone, which is what the tests use.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import ssl
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple

from hfx.errors import HfxError
from hfx.interfaces.io.archive import Extracted, Limits, detect_format, extract, format_size

DEFAULT_MAX_BYTES = 2 << 30
DEFAULT_MAX_MEMBERS = 100_000
DEFAULT_TIMEOUT = 60.0
# What HEPData's content negotiation needs to answer a DOI with the file, not a web page.
ACCEPT = "application/x-tar, application/zip"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
CHUNK = 1 << 16


class DownloadError(HfxError):
    """A URL that cannot be fetched, or a target that cannot be written."""


class Fetched(NamedTuple):
    """What :func:`fetch` received: the number of bytes and the announced Content-Type."""

    nbytes: int
    content_type: str


def check_url(url: str) -> None:
    """Refuse anything but ``https://`` (and ``http://`` to the local machine)."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if scheme == "https" and host:
        return
    if scheme == "http" and host in LOCAL_HOSTS:
        return
    raise DownloadError(
        "only https:// URLs are downloaded (plain http:// only from this machine)", source=url
    )


class _HttpsOnlyRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(
        self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        check_url(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener() -> urllib.request.OpenerDirector:
    context = ssl.create_default_context()
    return urllib.request.build_opener(
        _HttpsOnlyRedirects(), urllib.request.HTTPSHandler(context=context)
    )


@contextlib.contextmanager
def _progress_bar(enabled: bool, total: int | None, label: str) -> Iterator[Any]:
    """Yield ``advance(nbytes)``; draws a rich progress bar on stderr if it is a terminal."""
    if enabled:
        from rich.console import Console

        console = Console(stderr=True)
        if console.is_terminal:
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            columns = (
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
            )
            with Progress(*columns, console=console, transient=True) as bar:
                task = bar.add_task(label, total=total)
                yield lambda nbytes: bar.advance(task, nbytes)
            return
    yield lambda nbytes: None


def fetch(
    url: str,
    out: IO[bytes],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool = True,
) -> Fetched:
    """Stream ``url`` into the binary file ``out``; return what arrived.

    Raises :class:`DownloadError` for refused URLs, HTTP errors, connection failures,
    responses larger than ``max_bytes`` and responses shorter than they announced.
    """
    check_url(url)
    request = urllib.request.Request(url, headers={"Accept": ACCEPT, "User-Agent": _agent()})
    try:
        response = _opener().open(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        with exc:
            raise DownloadError(
                f"the server answered HTTP {exc.code} {exc.reason}", source=url
            ) from None
    except urllib.error.URLError as exc:
        raise DownloadError(f"cannot connect: {exc.reason}", source=url) from None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise DownloadError(f"cannot connect: {exc or type(exc).__name__}", source=url) from None
    with response:
        length = _content_length(response)
        if length is not None and length > max_bytes:
            raise DownloadError(
                f"the archive is {format_size(length)}, more than the download limit of "
                f"{format_size(max_bytes)}; raise the limit if it is genuine",
                source=url,
            )
        label = Path(urllib.parse.urlsplit(url).path).name or "download"
        got = 0
        with _progress_bar(progress, length, label) as advance:
            while True:
                try:
                    chunk = response.read(CHUNK)
                except (OSError, http.client.HTTPException) as exc:
                    raise DownloadError(
                        f"the connection failed after {got} bytes: {exc or type(exc).__name__}",
                        source=url,
                    ) from None
                if not chunk:
                    break
                got += len(chunk)
                if got > max_bytes:
                    raise DownloadError(
                        f"the archive is larger than the download limit of "
                        f"{format_size(max_bytes)}; raise the limit if it is genuine",
                        source=url,
                    )
                out.write(chunk)
                advance(len(chunk))
        if length is not None and got < length:
            raise DownloadError(
                f"the download is incomplete: got {got} of {length} bytes", source=url
            )
        content_type = response.headers.get("Content-Type", "")
    if got == 0:
        raise DownloadError(f"the server sent nothing ({content_type or 'no type'})", source=url)
    return Fetched(got, content_type)


def _content_length(response: Any) -> int | None:
    value = response.headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _agent() -> str:
    from hfx import __version__

    return f"hfx/{__version__} (+https://www.hepdata.net)"


def _make_parents(parent: Path) -> list[Path]:
    """Create ``parent`` and any missing ancestors; return the ones created, outermost first."""
    missing = []
    probe = parent
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    missing.reverse()
    parent.mkdir(parents=True, exist_ok=True)
    return missing


def _occupied(target: Path) -> bool:
    """True if ``target`` exists and is anything but an empty directory."""
    if not os.path.lexists(target):
        return False
    if target.is_dir() and not target.is_symlink():
        with os.scandir(target) as entries:
            return next(entries, None) is not None
    return True


def _place(staged: Path, target: Path, scratch: Path) -> None:
    """Rename ``staged`` to ``target``, moving whatever is there into ``scratch`` first."""
    if os.path.lexists(target) and _occupied(target):
        old = scratch / "previous"
        os.replace(target, old)
        try:
            os.replace(staged, target)
        except OSError:
            os.replace(old, target)
            raise
        return
    if os.path.lexists(target) and not staged.is_dir():
        os.rmdir(target)  # an empty directory where an archive file goes
    os.replace(staged, target)


def _single_subdirectory(root: Path) -> Path | None:
    entries = [entry for entry in root.iterdir() if entry.name != "__MACOSX"]
    if len(entries) == 1 and entries[0].is_dir() and not entries[0].is_symlink():
        return entries[0]
    return None


def download(
    url: str,
    directory: str | os.PathLike[str],
    *,
    force: bool = False,
    compress: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_members: int = DEFAULT_MAX_MEMBERS,
    timeout: float = DEFAULT_TIMEOUT,
    progress: bool = True,
) -> Path:
    """Download the archive at ``url`` and unpack it into ``directory``; return its path.

    As ``pyhf contrib download``: tar files (optionally gzip/bzip2/xz compressed) unpack
    as they are; a zip holding a single top-level directory unpacks that directory's
    contents.  With ``compress=True`` the (checked) archive itself is saved at ``directory``.
    An existing non-empty target is replaced only with ``force=True``.  ``max_bytes``
    limits both the download and the total unpacked size, ``max_members`` the number of
    archive members.  Raises :class:`DownloadError` or
    :class:`~hfx.interfaces.io.archive.ArchiveError`; on any error nothing is left behind.
    """
    target = Path(os.path.abspath(directory))
    name = str(directory)
    cwd = Path.cwd()
    if not target.name or target == cwd or target in cwd.parents:
        raise DownloadError(
            "refusing to replace the current directory or one of its parents", source=name
        )
    if compress and target.is_dir() and not target.is_symlink() and _occupied(target):
        raise DownloadError("is a directory; give a file name for the archive", source=name)
    if _occupied(target) and not force:
        what = "is not empty" if target.is_dir() else "exists"
        raise DownloadError(f"{what}; use force (--force) to replace it", source=name)
    limits = Limits(max_bytes=max_bytes, max_members=max_members)
    created = _make_parents(target.parent)
    scratch: Path | None = None
    done = False
    try:
        try:
            scratch = Path(
                tempfile.mkdtemp(
                    prefix=f".{target.name}.", suffix=".hfx-partial", dir=target.parent
                )
            )
        except OSError as exc:
            raise DownloadError(f"cannot create: {exc.strerror or exc}", source=name) from None
        archive = scratch / "archive"
        with open(archive, "wb") as out:
            fetched = fetch(url, out, max_bytes=max_bytes, timeout=timeout, progress=progress)
        if detect_format(archive) is None:
            raise DownloadError(
                f"the server sent {fetched.content_type or 'something'}, not a tar, tar.gz or "
                "zip archive; is this the URL of the archive itself?",
                source=url,
            )
        unpacked = scratch / "unpacked"
        unpacked.mkdir()
        result = extract(archive, unpacked, limits=limits, source=url)
        if _occupied(target) and not force:  # it appeared while we were downloading
            raise DownloadError(
                "appeared meanwhile and is not empty; not replacing it", source=name
            )
        _place(archive if compress else _content_root(unpacked, result), target, scratch)
        done = True
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
        if not done:
            for path in reversed(created):
                with contextlib.suppress(OSError):
                    path.rmdir()
    return target


def _content_root(unpacked: Path, result: Extracted) -> Path:
    if result.format == "zip":
        inner = _single_subdirectory(unpacked)
        if inner is not None:
            return inner
    return unpacked


__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_MEMBERS",
    "DownloadError",
    "Fetched",
    "check_url",
    "download",
    "fetch",
]
