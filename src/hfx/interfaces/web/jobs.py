"""Background jobs of the web page: each runs in a thread of its own pool, reports its
progress, can be cancelled, and is seen by every tab (the jobs live in the server)."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from hfx.interfaces.web.documents import one_line

__all__ = ["Cancelled", "Job", "JobManager"]

FINAL = ("done", "failed", "cancelled")


class Cancelled(Exception):
    """Raised inside a job's work when the job was cancelled."""


@dataclass
class Job:
    """One computation: its state, progress, result (JSON) and the objects its plots need."""

    id: str
    kind: str
    label: str
    state: str = "queued"
    progress: dict[str, int] | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    plots: tuple[str, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    created: float = field(default_factory=time.time)
    version: int = 0
    objects: dict[str, Any] = field(default_factory=dict, repr=False)
    cancel_event: threading.Event = field(default_factory=threading.Event, repr=False)
    on_cancel: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "state": self.state,
            "progress": self.progress,
            "result": self.result,
            "error": self.error,
            "plots": list(self.plots),
            "options": dict(self.options),
            "created": self.created,
        }

    def check(self) -> None:
        """Raise :class:`Cancelled` if the job was cancelled (call between steps)."""
        if self.cancel_event.is_set():
            raise Cancelled


class JobManager:
    """Runs jobs on ``workers`` threads; every change bumps the job's ``version``."""

    def __init__(self, workers: int = 2):
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._ids = itertools.count(1)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hfx-job")

    def submit(
        self,
        kind: str,
        label: str,
        work: Callable[[Job], dict[str, Any]],
        *,
        plots: tuple[str, ...] = (),
        options: dict[str, Any] | None = None,
    ) -> Job:
        with self._lock:
            job = Job(
                id=f"j{next(self._ids)}",
                kind=kind,
                label=label,
                plots=plots,
                options=dict(options or {}),
            )
            self._jobs[job.id] = job
        self._pool.submit(self._run, job, work)
        return job

    def _run(self, job: Job, work: Callable[[Job], dict[str, Any]]) -> None:
        if job.cancel_event.is_set():
            return
        self.update(job, state="running")
        try:
            result = work(job)
            job.check()
        except Cancelled:
            self.update(job, state="cancelled")
        except BaseException as exc:  # a job never takes the server down
            if job.cancel_event.is_set():
                self.update(job, state="cancelled")
            else:
                self.update(job, state="failed", error=one_line(exc))
        else:
            self.update(job, state="done", result=result)

    def update(self, job: Job, **changes: Any) -> None:
        with self._lock:
            if job.state in FINAL and "state" in changes:
                return  # (a cancelled job stays cancelled)
            for key, value in changes.items():
                setattr(job, key, value)
            job.version += 1

    def progress(self, job: Job, done: int, total: int) -> None:
        self.update(job, progress={"done": done, "total": total})

    def cancel(self, job_id: str) -> Job:
        job = self.get(job_id)
        if job.state in FINAL:
            return job
        job.cancel_event.set()
        for stop in list(job.on_cancel):
            stop()
        self.update(job, state="cancelled")
        return job

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            from hfx.interfaces.web.errors import NotFound

            raise NotFound(f"no job {job_id!r}")
        return job

    def all(self) -> list[Job]:
        with self._lock:
            return list(self._jobs.values())

    def shutdown(self) -> None:
        for job in self.all():
            if job.state not in FINAL:
                self.cancel(job.id)
        self._pool.shutdown(wait=False, cancel_futures=True)
