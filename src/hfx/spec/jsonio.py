"""Reading and writing JSON files with errors that name the file and the place."""

from __future__ import annotations

import json
import os
import pickle
import stat
import sys
import tempfile
from pathlib import Path
from typing import IO, Any, TypeVar

from hfx.errors import HfxError, SpecError

__all__ = [
    "PathLike",
    "copy_json",
    "dumps",
    "load_json",
    "new_file_mode",
    "parse_json",
    "source_name",
    "write_json_atomic",
    "write_text_atomic",
]

PathLike = str | os.PathLike[str]
_T = TypeVar("_T")

try:
    import orjson as _orjson
except ImportError:  # pragma: no cover - a platform without an orjson wheel
    _orjson = None  # type: ignore[assignment]


def source_name(path: PathLike | IO[str]) -> str:
    """A short name for ``path`` to use in messages (``<stdin>`` for ``-``)."""
    if isinstance(path, (str, os.PathLike)):
        return "<stdin>" if str(path) == "-" else str(path)
    return getattr(path, "name", "<stream>")


def parse_json(text: str | bytes, *, source: str = "<string>") -> Any:
    """Parse JSON text; a syntax error names ``source``, the line and the column.

    orjson (a dependency; 2.5-3x faster than the standard library on published workspaces)
    parses first.  Whatever it refuses (NaN or infinite literals, which validation then
    reports with their place; a byte-order mark; invalid UTF-8; deep nesting) goes through
    the standard library, which accepts it or raises the located error.  One difference:
    an integer literal beyond 64 bits comes back as a float from orjson.
    """
    if _orjson is not None:
        try:
            return _orjson.loads(text)
        except _orjson.JSONDecodeError:
            pass
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SpecError(f"not UTF-8 text (byte {exc.start})", source=source) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(
            f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", source=source
        ) from None
    except RecursionError:
        raise SpecError("JSON nested too deeply", source=source) from None


def load_json(path: PathLike | IO[str]) -> Any:
    """Load JSON from a path, ``-`` (stdin) or an open text stream."""
    source = source_name(path)
    if isinstance(path, (str, os.PathLike)):
        if str(path) == "-":
            return parse_json(sys.stdin.read(), source=source)
        try:
            data = _read_bytes(path)
        except FileNotFoundError:
            raise SpecError("no such file", source=source) from None
        except IsADirectoryError:
            raise SpecError("is a directory, expected a JSON file", source=source) from None
        except OSError as exc:
            raise SpecError(f"cannot read file: {exc.strerror}", source=source) from None
        return parse_json(data, source=source)
    return parse_json(path.read(), source=source)


def _read_bytes(path: PathLike) -> bytes:
    """The whole file at ``path``: by file descriptor, where a buffered file object (or
    pathlib's) takes twice as long to open and read a workspace-sized file."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        parts = [os.read(fd, os.fstat(fd).st_size + 1)]  # (all of a regular file)
        while parts[-1]:  # until the end of a file that grew, or of a pipe
            parts.append(os.read(fd, 1 << 20))
    finally:
        os.close(fd)
    return b"".join(parts)


def copy_json(obj: _T) -> _T:
    """Deep copy of JSON-like data (dicts, lists, scalars); several times faster than deepcopy."""
    copied: _T = pickle.loads(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))
    return copied


def dumps(obj: Any, *, indent: int | None = 2, sort_keys: bool = False) -> str:
    """Serialise ``obj`` (numpy scalars and arrays included) as JSON text."""
    return json.dumps(obj, indent=indent, sort_keys=sort_keys, default=_to_builtin)


def _to_builtin(obj: Any) -> Any:
    tolist = getattr(obj, "tolist", None)
    if tolist is not None:
        return tolist()
    raise TypeError(f"cannot serialise {type(obj).__name__} as JSON")


def write_json_atomic(path: PathLike, obj: Any, *, indent: int | None = 2) -> None:
    """Write ``obj`` to ``path`` so that the file is either complete or untouched."""
    text = dumps(obj, indent=indent) + "\n"
    write_text_atomic(path, text)


def new_file_mode(*, directory: bool = False) -> int:
    """The permissions ``open()`` (``mkdir`` for a directory) gives a new file: 0o666
    (0o777) less the process umask; ``tempfile`` creates its files and folders 0o600/0o700."""
    mask = os.umask(0o077)
    os.umask(mask)
    return (0o777 if directory else 0o666) & ~mask


def write_text_atomic(path: PathLike, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path`` and rename it into place.

    The file gets the permissions a plain ``open(path, "w")`` would give it: those of the
    file it replaces, else 0o666 less the umask.  A symbolic link is written through, a
    device or a pipe (``/dev/stdout``) written directly.  Errors name ``path``, not the
    temporary file.
    """
    name = str(path)
    try:
        mode = os.stat(path).st_mode
    except OSError:
        mode = None
    if mode is not None and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        _write_special(path, text, name)  # a device or a pipe, e.g. /dev/stdout
        return
    target = Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    if not directory.is_dir():
        problem = "is not a folder" if directory.exists() else "does not exist"
        raise HfxError(f"cannot write: {str(directory)!r} {problem}", source=name)
    if target.is_dir():
        raise HfxError("cannot write: is a directory", source=name)
    try:
        mode = stat.S_IMODE(target.stat().st_mode) if target.is_file() else new_file_mode()
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise HfxError(f"cannot write: {exc.strerror or exc}", source=name) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            if hasattr(os, "fchmod"):
                os.fchmod(fh.fileno(), mode)
            fh.write(text)
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise HfxError(f"cannot write: {exc.strerror or exc}", source=name) from None
        raise


def _write_special(target: PathLike, text: str, name: str) -> None:
    try:
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise HfxError(f"cannot write: {exc.strerror or exc}", source=name) from None
