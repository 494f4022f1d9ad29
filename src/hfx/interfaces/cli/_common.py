"""What every hfx command shares: the error contract, reading inputs and writing results.

The contract: JSON results go to stdout (or atomically to ``--output-file``), messages go
to stderr, and any failure caused by the inputs ends with exactly one line
``hfx: error: <file>: <pointer>: <message>`` on stderr and exit status 2.  ``--debug``
prints the traceback first.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import click

from hfx.errors import HfxError, MissingPOIWarning

_F = TypeVar("_F", bound=Callable[..., Any])

EXIT_FAILURE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT

# Keys of ``ctx.meta`` (shared by a context and all its children).
_DEBUG = "hfx.debug"
_INPUTS = "hfx.inputs"
_INPUT_PATHS = "hfx.input_paths"


class CliFailure(click.ClickException):
    """A failure reported as one line on stderr, with exit status 2."""

    exit_code = EXIT_FAILURE

    def show(self, file: Any = None) -> None:
        click.echo(f"hfx: error: {self.format_message()}", err=True)


def one_line(text: str) -> str:
    """Collapse a (possibly multi-line) message onto a single line."""
    return " ".join(text.split())


def info(message: str) -> None:
    """A progress or information message: always on stderr, so pipes stay clean."""
    click.echo(f"hfx: {message}", err=True)


def warn(message: str) -> None:
    click.echo(f"hfx: warning: {message}", err=True)


class HfxGroup(click.Group):
    """A click group that turns failures of its subcommands into the one-line contract.

    Only the root group needs to be of this class: it wraps the invocation of every
    subcommand below it, nested groups included.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise _usage_failure(exc) from None

    def invoke(self, ctx: click.Context) -> Any:
        # Library warnings become one "hfx: warning:" line each on stderr.
        failure: CliFailure | None = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            try:
                return self._invoke_reporting(ctx)
            except CliFailure as exc:
                failure = exc
                raise
            finally:
                for item in caught:
                    if not issubclass(
                        item.category, (DeprecationWarning, PendingDeprecationWarning)
                    ) and not _said_by(failure, item.message):
                        warn(one_line(str(item.message)))

    def _invoke_reporting(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise _usage_failure(exc) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort, BrokenPipeError):
            raise
        except KeyboardInterrupt:
            # The hfx command raises its own Interrupted (see entry.py); this is for `cli`
            # called directly, where click would print "Aborted!" and exit with status 1.
            info("interrupted")
            raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
        except HfxError as exc:
            raise _failure(ctx, exc, str(exc)) from None
        except OSError as exc:
            raise _failure(ctx, exc, _describe_oserror(exc)) from None
        except RecursionError as exc:
            raise _failure(ctx, exc, _name_inputs(ctx, "input nested too deeply")) from None
        except Exception as exc:
            message = f"unexpected {type(exc).__name__}: {exc}"
            if not ctx.meta.get(_DEBUG):
                message += " (rerun with --debug for the traceback)"
            raise _failure(ctx, exc, _name_inputs(ctx, message)) from None


def _said_by(failure: CliFailure | None, message: Warning | str) -> bool:
    """Whether ``failure`` already says what warning ``message`` says (then one line is enough).

    So far: a model built without its measurement's POI, then an inference that needs it.
    """
    poi = getattr(message, "poi", None) if isinstance(message, MissingPOIWarning) else None
    return failure is not None and poi is not None and repr(poi) in failure.format_message()


def _usage_failure(exc: click.UsageError) -> click.ClickException:
    """A usage error as one line, naming the command and where to find its help."""
    if type(exc).__name__ == "NoArgsIsHelpError":  # a bare group: click shows its help
        return exc
    command = exc.ctx.command_path if exc.ctx is not None else "hfx"
    return CliFailure(f"{command}: {one_line(exc.format_message())} (see '{command} --help')")


def _failure(ctx: click.Context, exc: BaseException, message: str) -> CliFailure:
    if ctx.meta.get(_DEBUG):
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        sys.stderr.flush()
    return CliFailure(one_line(message))


def _describe_oserror(exc: OSError) -> str:
    reason = exc.strerror or str(exc)
    if exc.filename is not None:
        return f"{os.fsdecode(exc.filename)}: {reason}"
    return reason


def _name_inputs(ctx: click.Context, message: str) -> str:
    inputs = ctx.meta.get(_INPUTS) or []
    return f"{', '.join(inputs)}: {message}" if inputs else message


def set_debug(ctx: click.Context, debug: bool) -> None:
    ctx.meta[_DEBUG] = bool(debug)


@contextlib.contextmanager
def naming(source: str | None) -> Iterator[None]:
    """Make library errors raised inside the block name ``source`` when they name no file."""
    try:
        yield
    except HfxError as exc:
        named = exc.with_source(source)
        if named is exc:
            raise
        raise named.with_traceback(exc.__traceback__) from None


def _register_input(path: str) -> str:
    """Record an input for messages; refuse reading stdin twice or from a terminal."""
    from hfx.spec.jsonio import source_name

    ctx = click.get_current_context()
    inputs: list[str] = ctx.meta.setdefault(_INPUTS, [])
    name = source_name(path)
    if path == "-":
        if "<stdin>" in inputs:
            raise click.UsageError("standard input ('-') can be read only once per command")
        # sys.stdin, not click.get_text_stream (deprecated in click 8.5): the same isatty()
        if sys.stdin.isatty():
            raise click.UsageError(
                "no input: give a file name, or pipe JSON in and use '-' for standard input"
            )
    else:
        ctx.meta.setdefault(_INPUT_PATHS, []).append(path)
    inputs.append(name)
    return name


def _refuse_overwriting_input(output_file: str) -> None:
    """An output file must not be one of the command's inputs (same file, by any path)."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or not os.path.exists(output_file):
        return
    for path in ctx.meta.get(_INPUT_PATHS, []):
        try:
            same = os.path.samefile(path, output_file)
        except OSError:
            continue
        if same:
            raise CliFailure(
                f"{output_file}: refusing to write the result over an input of this command; "
                "give another --output-file"
            )


def load_workspace(path: str) -> Any:
    """Read and validate a workspace from ``path`` (``-`` for stdin)."""
    from hfx.spec.workspace import Workspace

    name = _register_input(path)
    with naming(name):
        return Workspace.load(path)


def load_patchset(path: str) -> Any:
    """Read and validate a HEPData patchset from ``path`` (``-`` for stdin)."""
    from hfx.spec.patches import PatchSet

    name = _register_input(path)
    with naming(name):
        return PatchSet.load(path)


def emit_json(obj: Any, output_file: str | None = None) -> None:
    """Write a JSON result to ``output_file`` atomically, or to stdout (``None`` or ``-``)."""
    from hfx.spec.jsonio import dumps, write_json_atomic

    bad = _first_non_finite(obj)
    if bad is not None:  # a last guard: library results refuse this first, naming the cause
        raise CliFailure(
            f"result {bad[0] or 'value'} is {bad[1]}, not a finite number; not written"
        )
    if output_file is None or output_file == "-":
        click.echo(dumps(obj, indent=2))
        return
    _refuse_overwriting_input(output_file)
    write_json_atomic(output_file, obj, indent=2)


def _first_non_finite(obj: Any, path: str = "") -> tuple[str, float] | None:
    """(JSON path, value) of the first NaN/±inf float in ``obj`` (NumPy values included)."""
    if hasattr(obj, "tolist"):
        obj = obj.tolist()
    if isinstance(obj, float):
        return None if math.isfinite(obj) else (path, obj)
    items = (
        obj.items()
        if isinstance(obj, dict)
        else enumerate(obj)
        if isinstance(obj, (list, tuple))
        else ()
    )
    for key, value in items:
        found = _first_non_finite(value, f"{path}/{key}")
        if found is not None:
            return found
    return None


def sort_keys(obj: Any) -> Any:
    """A copy of ``obj`` whose objects have their keys in sorted order (for canonical output)."""
    if isinstance(obj, dict):
        return {key: sort_keys(obj[key]) for key in sorted(obj)}
    if isinstance(obj, list):
        return [sort_keys(item) for item in obj]
    return obj


def check_algorithm(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """click callback: every name in ``value`` must be a hash algorithm hashlib knows."""
    known = hashlib.algorithms_available
    for name in value:
        if name.lower() not in known:
            raise click.BadParameter(
                f"unknown hash algorithm {name!r}; try sha256, sha1, md5, blake2b", ctx, param
            )
    return tuple(name.lower() for name in value)


output_file_option = click.option(
    "--output-file",
    "-o",
    type=click.Path(dir_okay=False, writable=False, allow_dash=True),
    default=None,
    help="Write the JSON result to this file (atomically) instead of standard output.",
)


def input_path(name: str, **kwargs: Any) -> Callable[[_F], _F]:
    """A positional input: a file name, or ``-`` for standard input (the default)."""
    return click.argument(name, type=str, default="-", required=False, **kwargs)


def print_tables(renderables: list[Any], file: Any = None) -> None:
    """Print rich tables to ``file`` (stdout); plain text without trailing blanks when piped."""
    import io

    from rich.console import Console

    out = file if file is not None else sys.stdout
    console = Console(file=out, highlight=False)
    if console.is_terminal:
        for i, item in enumerate(renderables):
            if i:
                console.print()
            console.print(item)
        return
    buffer = io.StringIO()
    # Wide enough that no name is ever wrapped or cut in a file or a pipe.
    console = Console(
        file=buffer, highlight=False, width=4096, color_system=None, force_terminal=False
    )
    for i, item in enumerate(renderables):
        if i:
            console.print()
        console.print(item)
    text = "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())
    encoding = getattr(out, "encoding", None) or "utf-8"
    if "utf" not in encoding.lower():
        text = text.replace("\u2500", "-").encode(encoding, errors="replace").decode(encoding)
    out.write(text)
    out.flush()
