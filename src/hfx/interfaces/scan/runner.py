"""``hfx.scan``: CLs (and upper limits) at every signal point of a grid, on any executor.

The points are cut into chunks that share one background; chunks go to the executor
(serial, process pool, Dask) and their records are appended to the output file as they
come back.  A rerun reads that file and skips the points already done with the same
patch, background and settings; ``force=True`` computes everything again.
"""

from __future__ import annotations

import concurrent.futures
import math
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hfx.errors import HfxError, HfxWarning, PatchError
from hfx.interfaces.scan.executors import SerialExecutor, executor_workers, stop_executor
from hfx.interfaces.scan.points import ScanPoint, ScanPoints, collect_points
from hfx.interfaces.scan.records import RecordWriter, compact, latest_by_name, read_records
from hfx.interfaces.scan.worker import (
    Chunk,
    ScanSettings,
    compute_chunk,
    pack_workspace,
    point_digest,
)
from hfx.spec.jsonio import PathLike
from hfx.spec.patches import Patch, PatchSet
from hfx.spec.workspace import Workspace

__all__ = ["ScanResult", "scan"]

# Points per task at most: a task's fixed cost (unpacking the background) is ~4 ms on a
# 70-parameter workspace, against ~60 ms for a CLs and ~0.5 s for an upper limit, so small
# tasks cost little and let results stream back (a kill loses at most one task per worker).
_MAX_CHUNK = 4
_MAX_CHUNK_LIMITS = 1
_CHUNKS_PER_WORKER = 4  # enough tasks that a worker with slow points does not hold the rest


@dataclass(frozen=True)
class ScanResult:
    """The records of a scan (one per point, in the inputs' order) and what was done."""

    labels: tuple[str, ...]
    records: tuple[dict[str, Any], ...]
    computed: int
    skipped: int
    seconds: float

    @property
    def failed(self) -> int:
        return sum(1 for r in self.records if r.get("status") != "ok")

    def to_dict(self) -> dict[str, Any]:
        return {
            "labels": list(self.labels),
            "points": len(self.records),
            "computed": self.computed,
            "skipped": self.skipped,
            "failed": self.failed,
            "seconds": self.seconds,
            "records": [dict(r) for r in self.records],
        }


def _background(background: Workspace | Mapping[str, Any] | PathLike) -> Workspace:
    if isinstance(background, Workspace):
        return background
    if isinstance(background, Mapping):
        return Workspace(background)
    return Workspace.load(background)


def _sources(patches: Any) -> list[Any]:
    if isinstance(patches, (PatchSet, Patch, str)) or hasattr(patches, "__fspath__"):
        return [patches]
    return list(patches)


def _chunks(
    todo: list[ScanPoint], workers: int, chunk_size: int | None, limits: bool
) -> list[list[ScanPoint]]:
    """Split ``todo`` into chunks: in order for one worker; for several, each chunk takes
    every k-th point, so that neighbouring points (of similar cost) spread over them."""
    if chunk_size is None:
        most = _MAX_CHUNK_LIMITS if limits else _MAX_CHUNK
        chunk_size = max(1, min(most, math.ceil(len(todo) / (_CHUNKS_PER_WORKER * workers))))
    count = max(1, math.ceil(len(todo) / chunk_size))
    if workers == 1:
        return [todo[i : i + chunk_size] for i in range(0, len(todo), chunk_size)]
    return [todo[i::count] for i in range(count) if todo[i::count]]


def _done_before(
    output: PathLike | None, digests: Mapping[str, str], force: bool
) -> dict[str, dict[str, Any]]:
    """Records of the output file that this scan can keep: status ok, same digest."""
    if output is None or force:
        return {}
    if not Path(output).exists():
        return {}
    previous = latest_by_name(read_records(output))
    return {
        name: record
        for name, record in previous.items()
        if record.get("status") == "ok" and digests.get(name) == record.get("digest")
    }


def scan(
    background: Workspace | Mapping[str, Any] | PathLike,
    patches: PatchSet | Patch | PathLike | Iterable[PatchSet | Patch | PathLike],
    *,
    executor: concurrent.futures.Executor | None = None,
    output: PathLike | None = None,
    test_poi: float = 1.0,
    upper_limit: bool = False,
    level: float = 0.05,
    measurement: str | None = None,
    poi_bounds: tuple[float, float] | None = None,
    engine: str = "auto",
    force: bool = False,
    verify: bool = True,
    chunk_size: int | None = None,
    progress: bool = False,
    on_record: Callable[[dict[str, Any]], None] | None = None,
) -> ScanResult:
    """CLs at POI ``test_poi`` (observed and the expected band) at every signal point, and
    with ``upper_limit=True`` the upper limits at CLs = ``level``.

    ``background`` is the background-only workspace (a Workspace, a spec or a file);
    ``patches`` a PatchSet, a patch, a patchset file, a HEPData pallet folder, JSON Patch
    files, or a list of these.  ``executor`` is any :class:`concurrent.futures.Executor`
    (default: this process), e.g. a ``ProcessPoolExecutor`` or Dask's
    ``Client.get_executor()``.  With ``output`` (a ``.jsonl`` file) each record is appended
    as it is done, points already there with the same digest are skipped (unless
    ``force``), and the file ends with one line per point.  ``verify`` checks the patchsets'
    digests against ``background``.  ``poi_bounds`` replaces the POI's bounds in the fits
    (e.g. to reach limits above the measurement's bound).  ``on_record`` is called with each
    new record.  A point whose CLs is done but whose limit fails keeps its CLs values in
    its "failed" record.
    """
    start = time.perf_counter()
    workspace = _background(background)
    collected: ScanPoints = collect_points(_sources(patches))
    if verify:
        for patchset in collected.patchsets:
            try:
                patchset.verify(workspace)
            except PatchError as exc:
                raise PatchError(
                    f"{exc.message}; verify=False (hfx scan --no-verify) skips this check",
                    source=exc.source,
                    pointer=exc.pointer,
                ) from None
    settings = ScanSettings(
        test_poi=float(test_poi),
        upper_limit=bool(upper_limit),
        level=float(level),
        measurement=measurement,
        engine=engine,
        poi_bounds=None if poi_bounds is None else (float(poi_bounds[0]), float(poi_bounds[1])),
    )
    if not (0.0 < settings.level < 1.0):
        raise HfxError(f"level must lie between 0 and 1, not {level!r}")
    if settings.poi_bounds is not None:
        low, high = settings.poi_bounds
        if not low < high:
            raise HfxError(f"poi_bounds: the lower bound {low:g} must lie below the upper {high:g}")
        if not low <= settings.test_poi <= high:
            raise HfxError(
                f"the tested POI value {settings.test_poi:g} lies outside poi_bounds "
                f"[{low:g}, {high:g}]"
            )
    workspace.get_measurement(measurement)  # an unknown measurement fails here, once
    background_digest = workspace.digest("sha256")
    digests = {p.name: point_digest(p, background_digest, settings) for p in collected.points}
    done = _done_before(output, digests, force)
    todo = [p for p in collected.points if p.name not in done]
    records: dict[str, dict[str, Any]] = dict(done)

    runner = executor if executor is not None else SerialExecutor()
    packed = pack_workspace(workspace)
    chunks = [
        Chunk(packed, background_digest, collected.labels, tuple(part), settings)
        for part in _chunks(todo, executor_workers(runner), chunk_size, settings.upper_limit)
    ]
    writer = RecordWriter(output) if output is not None and todo else None
    from hfx.infer.progress import ProgressBar

    try:
        with ProgressBar(progress).task(
            "scan", len(collected.points), completed=len(done)
        ) as advance:
            for part in _run(runner, chunks):
                for record in part:
                    record["test_poi"] = settings.test_poi
                    records[record["name"]] = record
                    if writer is not None:
                        writer.write(record)
                    if on_record is not None:
                        on_record(record)
                advance(len(part))
    except BaseException:
        if executor is None:
            stop_executor(runner)
        raise
    finally:
        if writer is not None:
            writer.close()
    if output is not None and todo:
        compact(output, [p.name for p in collected.points])
    ordered = tuple(records[p.name] for p in collected.points)
    failed = sum(1 for r in ordered if r.get("status") != "ok")
    if failed:
        warnings.warn(
            f"{failed} of {len(ordered)} points failed (their records say why)",
            HfxWarning,
            stacklevel=2,
        )
    return ScanResult(
        labels=collected.labels,
        records=ordered,
        computed=len(todo),
        skipped=len(done),
        seconds=time.perf_counter() - start,
    )


def _run(
    executor: concurrent.futures.Executor, chunks: list[Chunk]
) -> Iterable[list[dict[str, Any]]]:
    """The chunks' records as each chunk finishes.  A chunk whose task failed as a whole
    (a worker process killed, a cluster gone) gives "failed" records for its points; on an
    interrupt the pending chunks are cancelled."""
    if isinstance(executor, SerialExecutor):
        for chunk in chunks:
            yield compute_chunk(chunk)
        return
    futures = {executor.submit(compute_chunk, chunk): chunk for chunk in chunks}
    try:
        for future in concurrent.futures.as_completed(futures):
            try:
                yield future.result()
            except Exception as exc:
                yield _failed_chunk(futures[future], exc)
    finally:
        for future in futures:
            future.cancel()


def _failed_chunk(chunk: Chunk, exc: BaseException) -> list[dict[str, Any]]:
    message = " ".join(str(exc).split()) or "no message"
    error = f"the task of this point failed: {type(exc).__name__}: {message}"
    return [
        {
            "name": point.name,
            "values": list(point.values),
            "labels": list(chunk.labels),
            "digest": point_digest(point, chunk.background_digest, chunk.settings),
            "status": "failed",
            "error": error,
        }
        for point in chunk.points
    ]
