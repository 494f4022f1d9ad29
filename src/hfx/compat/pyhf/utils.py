"""pyhf's ``utils``: the workspace digest."""

from __future__ import annotations

from typing import Any

from hfx.spec.operations import digest as _digest

__all__ = ["digest"]


def digest(obj: Any, algorithm: str = "sha256") -> str:
    """Hex digest of the canonical JSON form of ``obj`` (pyhf's ``utils.digest``)."""
    return _digest(obj, algorithm=algorithm)
