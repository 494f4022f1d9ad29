"""Exception types raised by hfx.

Library code raises only subclasses of :class:`HfxError`; the CLI turns them into one
line on stderr.  Every message names where the problem is: the file (``source``), a
JSON pointer into it (``pointer``) and, where it helps, what would be accepted.
"""

from __future__ import annotations

import math


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


class ArgumentError(HfxError, ValueError):
    """An argument value hfx does not accept (e.g. an unknown option name)."""


class SpecError(HfxError):
    """A workspace, patch or patchset that is malformed or inconsistent."""


class SpecArgumentError(SpecError, ValueError):
    """An argument value a workspace operation does not accept (e.g. an unknown join mode)."""


class PatchError(SpecError):
    """A JSON Patch or PatchSet that cannot be applied or looked up."""


class ModelError(HfxError):
    """A workspace that cannot be compiled into a model with the requested settings."""


class PoiOutOfBoundsError(ModelError, ValueError):
    """A tested or fixed POI value outside the POI's bounds (a ValueError too, as pyhf raises)."""


class FitError(HfxError):
    """A minimisation that failed after all retries."""


class ResultError(HfxError):
    """A computed result that is not a finite number (NaN or ±inf); the message names the
    value and its likely cause.  hfx never returns such a result."""


def check_finite(what: str, values: dict[str, object], cause: str = "") -> None:
    """Raise :class:`ResultError` if a number in ``values`` is not finite, naming it.

    Values are numbers or (nested) sequences of numbers; ``None`` entries are skipped.
    """

    def first_bad(label: str, value: object) -> tuple[str, float] | None:
        if value is None:
            return None
        if hasattr(value, "tolist"):  # NumPy arrays and scalars
            value = value.tolist()
        if isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                bad = first_bad(f"{label}[{i}]", item)
                if bad is not None:
                    return bad
            return None
        number = float(value)  # type: ignore[arg-type]
        return None if math.isfinite(number) else (label, number)

    def finite(value: object) -> bool:  # the common case, without building labels
        if value is None:
            return True
        if hasattr(value, "tolist"):
            value = value.tolist()
        if isinstance(value, (list, tuple)):
            return all(finite(item) for item in value)
        return math.isfinite(float(value))  # type: ignore[arg-type]

    if all(finite(value) for value in values.values()):
        return
    for key, value in values.items():
        bad = first_bad(key, value)
        if bad is not None:
            reason = f"; {cause}" if cause else ""
            raise ResultError(f"{what}: {bad[0]} is {bad[1]}, not a finite number{reason}")


class BackendError(HfxError):
    """An unknown or unusable array backend."""


class MissingExtraError(HfxError, ImportError):
    """An optional dependency is needed; the message names the extra to install."""


class HfxWarning(UserWarning):
    """Warning category for inputs hfx accepts but changes (e.g. clipped inits)."""


class MissingPOIWarning(HfxWarning):
    """The measurement's POI is not a parameter of the model (``poi`` names it).

    The model is built without a POI, e.g. from a background-only workspace whose signal
    patch was not applied; inference that needs the POI then fails, naming it.
    """

    def __init__(self, message: str, poi: str | None = None):
        super().__init__(message)
        self.poi = poi


__all__ = [
    "ArgumentError",
    "BackendError",
    "FitError",
    "HfxError",
    "HfxWarning",
    "MissingExtraError",
    "MissingPOIWarning",
    "ModelError",
    "PatchError",
    "PoiOutOfBoundsError",
    "ResultError",
    "SpecArgumentError",
    "SpecError",
]
