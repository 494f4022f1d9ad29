"""Ahead-of-time compilation of the kernels into an extension module (numba's ``pycc``).

A process that runs the JIT-compiled kernels from numba's on-disk cache first imports numba
and its compiler (about half a second).  The same machine code, compiled once more into a
plain CPython extension module in the cache directory, loads in about a millisecond without
numba (:func:`hfx.optimize.kernel_cache.load_aot`).  The background build
(:mod:`hfx.optimize.kernel_build`) makes it after the JIT cache, where a C compiler is
available; without one the JIT cache alone is used.  The wheel build hook (``hatch_build.py``)
makes the same module at install time, shipped inside the package (:func:`build_packaged`).
The module is compiled for the generic CPU of the platform (no host-specific instructions),
so a cache directory shared between machines, or a wheel, stays safe to load.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

from hfx.optimize import _kernel_impl as impl
from hfx.optimize.kernel_cache import AOT_MODULE, aot_file, packaged_name

__all__ = ["build", "build_packaged"]


def _run_aot(
    task: int,
    terms: tuple[Any, ...],
    data: Any,
    full: Any,
    idx: Any,
    lo: Any,
    hi: Any,
    idx_cond: Any,
    lo_cond: Any,
    hi_cond: Any,
    poi: int,
    asimov_poi: float,
    tolerance: float,
    precise: float,
    maxiter: int,
    x: Any,
    flags: Any,
    values: Any,
    vector: Any,
) -> int:
    """The exported entry: ``_kernel_impl.run`` itself (with its own compile options)."""
    out: int = impl.run(
        task, terms, data, full, idx, lo, hi, idx_cond, lo_cond, hi_cond, poi, asimov_poi,
        tolerance, precise, maxiter, x, flags, values, vector,
    )  # fmt: skip
    return out


def build(root: Path) -> Path:
    """Compile ``run`` for the one signature the JIT kernels were compiled for into
    :func:`~hfx.optimize.kernel_cache.aot_file` under ``root`` and return that path.  Raises
    whatever the compiler raises (no C compiler, ...)."""
    return _compile_to(aot_file(root))


def build_packaged(directory: Path) -> Path:
    """As :func:`build`, into ``directory`` under the name the installed package is looked up
    by (:func:`~hfx.optimize.kernel_cache.packaged_name`): what the wheel build hook
    (``hatch_build.py``) ships inside the package."""
    return _compile_to(directory / packaged_name())


def _compile_to(target: Path) -> Path:
    """Compile the exported ``run`` into the extension module ``target`` (written whole,
    then moved into place)."""
    with warnings.catch_warnings():
        # (pycc is "pending deprecation" with no replacement yet: it is what exists today)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        import numba.pycc

        pycc: Any = numba.pycc  # (untyped)
        run: Any = impl.run
        (signature,) = run.signatures
        returns = run.overloads[signature].signature.return_type
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            cc = pycc.CC(AOT_MODULE)
            cc.output_dir = tmp
            cc.target_cpu = ""  # generic: loadable on any machine of this platform
            cc.verbose = False
            cc.export("run", returns(*signature))(_run_aot)
            cc.compile()
            (built,) = Path(tmp).glob(f"{AOT_MODULE}*")
            os.replace(built, target)
    return target
