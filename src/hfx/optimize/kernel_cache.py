"""Where numba keeps the compiled kernels: a per-user cache directory of hfx's own.

numba's default puts its cache beside the source files (``__pycache__``), which fails in a
read-only installation and keeps machine code compiled from older sources: a kernel that
inlines a helper from another file is not recompiled when only that file changes.  Here the
kernels of every hfx source file are cached under

    $HFX_CACHE_DIR, else the platform's user cache directory (``~/.cache/hfx`` on Linux),

in a subdirectory named after a digest of the kernels' source files, so an edited or upgraded
hfx never reads machine code compiled from other sources (numba itself refuses a cache
written by another numba version).  Where no
such directory can be written, the kernels are compiled in every process (never an error).

An installation built from a wheel normally ships the kernels compiled ahead of time inside
the package (:func:`packaged_file`, made by ``hatch_build.py``), and none of this is used.
Without them, the first compilation takes seconds.  So that no one waits for it, engine
"auto" runs on NumPy until the kernels are in the cache, and :func:`start_background_build`
compiles them in a detached process of lower priority (one per machine: a lock file in the
cache directory says one is running; a failed build leaves its error there and is retried
after a day).
"""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import logging
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from hfx.likelihood.backends import user_cache_dir

__all__ = [
    "AOT_FAILED",
    "AOT_LOADED",
    "AOT_MODULE",
    "BUILD_FAILED",
    "BUILD_LOCK",
    "KERNEL_SOURCES",
    "PACKAGED_ENV",
    "RETRY_FAILED_S",
    "STALE_BUILD_S",
    "aot_file",
    "cache_root",
    "can_build_in_background",
    "failed_recently",
    "holds_kernels",
    "load_aot",
    "load_cached",
    "load_packaged",
    "packaged_file",
    "packaged_name",
    "prepare",
    "start_background_build",
]

_PACKAGE = Path(__file__).resolve().parent.parent
# every file whose code the compiled kernels contain
KERNEL_SOURCES = (
    _PACKAGE / "optimize" / "_kernel_impl.py",
    _PACKAGE / "optimize" / "kernel_tasks.py",
    _PACKAGE / "likelihood" / "terms.py",
    _PACKAGE / "likelihood" / "flat_terms.py",
)


def _sources_digest() -> str:
    digest = hashlib.sha256()
    for path in KERNEL_SOURCES:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_root() -> Path:
    """The directory for this hfx's kernels (it may not exist or be writable)."""
    return user_cache_dir() / "numba" / f"kernels-{_sources_digest()}"


def holds_kernels(root: Path) -> bool:
    """Whether ``root`` already holds the compiled kernel (a load, not a compile)."""
    return any((root / "optimize").glob("_kernel_impl.run-*.nbi"))


# in the cache root: the lock of a running background build, the error of a failed one,
# and of a failed ahead-of-time compilation (the JIT cache is used alone then)
BUILD_LOCK = "building.lock"
BUILD_FAILED = "build-failed.txt"
AOT_FAILED = "aot-failed.txt"
# the ahead-of-time compiled kernels (hfx.optimize.kernel_aot): the extension module's name,
# and where a process that loaded it keeps it in sys.modules
AOT_MODULE = "hfx_kernels"
AOT_LOADED = "hfx.optimize._kernel_aot"


# set to "0": ignore the kernels shipped inside the package (as on an install without them)
PACKAGED_ENV = "HFX_PACKAGED_KERNELS"


def _numpy_abi() -> str:
    return f"numpy{np.__version__.split('.')[0]}"


def _extension_suffix() -> str:
    # (this interpreter's own extension suffix, e.g. ".cpython-311-x86_64-linux-gnu.so": the
    # first of importlib's list, and what sysconfig's EXT_SUFFIX says, without the
    # milliseconds sysconfig takes to initialise)
    return importlib.machinery.EXTENSION_SUFFIXES[0]


def aot_file(root: Path) -> Path:
    """Where the ahead-of-time compiled kernels for this Python and NumPy ABI lie."""
    return root / f"aot-{_numpy_abi()}" / f"{AOT_MODULE}{_extension_suffix()}"


def packaged_name() -> str:
    """The file name of the ahead-of-time kernels shipped inside the package (compiled when
    the wheel is built, ``hatch_build.py``): named after the digest of the kernels' sources
    and the NumPy ABI, so that edited sources or another NumPy never load stale ones."""
    return f"{AOT_MODULE}-{_sources_digest()}-{_numpy_abi()}{_extension_suffix()}"


def packaged_file() -> Path:
    """Where this installation's shipped kernels lie (the file may not exist)."""
    return _PACKAGE / "optimize" / packaged_name()


def load_aot(root: Path | None = None) -> ModuleType | None:
    """The ahead-of-time compiled kernels of this hfx (a module with ``run``), loaded once
    per process: the ones shipped inside the package (:func:`load_packaged`), else the ones
    in the cache directory ``root`` (:func:`load_cached`); None where neither is there or
    loads."""
    module = load_packaged()
    return module if module is not None else load_cached(root)


def load_packaged() -> ModuleType | None:
    """The ahead-of-time kernels loaded in this process, else the ones shipped inside the
    package (:func:`packaged_file`; not where ``$HFX_PACKAGED_KERNELS`` is "0"), loaded now;
    None where they are not there or do not load."""
    loaded = sys.modules.get(AOT_LOADED)  # (first: every kernel call of a process asks)
    if loaded is not None or os.environ.get(PACKAGED_ENV) == "0":
        return loaded
    return _load_once(packaged_file)


def load_cached(root: Path | None = None) -> ModuleType | None:
    """As :func:`load_packaged`, from the cache directory ``root`` (default
    :func:`cache_root`)."""
    return _load_once(lambda: aot_file(cache_root() if root is None else root))


def _load_once(where: Callable[[], Path]) -> ModuleType | None:
    """The kernels' module already loaded in this process, else the one at ``where()``
    (computed only then: the sources' digest costs a tenth of a millisecond) loaded now."""
    loaded = sys.modules.get(AOT_LOADED)
    if loaded is not None:
        return loaded
    module = _load_extension(where())
    return None if module is None else sys.modules.setdefault(AOT_LOADED, module)


def _load_extension(path: Path) -> ModuleType | None:
    """The kernels' extension module at ``path``; None where it is not there or does not load."""
    if not path.is_file():
        return None
    try:
        spec = importlib.util.spec_from_file_location(AOT_MODULE, path)
        if spec is None or spec.loader is None:
            return None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    except Exception:  # (unreadable, or built for something else): the JIT kernels then
        return None
    return module


# a lock older than this is a build that died without removing it
STALE_BUILD_S = 900.0
# a failed build is tried again after this (numba may have been repaired meanwhile)
RETRY_FAILED_S = 86400.0


def _take_lock(lock: Path) -> bool:
    """Create ``lock`` (False where another build holds a fresh one)."""
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                if time.time() - lock.stat().st_mtime < STALE_BUILD_S:
                    return False
                lock.unlink()
            except FileNotFoundError:
                pass  # (the other build just ended: try again)
            continue
        except OSError:
            return False
        os.write(fd, f"{os.getpid()}\n".encode())
        os.close(fd)
        return True
    return False


def failed_recently(marker: Path) -> bool:
    """Whether the failure marker ``marker`` was written less than RETRY_FAILED_S ago."""
    try:
        return time.time() - marker.stat().st_mtime < RETRY_FAILED_S
    except OSError:
        return False


def can_build_in_background() -> bool:
    """Whether this platform can start the detached build (a POSIX shell)."""
    return os.name == "posix" and os.path.exists("/bin/sh")


def start_background_build(root: Path | None = None) -> bool:
    """Compile the kernels into the cache in a detached process of lower priority: numba's
    JIT cache, then the ahead-of-time compiled module (:mod:`hfx.optimize.kernel_aot`).
    Nothing is started where both are there (or the second failed in the last day), a build
    is running or failed in the last day, the cache cannot be written, numba is not
    installed or the platform has no POSIX shell.  True when a build is running (started
    now or before).  ``root``: :func:`cache_root`, where the caller has it already."""
    if not can_build_in_background() or importlib.util.find_spec("numba") is None:
        return False
    root = cache_root() if root is None else root
    done = holds_kernels(root) and (aot_file(root).is_file() or failed_recently(root / AOT_FAILED))
    if done or failed_recently(root / BUILD_FAILED) or not _writable(root):
        return False
    lock = root / BUILD_LOCK
    if not _take_lock(lock):
        return lock.exists()
    # the hfx that asks is the hfx that builds (whatever else is on the child's path)
    path = os.pathsep.join(p for p in (str(_PACKAGE.parent), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path}
    # a shell starts the build in the background and exits at once: the build outlives
    # this process (and, started from a non-interactive shell, ignores the terminal's Ctrl-C)
    command = '"$0" -m hfx.optimize.kernel_build "$1" </dev/null >/dev/null 2>&1 &'
    import subprocess  # (here: ~10 ms that the processes finding the kernels never pay)

    try:
        subprocess.run(
            ["/bin/sh", "-c", command, sys.executable, str(lock)],
            env=env,
            check=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        lock.unlink(missing_ok=True)
        return False
    logging.getLogger("hfx.optimize").warning(
        "hfx: compiling the kernels for small models in the background (once per machine, "
        "in %s); fits run on NumPy until they are ready",
        root,
    )
    return True


def _writable(path: Path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=path).close()
    except OSError:
        return False
    return True


def prepare() -> Path | None:
    """Point numba's cache for hfx's source files at :func:`cache_root` and return it; None
    (compile in every process, no on-disk cache) where that directory cannot be written or
    this numba has no locator hook."""
    root = cache_root()
    if not _writable(root):
        return None
    try:
        from numba.core import caching
    except ImportError:  # pragma: no cover - numba without the module
        return None
    base = getattr(caching, "UserProvidedCacheLocator", None) or getattr(
        caching, "_UserProvidedCacheLocator", None
    )
    impl = getattr(caching, "CacheImpl", None) or getattr(caching, "_CacheImpl", None)
    locators = getattr(impl, "_locator_classes", None)
    if base is None or not isinstance(locators, list):
        return None
    if not any(getattr(cls, "hfx_root", None) == str(root) for cls in locators):
        locators.insert(0, _locator_class(base, root))
    return root


def _locator_class(base: Any, root: Path) -> Any:
    """A numba cache locator that places the cache of hfx's own source files under ``root``
    and declines every other file (numba's own locators then handle it)."""
    package = str(_PACKAGE) + os.sep

    class HfxCacheLocator(base):  # type: ignore[misc]
        hfx_root = str(root)

        def __init__(self, py_func: Any, py_file: str) -> None:
            self._py_file = py_file
            self._lineno = py_func.__code__.co_firstlineno
            self._cache_path = str(root / Path(py_file).parent.name)

        @classmethod
        def from_function(cls, py_func: Any, py_file: str) -> Any:
            if not os.path.abspath(py_file).startswith(package):
                return None
            self = cls(py_func, py_file)
            try:
                self.ensure_cache_path()
            except OSError:
                return None
            return self

    return HfxCacheLocator
