"""Warning filters changed by one request thread at a time.

``warnings.catch_warnings`` swaps the process-wide filter list and puts it back on exit, so
two server threads inside it at once can restore each other's filters (one thread's
``"ignore"`` then ends while the other still relies on it).  Every such block of the web
layer runs under this one lock.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["warnings_as"]

_FILTERS_LOCK = threading.Lock()


@contextmanager
def warnings_as(action: str) -> Iterator[None]:
    """Inside the block, warnings are ``action`` ("ignore" or "error"), for this thread's
    block only: other web-layer blocks wait for it."""
    with _FILTERS_LOCK, warnings.catch_warnings():
        warnings.simplefilter(action)  # type: ignore[arg-type]
        yield
