"""pyhf's ``infer.intervals``: upper limits on the parameter of interest."""

from __future__ import annotations

from hfx.compat.pyhf.infer.intervals import upper_limits

__all__ = ["upper_limits"]
