"""The compiled kernels' on-disk cache: hfx's own user directory, or none (never an error)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("numba")

_CLS = (
    "import hfx\n"
    "m = hfx.simplemodels.uncorrelated_background([12, 11], [50, 52], [3, 7])\n"
    "r = hfx.hypotest(m, [51, 48, *m.config.auxdata], 1.0, engine='numba')\n"
    "from hfx.optimize import _kernel_impl\n"
    "print(_kernel_impl._CACHE, r.cls)\n"
)


def _run(cache_dir: str) -> list[str]:
    env = {**os.environ, "HFX_CACHE_DIR": cache_dir}
    out = subprocess.run(
        [sys.executable, "-c", _CLS], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_kernels_are_cached_in_the_user_directory(tmp_path):
    cached, cls = _run(str(tmp_path))
    assert cached == "True"
    from hfx.optimize.kernel_cache import cache_root

    os.environ["HFX_CACHE_DIR"] = str(tmp_path)
    try:
        root = cache_root()
    finally:
        del os.environ["HFX_CACHE_DIR"]
    assert root.parent == tmp_path / "numba"
    assert list((root / "optimize").glob("_kernel_impl.run-*.nbi"))
    assert 0.0 < float(cls) < 1.0


def test_an_unwritable_cache_place_compiles_without_a_cache(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    cached, cls = _run(str(blocked / "cache"))
    assert cached == "False"
    assert 0.0 < float(cls) < 1.0


def test_without_numba_everything_runs_on_numpy():
    code = (
        "import sys\n"
        "sys.modules['numba'] = None  # numba not importable\n"
        "import hfx\n"
        "from hfx.errors import MissingExtraError\n"
        "from hfx.optimize.engines import resolve_engine\n"
        "m = hfx.simplemodels.uncorrelated_background([12, 11], [50, 52], [3, 7])\n"
        "assert resolve_engine(m) == 'numpy'\n"
        "r = hfx.hypotest(m, [51, 48, *m.config.auxdata], 1.0)\n"
        "try:\n"
        "    hfx.fit(m, [51, 48, *m.config.auxdata], engine='numba')\n"
        "except MissingExtraError as exc:\n"
        "    print('refused:', exc)\n"
        "print(r.cls, 'hfx.optimize._kernel_impl' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    refused, result = out.stdout.strip().splitlines()
    assert refused.startswith("refused: the numba engine needs numba")
    cls, loaded = result.split()
    assert 0.0 < float(cls) < 1.0 and loaded == "False"
