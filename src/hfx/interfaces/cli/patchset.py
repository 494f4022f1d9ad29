"""``hfx patchset``: extract, apply, inspect and verify HEPData patchsets."""

from __future__ import annotations

from typing import Any

import click

from hfx.interfaces.cli._common import (
    emit_json,
    input_path,
    load_patchset,
    load_workspace,
    naming,
    output_file_option,
    print_tables,
)
from hfx.spec.jsonio import source_name

__all__ = ["apply", "extract", "inspect_patchset", "patchset", "verify"]

_name_option = click.option("--name", required=True, help="Name of the patch in the patchset.")


@click.group()
def patchset() -> None:
    """HEPData patchsets: signal patches for a background-only workspace."""


def _patch_metadata(patch: Any) -> dict[str, Any]:
    metadata = getattr(patch, "metadata", None)
    if isinstance(metadata, dict):
        return dict(metadata)
    return {"name": patch.name, "values": list(patch.values)}


@patchset.command()
@input_path("patchset_file", metavar="PATCHSET")
@_name_option
@output_file_option
@click.option(
    "--with-metadata/--without-metadata",
    default=False,
    help="Print {'metadata': ..., 'patch': [...]} instead of the bare JSON Patch.",
)
def extract(patchset_file: str, name: str, output_file: str | None, with_metadata: bool) -> None:
    """Print one patch as a JSON Patch (a list of operations)."""
    ps = load_patchset(patchset_file)
    with naming(source_name(patchset_file)):
        patch = ps[name]
    ops = list(patch.patch)
    emit_json(
        {"metadata": _patch_metadata(patch), "patch": ops} if with_metadata else ops, output_file
    )


@patchset.command()
@input_path("background_only", metavar="WORKSPACE")
@input_path("patchset_file", metavar="PATCHSET")
@_name_option
@output_file_option
def apply(background_only: str, patchset_file: str, name: str, output_file: str | None) -> None:
    """Apply a patch to its background-only workspace; print the result.

    The workspace must match the patchset's digests.
    """
    ws = load_workspace(background_only)
    ps = load_patchset(patchset_file)
    with naming(source_name(patchset_file)):
        patched = ps.apply(ws, name)
    emit_json(patched.to_dict(), output_file)


@patchset.command()
@input_path("background_only", metavar="WORKSPACE")
@input_path("patchset_file", metavar="PATCHSET")
def verify(background_only: str, patchset_file: str) -> None:
    """Check a workspace against the patchset's digests (exit 0 if all match)."""
    ws = load_workspace(background_only)
    ps = load_patchset(patchset_file)
    with naming(source_name(patchset_file)):
        ps.verify(ws)
    digests = ", ".join(f"{alg}:{value}" for alg, value in _digests(ps).items()) or "none recorded"
    click.echo(
        f"{source_name(patchset_file)}: verified: {source_name(background_only)} matches "
        f"all digests ({digests})"
    )


def _digests(ps: Any) -> dict[str, str]:
    digests = getattr(ps, "digests", None)
    if digests is None:
        digests = _metadata(ps).get("digests", {})
    return dict(digests)


def _metadata(ps: Any) -> dict[str, Any]:
    metadata = getattr(ps, "metadata", None)
    return dict(metadata) if isinstance(metadata, dict) else {}


def _attr(ps: Any, key: str, default: Any = None) -> Any:
    value = getattr(ps, key, None)
    return _metadata(ps).get(key, default) if value is None else value


def _summary(ps: Any) -> dict[str, Any]:
    patches = list(getattr(ps, "patches", []))
    return {
        "name": _attr(ps, "name"),
        "description": _attr(ps, "description"),
        "version": _attr(ps, "version"),
        "labels": list(_attr(ps, "labels", [])),
        "digests": _digests(ps),
        "references": dict(_attr(ps, "references", {}) or {}),
        "patches": [{"name": p.name, "values": list(p.values)} for p in patches],
    }


@patchset.command(name="inspect")
@input_path("patchset_file", metavar="PATCHSET")
@click.option("--json", "as_json", is_flag=True, default=False, help="Print the summary as JSON.")
def inspect_patchset(patchset_file: str, as_json: bool) -> None:
    """Summarise a patchset: metadata, digests, and its patches with their values."""
    ps = load_patchset(patchset_file)
    summary = _summary(ps)
    if as_json:
        emit_json(summary)
        return
    _render(summary)


def _render(summary: dict[str, Any]) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    head = Table(box=None, show_header=False, pad_edge=False)
    head.add_column(no_wrap=True)
    head.add_column()
    head.add_row("name", Text(str(summary["name"])))
    head.add_row("description", Text(str(summary["description"])))
    if summary["version"] is not None:
        head.add_row("version", Text(str(summary["version"])))
    head.add_row("labels", Text(", ".join(summary["labels"]) or "(none)"))
    for alg, value in summary["digests"].items():
        head.add_row("digest", Text(f"{alg}:{value}"))
    for key, value in summary["references"].items():
        head.add_row("reference", Text(f"{key}: {value}"))

    patches = Table(
        title=f"{len(summary['patches'])} patches",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
    )
    patches.add_column("patch", no_wrap=True)
    labels = summary["labels"]
    nvalues = max((len(p["values"]) for p in summary["patches"]), default=0)
    headers = list(labels) + [f"value {i}" for i in range(len(labels), nvalues)]
    for header in headers:
        patches.add_column(Text(header), justify="right", no_wrap=True)
    for p in summary["patches"]:
        cells = [_fmt(v) for v in p["values"]]
        patches.add_row(Text(p["name"]), *cells, *([""] * (len(headers) - len(cells))))
    print_tables([head, patches])


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
