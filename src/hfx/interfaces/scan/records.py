"""Scan results as JSON lines: one record per signal point, appended so that a scan can be
stopped at any moment and resumed.

A record is ``{"name", "values", "labels", "digest", "status": "ok" | "failed", ...}`` with
``"CLs_obs"``, ``"CLs_exp"`` (and ``"upper_limit": {"obs", "exp"}``) when ok and
``"error"`` (one line) when failed.  ``digest`` fingerprints the patch, the background and
the settings: a record counts as done for a later run only when its digest matches.

Each line is written with one ``write`` system call on a file opened for appending, so a
SIGINT, SIGTERM or ``kill -9`` leaves whole lines only; a line cut short by anything worse
(a full disk, a power cut) is the file's last line, and is dropped on reading.  Later lines
win over earlier ones of the same name, and :func:`compact` rewrites the file atomically
with one line per point once a scan is complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from hfx.errors import HfxError, HfxWarning
from hfx.spec.jsonio import PathLike, new_file_mode, source_name, write_text_atomic

__all__ = ["RecordWriter", "compact", "dumps_record", "read_records"]


def dumps_record(record: Mapping[str, Any]) -> str:
    """One record as one line of JSON (no NaN or infinity: JSON has none)."""
    return json.dumps(dict(record), separators=(",", ":"), allow_nan=False) + "\n"


def _parse_lines(text: str, source: str) -> Iterator[dict[str, Any]]:
    lines = text.split("\n")
    # the text after the last newline is a torn line (or nothing): never a record
    for number, line in enumerate(lines[:-1], start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            warnings.warn(
                f"{source}: line {number} is not JSON ({exc.msg}); it is ignored",
                HfxWarning,
                stacklevel=3,
            )
            continue
        if not isinstance(record, dict) or not isinstance(record.get("name"), str):
            warnings.warn(
                f"{source}: line {number} is not a scan record (an object with a 'name'); "
                "it is ignored",
                HfxWarning,
                stacklevel=3,
            )
            continue
        yield record


def read_records(path: PathLike) -> list[dict[str, Any]]:
    """Every whole record of a scan file (``-`` reads stdin), in file order.

    A last line without its newline (a write cut short) is left out.
    """
    source = source_name(path)
    try:
        if str(path) == "-":
            import sys

            text = sys.stdin.read()
            if text and not text.endswith("\n"):
                text += "\n"  # a pipe's last line is whole: the writer closed it
        else:
            text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HfxError("no such file", source=source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HfxError(f"cannot read the scan results: {exc}", source=source) from None
    return list(_parse_lines(text, source))


def latest_by_name(records: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The last record of each name (a later line replaces an earlier one)."""
    latest: dict[str, dict[str, Any]] = {}
    for record in records:
        latest.pop(record["name"], None)  # keep the order of the latest lines
        latest[record["name"]] = dict(record)
    return latest


class RecordWriter:
    """Appends records to a scan file, one ``write`` per line.

    Opening it cuts a torn last line off the file first, so that new lines start on a line
    of their own.
    """

    def __init__(self, path: PathLike):
        self.path = Path(path)
        self.source = source_name(path)
        try:
            self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, new_file_mode())
            self._cut_torn_line()
        except OSError as exc:
            raise HfxError(
                f"cannot write the scan results: {exc.strerror or exc}", source=self.source
            ) from None

    def _cut_torn_line(self) -> None:
        size = os.fstat(self._fd).st_size
        if size == 0:
            return
        with open(self.path, "rb") as handle:
            handle.seek(max(0, size - 65536))
            tail = handle.read()
        if tail.endswith(b"\n"):
            return
        cut = tail.rfind(b"\n")
        keep = size - len(tail) + cut + 1 if cut >= 0 else 0
        if cut < 0 and size > len(tail):  # one torn line longer than what was read
            with open(self.path, "rb") as handle:
                keep = handle.read().rfind(b"\n") + 1
        os.ftruncate(self._fd, keep)

    def write(self, record: Mapping[str, Any]) -> None:
        data = dumps_record(record).encode("utf-8")
        try:
            written = os.write(self._fd, data)
            while written < len(data):  # regular files take it whole; just in case
                written += os.write(self._fd, data[written:])
        except OSError as exc:
            raise HfxError(
                f"cannot write the scan results: {exc.strerror or exc}", source=self.source
            ) from None

    def close(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def compact(path: PathLike, order: Iterable[str]) -> None:
    """Rewrite ``path`` atomically with the latest record of each point: the names of
    ``order`` first, in that order, then any other names the file holds, as they were."""
    latest = latest_by_name(read_records(path))
    names = [name for name in order if name in latest]
    listed = set(names)
    names += [name for name in latest if name not in listed]
    write_text_atomic(path, "".join(dumps_record(latest[name]) for name in names))
