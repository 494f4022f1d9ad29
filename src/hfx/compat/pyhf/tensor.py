"""``pyhf.tensor``: the backend classes pyhf scripts name.

``numpy_backend`` and ``jax_backend`` are the facade's array backends.  The others exist so
that scripts (and pyhf's own test fixtures) that *name* them still import; handing one to
``set_backend`` raises :class:`hfx.errors.BackendError`.
"""

from __future__ import annotations

from typing import Any

from hfx.compat.pyhf.backend import jax_backend, numpy_backend

__all__ = ["jax_backend", "numpy_backend", "pytorch_backend", "tensorflow_backend"]


class _OtherBackend:
    """A backend pyhf has and the facade does not compute with (see the module doc)."""

    name = ""

    def __init__(self, precision: str = "64b", **options: Any):
        self.precision = precision
        self.options = options

    def __repr__(self) -> str:
        return f"<pyhf {self.name} backend: not available in hfx.compat.pyhf>"


class pytorch_backend(_OtherBackend):  # pyhf's name
    name = "pytorch"


class tensorflow_backend(_OtherBackend):  # pyhf's name
    name = "tensorflow"
