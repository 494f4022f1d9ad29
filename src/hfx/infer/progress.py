"""A rich progress bar on stderr for long batched work (toys, rankings, scans), or nothing."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

__all__ = ["ProgressBar"]


class ProgressBar:
    """``with ProgressBar(enabled).task("label", total) as advance: advance(n)``; transient,
    on stderr, so that stdout (JSON) stays clean.  It shows the time elapsed and an
    estimate of the time left."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    @contextlib.contextmanager
    def task(
        self, description: str, total: int, *, completed: int = 0
    ) -> Iterator[Callable[[int], None]]:
        """``completed``: the part already done before (counted, but not in the rate)."""
        if not self.enabled:
            yield lambda n: None
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        bar = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            "eta",
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        with bar:
            tid = bar.add_task(description, total=total, completed=completed)
            yield lambda n: bar.advance(tid, n)
