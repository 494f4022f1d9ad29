"""pyhf's exception names for the facade (``pyhf.exceptions``), as hfx errors.

A pyhf script catches pyhf's classes (``except pyhf.exceptions.FailedMinimization:``); the
facade raises hfx's errors.  Each pyhf name is therefore the hfx class that covers it, so
that the script's ``except`` catches what hfx raises.  hfx's classes are coarser than pyhf's:
``InvalidPatchLookup`` and ``PatchSetVerificationError`` are both ``PatchError``, and catching
one catches the other.
"""

from __future__ import annotations

from hfx.errors import (
    BackendError,
    FitError,
    HfxError,
    MissingExtraError,
    ModelError,
    PatchError,
    SpecError,
)

__all__ = [
    "FailedMinimization",
    "ImportBackendError",
    "InvalidArchive",
    "InvalidArchiveHost",
    "InvalidBackend",
    "InvalidInterpCode",
    "InvalidMeasurement",
    "InvalidModel",
    "InvalidModifier",
    "InvalidNameReuse",
    "InvalidOptimizer",
    "InvalidPatchLookup",
    "InvalidPatchSet",
    "InvalidPdfData",
    "InvalidPdfParameters",
    "InvalidSpecification",
    "InvalidTestStatistic",
    "InvalidWorkspaceOperation",
    "PatchSetVerificationError",
    "SchemaNotFound",
    "UnspecifiedPOI",
    "Unsupported",
]


class InvalidPdfParameters(ModelError):
    """Parameters whose shape does not match the model (pyhf's name)."""


class InvalidPdfData(ModelError):
    """Data whose shape does not match the model (pyhf's name)."""


class InvalidModelSpecification(SpecError, ModelError):
    """A spec that cannot make a model.  pyhf raises InvalidModel for some of these (bin
    counts that disagree, a modifier twice on a sample) and InvalidSpecification for others;
    hfx finds them all while validating, so the error is both."""

    @classmethod
    def from_error(cls, error: HfxError) -> InvalidModelSpecification:
        return cls(error.message, source=error.source, pointer=error.pointer)


class SchemaNotFound(SpecError, FileNotFoundError):
    """A schema name that hfx does not have (pyhf's name)."""


class InvalidTestStatistic(HfxError, ValueError):
    """A test statistic name that is not one of "q0", "q", "qtilde" (pyhf's name)."""


# pyhf's names for the hfx errors that stand for them
InvalidSpecification = SpecError
InvalidMeasurement = SpecError
InvalidNameReuse = SpecError
InvalidWorkspaceOperation = SpecError
InvalidModifier = SpecError
InvalidPatchSet = PatchError
InvalidPatchLookup = PatchError
PatchSetVerificationError = PatchError
InvalidModel = ModelError
UnspecifiedPOI = ModelError
InvalidInterpCode = HfxError
FailedMinimization = FitError
InvalidOptimizer = FitError
InvalidBackend = BackendError
ImportBackendError = MissingExtraError
InvalidArchive = HfxError
InvalidArchiveHost = HfxError
Unsupported = HfxError
