"""Kernels compiled into the package when the wheel is built (``hatch_build.py``): a new
installation runs them from its first call, without numba, a cache or a background build."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("numba")

from hfx.optimize import kernel_cache

ROOT = Path(__file__).resolve().parents[2]

# a new process on a new machine (empty cache): which engine "auto" takes, whether anything
# was loaded through numba, the CLs, and the same CLs on NumPy
_FIRST_USE = (
    "import sys\n"
    "from pathlib import Path\n"
    "from hfx.optimize import kernel_cache\n"
    "if len(sys.argv) > 1:  # (the module under test, where the package has none)\n"
    "    kernel_cache.packaged_file = lambda: Path(sys.argv[1])\n"
    "import hfx\n"
    "from hfx.optimize.plan import make_plan\n"
    "m = hfx.simplemodels.uncorrelated_background([12, 11], [50, 52], [3, 7])\n"
    "d = [51, 48, *m.config.auxdata]\n"
    "r = hfx.hypotest(m, d, 1.0)\n"
    "numpy = hfx.hypotest(m, d, 1.0, engine='numpy')\n"
    "print(make_plan(m).engine, 'numba' in sys.modules,\n"
    "      'hfx.optimize._kernel_impl' in sys.modules, r.cls, numpy.cls)\n"
)


def _first_use(cache: Path, *module: Path) -> tuple[str, str]:
    env = {**os.environ, "HFX_CACHE_DIR": str(cache)}
    env.pop(kernel_cache.PACKAGED_ENV, None)
    out = subprocess.run(
        [sys.executable, "-c", _FIRST_USE, *map(str, module)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout, out.stderr


def _check_compiled_at_once(cache: Path, stdout: str, stderr: str) -> None:
    engine, numba_imported, jit_loaded, cls, cls_numpy = stdout.split()
    assert (engine, numba_imported, jit_loaded) == ("numba", "False", "False")
    assert float(cls) == pytest.approx(float(cls_numpy), rel=1e-9)
    assert 0.0 < float(cls) < 1.0
    # nothing compiled, no background build started: the cache stays empty
    assert "background" not in stderr and "compiling" not in stderr
    assert not any(cache.rglob("*")), sorted(cache.rglob("*"))


def _hook_script() -> str:
    """The compile step of the wheel build hook (read from hatch_build.py: importing it
    needs hatchling, which only the build environment has)."""
    tree = ast.parse((ROOT / "hatch_build.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "_COMPILE":
            return str(ast.literal_eval(node.value))
    raise AssertionError("hatch_build.py has no _COMPILE")


@pytest.mark.skipif(
    shutil.which("cc") is None and shutil.which("gcc") is None, reason="no C compiler"
)
def test_the_build_hook_compiles_kernels_a_new_installation_runs_at_once(tmp_path):
    out = tmp_path / "package"
    made = subprocess.run(
        [sys.executable, "-c", _hook_script(), str(ROOT / "src"), str(out)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert made.returncode == 0, made.stderr
    built = Path(made.stdout.split()[-1])
    assert built.parent == out and built.name == kernel_cache.packaged_name()
    cache = tmp_path / "cache"
    cache.mkdir()
    _check_compiled_at_once(cache, *_first_use(cache, built))


def test_the_shipped_name_follows_the_kernel_sources_and_numpy():
    import importlib.machinery

    import numpy as np

    name = kernel_cache.packaged_name()
    digest = kernel_cache.cache_root().name.removeprefix("kernels-")
    major = np.__version__.split(".")[0]
    assert name == (
        f"{kernel_cache.AOT_MODULE}-{digest}-numpy{major}"
        f"{importlib.machinery.EXTENSION_SUFFIXES[0]}"
    )
    # inside the installed package, beside the kernels' sources
    assert kernel_cache.packaged_file() == Path(kernel_cache.__file__).resolve().parent / name


def test_this_installation_runs_its_shipped_kernels_at_once(tmp_path):
    if not kernel_cache.packaged_file().is_file():
        pytest.skip(
            "no kernels compiled into this installation (installed with HFX_BUILD_KERNELS=0 "
            "or without a C compiler, or the kernel sources changed since: reinstall)"
        )
    _check_compiled_at_once(tmp_path, *_first_use(tmp_path))
