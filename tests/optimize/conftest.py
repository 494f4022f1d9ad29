"""Fixtures of the optimizer tests: the NumPy and the compiled (numba) Newton paths."""

from __future__ import annotations

import pytest

from hfx.optimize import kernel


@pytest.fixture(params=["numpy", "compiled"])
def newton_path(request, monkeypatch):
    """Run a test once on the NumPy Newton path and once on the compiled kernels."""
    if request.param == "numpy":
        monkeypatch.setattr(kernel, "ENABLED", False)
    elif not kernel.load():
        pytest.skip("numba is not installed (the 'fast' extra)")
    return request.param
