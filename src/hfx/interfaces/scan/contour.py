"""Exclusion contours of a scan: where observed and expected CLs cross a level (0.05) in the
plane of two patch metadata values.

Method (also written into the JSON under ``"method"``): each CLs becomes a significance
Z = Φ⁻¹(1 − CLs) (CLs clipped to [1e-300, 1 − 1e-16]), both axes are scaled to [0, 1] by
their range, Z is interpolated linearly on the Delaunay triangulation of the points,
sampled on a regular grid (nothing outside the points' convex hull), and the contour lines
at Z = Φ⁻¹(1 − level) of that grid (contourpy) are mapped back to the physical axes.
Interpolating Z rather than CLs keeps a CLs that spans many orders of magnitude smooth.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hfx.errors import HfxError

__all__ = ["CURVES", "ContourResult", "contours"]

METHOD = (
    "Z = Phi^-1(1 - CLs) (scipy.stats.norm.isf, CLs clipped to [1e-300, 1 - 1e-16]); both "
    "axes scaled to [0, 1] by their range; linear interpolation of Z on the Delaunay "
    "triangulation of the points (scipy LinearNDInterpolator) sampled on a {n}x{n} grid, "
    "masked outside their convex hull; contour lines at Z = Phi^-1(1 - level) (contourpy) "
    "mapped back to the physical axes"
)

# Curve name → which CLs it follows: "obs", or an index into CLs_exp (-2σ … +2σ).
CURVES: Mapping[str, str | int] = MappingProxyType(
    {
        "observed": "obs",
        "expected": 2,
        "expected_minus1sigma": 1,
        "expected_plus1sigma": 3,
        "expected_minus2sigma": 0,
        "expected_plus2sigma": 4,
    }
)

Polyline = tuple[tuple[float, float], ...]


@dataclass(frozen=True, eq=False)
class ContourResult:
    """The CLs = ``level`` contours of a scan.

    ``curves`` maps a curve name (see :data:`CURVES`) to its polylines, each a tuple of
    (x, y) points in physical units (a closed line ends where it starts).  The interpolated
    significance of each curve lies on the regular grid ``grid_x`` × ``grid_y`` in
    ``grids[name]`` (shape ``(len(grid_y), len(grid_x))``, NaN outside the convex hull);
    a point is excluded where it is above ``z_level``.
    """

    x: str
    y: str
    level: float
    method: str
    points: int
    excluded_failed: int
    curves: Mapping[str, tuple[Polyline, ...]]
    z_level: float
    x_index: int
    y_index: int
    point_x: NDArray[np.float64] = field(repr=False)
    point_y: NDArray[np.float64] = field(repr=False)
    cls_obs: NDArray[np.float64] = field(repr=False)
    grid_x: NDArray[np.float64] = field(repr=False)
    grid_y: NDArray[np.float64] = field(repr=False)
    grids: Mapping[str, NDArray[np.float64]] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "x": self.x,
            "y": self.y,
            "level": self.level,
            "method": self.method,
            "points": self.points,
            "excluded_failed": self.excluded_failed,
        }
        for name, lines in self.curves.items():
            out[name] = [[[px, py] for px, py in line] for line in lines]
        return out


def contours(
    records: Iterable[Mapping[str, Any]],
    x: str | int | None = None,
    y: str | int | None = None,
    level: float = 0.05,
    resolution: int = 200,
) -> ContourResult:
    """Observed and expected (median, ±1σ, ±2σ) CLs = ``level`` contours of scan records.

    ``x`` and ``y`` name the metadata values of the plane by label or index (default: the
    first two labels).  Only records of status ``"ok"`` are used; a later record of a name
    replaces an earlier one.  The method is in the module's docstring.
    """
    from hfx.interfaces.scan.records import latest_by_name

    if not 0.0 < level < 1.0:
        raise HfxError(f"the CLs level must lie between 0 and 1, not {level!r}")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 3:
        raise HfxError(f"the grid resolution must be an integer of at least 3, not {resolution!r}")
    latest = list(latest_by_name(records).values())
    usable = [r for r in latest if r.get("status") == "ok"]
    failed = len(latest) - len(usable)
    if len(usable) < 3:
        raise HfxError(
            f"contours need at least 3 points of status 'ok'; the scan has {len(usable)}"
            + (f" ({failed} failed)" if failed else "")
        )
    labels = _labels(usable)
    ix, iy = _axis(x, labels, 0, "x"), _axis(y, labels, 1, "y")
    if ix == iy:
        raise HfxError(f"x and y are both {labels[ix]!r}; choose two different values")
    coords, z = _points(usable, ix, iy)
    _check_positions(coords, usable, labels[ix], labels[iy])

    from scipy.interpolate import LinearNDInterpolator
    from scipy.spatial import Delaunay, QhullError

    low, span = coords.min(axis=0), np.ptp(coords, axis=0)
    scaled = (coords - low) / span
    try:
        triangulation = Delaunay(scaled)
    except QhullError:
        raise _on_a_line(labels[ix], labels[iy]) from None
    axis = np.linspace(0.0, 1.0, resolution)
    gu, gv = np.meshgrid(axis, axis)  # [row = y, column = x], as contourpy wants
    sampled = LinearNDInterpolator(triangulation, z)(gu, gv)  # (res, res, curves)
    z_level = float(_significance(np.array([level]))[0])
    grid_x, grid_y = low[0] + axis * span[0], low[1] + axis * span[1]
    grids = {name: np.ascontiguousarray(sampled[..., k]) for k, name in enumerate(CURVES)}
    curves = {name: _lines(grid_x, grid_y, grid, z_level) for name, grid in grids.items()}
    for grid in grids.values():
        grid.flags.writeable = False
    cls_obs = np.array([float(r["CLs_obs"]) for r in usable])
    return ContourResult(
        x=labels[ix],
        y=labels[iy],
        level=float(level),
        method=METHOD.format(n=resolution),
        points=len(usable),
        excluded_failed=failed,
        curves=MappingProxyType(curves),
        z_level=z_level,
        x_index=ix,
        y_index=iy,
        point_x=coords[:, 0].copy(),
        point_y=coords[:, 1].copy(),
        cls_obs=cls_obs,
        grid_x=grid_x,
        grid_y=grid_y,
        grids=MappingProxyType(grids),
    )


def _significance(cls: NDArray[np.float64]) -> NDArray[np.float64]:
    """Z = Φ⁻¹(1 − CLs), finite for every CLs in [0, 1]."""
    from scipy.stats import norm

    return np.asarray(norm.isf(np.clip(cls, 1e-300, 1.0 - 1e-16)), dtype=float)


def _labels(records: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """The labels all records share (``value[i]`` where a scan has none)."""
    first = records[0]
    labels = first.get("labels")
    values = first.get("values")
    if not isinstance(values, list):
        raise HfxError(f"point {first['name']!r} has no list of 'values' to place it by")
    if labels is None:
        labels = [f"value[{i}]" for i in range(len(values))]
    labels = tuple(str(label) for label in labels)
    for record in records[1:]:
        other = record.get("labels")
        other = (
            tuple(str(label) for label in other)
            if other is not None
            else tuple(f"value[{i}]" for i in range(len(record.get("values") or ())))
        )
        if other != labels:
            raise HfxError(
                f"the points have different labels: {first['name']!r} has {list(labels)}, "
                f"{record['name']!r} has {list(other)}; contours need one grid"
            )
    if len(labels) < 2:
        raise HfxError(
            f"contours need two metadata values per point; the points have {list(labels)}"
        )
    return labels


def _axis(choice: str | int | None, labels: tuple[str, ...], default: int, what: str) -> int:
    """The index of ``choice`` (a label, an index, or a string of digits) among ``labels``."""
    if choice is None:
        return default
    if isinstance(choice, str) and choice in labels:
        return labels.index(choice)
    if isinstance(choice, str) and choice.lstrip("-").isdigit():
        choice = int(choice)
    if isinstance(choice, int) and not isinstance(choice, bool):
        if -len(labels) <= choice < len(labels):
            return choice % len(labels)
        raise HfxError(
            f"{what} index {choice} is out of range: the points have {len(labels)} values "
            f"({', '.join(labels)})"
        )
    raise HfxError(f"unknown {what} label {choice!r}; the points have: {', '.join(labels)}")


def _points(
    records: Sequence[Mapping[str, Any]], ix: int, iy: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The (x, y) of each record and the significance of each curve, ``(n, len(CURVES))``."""
    coords = np.empty((len(records), 2))
    cls = np.empty((len(records), len(CURVES)))
    for i, record in enumerate(records):
        name = record["name"]
        values = record.get("values")
        if not isinstance(values, list) or len(values) <= max(ix, iy):
            raise HfxError(f"point {name!r} has no values {ix} and {iy}: {values!r}")
        for j, k in enumerate((ix, iy)):
            coords[i, j] = _number(values[k], f"point {name!r}: value {k}")
        exp = record.get("CLs_exp")
        if "CLs_obs" not in record or not isinstance(exp, list) or len(exp) != 5:
            raise HfxError(
                f"point {name!r} has status 'ok' but no 'CLs_obs' and five 'CLs_exp' values"
            )
        for j, which in enumerate(CURVES.values()):
            value = record["CLs_obs"] if which == "obs" else exp[int(which)]
            cls[i, j] = _number(value, f"point {name!r}: CLs")
    return coords, _significance(cls)


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise HfxError(f"{what} is {value!r}, not a finite number")
    return float(value)


def _check_positions(
    coords: NDArray[np.float64], records: Sequence[Mapping[str, Any]], xl: str, yl: str
) -> None:
    """Refuse two points at one position and points that span no area."""
    seen: dict[tuple[float, float], str] = {}
    for (px, py), record in zip(coords.tolist(), records, strict=True):
        other = seen.setdefault((px, py), record["name"])
        if other != record["name"]:
            raise HfxError(
                f"points {other!r} and {record['name']!r} are both at {xl} = {px:g}, "
                f"{yl} = {py:g}; contours need one CLs per position (choose other --x/--y?)"
            )
    span = np.ptp(coords, axis=0)
    if np.any(span == 0.0):
        raise _on_a_line(xl, yl)
    scaled = (coords - coords.min(axis=0)) / span
    singular = np.linalg.svd(scaled - scaled.mean(axis=0), compute_uv=False)
    if singular[-1] <= 1e-9 * singular[0]:
        raise _on_a_line(xl, yl)


def _on_a_line(xl: str, yl: str) -> HfxError:
    return HfxError(f"the points lie on one line in the ({xl}, {yl}) plane; no area to contour")


def _lines(
    grid_x: NDArray[np.float64], grid_y: NDArray[np.float64], z: NDArray[np.float64], at: float
) -> tuple[Polyline, ...]:
    """The contour lines of ``z`` (NaN masked) at ``at``, as tuples of (x, y)."""
    import contourpy

    masked = np.ma.masked_invalid(z)
    if masked.count() == 0:
        return ()
    generator = contourpy.contour_generator(
        grid_x, grid_y, masked, line_type=contourpy.LineType.Separate
    )
    lines = generator.lines(at)
    return tuple(
        tuple((float(px), float(py)) for px, py in np.asarray(line))
        for line in lines
        if len(line) >= 2
    )
