"""Scans over signal grids: CLs and upper limits for every patch of a HEPData patchset,
on this process, a process pool or a Dask cluster, resumable, with exclusion contours."""

from __future__ import annotations

from hfx.interfaces.scan.contour import ContourResult, contours
from hfx.interfaces.scan.points import ScanPoint, ScanPoints, collect_points
from hfx.interfaces.scan.records import read_records
from hfx.interfaces.scan.runner import ScanResult, scan

__all__ = [
    "ContourResult",
    "ScanPoint",
    "ScanPoints",
    "ScanResult",
    "collect_points",
    "contours",
    "read_records",
    "scan",
]
