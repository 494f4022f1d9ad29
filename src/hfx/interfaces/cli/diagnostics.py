"""``hfx ranking``: fit diagnostics at the command line (more to come: pulls, yields)."""

from __future__ import annotations

import click

from hfx.interfaces.cli._common import input_path, naming, output_file_option
from hfx.interfaces.cli.inference import (
    _emit,
    _model_and_data,
    measurement_option,
    patch_option,
)

__all__ = ["COMMANDS", "ranking"]


@click.command()
@input_path("workspace")
@patch_option
@measurement_option
@click.option(
    "--engine",
    type=click.Choice(["auto", "numpy", "numba"]),
    default="auto",
    show_default=True,
    help="Where the Newton fits run (as for `hfx cls`).",
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=None,
    help="Keep only the N parameters of largest post-fit impact.",
)
@output_file_option
def ranking(
    workspace: str,
    patches: tuple[str, ...],
    measurement: str | None,
    engine: str,
    top: int | None,
    output_file: str | None,
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
        result = run_ranking(model, data, engine=chosen)
        if top is not None:
            result = result.top(top)
    _emit(result.to_dict(), output_file)


COMMANDS = (ranking,)
