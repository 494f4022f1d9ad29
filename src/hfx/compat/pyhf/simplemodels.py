"""pyhf's ``simplemodels``: the same one-channel models, as pyhf-style :class:`Model` objects."""

from __future__ import annotations

from collections.abc import Sequence

from hfx import simplemodels as _native
from hfx.compat.pyhf.pdf import Model

__all__ = ["correlated_background", "uncorrelated_background"]


def uncorrelated_background(
    signal: Sequence[float],
    bkg: Sequence[float],
    bkg_uncertainty: Sequence[float],
    batch_size: int | None = None,
    validate: bool = True,
) -> Model:
    """Signal × ``mu`` on a background with an uncorrelated (shapesys) uncertainty per bin."""
    spec = _native.uncorrelated_background_spec(signal, bkg, bkg_uncertainty)
    return Model(spec, batch_size=batch_size, validate=validate)


def correlated_background(
    signal: Sequence[float],
    bkg: Sequence[float],
    bkg_up: Sequence[float],
    bkg_down: Sequence[float],
    batch_size: int | None = None,
    validate: bool = True,
) -> Model:
    """Signal × ``mu`` on a background with one correlated (histosys) shape uncertainty."""
    spec = _native.correlated_background_spec(signal, bkg, bkg_up, bkg_down)
    return Model(spec, batch_size=batch_size, validate=validate)
