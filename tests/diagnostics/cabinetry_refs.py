"""cabinetry 0.6's numbers for the shared ATLAS workspaces (written by
tools/cabinetry_reference.py) and the hfx models built the way cabinetry builds them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import hfx
from tests.conftest import ATLAS_WS

CABINETRY = Path(__file__).resolve().parents[1] / "reference" / "cabinetry"
NAMES = sorted(p.stem for p in CABINETRY.glob("*.json"))


def published(name: str):
    """(model as cabinetry builds it, data, cabinetry's reference) for a shared workspace
    with its signal patch: normsys interpolated with code4, histosys with code4p and, as in
    pyhf, a sample's histosys-shifted yield not clamped at zero."""
    if not ATLAS_WS.is_dir():
        pytest.skip("../shared/data not present")
    ref = json.loads((CABINETRY / f"{name}.json").read_text())
    ws = hfx.load(ATLAS_WS / f"{name}.json")
    patch = json.loads((ATLAS_WS / f"{name}.signal.json").read_text())
    settings = {
        "normsys": {"interpcode": "code4"},
        "histosys": {"interpcode": "code4p", "positive_definite": False},
    }
    model = ws.model(patches=[patch], modifier_settings=settings)
    return model, np.asarray(ws.data(model)), ref


def exact_sigmas_at_cabinetry_minimum(model, data, ref, h=1e-5):
    """√diag(H⁻¹) at cabinetry's best fit, with H the Hessian of −log L by central
    differences of hfx's exact gradient: what Minuit's HESSE should have given there."""
    labels = ref["fit"]["labels"]
    x = np.asarray(ref["fit"]["bestfit"])[[labels.index(n) for n in model.config.par_names]]
    hess = np.zeros((x.size, x.size))
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = h
        hess[:, i] = (model.grad_nll(x + e, data) - model.grad_nll(x - e, data)) / (2 * h)
    return np.sqrt(np.diag(np.linalg.inv(0.5 * (hess + hess.T))))
