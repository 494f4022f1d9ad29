"""What the compiled kernel's ``run`` does: its first argument (numba-free, so that a process
running the ahead-of-time compiled kernels never imports numba)."""

from __future__ import annotations

__all__ = ["ASIMOV_FITS", "EXPECTED_DATA", "FIT_ROWS", "TWICE_NLL_ROWS"]

FIT_ROWS, ASIMOV_FITS, TWICE_NLL_ROWS, EXPECTED_DATA = 0, 1, 2, 3
