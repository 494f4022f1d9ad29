"""Workspace commands: inspect, prune, rename, combine, digest, sort."""

from __future__ import annotations

import click

from hfx.interfaces.cli._common import (
    check_algorithm,
    emit_json,
    input_path,
    load_workspace,
    naming,
    output_file_option,
    sort_keys,
)
from hfx.spec.operations import JOIN_MODES
from hfx.spec.semantic import MODIFIER_TYPES

__all__ = ["combine", "digest", "inspect", "prune", "rename", "sort"]


@click.command()
@input_path("workspace")
@click.option(
    "--measurement", default=None, help="Measurement to build the model for (default: the first)."
)
@output_file_option
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    default=False,
    help="Print the summary as JSON instead of tables.",
)
def inspect(
    workspace: str, measurement: str | None, output_file: str | None, as_json: bool
) -> None:
    """Summarise channels, samples, parameters and measurements.

    Parameters are listed with their constraint and the modifier types that declare them.
    With --output-file (or --json) the same summary is written as JSON, with the keys of
    `pyhf inspect`.
    """
    from hfx.interfaces.cli.inspection import render_summary, summarize

    ws = load_workspace(workspace)
    with naming(ws.source):
        summary = summarize(ws, measurement)
    if output_file is not None or as_json:
        emit_json(summary.to_dict(), output_file)
    else:
        render_summary(summary)


@click.command()
@input_path("workspace")
@click.option(
    "-c", "--channel", "channels", multiple=True, metavar="CHANNEL", help="Channel to remove."
)
@click.option(
    "-s", "--sample", "samples", multiple=True, metavar="SAMPLE", help="Sample to remove."
)
@click.option(
    "-m",
    "--modifier",
    "modifiers",
    multiple=True,
    metavar="MODIFIER",
    help="Modifier to remove (by name).",
)
@click.option(
    "-t",
    "--modifier-type",
    "modifier_types",
    multiple=True,
    type=click.Choice(MODIFIER_TYPES),
    help="Remove every modifier of this type.",
)
@click.option(
    "--measurement",
    "measurements",
    multiple=True,
    metavar="MEASUREMENT",
    help="Measurement to remove.",
)
@output_file_option
def prune(
    workspace: str,
    channels: tuple[str, ...],
    samples: tuple[str, ...],
    modifiers: tuple[str, ...],
    modifier_types: tuple[str, ...],
    measurements: tuple[str, ...],
    output_file: str | None,
) -> None:
    """Remove channels, samples, modifiers or measurements.

    Every option may be repeated.
    """
    ws = load_workspace(workspace)
    with naming(ws.source):
        pruned = ws.prune(
            channels=channels,
            samples=samples,
            modifiers=modifiers,
            modifier_types=modifier_types,
            measurements=measurements,
        )
    emit_json(pruned.to_dict(), output_file)


def _renames(pairs: tuple[tuple[str, str], ...], option: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for old, new in pairs:
        if old in mapping and mapping[old] != new:
            raise click.UsageError(
                f"{option} {old!r} is renamed twice ({mapping[old]!r} and {new!r})"
            )
        mapping[old] = new
    return mapping


@click.command()
@input_path("workspace")
@click.option("-c", "--channel", "channels", multiple=True, nargs=2, metavar="OLD NEW")
@click.option("-s", "--sample", "samples", multiple=True, nargs=2, metavar="OLD NEW")
@click.option("-m", "--modifier", "modifiers", multiple=True, nargs=2, metavar="OLD NEW")
@click.option("--measurement", "measurements", multiple=True, nargs=2, metavar="OLD NEW")
@output_file_option
def rename(
    workspace: str,
    channels: tuple[tuple[str, str], ...],
    samples: tuple[tuple[str, str], ...],
    modifiers: tuple[tuple[str, str], ...],
    measurements: tuple[tuple[str, str], ...],
    output_file: str | None,
) -> None:
    """Rename channels, samples, modifiers or measurements.

    Renaming a modifier renames its parameter configs in the measurements too.
    """
    ws = load_workspace(workspace)
    with naming(ws.source):
        renamed = ws.rename(
            channels=_renames(channels, "--channel"),
            samples=_renames(samples, "--sample"),
            modifiers=_renames(modifiers, "--modifier"),
            measurements=_renames(measurements, "--measurement"),
        )
    emit_json(renamed.to_dict(), output_file)


@click.command()
@input_path("workspace_one")
@input_path("workspace_two")
@click.option(
    "-j",
    "--join",
    type=click.Choice(JOIN_MODES),
    default="none",
    show_default=True,
    help="How to join channels, measurements and parameter configs the two share.",
)
@click.option(
    "--merge-channels/--no-merge-channels",
    default=False,
    help="Merge the samples of channels present in both (left outer or right outer joins only).",
)
@output_file_option
def combine(
    workspace_one: str, workspace_two: str, join: str, merge_channels: bool, output_file: str | None
) -> None:
    """Combine two workspaces into one."""
    left = load_workspace(workspace_one)
    right = load_workspace(workspace_two)
    with naming(f"{left.source} + {right.source}"):
        combined = left.combine(right, join=join, merge_channels=merge_channels)
    emit_json(combined.to_dict(), output_file)


@click.command()
@input_path("workspace")
@click.option(
    "-a",
    "--algorithm",
    "algorithms",
    multiple=True,
    default=("sha256",),
    show_default=True,
    callback=check_algorithm,
    help="Hash algorithm (repeat for several).",
)
@click.option(
    "-j/-p",
    "--json/--plaintext",
    "as_json",
    default=False,
    help="Print a JSON object {algorithm: digest} instead of lines 'algorithm:digest'.",
)
def digest(workspace: str, algorithms: tuple[str, ...], as_json: bool) -> None:
    """Print the digest of a workspace (as HEPData patchsets record it)."""
    ws = load_workspace(workspace)
    with naming(ws.source):
        digests = {name: ws.digest(name) for name in algorithms}
    if as_json:
        emit_json(digests)
    else:
        for name, value in digests.items():
            click.echo(f"{name}:{value}")


@click.command()
@input_path("workspace")
@output_file_option
def sort(workspace: str, output_file: str | None) -> None:
    """Print a workspace in canonical order (lists by name, keys sorted)."""
    ws = load_workspace(workspace)
    with naming(ws.source):
        ordered = ws.sorted().to_dict()
    emit_json(sort_keys(ordered), output_file)
