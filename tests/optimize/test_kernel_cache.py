"""The compiled kernels' on-disk cache: hfx's own user directory, or none (never an error)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

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


_AUTO = (
    "import sys, hfx\n"
    "from hfx.optimize.plan import make_plan\n"
    "m = hfx.simplemodels.uncorrelated_background([12, 11], [50, 52], [3, 7])\n"
    "r = hfx.hypotest(m, [51, 48, *m.config.auxdata], 1.0)\n"
    "print(make_plan(m).engine, 'hfx.optimize._kernel_impl' in sys.modules, r.cls,\n"
    "      'numba' in sys.modules)\n"
)


def _python(code: str, cache_dir: str) -> subprocess.CompletedProcess:
    """Run ``code`` with the cache ``cache_dir``, as an installation without the kernels
    compiled into the package (one made where a C compiler was missing)."""
    env = {**os.environ, "HFX_CACHE_DIR": cache_dir, "HFX_PACKAGED_KERNELS": "0"}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    return out


def _root(cache_dir: Path) -> Path:
    from hfx.optimize.kernel_cache import cache_root

    os.environ["HFX_CACHE_DIR"] = str(cache_dir)
    try:
        return cache_root()
    finally:
        del os.environ["HFX_CACHE_DIR"]


@pytest.mark.skipif(os.name != "posix", reason="the background build needs a POSIX shell")
def test_auto_never_waits_for_the_compiler_and_the_kernels_are_built_in_the_background(
    tmp_path,
):
    from hfx.optimize.kernel_cache import (
        AOT_FAILED,
        BUILD_FAILED,
        BUILD_LOCK,
        aot_file,
        holds_kernels,
    )

    root = _root(tmp_path)
    assert root.parent == tmp_path / "numba"
    # a new machine whose hfx was installed without the kernels in the package: "auto" runs
    # on NumPy at once and a detached process compiles the kernels
    first = _python(_AUTO, str(tmp_path))
    engine, loaded, cls_numpy, _ = first.stdout.split()
    assert (engine, loaded) == ("numpy", "False")
    assert "in the background" in first.stderr and "compiling the numba kernels" not in first.stderr
    deadline = time.monotonic() + 600
    while (root / BUILD_LOCK).exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not (root / BUILD_LOCK).exists(), "the background build did not end"
    assert not (root / BUILD_FAILED).exists(), (root / BUILD_FAILED).read_text()
    assert holds_kernels(root)
    # the next process finds them in the user's cache: "auto" runs them, nothing is compiled;
    # with a C compiler the build also made the ahead-of-time module, which loads without numba
    aot = aot_file(root).is_file()
    assert aot or (root / AOT_FAILED).is_file()
    second = _python(_AUTO, str(tmp_path))
    engine, loaded, cls_numba, numba_imported = second.stdout.split()
    assert engine == "numba"
    assert (loaded, numba_imported) == (("False", "False") if aot else ("True", "True"))
    assert "compiling" not in second.stderr
    assert float(cls_numba) == pytest.approx(float(cls_numpy), rel=1e-9)
    assert 0.0 < float(cls_numba) < 1.0
    # so does engine "numba" (which, with the ahead-of-time module there, imports no numba)
    explicit = _python(_AUTO.replace("1.0)", "1.0, engine='numba')"), str(tmp_path))
    assert explicit.stdout.split()[1:] == second.stdout.split()[1:]
    cached, cls = _run(str(tmp_path))
    assert cached == "True" and float(cls) == pytest.approx(float(cls_numba), rel=1e-12)


def test_a_running_or_failed_build_is_not_started_again(tmp_path, monkeypatch):
    from hfx.optimize import kernel_cache

    monkeypatch.setenv("HFX_CACHE_DIR", str(tmp_path))
    started = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: started.append(a))
    root = kernel_cache.cache_root()
    root.mkdir(parents=True)
    lock = root / kernel_cache.BUILD_LOCK
    lock.write_text("1\n")  # another process is building
    assert kernel_cache.start_background_build() is (os.name == "posix")
    assert started == []
    # a lock left by a build that died long ago is taken over
    old = time.time() - kernel_cache.STALE_BUILD_S - 10
    os.utime(lock, (old, old))
    if kernel_cache.can_build_in_background():
        assert kernel_cache.start_background_build() is True
        assert len(started) == 1 and lock.exists()
    lock.unlink()
    # a build that failed today is not tried again; one that failed yesterday is
    failed = root / kernel_cache.BUILD_FAILED
    failed.write_text("Traceback ...")
    assert kernel_cache.start_background_build() is False
    old = time.time() - kernel_cache.RETRY_FAILED_S - 10
    os.utime(failed, (old, old))
    assert kernel_cache.start_background_build() is kernel_cache.can_build_in_background()
    assert len(started) == (2 if kernel_cache.can_build_in_background() else 0)


def test_a_failing_build_leaves_its_error_and_removes_its_lock(tmp_path, monkeypatch):
    from hfx.optimize import kernel_build, kernel_cache

    lock = tmp_path / kernel_cache.BUILD_LOCK
    lock.write_text("1\n")
    monkeypatch.setitem(sys.modules, "hfx.optimize._kernel_impl", None)  # the import fails
    assert kernel_build.main([str(lock)]) == 1
    assert not lock.exists()
    assert "_kernel_impl halted" in (tmp_path / kernel_cache.BUILD_FAILED).read_text()


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
