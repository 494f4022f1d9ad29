"""The computations behind the page's Compute pane, as library calls, and the figures of
their results (drawn by the same functions as the command line's ``--plot``)."""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from hfx.interfaces.web.documents import Document
from hfx.interfaces.web.errors import WebError
from hfx.interfaces.web.jobs import Cancelled, Job, JobManager

__all__ = ["KINDS", "figure_bytes", "item_figure", "job_figure", "model_and_data", "work_for"]

KINDS = ("cls", "upper_limit", "fit", "ranking", "scan")
PLOTS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "cls": (),
        "upper_limit": ("brazil",),
        "fit": ("pulls", "correlations"),
        "ranking": ("ranking",),
        "scan": ("contour",),
    }
)


def _patched(ws_doc: Document, patch_doc: Document | None, point: str | None) -> Any:
    ws = ws_doc.value
    if patch_doc is None:
        return ws
    if patch_doc.kind == "patch":
        return ws.apply_patches([patch_doc.value])
    if patch_doc.kind == "patchset":
        if not point:
            raise WebError(f"{patch_doc.name}: choose a point of the patchset")
        return patch_doc.value.apply(ws, point)
    raise WebError(f"{patch_doc.name}: a {patch_doc.kind} cannot patch a workspace")


def model_and_data(ws_doc: Document, patch_doc: Document | None, point: str | None) -> Any:
    """The model (first measurement) and data of the workspace with the patch applied."""
    ws = _patched(ws_doc, patch_doc, point)
    model = ws.model()
    return ws, model, ws.data(model)


def _float(options: dict[str, Any], key: str, default: float) -> float:
    value = options.get(key, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise WebError(f"option {key!r} must be a number, not {value!r}") from None
    if not np.isfinite(number):
        raise WebError(f"option {key!r} must be a finite number")
    return number


def _engine(model: Any, solves: int) -> str:
    from hfx.optimize.engines import engine_for_one_task

    return engine_for_one_task(model, "auto", solves)


def _cls(job: Job, model: Any, data: Any, options: dict[str, Any]) -> dict[str, Any]:
    from hfx.infer import hypotest

    result = hypotest(model, data, _float(options, "test_poi", 1.0), engine=_engine(model, 3))
    return {"CLs_obs": float(result.cls), "CLs_exp": [float(v) for v in result.cls_expected]}


def _upper_limit(job: Job, model: Any, data: Any, options: dict[str, Any]) -> dict[str, Any]:
    from hfx.infer import upper_limit

    level = _float(options, "level", 0.05)
    engine = _engine(model, 60)
    found = upper_limit(model, data, level=level, engine=engine)
    job.check()
    # the CLs curves for the Brazil plot, on a grid past the +2σ expected limit
    high = float(model.config.suggested_bounds()[model.config.poi_index][1])
    top = min(high, 1.25 * max(float(found.obs), float(found.exp[4])))
    curves = upper_limit(model, data, level=level, scan=np.linspace(0.0, top, 31), engine=engine)
    job.objects["brazil"] = curves
    out = {k: v for k, v in curves.to_dict().items() if v is not None}
    out.update(obs=float(found.obs), exp=[float(v) for v in found.exp], method=found.method)
    return out


def _fit(job: Job, model: Any, data: Any, options: dict[str, Any]) -> dict[str, Any]:
    from hfx.diagnostics import correlations, pulls
    from hfx.optimize import fit

    result = fit(model, data, engine=_engine(model, 1))
    pull_list = pulls(model, result)
    job.objects.update(pulls=pull_list, correlations=correlations(result, threshold=0.0))
    config = model.config

    def by_parameter(values: Any) -> dict[str, list[float]]:
        return {n: [float(v) for v in values[config.par_slice(n)]] for n in config.par_order}

    return {
        "bestfit": by_parameter(result.bestfit),
        "uncertainty": by_parameter(result.uncertainties),
        "twice_nll": float(result.twice_nll),
        "pulls": [p.to_dict() for p in pull_list],
        "correlations": {
            "parameters": list(result.par_names),
            "matrix": [[float(v) for v in row] for row in result.correlation],
        },
    }


def _ranking(job: Job, model: Any, data: Any, options: dict[str, Any]) -> dict[str, Any]:
    from hfx.diagnostics import ranking

    result = ranking(model, data)
    job.objects.update(ranking=result, model=model)
    out: dict[str, Any] = result.to_dict()
    return out


def _scan(
    job: Job, manager: JobManager, ws_doc: Document, patch_doc: Document, options: dict[str, Any]
) -> dict[str, Any]:
    from hfx.interfaces.scan import contours, scan
    from hfx.interfaces.scan.executors import process_executor, stop_executor

    if patch_doc.kind != "patchset":
        raise WebError("a grid scan needs a patchset")
    total = len(patch_doc.value)
    done = 0
    manager.progress(job, 0, total)

    def on_record(record: dict[str, Any]) -> None:
        nonlocal done
        done += 1
        manager.progress(job, done, total)
        job.check()

    workers = max(1, min(os.cpu_count() or 1, total))
    pool = process_executor(workers, method="forkserver")
    job.on_cancel.append(lambda: stop_executor(pool))
    try:
        result = scan(
            ws_doc.value,
            patch_doc.value,
            executor=pool,
            test_poi=_float(options, "test_poi", 1.0),
            upper_limit=bool(options.get("upper_limit", False)),
            on_record=on_record,
        )
    except Cancelled:
        stop_executor(pool)
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    records = [dict(r) for r in result.records]
    out: dict[str, Any] = {"records": records, "contour": None, "contour_error": None}
    try:
        contour = contours(records)
    except Exception as exc:  # (too few points, all on a line, ...): the records still count
        from hfx.interfaces.web.documents import one_line

        out["contour_error"] = one_line(exc)
    else:
        job.objects.update(contour=contour, records=records)
        out["contour"] = contour.to_dict()
    return out


_STEPS = MappingProxyType(
    {"cls": _cls, "upper_limit": _upper_limit, "fit": _fit, "ranking": _ranking}
)


def work_for(
    kind: str,
    manager: JobManager,
    ws_doc: Document,
    patch_doc: Document | None,
    point: str | None,
    options: dict[str, Any],
) -> Any:
    """The function a job of ``kind`` runs (checks what it can before the job starts)."""
    if kind not in KINDS:
        raise WebError(f"unknown computation {kind!r}; choose one of {', '.join(KINDS)}")
    if ws_doc.kind != "workspace":
        raise WebError(f"{ws_doc.name} is a {ws_doc.kind}, not a workspace")
    if kind == "scan":
        if patch_doc is None or patch_doc.kind != "patchset":
            raise WebError("a grid scan needs a patchset as its patch")

        def run_scan(job: Job) -> dict[str, Any]:
            assert patch_doc is not None
            return _scan(job, manager, ws_doc, patch_doc, options)

        return run_scan, PLOTS[kind]
    step = _STEPS[kind]

    def run(job: Job) -> dict[str, Any]:
        _, model, data = model_and_data(ws_doc, patch_doc, point)
        job.check()
        return step(job, model, data, options)

    return run, PLOTS[kind]


def figure_bytes(figure: Any, fmt: str) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, dpi=120 if fmt == "png" else 72, bbox_inches="tight")
    return buffer.getvalue()


def job_figure(job: Job, name: str) -> Any:
    """The figure ``name`` of a finished job."""
    from hfx.interfaces import plots

    if job.state != "done" or name not in job.plots:
        raise WebError(f"job {job.id} has no plot {name!r}")
    objects = job.objects
    if name == "brazil":
        return plots.brazil_plot(objects["brazil"])
    if name == "pulls":
        return plots.pulls_plot(objects["pulls"])
    if name == "correlations":
        return plots.correlation_plot(objects["correlations"])
    if name == "ranking":
        return plots.ranking_plot(objects["ranking"], top=20, model=objects["model"])
    if name == "contour":
        if "contour" not in objects:
            raise WebError(f"job {job.id}: {job.result and job.result.get('contour_error')}")
        return plots.contour_plot(objects["contour"], objects["records"])
    raise WebError(f"no plot {name!r}")


def item_figure(
    ws_doc: Document, what: str, patch_doc: Document | None = None, point: str | None = None
) -> Any:
    """A workspace's pre-fit yields of channel ``what`` (``"yields/CHANNEL"``) or its
    modifier grid (``"modifiers"``)."""
    from hfx.interfaces import plots

    if ws_doc.kind != "workspace":
        raise WebError(f"{ws_doc.name} is a {ws_doc.kind}, not a workspace")
    if what == "modifiers":
        from hfx.diagnostics import modifier_grid

        ws = _patched(ws_doc, patch_doc, point)
        return plots.modifier_grid_plot(modifier_grid(ws.spec))
    if what.startswith("yields/"):
        from hfx.diagnostics import yields
        from hfx.interfaces.web.quiet import warnings_as

        channel = what[len("yields/") :]
        with warnings_as("ignore"):  # (a background-only workspace lacks its POI)
            _, model, data = model_and_data(ws_doc, patch_doc, point)
        result = yields(model, data, postfit=False)
        for entry in result.channels:
            if entry.name == channel:
                return plots.yields_plot(entry, postfit=False)
        raise WebError(f"{ws_doc.name}: no channel {channel!r}")
    raise WebError(f"no plot {what!r}")
