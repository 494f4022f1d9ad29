"""Extract untrusted tar and zip archives without letting them escape their directory.

Only regular files and directories are written.  Members with absolute names, ``..``
components, links of any kind, device files or FIFOs are refused, as are archives with
more members or more bytes than the limits allow.  Declared sizes are checked before a
member is written and the bytes actually produced are counted while writing, so an
archive that lies about its sizes is caught too.  The tar stream itself (headers
included) is read through a counter, so a decompression bomb hidden in a header cannot
exhaust memory.

The caller extracts into a fresh, private directory and moves it into place only on
success; on error that directory is simply deleted.
"""

from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import os
import stat
import tarfile
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from hfx.errors import HfxError

CHUNK = 1 << 20
BLOCK = 512
# tarfile reads a pax or GNU long-name header in one piece; nothing legitimate is this big.
MAX_SINGLE_READ = 16 << 20

# The magic bytes that tell the formats apart (names alone are not trusted).
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_COMPRESSED_TAR = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
)


class ArchiveError(HfxError):
    """An archive that is corrupt, truncated, too large or unsafe to extract."""


@dataclass(frozen=True)
class Limits:
    """How much an archive may unpack to: total bytes of file contents and number of members."""

    max_bytes: int
    max_members: int

    def __post_init__(self) -> None:
        if self.max_bytes < 0 or self.max_members < 0:
            raise ValueError("archive limits must not be negative")


@dataclass(frozen=True)
class Extracted:
    """What an extraction wrote: the archive format, file paths (relative, '/'), total bytes."""

    format: str
    files: tuple[str, ...]
    nbytes: int


def detect_format(path: str | os.PathLike[str]) -> str | None:
    """``"zip"``, ``"tar"``, ``"tar.gz"``, ``"tar.bz2"``, ``"tar.xz"``, or None, from content."""
    with open(path, "rb") as fh:
        head = fh.read(BLOCK)
    if head.startswith(_ZIP_MAGIC):
        return "zip"
    for magic, name in _COMPRESSED_TAR:
        if head.startswith(magic):
            return {"gzip": "tar.gz", "bzip2": "tar.bz2", "xz": "tar.xz"}[name]
    if head[257:262] == b"ustar":
        return "tar"
    return None


def member_parts(name: str, source: str | None) -> tuple[str, ...]:
    """The path components of member ``name``; refuse names that could leave the directory.

    Backslashes count as separators (zip files made on Windows use them), so ``..\\x`` is
    refused as well.  ``""`` and ``"."`` components are dropped.
    """
    if "\x00" in name:
        raise ArchiveError(f"member {name!r} has a NUL character in its name", source=source)
    unified = name.replace("\\", "/")
    if unified.startswith("/") or (len(unified) >= 2 and unified[1] == ":"):
        raise ArchiveError(
            f"member {name!r} has an absolute path; refusing to extract it", source=source
        )
    parts = tuple(part for part in unified.split("/") if part not in ("", "."))
    if ".." in parts:
        raise ArchiveError(
            f"member {name!r} has a '..' component and would leave the target directory",
            source=source,
        )
    return parts


class _Writer:
    """Writes members under ``root``, enforcing the limits on count and bytes."""

    def __init__(self, root: Path, source: str | None, limits: Limits) -> None:
        self.root = root
        self.source = source
        self.limits = limits
        self.members = 0
        self.declared = 0
        self.written = 0
        self.files: dict[str, None] = {}

    def error(self, message: str) -> ArchiveError:
        return ArchiveError(message, source=self.source)

    def count(self, name: str) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise self.error(
                f"archive has more than {self.limits.max_members} members "
                f"(at {name!r}); raise the member limit if it is genuine"
            )

    def declare(self, name: str, size: int) -> None:
        self.declared += size
        if size < 0 or self.declared > self.limits.max_bytes:
            raise self.error(
                f"member {name!r} ({format_size(size)}) takes the archive over the size limit "
                f"of {format_size(self.limits.max_bytes)}; raise the limit if it is genuine"
            )

    def directory(self, name: str, parts: tuple[str, ...]) -> None:
        if not parts:
            return
        try:
            self.root.joinpath(*parts).mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise self.error(f"member {name!r} clashes with a file of the same name") from None
        except OSError as exc:
            reason = _reason(exc)
            raise self.error(f"cannot create directory for member {name!r}: {reason}") from None

    def file(
        self,
        name: str,
        parts: tuple[str, ...],
        stream: IO[bytes],
        size: int,
        mode: int,
        mtime: float | None,
    ) -> None:
        if not parts:
            raise self.error(f"member {name!r} is a file without a name")
        target = self.root.joinpath(*parts)
        self.directory(name, parts[:-1])
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(target, flags | getattr(os, "O_CLOEXEC", 0), 0o600)
        except (IsADirectoryError, NotADirectoryError, FileExistsError):
            raise self.error(f"member {name!r} clashes with a directory of the same name") from None
        except OSError as exc:
            raise self.error(f"cannot write member {name!r}: {_reason(exc)}") from None
        got = 0
        with os.fdopen(fd, "wb") as out:
            while True:
                with _reading(name, self.source):
                    chunk = stream.read(CHUNK)
                if not chunk:
                    break
                got += len(chunk)
                self.written += len(chunk)
                if got > size:
                    raise self.error(f"member {name!r} holds more bytes than it declares ({size})")
                if self.written > self.limits.max_bytes:
                    raise self.error(
                        f"archive unpacks to more than the size limit of "
                        f"{format_size(self.limits.max_bytes)} (at member {name!r})"
                    )
                try:
                    out.write(chunk)
                except OSError as exc:
                    raise self.error(f"cannot write member {name!r}: {_reason(exc)}") from None
            if hasattr(os, "fchmod"):
                with contextlib.suppress(OSError):
                    os.fchmod(out.fileno(), 0o755 if mode & 0o100 else 0o644)
        if got != size:
            raise self.error(f"member {name!r} is truncated ({got} of {size} bytes)")
        if mtime is not None:
            with contextlib.suppress(OSError, OverflowError, ValueError):
                os.utime(target, (mtime, mtime))
        self.files["/".join(parts)] = None


@contextlib.contextmanager
def _reading(member: str | None, source: str | None) -> Iterator[None]:
    """Turn the many ways a damaged archive fails to decode into one ArchiveError."""
    try:
        yield
    except ArchiveError:
        raise
    except (
        tarfile.TarError,
        zipfile.BadZipFile,
        EOFError,
        zlib.error,
        lzma.LZMAError,
        OSError,
        ValueError,
        NotImplementedError,
    ) as exc:
        where = f" at member {member!r}" if member else ""
        detail = str(exc) or type(exc).__name__
        raise ArchiveError(
            f"archive is truncated or corrupt{where}: {detail}", source=source
        ) from None


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def format_size(nbytes: int) -> str:
    """``nbytes`` for people: ``512 B``, ``1.5 MiB``."""
    if abs(nbytes) < 1024:
        return f"{nbytes} B"
    value = float(nbytes)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if abs(value) < 1024 or unit == "GiB":
            break
    return f"{value:.1f} {unit}"


class _LimitedReader:
    """A read-only, seekable view of a (decompressed) stream that stops at ``limit`` bytes."""

    def __init__(self, raw: io.BufferedIOBase, limit: int, source: str | None) -> None:
        self.raw = raw
        self.limit = limit
        self.source = source

    def _too_big(self) -> ArchiveError:
        return ArchiveError(
            f"archive stream is larger than the size limit allows ({format_size(self.limit)})",
            source=self.source,
        )

    def read(self, size: int = -1) -> bytes:
        pos = self.raw.tell()
        if size is None or size < 0:
            size = self.limit - pos + 1
        if size > MAX_SINGLE_READ:
            raise ArchiveError(
                f"archive has a header of {format_size(size)}; refusing to read it",
                source=self.source,
            )
        if pos + size > self.limit + 1:
            size = self.limit - pos + 1
        data = self.raw.read(size)
        if pos + len(data) > self.limit:
            raise self._too_big()
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence == os.SEEK_SET and offset > self.limit:
            raise self._too_big()
        return self.raw.seek(offset, whence)

    def tell(self) -> int:
        return self.raw.tell()

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True


def _open_tar_stream(path: Path, fmt: str) -> io.BufferedIOBase:
    # every opener here gives a BufferedIOBase (GzipFile is not typed as an IO[bytes])
    if fmt == "tar.gz":
        return gzip.open(path, "rb")
    if fmt == "tar.bz2":
        return bz2.open(path, "rb")
    if fmt == "tar.xz":
        return lzma.open(path, "rb")
    return open(path, "rb")


def _open_tar(reader: Any, source: str | None) -> tarfile.TarFile:
    with _reading(None, source):
        return tarfile.open(fileobj=reader, mode="r:")


def _extract_tar(path: Path, fmt: str, writer: _Writer) -> None:
    limits = writer.limits
    # Headers, padding and the end-of-archive blocks on top of the file contents.
    stream_limit = limits.max_bytes + 6 * BLOCK * (limits.max_members + 1) + 20 * BLOCK
    source = writer.source
    with _open_tar_stream(path, fmt) as raw:
        reader: Any = _LimitedReader(raw, stream_limit, source)
        with _open_tar(reader, source) as tar:
            members = iter(tar)
            while True:
                with _reading(None, source):
                    info = next(members, None)
                if info is None:
                    break
                _extract_tar_member(tar, info, writer)
            _check_tar_end(tar, reader, fmt, source)


def _extract_tar_member(tar: tarfile.TarFile, info: tarfile.TarInfo, writer: _Writer) -> None:
    name = info.name
    writer.count(name)
    parts = member_parts(name, writer.source)
    if info.issym() or info.islnk():
        kind = "symbolic" if info.issym() else "hard"
        raise writer.error(
            f"member {name!r} is a {kind} link (to {info.linkname!r}); "
            "archives with links are not extracted"
        )
    if info.isdir():
        writer.directory(name, parts)
        return
    if not info.isreg():
        raise writer.error(f"member {name!r} is a device, FIFO or other special file; refusing it")
    writer.declare(name, info.size)
    with _reading(name, writer.source):
        stream = tar.extractfile(info)
    if stream is None:  # pragma: no cover - isreg() members always have a stream
        raise writer.error(f"member {name!r} has no data")
    with stream:
        writer.file(name, parts, stream, info.size, info.mode, float(info.mtime))


def _check_tar_end(tar: tarfile.TarFile, reader: Any, fmt: str, source: str | None) -> None:
    """tarfile ends quietly at a short or garbled header; demand the end-of-archive block."""
    with _reading(None, source):
        reader.seek(tar.offset)
        block = reader.read(BLOCK)
        if len(block) < BLOCK:
            raise ArchiveError(
                "archive is truncated: it ends without the end-of-archive marker", source=source
            )
        if block != b"\0" * BLOCK:
            raise ArchiveError(
                f"archive is corrupt: bad tar header at byte {tar.offset}", source=source
            )
        if fmt != "tar":
            # Read the rest so the decompressor checks the stream's length and checksum.
            while reader.read(CHUNK):
                pass


def _zip_unix_mode(info: zipfile.ZipInfo) -> int:
    return (info.external_attr >> 16) & 0xFFFF


def _extract_zip(path: Path, writer: _Writer) -> None:
    source = writer.source
    with _reading(None, source):
        archive = zipfile.ZipFile(path)
    with archive:
        infos = archive.infolist()
        limits = writer.limits
        if len(infos) > limits.max_members:
            raise writer.error(
                f"archive has {len(infos)} members, more than the limit of {limits.max_members}; "
                "raise the member limit if it is genuine"
            )
        for info in infos:
            member_parts(info.filename, source)
        declared = sum(info.file_size for info in infos)
        if declared > limits.max_bytes:
            biggest = max(infos, key=lambda info: info.file_size)
            raise writer.error(
                f"archive declares {format_size(declared)} of contents (largest member "
                f"{biggest.filename!r}, {format_size(biggest.file_size)}), more than the size "
                f"limit of {format_size(limits.max_bytes)}; raise the limit if it is genuine"
            )
        for info in infos:
            _extract_zip_member(archive, info, writer)


def _extract_zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, writer: _Writer) -> None:
    name = info.filename
    writer.count(name)
    parts = member_parts(name, writer.source)
    if parts and parts[0] == "__MACOSX":  # resource forks added by macOS; not content
        return
    mode = _zip_unix_mode(info)
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        raise writer.error(
            f"member {name!r} is a symbolic link; archives with links are not extracted"
        )
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise writer.error(f"member {name!r} is a device, FIFO or other special file; refusing it")
    if info.flag_bits & 0x1:
        raise writer.error(f"member {name!r} is encrypted; cannot extract it")
    if info.is_dir() or kind == stat.S_IFDIR:
        writer.directory(name, parts)
        return
    writer.declare(name, info.file_size)
    try:
        mtime: float | None = time.mktime((*info.date_time, 0, 0, -1))
    except (OverflowError, ValueError):
        mtime = None
    with _reading(name, writer.source):
        stream = archive.open(info)
    with stream:
        writer.file(name, parts, stream, info.file_size, mode, mtime)


def extract(
    archive: str | os.PathLike[str],
    destination: str | os.PathLike[str],
    *,
    limits: Limits,
    source: str | None = None,
) -> Extracted:
    """Extract ``archive`` (tar, tar.gz/bz2/xz or zip, told apart by content) into
    ``destination``, an existing empty directory the caller owns.

    Raises :class:`ArchiveError` naming ``source`` (e.g. the URL) and the member at fault.
    On error ``destination`` is left partly written: the caller deletes it.
    """
    path = Path(archive)
    root = Path(destination)
    fmt = detect_format(path)
    if fmt is None:
        raise ArchiveError(
            "not a tar, tar.gz or zip archive (its first bytes match none of them)", source=source
        )
    writer = _Writer(root, source, limits)
    if fmt == "zip":
        _extract_zip(path, writer)
    else:
        _extract_tar(path, fmt, writer)
    if not writer.files:
        raise ArchiveError("archive contains no files", source=source)
    return Extracted(format=fmt, files=tuple(writer.files), nbytes=writer.written)


__all__ = ["ArchiveError", "Extracted", "Limits", "detect_format", "extract", "format_size"]
