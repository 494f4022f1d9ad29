"""The ``hfx`` command: the root group, its global options and the list of subcommands."""

from __future__ import annotations

from types import MappingProxyType

import click

from hfx import __version__
from hfx.interfaces.cli._common import HfxGroup, set_debug
from hfx.interfaces.cli.contour import COMMANDS as CONTOUR_COMMANDS
from hfx.interfaces.cli.contrib import contrib
from hfx.interfaces.cli.datacard import COMMANDS as DATACARD_COMMANDS
from hfx.interfaces.cli.diagnostics import COMMANDS as DIAGNOSTIC_COMMANDS
from hfx.interfaces.cli.hs3 import COMMANDS as HS3_COMMANDS
from hfx.interfaces.cli.inference import COMMANDS as INFERENCE_COMMANDS
from hfx.interfaces.cli.patchset import patchset
from hfx.interfaces.cli.scan import COMMANDS as SCAN_COMMANDS
from hfx.interfaces.cli.serve import COMMANDS as SERVE_COMMANDS
from hfx.interfaces.cli.spec import combine, digest, inspect, prune, rename, sort
from hfx.interfaces.cli.xml import json2xml, xml2json

CONTEXT_SETTINGS = MappingProxyType(
    {"help_option_names": ("-h", "--help"), "max_content_width": 100}
)


@click.group(name="hfx", cls=HfxGroup, context_settings=dict(CONTEXT_SETTINGS))
@click.version_option(__version__, "--version", prog_name="hfx", message="%(prog)s %(version)s")
@click.option(
    "--debug",
    is_flag=True,
    default=False,
    envvar="HFX_DEBUG",
    help="On failure, show the full traceback before the one-line error (or set HFX_DEBUG=1).",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """hfx: fast HistFactory likelihoods.

    Every input is a file name or '-' for standard input; JSON results go to standard
    output (or --output-file), messages to standard error, so commands chain through
    pipes, e.g. `hfx prune ws.json --sample signal | hfx digest -`.  On an error hfx
    prints one line to standard error and exits with status 2.
    """
    set_debug(ctx, debug)


for _command in (inspect, prune, rename, combine, digest, sort, patchset):
    cli.add_command(_command)
cli.add_command(contrib)
for _command in (
    *INFERENCE_COMMANDS,
    *DIAGNOSTIC_COMMANDS,
    *SCAN_COMMANDS,
    *CONTOUR_COMMANDS,
    *SERVE_COMMANDS,
    *DATACARD_COMMANDS,
    *HS3_COMMANDS,
):
    cli.add_command(_command)
cli.add_command(xml2json)
cli.add_command(json2xml)

__all__ = ["cli"]
