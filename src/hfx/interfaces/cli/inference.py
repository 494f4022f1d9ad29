"""Inference commands: cls, fit, upper-limit, significance.

Each reads a workspace (a file or ``-``), optionally applies JSON patches (``--patch``,
e.g. a signal hypothesis on a background-only workspace), builds the model of one
measurement and prints a JSON result.  ``cls`` and ``fit`` print what ``pyhf cls`` and
``pyhf fit --value`` print (same keys), with more detail where hfx has it.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import click

from hfx.interfaces.cli._common import (
    _register_input,
    emit_json,
    input_path,
    load_workspace,
    naming,
    output_file_option,
    sort_keys,
)
from hfx.interfaces.cli.tables import as_table, table_option

_BACKENDS = MappingProxyType(
    {"numpy": "numpy", "np": "numpy", "jax": "jax", "torch": "torch", "pytorch": "torch"}
)
_CALCTYPES = MappingProxyType({"asymptotics": "asymptotic", "toybased": "toys"})


# --- options shared by every command ---------------------------------------------------------


# the workspace, its patches and the measurement: every command that builds a model
patch_option = click.option(
    "-p",
    "--patch",
    "patches",
    multiple=True,
    metavar="PATCH",
    help="JSON Patch file to apply to the workspace first (repeatable, in order).",
)
measurement_option = click.option(
    "--measurement", default=None, help="Measurement to use (default: the first)."
)
progress_option = click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on stderr (default: when stderr is a terminal).",
)


def plot_option(
    what: str, *, name: str = "--plot", dest: str | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--plot FILE`` (or a folder, for ``what`` naming one): where to draw ``what``."""
    folder = what.endswith("DIR")
    args = (name,) if dest is None else (name, dest)
    return click.option(
        *args,
        type=click.Path(dir_okay=folder, file_okay=not folder),
        default=None,
        metavar="DIR" if folder else "FILE",
        help=f"Draw {what} (extra 'plot').",
    )


def _model_options(func: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        input_path("workspace"),
        patch_option,
        measurement_option,
        click.option(
            "--backend",
            type=click.Choice(sorted(_BACKENDS)),
            default="numpy",
            show_default=True,
            help="Array backend for the likelihood (jax/torch need their extras).",
        ),
        click.option(
            "--optimizer",
            type=click.Choice(["auto", "scipy", "minuit"]),
            default="auto",
            show_default=True,
            help="Minimiser: auto is the library's default (projected Newton, L-BFGS-B as "
            "fallback); minuit needs the 'minuit' extra.",
        ),
        click.option(
            "--engine",
            type=click.Choice(["auto", "numpy", "numba"]),
            default="auto",
            show_default=True,
            help="Where Newton fits run: numba (compiled, models of up to 20 parameters), "
            "numpy, or auto: numba where it applies and the command runs enough fits to "
            "repay loading it (~0.5 s per process: toys, long scans), else numpy.",
        ),
        output_file_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _toy_options(func: Callable[..., Any], *, progress: bool = True) -> Callable[..., Any]:
    options = [
        click.option(
            "--calctype",
            type=click.Choice(sorted(_CALCTYPES)),
            default="asymptotics",
            show_default=True,
            help="Asymptotic formulae or pseudo-experiments.",
        ),
        click.option(
            "--ntoys",
            type=click.IntRange(min=1),
            default=2000,
            show_default=True,
            help="Pseudo-experiments per hypothesis (toybased).",
        ),
        click.option("--seed", type=int, default=None, help="Seed of the toy generator."),
    ]
    if progress:
        options.append(progress_option)
    for option in reversed(options):
        func = option(func)
    return func


def _show_progress(flag: bool | None) -> bool:
    if flag is not None:
        return flag
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


# --- model and data ----------------------------------------------------------------------------


def _load_patch(path: str) -> tuple[str, list[Any]]:
    """A JSON Patch file's name and operations (``Workspace.apply_patches`` reads the same
    forms: a list of operations, or ``{"patch": [...]}`` as ``patchset extract
    --with-metadata`` writes)."""
    from hfx.spec.workspace import load_patch_file

    name = _register_input(path)
    with naming(name):
        _, document = load_patch_file(path)
    return name, document


def patched_workspace(workspace: str, patches: tuple[str, ...]) -> tuple[Any, str]:
    """The workspace with the patches applied (validated again), and the name to blame in
    errors."""
    ws = load_workspace(workspace)
    loaded = [_load_patch(p) for p in patches]
    source = ws.source
    if loaded:
        source = f"{ws.source} (patched by {', '.join(name for name, _ in loaded)})"
        with naming(source):  # (copy-on-write, as Workspace.apply_patches)
            ws = ws._patched([(name, ops, True) for name, ops in loaded], source)
    return ws, source


def _model_and_data(
    workspace: str, patches: tuple[str, ...], measurement: str | None, backend: str
) -> tuple[Any, Any, str]:
    """The compiled model, its data (main + auxiliary) and the name to blame in errors."""
    ws, source = patched_workspace(workspace, patches)
    with naming(source):
        model = ws.model(measurement_name=measurement, backend=_BACKENDS[backend])
        data = ws.data(model)
    return model, data, source


def _engine(model: Any, engine: str, hypotheses: int) -> str:
    """The engine for a command that tests ``hypotheses`` POI values in a process of its own
    (about three Newton solves each: asymptotic fits, or batched toy ensembles)."""
    from hfx.optimize.engines import engine_for_one_task

    return engine_for_one_task(model, engine, 3 * hypotheses)


def _finite(obj: Any) -> Any:
    """−0.0 prints as 0.0; NaN/inf stay, and emit_json refuses them (JSON has no NaN/inf)."""
    if isinstance(obj, float):
        return obj + 0.0
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _emit(result: dict[str, Any], output_file: str | None) -> None:
    emit_json(sort_keys(_finite(result)), output_file)


# --- commands ------------------------------------------------------------------------------------


@click.command()
@_model_options
@click.option("--test-poi", type=float, default=1.0, show_default=True, help="POI value to test.")
@click.option(
    "--test-stat",
    type=click.Choice(["qtilde", "q", "q0"]),
    default="qtilde",
    show_default=True,
    help="Test statistic (q0: discovery p-value at POI 0).",
)
@_toy_options
def cls(
    workspace: str,
    patches: tuple[str, ...],
    measurement: str | None,
    backend: str,
    optimizer: str,
    engine: str,
    output_file: str | None,
    test_poi: float,
    test_stat: str,
    calctype: str,
    ntoys: int,
    seed: int | None,
    progress: bool | None,
) -> None:
    """CLs of the POI value --test-poi: observed and the expected band.

    Prints {"CLs_obs": ..., "CLs_exp": [-2σ, -1σ, median, +1σ, +2σ]} as `pyhf cls` does.
    With --test-stat q0 it prints the discovery p-value instead: {"p0_obs", "p0_exp"}.
    """
    from hfx.infer import hypotest, test_statistic

    statistic = test_statistic(test_stat)
    model, data, source = _model_and_data(workspace, patches, measurement, backend)
    with naming(source):
        result = hypotest(
            model,
            data,
            statistic.tested_poi(test_poi),
            test_stat=test_stat,
            calculator=_CALCTYPES[calctype],
            ntoys=ntoys,
            seed=seed,
            progress=_show_progress(progress),
            optimizer=optimizer,
            engine=_engine(model, engine, 1),
        )
    if statistic.discovery:
        out = {"p0_obs": result.pvalue, "p0_exp": list(result.pvalue_expected)}
    else:
        out = {"CLs_obs": result.cls, "CLs_exp": list(result.cls_expected)}
    _emit(out, output_file)


def _by_parameter(model: Any, values: Any) -> dict[str, list[float]]:
    config = model.config
    return {name: [float(v) for v in values[config.par_slice(name)]] for name in config.par_order}


@click.command()
@_model_options
@click.option(
    "--value",
    is_flag=True,
    default=False,
    help="Accepted for pyhf compatibility; twice_nll is always printed.",
)
@click.option(
    "--fixed-poi",
    type=float,
    default=None,
    metavar="VALUE",
    help="Fit with the POI held at VALUE (a conditional fit).",
)
@click.option(
    "--minos",
    "minos",
    multiple=True,
    metavar="PARAMETER",
    help="Also the profile-likelihood (MINOS-like) 68% interval of PARAMETER (repeatable; "
    "a label such as 'mu' or 'gamma[1]').",
)
@plot_option("the pulls of the constrained parameters to FILE (.png/.pdf)", dest="plot_pulls")
@plot_option("the correlation matrix to FILE", name="--plot-correlations")
@click.option(
    "--correlation-threshold",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Keep in the drawn matrix only parameters with some |ρ| at or above this.",
)
@table_option
def fit(
    workspace: str,
    patches: tuple[str, ...],
    measurement: str | None,
    backend: str,
    optimizer: str,
    engine: str,
    output_file: str | None,
    value: bool,
    fixed_poi: float | None,
    minos: tuple[str, ...],
    plot_pulls: str | None,
    plot_correlations: str | None,
    correlation_threshold: float,
    as_json: bool | None,
) -> None:
    """Maximum-likelihood fit: best-fit values, uncertainties and correlations by parameter.

    Prints "mle_parameters" and "twice_nll" as `pyhf fit --value` does, plus
    "uncertainties" (Hessian-based; 0 for fixed parameters), "correlations"
    ({"parameters": component labels, "matrix": [[...]]}), "pulls" ((θ̂ − θ₀)/Δθ of each
    constrained parameter) and, with --minos, "minos" ({label: [low, high]}).  On a
    terminal it prints a table instead (--json for JSON).
    """
    from hfx.diagnostics import correlations, pulls
    from hfx.optimize import fit as run_fit
    from hfx.optimize import fixed_poi_fit

    del value
    model, data, source = _model_and_data(workspace, patches, measurement, backend)
    chosen = _engine(model, engine, 1 + 20 * len(minos))
    with naming(source):
        if fixed_poi is None:
            result = run_fit(model, data, optimizer=optimizer, engine=chosen)
        else:
            _check_fixed_poi(model, fixed_poi)
            result = fixed_poi_fit(fixed_poi, model, data, optimizer=optimizer, engine=chosen)
        pull_list = pulls(model, result)
        intervals = {name: _minos(model, data, name, optimizer, chosen) for name in minos}
        if plot_pulls is not None:
            from hfx.interfaces.plots import pulls_plot

            pulls_plot(pull_list, plot_pulls)
        if plot_correlations is not None:
            from hfx.interfaces.plots import correlation_plot

            correlation_plot(
                correlations(result, threshold=correlation_threshold), plot_correlations
            )
    if as_table(as_json, output_file):
        from hfx.interfaces.cli.tables import correlation_summary, fit_table, print_tables

        poi = model.config.poi_name if model.config.poi_index is not None else None
        free = correlations(result)
        print_tables(
            [
                fit_table(
                    result.par_names,
                    result.bestfit,
                    result.uncertainties,
                    {p.name: p.pull for p in pull_list},
                    result.fixed,
                    result.twice_nll,
                    poi=poi,
                    minos=intervals,
                ),
                correlation_summary(free.labels, free.matrix),
            ]
        )
        return
    out: dict[str, Any] = {
        "mle_parameters": _by_parameter(model, result.bestfit),
        "uncertainties": _by_parameter(model, result.uncertainties),
        "correlations": {
            "parameters": list(result.par_names),
            "matrix": [[float(v) for v in row] for row in result.correlation],
        },
        "pulls": {p.name: p.pull for p in pull_list},
        "twice_nll": float(result.twice_nll),
    }
    if intervals:
        out["minos"] = {name: list(lo_hi) for name, lo_hi in intervals.items()}
    _emit(out, output_file)


def _minos(model: Any, data: Any, name: str, optimizer: str, engine: str) -> tuple[float, float]:
    """The profile-likelihood 68% interval of the component labelled ``name``."""
    from hfx.errors import HfxError
    from hfx.infer import interval

    if name not in model.config.par_names:
        known = ", ".join(model.config.par_names)
        raise HfxError(f"--minos: no parameter {name!r}; the model has {known}")
    index = model.config.par_names.index(name)
    if model.config.suggested_fixed()[index]:
        raise HfxError(f"--minos: parameter {name!r} is fixed in the measurement")
    return interval(model, data, name, optimizer=optimizer, engine=engine)


def _check_fixed_poi(model: Any, value: float) -> None:
    """Refuse a --fixed-poi outside the POI bounds (pyhf refuses it too)."""
    from hfx.errors import ModelError, PoiOutOfBoundsError

    idx = model.config.poi_index
    if idx is None:
        raise ModelError("--fixed-poi needs a model with a POI")
    lo, hi = (float(b) for b in model.config.suggested_bounds()[idx])
    if not (math.isfinite(value) and lo <= value <= hi):
        raise PoiOutOfBoundsError(
            f"--fixed-poi {value:g} lies outside the bounds [{lo:g}, {hi:g}] of the POI "
            f"{model.config.poi_name!r}; fix it inside them or widen the bounds in the "
            "measurement's config parameters"
        )


@click.command(name="upper-limit")
@_model_options
@click.option(
    "--scan",
    nargs=3,
    type=(float, float, click.IntRange(min=2)),
    default=None,
    metavar="START STOP N",
    help="Interpolate on N equally spaced POI values (default: TOMS 748 root finding).",
)
@click.option(
    "--level",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.05,
    show_default=True,
    help="CLs level of the limit.",
)
@click.option(
    "--rtol",
    type=click.FloatRange(0, min_open=True),
    default=1e-6,
    show_default=True,
    help="Relative tolerance of the root finding.",
)
@click.option(
    "--test-stat",
    type=click.Choice(["qtilde", "q"]),
    default="qtilde",
    show_default=True,
    help="Test statistic.",
)
@plot_option("the Brazil band (CLs against the POI; needs --scan) to FILE")
@functools.partial(_toy_options, progress=False)
def upper_limit(
    workspace: str,
    patches: tuple[str, ...],
    measurement: str | None,
    backend: str,
    optimizer: str,
    engine: str,
    output_file: str | None,
    scan: tuple[float, float, int] | None,
    level: float,
    rtol: float,
    test_stat: str,
    plot: str | None,
    calctype: str,
    ntoys: int,
    seed: int | None,
) -> None:
    """Upper limit on the POI at CLs = --level: observed and expected band.

    Prints {"obs", "exp" [-2σ … +2σ], "level", "method"}; with --scan also the grid
    ("scan") and the CLs curves ("cls_obs", "cls_exp": one curve per band point).
    """
    import numpy as np

    from hfx.infer import upper_limit as run_upper_limit

    if plot is not None and scan is None:
        raise click.UsageError("--plot draws the CLs curves of a scan: give --scan START STOP N")
    model, data, source = _model_and_data(workspace, patches, measurement, backend)
    grid = None if scan is None else np.linspace(scan[0], scan[1], scan[2])
    with naming(source):
        result = run_upper_limit(
            model,
            data,
            scan=grid,
            level=level,
            rtol=rtol,
            test_stat=test_stat,
            calculator=_CALCTYPES[calctype],
            ntoys=ntoys,
            seed=seed,
            optimizer=optimizer,
            # (about 20 hypotheses for the root finding, or one per grid point)
            engine=_engine(model, engine, 20 if grid is None else len(grid)),
        )
        if plot is not None:
            from hfx.interfaces.plots import brazil_plot

            poi = model.config.poi_name if model.config.poi_index is not None else "μ"
            brazil_plot(result, plot, poi_label=poi)
    out = {k: v for k, v in result.to_dict().items() if v is not None}
    _emit(out, output_file)


@click.command()
@_model_options
@_toy_options
def significance(
    workspace: str,
    patches: tuple[str, ...],
    measurement: str | None,
    backend: str,
    optimizer: str,
    engine: str,
    output_file: str | None,
    calctype: str,
    ntoys: int,
    seed: int | None,
    progress: bool | None,
) -> None:
    """Discovery significance (q0 at POI 0): observed and expected p0 and Z.

    The expected values assume the signal at POI 1; "*_band" lists hold the -2σ … +2σ
    points of the expected band.
    """
    from hfx.infer import significance as run_significance

    model, data, source = _model_and_data(workspace, patches, measurement, backend)
    with naming(source):
        result = run_significance(
            model,
            data,
            calculator=_CALCTYPES[calctype],
            ntoys=ntoys,
            seed=seed,
            progress=_show_progress(progress),
            optimizer=optimizer,
            engine=_engine(model, engine, 1),
        )
    _emit(result.to_dict(), output_file)


COMMANDS = (cls, fit, upper_limit, significance)

__all__ = ["COMMANDS", "cls", "fit", "significance", "upper_limit"]
