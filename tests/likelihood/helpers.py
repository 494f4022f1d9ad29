"""Helpers shared by the likelihood tests."""

from __future__ import annotations

import numpy as np

from hfx.spec.workspace import Workspace
from tests.conftest import load_atlas

PYHF_SETTINGS = {
    "normsys": {"interpcode": "code4"},
    "histosys": {"interpcode": "code4p", "positive_definite": False},
}
"""pyhf's model exactly: its default codes, sample yields not clamped at zero."""


def atlas_model(name: str, backend: str = "numpy", modifier_settings=None):
    """(model, observed data incl. aux, reference dict) for a shared ATLAS workspace + signal."""
    spec, patch, ref = load_atlas(name)
    ws = Workspace(spec)
    model = ws.model(patches=[patch], backend=backend, modifier_settings=modifier_settings)
    return model, np.asarray(ws.data(model)), ref


def central_difference(f, x: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Five-point central finite-difference gradient of scalar ``f`` at ``x``."""
    grad = np.empty_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e[i] = h
        grad[i] = (-f(x + 2 * e) + 8 * f(x + e) - 8 * f(x - e) + f(x - 2 * e)) / (12 * h)
    return grad
