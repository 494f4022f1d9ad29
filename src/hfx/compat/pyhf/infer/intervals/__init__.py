"""pyhf's ``infer.intervals``: upper limits on the parameter of interest."""

from __future__ import annotations

import warnings
from typing import Any

from hfx.compat.pyhf.infer.intervals import upper_limits

__all__ = ["upper_limits", "upperlimit"]


def upperlimit(*args: Any, **kwargs: Any) -> Any:
    """pyhf 0.7's older name of :func:`upper_limits.upper_limit` (deprecated, as in pyhf)."""
    warnings.warn(
        "pyhf.infer.intervals.upperlimit is deprecated in favor of "
        "pyhf.infer.intervals.upper_limits.upper_limit",
        DeprecationWarning,
        stacklevel=2,
    )
    return upper_limits.upper_limit(*args, **kwargs)
