"""``hfx serve``: a local web page to inspect workspaces, compute and plot (extra ``web``:
Starlette and uvicorn).  The statistics are the library's; this layer only routes."""

from __future__ import annotations

from hfx.interfaces.web.app import Limits, create_app

__all__ = ["Limits", "create_app"]
