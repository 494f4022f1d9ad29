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
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from hfx.likelihood.backends import user_cache_dir

__all__ = ["KERNEL_SOURCES", "cache_root", "holds_kernels", "prepare"]

_PACKAGE = Path(__file__).resolve().parent.parent
# every file whose code the compiled kernels contain
KERNEL_SOURCES = (
    _PACKAGE / "optimize" / "_kernel_impl.py",
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
