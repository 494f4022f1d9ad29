"""Fit diagnostics at the command line: ``hfx ranking``, ``hfx yields``, ``hfx profile`` and
``hfx modifiers`` (``hfx fit`` prints pulls and draws pulls and correlations)."""

from __future__ import annotations

import click

from hfx.interfaces.cli._common import input_path, naming, output_file_option
from hfx.interfaces.cli.inference import (
    _emit,
    _model_and_data,
    _show_progress,
    measurement_option,
    patch_option,
    patched_workspace,
    plot_option,
    progress_option,
)
from hfx.interfaces.cli.tables import as_table, table_option

__all__ = ["COMMANDS", "modifiers", "profile", "ranking", "templates", "yields"]

engine_option = click.option(
    "--engine",
    type=click.Choice(["auto", "numpy", "numba"]),
    default="auto",
    show_default=True,
    help="Where the Newton fits run (as for `hfx cls`).",
)


@click.command()
@input_path("workspace")
@patch_option
@measurement_option
@engine_option
@click.option(
    "--par",
    "parameters",
    multiple=True,
    metavar="PARAMETER",
    help="Rank only these parameters (repeatable; labels such as 'alpha_jes' or 'gamma[1]').",
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=None,
    help="Keep only the N parameters of largest post-fit impact.",
)
@plot_option("the ranking (impacts and pulls) to FILE (.png/.pdf)")
@progress_option
@output_file_option
@table_option
def ranking(
    workspace: str,
    patches: tuple[str, ...],
    measurement: str | None,
    engine: str,
    parameters: tuple[str, ...],
    top: int | None,
    plot: str | None,
    progress: bool | None,
    output_file: str | None,
    as_json: bool | None,
) -> None:
    """Impact of each nuisance parameter on the POI (cabinetry's definitions).

    For every free parameter but the POI: the POI's shift when the parameter is held at its
    best fit ± its pre-fit width (prefit_up/down) and ± its post-fit uncertainty
    (postfit_up/down), sorted by post-fit impact.  Prints {"poi", "bestfit", "uncertainty",
    "ranking": [{"name", "bestfit", "uncertainty", "prefit_up", ...}, ...]}.
    """
    from hfx.diagnostics import ranking as run_ranking
    from hfx.optimize.engines import engine_for_one_task

    model, data, source = _model_and_data(workspace, patches, measurement, "numpy")
    with naming(source):
        # four conditional fits per parameter, each parameter's as one batch
        chosen = engine_for_one_task(model, engine, model.config.npars)
        result = run_ranking(
            model,
            data,
            engine=chosen,
            parameters=parameters or None,
            progress=_show_progress(progress),
        )
        if top is not None:
            result = result.top(top)
        if plot is not None:
            from hfx.interfaces.plots import ranking_plot

            ranking_plot(result, plot, model=model)
    if as_table(as_json, output_file):
        from hfx.interfaces.cli.tables import print_tables, ranking_table

        print_tables([ranking_table(result.to_dict())])
        return
    _emit(result.to_dict(), output_file)


@click.command()
@input_path("workspace")
@patch_option
@measurement_option
@click.option(
    "--postfit/--prefit",
    default=False,
    show_default=True,
    help="Yields at the best fit with its uncertainties, or at the nominal parameters with "
    "their constraint widths.",
)
@click.option(
    "--method",
    type=click.Choice(["symmetrised", "linear"]),
    default="symmetrised",
    show_default=True,
    help="symmetrised: each parameter moved by ±σ alone, (up − down)/2 combined with the "
    "correlations (cabinetry's); linear: J·C·Jᵀ with the exact Jacobian.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", "json", "table", "markdown", "latex"]),
    default="auto",
    show_default=True,
    help="auto: a table on a terminal, JSON in a pipe or file.",
)
@plot_option("a data/model plot per channel into DIR")
@click.option("--log", is_flag=True, default=False, help="Logarithmic y axis in the plots.")
@output_file_option
def yields(
    workspace: str,
    patches: tuple[str, ...],
    measurement: str | None,
    postfit: bool,
    method: str,
    fmt: str,
    plot: str | None,
    log: bool,
    output_file: str | None,
) -> None:
    """Expected yields per channel, sample and bin with their uncertainties, and the data.

    Pre-fit by default, post-fit with --postfit.  JSON: {"postfit", "method", "channels":
    [{"name", "samples": [{"name", "yields", "stdev", "sum", "sum_stdev"}], "total": {...},
    "data": {...}}]}.
    """
    from hfx.diagnostics import yields as run_yields

    model, data, source = _model_and_data(workspace, patches, measurement, "numpy")
    with naming(source):
        result = run_yields(model, data, postfit=postfit, method=method)
        if plot is not None:
            from hfx.interfaces.plots import yields_plots

            yields_plots(result, plot, log=log)
    out = result.to_dict()
    if fmt == "auto":
        fmt = "table" if as_table(None, output_file) else "json"
    if fmt == "json":
        _emit(out, output_file)
        return
    from hfx.interfaces.cli import tables

    if fmt == "table":
        tables.print_tables(tables.yields_table(out))
        return
    text = tables.yields_markdown(out) if fmt == "markdown" else tables.yields_latex(out)
    _emit_text(text, output_file)


@click.command()
@input_path("workspace")
@patch_option
@measurement_option
@click.option(
    "--par",
    default=None,
    metavar="PARAMETER",
    help="Parameter to scan, a label such as 'mu' or 'gamma[1]' (default: the POI).",
)
@click.option(
    "--range",
    "grid",
    nargs=3,
    type=(float, float, click.IntRange(min=2)),
    default=None,
    metavar="START STOP N",
    help="N equally spaced values (default: 31 points over the best fit ± 3σ, inside the "
    "parameter's bounds).",
)
@engine_option
@plot_option("Δ(−2 log L) against the parameter to FILE")
@output_file_option
def profile(
    workspace: str,
    patches: tuple[str, ...],
    measurement: str | None,
    par: str | None,
    grid: tuple[float, float, int] | None,
    engine: str,
    plot: str | None,
    output_file: str | None,
) -> None:
    """Profile-likelihood scan: Δ(−2 log L) of one parameter over a grid, the others
    refitted at each point.

    Prints {"par", "values", "delta_twice_nll", "bestfit", "minimum", "intervals":
    {"68%": [low, high], "95%": [low, high]}} (interpolated crossings of 1 and 3.84; null
    where the grid does not reach them).
    """
    import numpy as np

    from hfx.infer import profile_scan
    from hfx.optimize.engines import engine_for_one_task

    model, data, source = _model_and_data(workspace, patches, measurement, "numpy")
    values = None if grid is None else np.linspace(grid[0], grid[1], grid[2])
    with naming(source):
        npoints = 31 if values is None else values.size
        chosen = engine_for_one_task(model, engine, npoints)
        result = profile_scan(model, data, par, values, npoints=31, engine=chosen)
        if plot is not None:
            from hfx.interfaces.plots import scan_plot

            scan_plot(result, plot)
    out = result.to_dict()
    out["intervals"] = {
        "68%": list(result.crossings(1.0)),
        "95%": list(result.crossings(_CHI2_95)),
    }
    _emit(out, output_file)


_CHI2_95 = 3.841458820694124  # Δ(2NLL) of a 95% CL interval for one parameter


@click.command()
@input_path("workspace")
@patch_option
@plot_option("the grid to FILE")
@output_file_option
def modifiers(
    workspace: str, patches: tuple[str, ...], plot: str | None, output_file: str | None
) -> None:
    """Which modifier acts on which sample of which channel.

    Prints {"modifiers": [{"name", "type"}], "columns": [{"channel", "sample"}], "acts":
    [[0/1 per column] per modifier]}, modifiers sorted by type, then name.
    """
    from hfx.diagnostics import modifier_grid

    ws, source = patched_workspace(workspace, patches)
    spec = dict(ws.spec)
    with naming(source):
        grid = modifier_grid(spec)
        if plot is not None:
            from hfx.interfaces.plots import modifier_grid_plot

            modifier_grid_plot(grid, plot)
    _emit(grid.to_dict(), output_file)


@click.command()
@input_path("workspace")
@patch_option
@measurement_option
@click.option("--channel", default=None, help="Only this channel.")
@click.option("--sample", default=None, help="Only this sample.")
@plot_option("each sample's nominal and variations, one file per modifier, into DIR")
@output_file_option
def templates(
    workspace: str,
    patches: tuple[str, ...],
    measurement: str | None,
    channel: str | None,
    sample: str | None,
    plot: str | None,
    output_file: str | None,
) -> None:
    """Each sample's nominal yields and the ±1σ templates of its modifiers.

    Prints [{"channel", "sample", "nominal", "variations": [{"modifier", "type", "up",
    "down"}]}]: normsys hi/lo times the nominal, histosys hi_data/lo_data, staterror and
    shapesys the nominal ± their uncertainties, lumi ± the measurement's σ.
    """
    from hfx.diagnostics import templates as run_templates

    ws, source = patched_workspace(workspace, patches)
    spec = dict(ws.spec)
    with naming(source):
        result = run_templates(spec, channel=channel, sample=sample, measurement=measurement)
        if plot is not None:
            from hfx.interfaces.plots import templates_plots

            templates_plots(result, plot)
    _emit([t.to_dict() for t in result], output_file)  # type: ignore[arg-type]


def _emit_text(text: str, output_file: str | None) -> None:
    """Text to stdout, or atomically to ``output_file``."""
    if output_file is None or output_file == "-":
        click.echo(text)
        return
    from hfx.interfaces.cli._common import _refuse_overwriting_input
    from hfx.spec.jsonio import write_text_atomic

    _refuse_overwriting_input(output_file)
    write_text_atomic(output_file, text + "\n")


COMMANDS = (ranking, yields, profile, modifiers, templates)
