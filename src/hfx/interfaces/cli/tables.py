"""Results as tables for a person at a terminal (rich), and as Markdown or LaTeX for a note.

A command prints JSON when its standard output is a pipe or a file, or with ``--json``;
on a terminal (or with ``--table``) it prints the tables made here.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import click

__all__ = [
    "as_table",
    "fit_table",
    "print_tables",
    "ranking_table",
    "table_option",
    "yields_rows",
    "yields_table",
]

# --json / --table: None means "JSON unless stdout is a terminal"
table_option = click.option(
    "--json/--table",
    "as_json",
    default=None,
    help="Print JSON (the default when standard output is a pipe or a file) or tables "
    "(the default on a terminal).",
)


def as_table(as_json: bool | None, output_file: str | None) -> bool:
    """Whether to print tables: asked for, or a terminal with no output file."""
    if as_json is not None:
        return not as_json
    if output_file not in (None, "-"):
        return False
    return bool(getattr(sys.stdout, "isatty", lambda: False)())


def _num(value: float, digits: int = 4) -> str:
    return f"{value:.{digits}g}" if value != 0 else "0"


def _value_pm(value: float, stdev: float) -> str:
    """``value ± stdev`` with the stdev to two significant digits and the value to match."""
    if not stdev > 0 or not math.isfinite(stdev):
        return f"{_num(value)} ± 0"
    decimals = max(0, 1 - math.floor(math.log10(stdev)))
    return f"{value:.{decimals}f} ± {stdev:.{decimals}f}"


def _signed(value: float) -> str:
    return f"{value:+.3g}"


def print_tables(tables: Iterable[Any]) -> None:
    """Print rich renderables (tables, text) to standard output."""
    from rich.console import Console

    console = Console(soft_wrap=False)
    for table in tables:
        console.print(table)


def fit_table(
    names: Sequence[str],
    bestfit: Iterable[float],
    sigma: Iterable[float],
    pulls: dict[str, float],
    fixed: Iterable[bool],
    twice_nll: float,
    *,
    poi: str | None = None,
    minos: dict[str, tuple[float, float]] | None = None,
) -> Any:
    """Parameters, best-fit values, ±σ, pulls (constrained parameters) and flags."""
    from rich.table import Table

    table = Table(title=f"fit: −2 log L = {twice_nll:.6g}", title_justify="left")
    table.add_column("parameter", overflow="fold")
    table.add_column("value", justify="right")
    table.add_column("± σ", justify="right")
    table.add_column("pull", justify="right")
    if minos:
        table.add_column("profile interval", justify="right")
    table.add_column("", justify="left")
    for name, value, err, is_fixed in zip(names, bestfit, sigma, fixed, strict=True):
        pull = pulls.get(name)
        row = [
            f"[bold]{name}[/bold]" if name == poi else name,
            _num(value),
            "fixed" if is_fixed else _num(err, 3),
            "" if pull is None else _signed(pull),
        ]
        if minos:
            lo_hi = minos.get(name)
            row.append("" if lo_hi is None else f"[{_num(lo_hi[0])}, {_num(lo_hi[1])}]")
        flag = "POI" if name == poi else ""
        if pull is not None and abs(pull) > 2:
            flag = "pulled > 2σ"
        row.append(flag)
        table.add_row(*row)
    return table


def correlation_summary(
    labels: Sequence[str], matrix: Any, *, threshold: float = 0.5, limit: int = 15
) -> Any:
    """The largest off-diagonal correlations (|ρ| ≥ threshold), largest first."""
    from rich.table import Table

    pairs = [
        (float(matrix[i][j]), labels[i], labels[j])
        for i in range(len(labels))
        for j in range(i + 1, len(labels))
        if abs(float(matrix[i][j])) >= threshold
    ]
    pairs.sort(key=lambda p: -abs(p[0]))
    note = f"the full {len(labels)}×{len(labels)} matrix: --json or --plot-correlations"
    if not pairs:
        from rich.text import Text

        return Text(f"no correlations with |ρ| ≥ {threshold:g} ({note})")
    table = Table(
        title=f"correlations with |ρ| ≥ {threshold:g}",
        caption=note,
        title_justify="left",
        caption_justify="left",
    )
    table.add_column("parameter", overflow="fold")
    table.add_column("parameter", overflow="fold")
    table.add_column("ρ", justify="right")
    for rho, a, b in pairs[:limit]:
        table.add_row(a, b, f"{rho:+.3f}")
    if len(pairs) > limit:
        table.add_row("…", f"{len(pairs) - limit} more", "")
    return table


def ranking_table(result: dict[str, Any]) -> Any:
    """The impact ranking, largest post-fit impact first."""
    from rich.table import Table

    poi = result["poi"]
    table = Table(
        title=f"impacts on {poi} = {_num(result['bestfit'])} ± {_num(result['uncertainty'], 3)}",
        title_justify="left",
    )
    table.add_column("#", justify="right")
    table.add_column("parameter", overflow="fold")
    table.add_column("θ̂ ± σ̂", justify="right")
    table.add_column(f"post-fit Δ{poi} (+σ̂ / −σ̂)", justify="right")
    table.add_column(f"pre-fit Δ{poi} (+Δθ / −Δθ)", justify="right")
    for k, row in enumerate(result["ranking"], start=1):
        table.add_row(
            str(k),
            row["name"],
            f"{_num(row['bestfit'], 3)} ± {_num(row['uncertainty'], 3)}",
            f"{_signed(row['postfit_up'])} / {_signed(row['postfit_down'])}",
            f"{_signed(row['prefit_up'])} / {_signed(row['prefit_down'])}",
        )
    return table


def yields_rows(channel: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of one channel's yields: a row per sample, the total and the data;
    a column per bin and one for the channel's sum, as "value ± stdev"."""
    nbins = len(channel["data"]["yields"])
    header = ["sample", *[f"bin {b}" for b in range(nbins)], "total"]

    def cells(values: Sequence[float], stdev: Sequence[float] | None) -> list[str]:
        if stdev is None:
            return [_num(v, 5) for v in values]
        return [_value_pm(v, s) for v, s in zip(values, stdev, strict=True)]

    rows = []
    for sample in channel["samples"]:
        rows.append(
            [
                sample["name"],
                *cells(sample["yields"], sample["stdev"]),
                *cells([sample["sum"]], [sample["sum_stdev"]]),
            ]
        )
    total = channel["total"]
    rows.append(
        [
            "total",
            *cells(total["yields"], total["stdev"]),
            *cells([total["sum"]], [total["sum_stdev"]]),
        ]
    )
    data = channel["data"]
    rows.append(["data", *cells(data["yields"], None), *cells([data["sum"]], None)])
    return header, rows


def yields_table(result: dict[str, Any]) -> list[Any]:
    """One rich table per channel."""
    from rich.table import Table

    stage = "post-fit" if result["postfit"] else "pre-fit"
    tables = []
    for channel in result["channels"]:
        header, rows = yields_rows(channel)
        table = Table(title=f"{channel['name']} ({stage})", title_justify="left")
        for k, name in enumerate(header):
            table.add_column(name, justify="left" if k == 0 else "right")
        for k, row in enumerate(rows):
            table.add_row(*row, end_section=k >= len(rows) - 3 and k < len(rows) - 1)
        tables.append(table)
    return tables


def yields_markdown(result: dict[str, Any]) -> str:
    stage = "post-fit" if result["postfit"] else "pre-fit"
    out = []
    for channel in result["channels"]:
        header, rows = yields_rows(channel)
        out.append(f"### {channel['name']} ({stage})\n")
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "|".join([":---", *["---:"] * (len(header) - 1)]) + "|")
        out.extend("| " + " | ".join(row) + " |" for row in rows)
        out.append("")
    return "\n".join(out)


def _latex_escape(text: str) -> str:
    for char in ("\\", "&", "%", "$", "#", "_", "{", "}"):
        text = text.replace(char, "\\" + char if char != "\\" else r"\textbackslash{}")
    return text


def yields_latex(result: dict[str, Any]) -> str:
    stage = "post-fit" if result["postfit"] else "pre-fit"
    out = []
    for channel in result["channels"]:
        header, rows = yields_rows(channel)
        out.append("\\begin{table}[htbp]\n\\centering")
        out.append(f"\\caption{{{_latex_escape(channel['name'])} ({stage})}}")
        out.append("\\begin{tabular}{l" + "r" * (len(header) - 1) + "}")
        out.append("\\hline")
        out.append(" & ".join(_latex_escape(h) for h in header) + " \\\\")
        out.append("\\hline")
        for k, row in enumerate(rows):
            if k == len(rows) - 2:
                out.append("\\hline")
            cells = [_latex_escape(row[0]), *(c.replace("±", "$\\pm$") for c in row[1:])]
            out.append(" & ".join(cells) + " \\\\")
        out.append("\\hline\n\\end{tabular}\n\\end{table}\n")
    return "\n".join(out)
