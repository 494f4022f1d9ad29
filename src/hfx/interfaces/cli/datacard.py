"""``hfx datacard2json``: CMS Combine datacards -> JSON workspaces."""

from __future__ import annotations

import click

from hfx.interfaces.cli._common import (
    _register_input,
    emit_json,
    naming,
    output_file_option,
)


@click.command()
@click.argument("card", metavar="CARD.txt", type=click.Path(dir_okay=False))
@click.option(
    "--basedir",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="Folder for the shape files named in 'shapes' lines when they are not found from "
    "the current folder (as Combine). Default: the datacard's folder.",
)
@click.option(
    "--mass",
    "-m",
    type=float,
    default=0.0,
    show_default=True,
    help="Value of $MASS in 'shapes' lines (Combine's -m).",
)
@click.option(
    "--groups",
    "groups_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Also write the card's nuisance groups ({group: [parameters]}) as JSON to this file "
    "(the JSON workspace has no place for them).",
)
@output_file_option
def datacard2json(
    card: str, basedir: str | None, mass: float, groups_file: str | None, output_file: str | None
) -> None:
    """Convert a CMS Combine datacard (counting or TH1 shapes) to a JSON workspace.

    The model is Combine's default one: POI r scales the signal processes (index <= 0);
    lnN -> normsys, shape -> histosys + normsys, gmN -> shapesys with tau = N, rateParam ->
    normfactor, autoMCStats -> staterror/shapesys. For Combine's interpolation build models
    with modifier_settings {"normsys": {"interpcode": "code1"}, "histosys": {"interpcode":
    "code4p"}} (hfx.interfaces.io.datacard.COMBINE_MODIFIER_SETTINGS). What the JSON spec
    cannot express is an error naming the line. Shape cards need the `xml` extra (uproot).
    """
    from hfx.interfaces.io.datacard import load_datacard
    from hfx.spec.jsonio import write_json_atomic

    name = _register_input(card)
    with naming(name):
        spec, groups = load_datacard(card, basedir=basedir, mass=mass, source=name)
    emit_json(spec, output_file)
    if groups_file is not None:
        write_json_atomic(groups_file, groups, indent=2)


COMMANDS = (datacard2json,)

__all__ = ["COMMANDS", "datacard2json"]
