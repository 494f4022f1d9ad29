"""``hfx xml2json`` and ``hfx json2xml``: HistFactory XML + ROOT files <-> JSON workspaces."""

from __future__ import annotations

import click

from hfx.interfaces.cli._common import (
    _register_input,
    emit_json,
    info,
    input_path,
    load_workspace,
    naming,
    output_file_option,
)


@click.command()
@click.argument("config", metavar="CONFIG.xml", type=click.Path(dir_okay=False))
@click.option(
    "--basedir",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="Folder the paths in the XML files are relative to (where hist2workspace would run). "
    "Default: the first of the config's folder, its parents and the current folder that holds "
    "the first channel file.",
)
@output_file_option
def xml2json(config: str, basedir: str | None, output_file: str | None) -> None:
    """Convert HistFactory XML + ROOT histograms to a JSON workspace.

    CONFIG.xml is the top-level file (<Combination>). The model follows ROOT's
    hist2workspace; what the JSON spec cannot express is an error or a warning on
    standard error, never dropped silently. Needs the `xml` extra: pip install 'hfx[xml]'.
    """
    from hfx.interfaces.io.xml_import import read_xml

    _register_input(config)
    with naming(config):
        spec = read_xml(config, basedir=basedir)
    emit_json(spec, output_file)


@click.command()
@input_path("workspace")
@click.option(
    "--output-dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder to create (or an empty one) for the XML files, the DTD and the ROOT file.",
)
@click.option(
    "--specroot",
    default="config",
    show_default=True,
    help="Subfolder for the channel XML files.",
)
@click.option("--dataroot", default="data", show_default=True, help="Subfolder for the ROOT file.")
@click.option(
    "--resultprefix",
    default="FitConfig",
    show_default=True,
    help="Name of the top-level XML file and prefix of hist2workspace's output.",
)
@click.option(
    "-p",
    "--patch",
    "patches",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True),
    help="JSON Patch file to apply to the workspace first (may be repeated).",
)
def json2xml(
    workspace: str,
    output_dir: str,
    specroot: str,
    dataroot: str,
    resultprefix: str,
    patches: tuple[str, ...],
) -> None:
    """Convert a JSON workspace to HistFactory XML + a ROOT file of histograms.

    The output folder appears complete or not at all; run `hist2workspace
    <resultprefix>.xml` from inside it. Needs the `xml` extra: pip install 'hfx[xml]'.
    """
    from hfx.interfaces.io.xml_export import write_xml
    from hfx.spec.jsonio import load_json

    ws = load_workspace(workspace)
    for patch in patches:
        with naming(patch):
            ws = ws.apply_patches([load_json(patch)])
    with naming(ws.source):
        top = write_xml(
            ws,
            output_dir,
            specroot=specroot,
            dataroot=dataroot,
            resultprefix=resultprefix,
        )
    info(f"wrote {top}")


__all__ = ["json2xml", "xml2json"]
