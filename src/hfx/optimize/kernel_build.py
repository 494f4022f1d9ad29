"""Compile the numba kernels into hfx's on-disk cache: the detached process that
:func:`hfx.optimize.kernel_cache.start_background_build` starts.

``python -m hfx.optimize.kernel_build LOCK`` compiles the kernels (importing
:mod:`hfx.optimize._kernel_impl` does; at lower priority), then, where a C compiler is
available, the ahead-of-time compiled module (:mod:`hfx.optimize.kernel_aot`), and removes
the lock file ``LOCK``.  Where compiling fails, the error is written beside the lock
(:data:`~hfx.optimize.kernel_cache.BUILD_FAILED`, or ``AOT_FAILED`` for the second step),
so no later process starts the same failing build again for a day.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import traceback
from pathlib import Path

from hfx.optimize.kernel_cache import AOT_FAILED, BUILD_FAILED, aot_file, failed_recently

__all__ = ["build_aot_if_missing", "main"]


def build_aot_if_missing(root: Path) -> bool:
    """Compile the ahead-of-time kernels into the cache ``root`` unless they are there or
    failed in the last day (the error is left in :data:`AOT_FAILED` then; the JIT cache serves
    alone).  Whether they are there now."""
    if aot_file(root).is_file():
        return True
    if failed_recently(root / AOT_FAILED):
        return False
    try:
        from hfx.optimize import kernel_aot

        kernel_aot.build(root)
    except Exception:  # (no C compiler, ...)
        with contextlib.suppress(OSError):
            (root / AOT_FAILED).write_text(traceback.format_exc())
        return False
    return True


def main(argv: list[str]) -> int:
    """Build the kernels; ``argv[0]``: the lock file to remove at the end.  The exit status."""
    lock = Path(argv[0]) if argv else None
    try:
        try:
            impl = importlib.import_module("hfx.optimize._kernel_impl")  # (compiles)
        except Exception:
            if lock is not None:
                with contextlib.suppress(OSError):
                    (lock.parent / BUILD_FAILED).write_text(traceback.format_exc())
            return 1
        if impl._CACHE_ROOT is not None:
            build_aot_if_missing(impl._CACHE_ROOT)
    finally:
        if lock is not None:
            lock.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    with contextlib.suppress(OSError):  # (not allowed: build at normal priority)
        os.nice(5)  # the user's own work comes first
    sys.exit(main(sys.argv[1:]))
