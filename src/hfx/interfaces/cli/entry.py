"""The ``hfx`` console entry point: Ctrl-C is handled before anything heavy is imported.

On SIGINT, during start-up or in the middle of a computation, every command ends with
the single line ``hfx: interrupted`` on stderr and exit status 130 (128 + SIGINT, the
shell's convention).  Output files are untouched: they are written to a temporary file
that is renamed into place only when complete, and removed as the interrupt unwinds.

This module imports only the standard library at load time (``hfx`` itself is lazy), so
the handler is in place a few milliseconds after the interpreter starts.
"""

from __future__ import annotations

import _signal  # type: ignore[import-not-found]  # signal's C half: imported at once
import os
import sys

TYPE_CHECKING = False  # not typing's, which would take a while to import
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, NoReturn

EXIT_INTERRUPTED = 128 + _signal.SIGINT


def _interrupted_at_start(signum: int, frame: Any) -> None:
    """Ctrl-C before :func:`main` runs: nothing is written yet, the process just ends."""
    os.write(2, b"hfx: interrupted\n")
    os._exit(EXIT_INTERRUPTED)


def _is_the_hfx_command() -> bool:
    """Whether this process is the ``hfx`` command (its script, or ``python -m hfx``), not
    a program that imports this module."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    script = os.path.basename(sys.argv[0]) if sys.argv else ""
    return getattr(spec, "name", None) == "hfx.__main__" or script in ("hfx", "hfx.exe")


if _is_the_hfx_command():  # the first thing the command does: no traceback from a Ctrl-C now
    _signal.signal(_signal.SIGINT, _interrupted_at_start)

import signal  # noqa: E402  (after the handler)


class Interrupted(BaseException):
    """Raised by SIGINT inside the ``hfx`` command.

    Not a KeyboardInterrupt, which click turns into "Aborted!" and exit status 1, and not
    an Exception, which the error contract would report as an unexpected failure.
    """


def _raise_interrupted(signum: int, frame: Any) -> None:
    raise Interrupted


def _report_and_exit() -> NoReturn:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not interrupt this
    import contextlib

    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    with contextlib.suppress(OSError):
        os.write(2, b"hfx: interrupted\n")
    # No interpreter shutdown: it could wait on worker threads or run a second time
    # through code the interrupt left half-done.  Temporary files are already gone.
    os._exit(EXIT_INTERRUPTED)


def main(args: Sequence[str] | None = None, prog_name: str = "hfx") -> NoReturn:
    """Run the ``hfx`` command with ``args`` (default: ``sys.argv[1:]``) and exit."""
    try:
        signal.signal(signal.SIGINT, _raise_interrupted)
        from hfx.interfaces.cli.main import cli

        try:
            cli.main(args=list(args) if args is not None else None, prog_name=prog_name)
        except SystemExit as exc:
            code = exc.code
        else:  # pragma: no cover - click's standalone mode always exits
            code = 0
    except (Interrupted, KeyboardInterrupt):
        _report_and_exit()
    # The command is done and its result out: a Ctrl-C now would only kill the interpreter's
    # shutdown (which restores the default handler), so it is ignored.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    sys.exit(code)


__all__ = ["EXIT_INTERRUPTED", "Interrupted", "main"]
