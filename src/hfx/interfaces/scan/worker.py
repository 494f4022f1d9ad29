"""What a scan worker runs: a chunk of signal points on one background workspace.

A :class:`Chunk` is self-contained and small to send: the background travels compressed
(once per chunk, not per point), already validated, and each point is patched onto it
copy-on-write, so only what the patch adds is checked and compiled again.  A point that
fails gets a ``"failed"`` record with its one-line error; the chunk goes on.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import time
import zlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from hfx.errors import HfxError, check_finite
from hfx.interfaces.scan.points import ScanPoint

__all__ = ["Chunk", "ScanSettings", "compute_chunk", "pack_workspace", "point_digest"]


@dataclass(frozen=True)
class ScanSettings:
    """What is computed at every point (part of each record's digest)."""

    test_poi: float = 1.0
    upper_limit: bool = False
    level: float = 0.05
    rtol: float = 1e-6
    test_stat: str = "qtilde"
    measurement: str | None = None
    engine: str = "auto"
    poi_bounds: tuple[float, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def point_digest(point: ScanPoint, background_digest: str, settings: ScanSettings) -> str:
    """Fingerprint of a point's result: its patch, the background and the settings."""
    text = json.dumps(
        {
            "patch": point.fingerprint(),
            "background": background_digest,
            "settings": settings.to_dict(),
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def pack_workspace(workspace: Any) -> bytes:
    """A validated Workspace as compressed bytes for :class:`Chunk` (it stays validated)."""
    return zlib.compress(pickle.dumps(workspace, protocol=pickle.HIGHEST_PROTOCOL), 1)


@dataclass(frozen=True)
class Chunk:
    """Points to compute on one background (``pack_workspace`` bytes)."""

    background: bytes
    background_digest: str
    labels: tuple[str, ...]
    points: tuple[ScanPoint, ...]
    settings: ScanSettings


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _floats(values: Any) -> list[float]:
    return [float(v) for v in values]


def _compute(workspace: Any, point: ScanPoint, settings: ScanSettings) -> dict[str, Any]:
    from hfx.infer import hypotest, upper_limit
    from hfx.optimize.engines import engine_for_one_task

    patched = workspace.apply_patches([list(point.operations)])
    model = patched.model(measurement_name=settings.measurement)
    data = patched.data(model)
    # the engine `hfx cls` / `hfx upper-limit` would take for this point
    solves = 3 * (20 if settings.upper_limit else 1)
    engine = engine_for_one_task(model, settings.engine, solves)
    overrides = _poi_overrides(model, settings.poi_bounds)
    result = hypotest(
        model, data, settings.test_poi, test_stat=settings.test_stat, engine=engine, **overrides
    )
    out: dict[str, Any] = {
        "CLs_obs": float(result.cls),
        "CLs_exp": _floats(result.cls_expected),
    }
    _check_finite(out)
    if settings.upper_limit:
        try:
            limit = upper_limit(
                model,
                data,
                level=settings.level,
                rtol=settings.rtol,
                test_stat=settings.test_stat,
                engine=engine,
                **overrides,
            )
            out["upper_limit"] = {"obs": float(limit.obs), "exp": _floats(limit.exp)}
            _check_finite(out)
        except HfxError as exc:
            out.pop("upper_limit", None)
            if "POI bounds" in str(exc):
                exc = HfxError(f"{exc} (in a scan: poi_bounds=, or hfx scan --poi-bounds)")
            raise _PartialResult(out, exc) from None
    return out


class _PartialResult(Exception):
    """The CLs was computed but the upper limit failed: the record keeps the CLs."""

    def __init__(self, done: dict[str, Any], cause: HfxError):
        super().__init__(str(cause))
        self.done = done


def _poi_overrides(model: Any, poi_bounds: tuple[float, float] | None) -> dict[str, Any]:
    """The model's parameter bounds with the POI's replaced by ``poi_bounds``, and its
    initial values with the POI's moved inside them."""
    if poi_bounds is None:
        return {}
    index = model.config.poi_index
    if index is None:
        raise HfxError("poi_bounds: the model has no POI")
    low, high = float(poi_bounds[0]), float(poi_bounds[1])
    if not low < high:
        raise HfxError(f"poi_bounds: the lower bound {low:g} must lie below the upper {high:g}")
    bounds = [list(b) for b in model.config.suggested_bounds()]
    bounds[index] = [low, high]
    init = [float(v) for v in model.config.suggested_init()]
    init[index] = min(max(init[index], low), high)
    return {"bounds": bounds, "init": init}


def _check_finite(result: Mapping[str, Any]) -> None:
    """A result that is not a finite number fails its point (JSON has no NaN)."""
    values = {"CLs_obs": result["CLs_obs"], "CLs_exp": result["CLs_exp"]}
    if "upper_limit" in result:
        values["upper_limit.obs"] = result["upper_limit"]["obs"]
        values["upper_limit.exp"] = result["upper_limit"]["exp"]
    check_finite("the point's result", values)


def compute_chunk(chunk: Chunk) -> list[dict[str, Any]]:
    """The records of ``chunk``'s points, in its order: ``"ok"`` with the results, or
    ``"failed"`` with a one-line error."""
    from threadpoolctl import threadpool_limits

    workspace = pickle.loads(zlib.decompress(chunk.background))
    records = []
    # one BLAS thread per worker: the workers already fill the cores
    with threadpool_limits(limits=1):
        for point in chunk.points:
            start = time.perf_counter()
            record: dict[str, Any] = {
                "name": point.name,
                "values": list(point.values),
                "labels": list(chunk.labels),
                "digest": point_digest(point, chunk.background_digest, chunk.settings),
            }
            try:
                result = _compute(workspace, point, chunk.settings)
            except _PartialResult as partial:
                record.update(status="failed", error=_one_line(str(partial)), **partial.done)
            except HfxError as exc:
                record.update(status="failed", error=_one_line(str(exc)))
            except Exception as exc:  # a point must never end the scan
                record.update(status="failed", error=_one_line(f"{type(exc).__name__}: {exc}"))
            else:
                record.update(status="ok", **result)
            record["seconds"] = round(time.perf_counter() - start, 6)
            records.append(record)
    return records
