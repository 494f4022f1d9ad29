"""``hfx contour``: observed and expected CLs exclusion contours of a scan's records."""

from __future__ import annotations

import click

from hfx.interfaces.cli._common import _register_input, input_path, naming, output_file_option
from hfx.interfaces.cli.inference import _emit, plot_option

__all__ = ["COMMANDS", "contour"]


@click.command()
@input_path("scan_file")
@click.option(
    "--x",
    "x",
    default=None,
    metavar="LABEL",
    help="Metadata value on the x axis, by label or index (default: the first).",
)
@click.option(
    "--y",
    "y",
    default=None,
    metavar="LABEL",
    help="Metadata value on the y axis, by label or index (default: the second).",
)
@click.option(
    "--level",
    type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="The CLs of the contours.",
)
@click.option(
    "--resolution",
    type=click.IntRange(min=3),
    default=200,
    show_default=True,
    help="Points per axis of the interpolation grid.",
)
@plot_option("the points coloured by CLs with the contours to FILE (.png/.pdf)")
@output_file_option
def contour(
    scan_file: str,
    x: str | None,
    y: str | None,
    level: float,
    resolution: int,
    plot: str | None,
    output_file: str | None,
) -> None:
    """CLs = 0.05 exclusion contours of a scan file (`hfx scan` JSON lines; '-' for stdin).

    Observed, expected and expected ±1σ/±2σ, in the plane of two metadata values.  Each
    CLs becomes Z = Φ⁻¹(1 − CLs); Z is interpolated linearly on the Delaunay triangulation
    of the points (axes scaled to [0, 1]) and contoured on a regular grid.  Failed points
    are left out.  Prints {"x", "y", "level", "method", "points", "excluded_failed",
    "observed": [[[x, y], ...], ...], "expected": ..., "expected_minus1sigma": ...}.
    """
    from hfx.interfaces.scan.contour import contours
    from hfx.interfaces.scan.records import read_records

    source = _register_input(scan_file)
    with naming(source):
        records = read_records(scan_file)
        result = contours(records, x, y, level=level, resolution=resolution)
        if plot is not None:
            from hfx.interfaces.plots import contour_plot

            contour_plot(result, records, plot)
    _emit(result.to_dict(), output_file)


COMMANDS = (contour,)
