"""``hfx hs3 export`` and ``hfx hs3 import``: JSON workspaces <-> HS3 (ROOT's JSON format)."""

from __future__ import annotations

import click

from hfx.interfaces.cli._common import (
    _register_input,
    emit_json,
    input_path,
    load_workspace,
    naming,
    output_file_option,
)


@click.group()
def hs3() -> None:
    """HS3 (HEP Statistics Serialization Standard) files, as ROOT reads and writes them."""


@hs3.command("export")
@input_path("workspace")
@click.option(
    "-p",
    "--patch",
    "patches",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True),
    help="JSON Patch file to apply to the workspace first (may be repeated).",
)
@click.option(
    "--measurement",
    default=None,
    help="Export only this measurement (default: all, one HS3 analysis each).",
)
@output_file_option
def export(
    workspace: str, patches: tuple[str, ...], measurement: str | None, output_file: str | None
) -> None:
    """Convert a JSON workspace to an HS3 file that ROOT loads (checked: ROOT 6.40).

    Load it in ROOT with RooJSONFactoryWSTool(ws).importJSON(file): the likelihood is
    hfx's (staterror stays Gaussian; interpolation codes are hfx's defaults).
    """
    from hfx.interfaces.io.hs3 import workspace_to_hs3
    from hfx.spec.jsonio import load_json

    ws = load_workspace(workspace)
    for patch in patches:
        with naming(patch):
            ws = ws.apply_patches([load_json(patch)])
    with naming(ws.source):
        doc = workspace_to_hs3(ws, measurement=measurement)
    emit_json(doc, output_file)


@hs3.command("import")
@input_path("hs3_file", metavar="HS3_FILE")
@click.option(
    "--likelihood",
    default=None,
    help="The HS3 likelihood to convert (default: the only one, or the only non-Asimov one).",
)
@click.option(
    "--poi",
    default=None,
    help="Parameter of interest, when no HS3 analysis names one (or to override it).",
)
@output_file_option
def import_(
    hs3_file: str, likelihood: str | None, poi: str | None, output_file: str | None
) -> None:
    """Convert an HS3 file (hfx's or ROOT's exportJSON) to a JSON workspace.

    What the JSON spec cannot express is an error, or a warning on standard error where it
    is carried over approximately (e.g. a Poisson-constrained staterror).
    """
    from hfx.interfaces.io.hs3 import read_hs3

    name = _register_input(hs3_file)
    with naming(name):
        spec = read_hs3(hs3_file, likelihood=likelihood, poi=poi)
    emit_json(spec, output_file)


COMMANDS = (hs3,)

__all__ = ["COMMANDS", "hs3"]
