"""pyhf's exception names for the facade (``pyhf.exceptions``), as hfx errors."""

from __future__ import annotations

from hfx.errors import ModelError

__all__ = ["InvalidPdfData", "InvalidPdfParameters"]


class InvalidPdfParameters(ModelError):
    """Parameters whose shape does not match the model (pyhf's name)."""


class InvalidPdfData(ModelError):
    """Data whose shape does not match the model (pyhf's name)."""
