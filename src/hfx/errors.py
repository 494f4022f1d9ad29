"""Exception types raised by hfx.

Library code raises only subclasses of :class:`HfxError`; the CLI turns them into one
line on stderr.  Every message names where the problem is: the file (``source``), a
JSON pointer into it (``pointer``) and, where it helps, what would be accepted.
"""

from __future__ import annotations


class HfxError(Exception):
    """Base class of every error hfx raises on purpose."""

    def __init__(self, message: str, *, source: str | None = None, pointer: str | None = None):
        self.message = message
        self.source = source
        self.pointer = pointer
        super().__init__(self._render())

    def _render(self) -> str:
        place = []
        if self.source:
            place.append(str(self.source))
        if self.pointer is not None:
            place.append(self.pointer or "/")
        return f"{': '.join(place)}: {self.message}" if place else self.message

    def with_source(self, source: str | None) -> HfxError:
        """Return a copy of this error that names ``source`` (kept if already set)."""
        if source is None or self.source is not None:
            return self
        err = type(self).__new__(type(self))
        HfxError.__init__(err, self.message, source=source, pointer=self.pointer)
        return err


class SpecError(HfxError):
    """A workspace, patch or patchset that is malformed or inconsistent."""


class PatchError(SpecError):
    """A JSON Patch or PatchSet that cannot be applied or looked up."""


class ModelError(HfxError):
    """A workspace that cannot be compiled into a model with the requested settings."""


class FitError(HfxError):
    """A minimisation that failed after all retries."""


class BackendError(HfxError):
    """An unknown or unusable array backend."""


class MissingExtraError(HfxError, ImportError):
    """An optional dependency is needed; the message names the extra to install."""


class HfxWarning(UserWarning):
    """Warning category for inputs hfx accepts but changes (e.g. clipped inits)."""


__all__ = [
    "BackendError",
    "FitError",
    "HfxError",
    "HfxWarning",
    "MissingExtraError",
    "ModelError",
    "PatchError",
    "SpecError",
]
