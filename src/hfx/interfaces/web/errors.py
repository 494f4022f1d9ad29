"""Errors the web API answers with a status code and a one-line JSON message."""

from __future__ import annotations

from hfx.errors import HfxError

__all__ = ["Forbidden", "NotFound", "TooLarge", "WebError"]


class WebError(HfxError):
    """An error answered with ``status`` and ``{"error": message}``."""

    status = 400


class NotFound(WebError):
    status = 404


class Forbidden(WebError):
    status = 403


class TooLarge(WebError):
    status = 413
