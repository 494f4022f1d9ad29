"""A rich progress bar on stderr for long batched work (toys, rankings), or nothing."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

__all__ = ["ProgressBar"]


class ProgressBar:
    """``with ProgressBar(enabled).task("label", total) as advance: advance(n)``; transient,
    on stderr, so that stdout (JSON) stays clean."""

    def __init__(self, enabled: bool):
        self.enabled = enabled

    @contextlib.contextmanager
    def task(self, description: str, total: int) -> Iterator[Callable[[int], None]]:
        if not self.enabled:
            yield lambda n: None
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        bar = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        with bar:
            tid = bar.add_task(description, total=total)
            yield lambda n: bar.advance(tid, n)
