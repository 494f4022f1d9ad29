"""pyhf's ``infer.intervals``: upper limits on the parameter of interest."""

from __future__ import annotations

from hfx.compat.pyhf.infer.intervals import upper_limits
from hfx.compat.pyhf.infer.intervals.upper_limits import upper_limit as upperlimit

__all__ = ["upper_limits", "upperlimit"]  # upperlimit: pyhf 0.7's older name
