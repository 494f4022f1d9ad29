"""Wheel build hook: compile hfx's small-model kernels ahead of time into the package.

Without this, an installation compiles its numba kernels at first use (in a background
process, 10-20 s; fits run on NumPy meanwhile).  Here ``pip install`` compiles them once,
with numba's ``pycc`` for the generic CPU of the platform, into
``hfx/optimize/hfx_kernels-<digest of the kernel sources>-numpy<N><extension suffix>``, which
:func:`hfx.optimize.kernel_cache.load_aot` loads in about a millisecond without importing
numba.  The wheel is then tagged for this Python and platform.

Where compiling fails (no C compiler, ...) the build goes on without the module: hfx then
compiles the kernels at first use as before.  ``HFX_BUILD_KERNELS=0`` skips the step.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

# Run in a new interpreter of the build environment (numba, NumPy and setuptools only): the
# kernel modules are imported without hfx.optimize's package module, which imports SciPy
# and the rest of the fitting layer that the kernels do not use.
_COMPILE = r"""
import sys, types
from pathlib import Path
src, out = Path(sys.argv[1]), Path(sys.argv[2])
sys.path.insert(0, str(src))
optimize = types.ModuleType("hfx.optimize")
optimize.__path__ = [str(src / "hfx" / "optimize")]
sys.modules["hfx.optimize"] = optimize
from hfx.optimize import kernel_aot
print(kernel_aot.build_packaged(out))
"""


def _last_error(stderr: str) -> str:
    """The line of a traceback that names the error (else the last line)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    named = [line for line in lines if line.split(":")[0].endswith(("Error", "Exception"))]
    return (named or lines or ["no output"])[-1]


class KernelBuildHook(BuildHookInterface):  # type: ignore[misc]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if os.environ.get("HFX_BUILD_KERNELS") == "0":
            return
        src = Path(self.root) / "src"
        package_dir = src / "hfx" / "optimize"
        # an editable install runs the sources in place: the module goes beside them
        # (replacing any compiled from older sources); a wheel gets it from a scratch folder
        editable = version == "editable"
        out = package_dir if editable else Path(tempfile.mkdtemp(prefix="hfx-kernels-"))
        self._made = None if editable else out
        scratch = Path(tempfile.mkdtemp(prefix="hfx-kernel-cache-"))
        self.app.display_info("hfx: compiling the small-model kernels (numba pycc, once)")
        try:
            done = subprocess.run(
                [sys.executable, "-c", _COMPILE, str(src), str(out)],
                env={**os.environ, "HFX_CACHE_DIR": str(scratch)},  # (JIT scratch, removed)
                capture_output=True,
                text=True,
                timeout=1800,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            done = None
            error = str(exc)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if done is None or done.returncode != 0:
            tail = error if done is None else _last_error(done.stderr)
            self.app.display_warning(
                f"hfx: the kernels were not compiled into the package ({tail}); hfx will "
                "compile them at first use instead"
            )
            return
        built = Path(done.stdout.strip().splitlines()[-1])
        if editable:
            for old in package_dir.glob("hfx_kernels-*"):
                if old != built:
                    old.unlink()
            return
        build_data["force_include"][str(built)] = f"hfx/optimize/{built.name}"
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        made = getattr(self, "_made", None)
        if made is not None:  # (the module is in the wheel now)
            shutil.rmtree(made, ignore_errors=True)
