"""``hfx scan``: CLs (and upper limits) at every point of a signal grid, on all cores or a
Dask cluster, resumable.

Records stream to stdout as JSON lines, or are appended to ``--output`` as each point is
done; a rerun with the same ``--output`` skips what is already there.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from hfx.interfaces.cli._common import (
    CliFailure,
    _refuse_overwriting_input,
    _register_input,
    info,
    naming,
)
from hfx.interfaces.cli.inference import _show_progress, measurement_option, progress_option

__all__ = ["COMMANDS", "scan"]

EXIT_POINTS_FAILED = 1


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a batch system's stop) ends the scan as Ctrl-C does: workers stopped, the
    output file left with whole lines."""

    def handler(signum: int, frame: Any) -> None:
        # whatever Ctrl-C does here (the hfx command's handler raises its Interrupted)
        on_interrupt = signal.getsignal(signal.SIGINT)
        if callable(on_interrupt):
            on_interrupt(signal.SIGINT, frame)
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (a test runner's worker): leave it alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _executor(kind: str, workers: int, scheduler: str | None, timeout: float) -> Iterator[Any]:
    from hfx.interfaces.scan.executors import dask_executor, process_executor, stop_executor

    if kind == "serial":
        yield None
    elif kind == "process":
        pool = process_executor(workers)
        try:
            yield pool
        except BaseException:
            stop_executor(pool)
            raise
        pool.shutdown(wait=True)
    else:
        with dask_executor(scheduler, workers, timeout=timeout) as executor:
            yield executor


def _inputs(workspace: str, sources: tuple[str, ...]) -> tuple[str, list[str]]:
    """The background workspace and the point sources; a pallet folder alone stands for
    both (its background-only workspace and its patchsets)."""
    from hfx.interfaces.scan.points import find_pallet_workspace

    if Path(workspace).is_dir():
        if sources:
            raise click.UsageError(
                f"{workspace} is a folder: give it alone (a HEPData pallet), or give the "
                "background-only workspace file first"
            )
        with naming(workspace):
            return str(find_pallet_workspace(workspace)), [workspace]
    if not sources:
        raise click.UsageError(
            "no signal points: give a patchset file, a pallet folder or patch files after the "
            "workspace"
        )
    return workspace, list(sources)


@click.command()
@click.argument("workspace", metavar="WORKSPACE")
@click.argument("sources", nargs=-1, metavar="[PATCHSET | PALLET | PATCH ...]")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    help="Append the records to this JSON-lines file as they are done; a rerun skips the "
    "points already there (same patch and settings). Default: stream them to stdout.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: one per core).",
)
@click.option(
    "--executor",
    "kind",
    type=click.Choice(["serial", "process", "dask"]),
    default=None,
    help="Where points run: this process, a local process pool (default with 2+ workers) "
    "or a Dask cluster (extra 'dask'; a local one unless --scheduler).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Address of a running Dask scheduler, e.g. tcp://host:8786 (implies --executor dask).",
)
@click.option(
    "--scheduler-timeout",
    type=click.FloatRange(0, min_open=True),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to try to reach the Dask scheduler.",
)
@click.option("--test-poi", type=float, default=1.0, show_default=True, help="POI value tested.")
@click.option(
    "--upper-limit",
    is_flag=True,
    default=False,
    help="Also the observed and expected upper limits on the POI at each point.",
)
@click.option(
    "--level",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="CLs level of the upper limits.",
)
@click.option(
    "--poi-bounds",
    nargs=2,
    type=float,
    default=None,
    metavar="LOW HIGH",
    help="Bounds of the POI in the fits instead of the measurement's (e.g. to reach upper "
    "limits above its upper bound).",
)
@measurement_option
@click.option(
    "--force", is_flag=True, default=False, help="Compute every point again, even if done."
)
@click.option(
    "--no-verify",
    is_flag=True,
    default=False,
    help="Do not check the patchsets' digests against the workspace.",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(min=1),
    default=None,
    help="Points per task (default: about four tasks per worker, at most 4 points each, 1 "
    "with --upper-limit).",
)
@progress_option
def scan(
    workspace: str,
    sources: tuple[str, ...],
    output: str | None,
    workers: int | None,
    kind: str | None,
    scheduler: str | None,
    scheduler_timeout: float,
    test_poi: float,
    upper_limit: bool,
    level: float,
    poi_bounds: tuple[float, float] | None,
    measurement: str | None,
    force: bool,
    no_verify: bool,
    chunk_size: int | None,
    progress: bool | None,
) -> None:
    """CLs at every signal point of a grid: WORKSPACE is the background-only workspace,
    followed by a HEPData patchset, a pallet folder or JSON Patch files (or give a pallet
    folder alone).

    One JSON line per point: {"name", "values", "labels", "status": "ok" | "failed",
    "CLs_obs", "CLs_exp" [-2σ … +2σ], "upper_limit": {"obs", "exp"} (with --upper-limit),
    "error" (when failed), "digest", "seconds"}.  A point that fails records its error and
    the scan goes on; the exit status is then 1.
    """
    from hfx.interfaces.scan import scan as run_scan
    from hfx.interfaces.scan.records import dumps_record
    from hfx.spec.workspace import Workspace

    background, point_sources = _inputs(workspace, sources)
    if scheduler is not None:
        if kind not in (None, "dask"):
            raise click.UsageError("--scheduler needs --executor dask")
        kind = "dask"
    count = workers or os.cpu_count() or 1
    if kind is None:
        kind = "process" if count > 1 else "serial"
    name = _register_input(background)
    for source in point_sources:
        if not Path(source).is_dir():
            _register_input(source)
    if output is not None:
        _refuse_overwriting_input(output)
        if Path(output).is_dir():
            raise CliFailure(f"{output}: is a folder; --output takes a file")
    with naming(name):
        ws = Workspace.load(background)

    def stream(record: dict[str, Any]) -> None:
        sys.stdout.write(dumps_record(record))
        sys.stdout.flush()

    with (
        _terminate_as_interrupt(),
        _executor(kind, count, scheduler, scheduler_timeout) as executor,
    ):
        result = run_scan(
            ws,
            point_sources,
            executor=executor,
            output=output,
            test_poi=test_poi,
            upper_limit=upper_limit,
            level=level,
            measurement=measurement,
            poi_bounds=poi_bounds,
            force=force,
            verify=not no_verify,
            chunk_size=chunk_size,
            progress=_show_progress(progress),
            on_record=stream if output is None else None,
        )
    if output is not None:
        info(
            f"scan: {len(result.records)} points ({result.computed} computed, "
            f"{result.skipped} done before, {result.failed} failed) in {result.seconds:.1f} s "
            f"-> {output}"
        )
    if result.failed:
        click.get_current_context().exit(EXIT_POINTS_FAILED)


COMMANDS = (scan,)
