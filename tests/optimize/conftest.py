"""Fixtures of the optimizer tests: the NumPy and the compiled (numba) Newton engines."""

from __future__ import annotations

import importlib.util

import pytest


@pytest.fixture(params=["numpy", "numba"])
def newton_path(request):
    """The engine a test runs its batched fits on: once NumPy, once the compiled kernels."""
    if request.param == "numba" and importlib.util.find_spec("numba") is None:
        pytest.skip("numba is not installed")
    return request.param
