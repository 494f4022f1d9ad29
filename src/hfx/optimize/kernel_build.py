"""Compile the numba kernels into hfx's on-disk cache: the detached process that
:func:`hfx.optimize.kernel_cache.start_background_build` starts.

``python -m hfx.optimize.kernel_build LOCK`` compiles the kernels (importing
:mod:`hfx.optimize._kernel_impl` does; at lower priority), then removes the lock file
``LOCK``.  Where compiling fails, the error is written beside the lock
(:data:`~hfx.optimize.kernel_cache.BUILD_FAILED`), so no later process starts the same
failing build again for a day.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from pathlib import Path

from hfx.optimize.kernel_cache import BUILD_FAILED

__all__ = ["main"]


def main(argv: list[str]) -> int:
    """Build the kernels; ``argv[0]``: the lock file to remove at the end.  The exit status."""
    lock = Path(argv[0]) if argv else None
    try:
        import hfx.optimize._kernel_impl  # noqa: F401  (compiles into the cache)
    except Exception:
        if lock is not None:
            with contextlib.suppress(OSError):
                (lock.parent / BUILD_FAILED).write_text(traceback.format_exc())
        return 1
    finally:
        if lock is not None:
            lock.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    with contextlib.suppress(OSError):  # (not allowed: build at normal priority)
        os.nice(5)  # the user's own work comes first
    sys.exit(main(sys.argv[1:]))
