"""The executors a scan runs on: in this process, a local process pool, or a Dask cluster.

:func:`scan` takes any :class:`concurrent.futures.Executor`; these build the usual ones
and know how to stop them at once when a scan is interrupted.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any

from hfx.errors import HfxError, MissingExtraError

__all__ = [
    "SerialExecutor",
    "dask_executor",
    "executor_workers",
    "process_executor",
    "stop_executor",
]


class SerialExecutor(concurrent.futures.Executor):
    """Runs each task in this process when it is submitted (no pool, no pickling)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except Exception as exc:
            future.set_exception(exc)
        return future


def _quiet_worker() -> None:
    # Ctrl-C reaches the whole process group: the parent stops the scan and the workers;
    # a worker that raised KeyboardInterrupt itself would only print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent()


def _die_with_parent() -> None:
    """On Linux, have the kernel kill this worker when its parent dies (``kill -9`` of the
    scan), rather than leave it computing for no one."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, int(signal.SIGKILL), 0, 0, 0)


def process_executor(
    workers: int, method: str | None = None
) -> concurrent.futures.ProcessPoolExecutor:
    """A pool of ``workers`` processes that leave Ctrl-C to the parent.  ``method``: how
    they start; by default forked where the platform allows (no second start of Python and
    of hfx's imports), else (JAX or PyTorch loaded) from a fork server.  A process with
    threads of its own (a server) asks for "forkserver"."""
    if method is None:
        # (a process running JAX's or PyTorch's threads must not fork: they would deadlock)
        threaded = any(name in sys.modules for name in ("jax", "torch"))
        if sys.platform.startswith("linux"):
            method = "forkserver" if threaded else "fork"
    return concurrent.futures.ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context(method),
        initializer=_quiet_worker,
    )


@contextlib.contextmanager
def dask_executor(
    scheduler: str | None = None, workers: int | None = None, timeout: float = 10.0
) -> Iterator[Any]:
    """An executor on a Dask cluster: the scheduler at ``scheduler`` (an address such as
    ``tcp://host:8786``), or a local cluster of ``workers`` processes; closed on exit."""
    import importlib

    try:
        distributed: Any = importlib.import_module("distributed")  # (untyped)
    except ImportError:
        raise MissingExtraError(
            "the dask executor needs the 'dask' extra: pip install 'hfx[dask]'"
        ) from None
    cluster = None
    try:
        if scheduler is None:
            cluster = distributed.LocalCluster(
                n_workers=workers or os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
            )
            client = distributed.Client(cluster)
        else:
            client = distributed.Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        where = "a local cluster" if scheduler is None else f"the scheduler at {scheduler}"
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise HfxError(f"cannot connect to {where}: {message}") from None
    try:
        yield client.get_executor()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def executor_workers(executor: concurrent.futures.Executor) -> int:
    """How many tasks ``executor`` runs at once (a best guess for executors that do not
    say; used only to size chunks)."""
    if isinstance(executor, SerialExecutor):
        return 1
    count = getattr(executor, "_max_workers", None)
    if isinstance(count, int) and count > 0:
        return count
    client = getattr(executor, "_client", None)  # dask.distributed's ClientExecutor
    if client is not None:
        with contextlib.suppress(Exception):
            info = client.scheduler_info()
            threads = sum(w.get("nthreads", 1) for w in info.get("workers", {}).values())
            if threads > 0:
                return int(threads)
    return os.cpu_count() or 1


def stop_executor(executor: concurrent.futures.Executor) -> None:
    """Stop ``executor`` now: pending tasks cancelled, a process pool's workers killed."""
    processes = getattr(executor, "_processes", None) or {}
    for process in list(processes.values()):
        with contextlib.suppress(Exception):
            process.terminate()
    with contextlib.suppress(Exception):
        executor.shutdown(wait=False, cancel_futures=True)
