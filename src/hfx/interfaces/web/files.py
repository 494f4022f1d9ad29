"""The folders ``hfx serve`` was given: what they hold, and paths that never leave them."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hfx.errors import HfxError
from hfx.interfaces.web.errors import Forbidden, NotFound

__all__ = ["ServedFolders"]

SUFFIXES = (".json", ".jsonl")
MAX_FILES = 2000
MAX_DEPTH = 4


class ServedFolders:
    """Read-only access to JSON files under a few folders, by (folder id, relative path)."""

    def __init__(self, folders: Sequence[str | Path]):
        roots = []
        for folder in folders:
            root = Path(folder).resolve()
            if not root.is_dir():
                raise HfxError(f"{folder}: not a folder")
            roots.append(root)
        self.roots = tuple(roots)

    def listing(self) -> list[dict[str, Any]]:
        out = []
        for index, root in enumerate(self.roots):
            files = []
            for directory, subdirs, names in os.walk(root):
                depth = len(Path(directory).relative_to(root).parts)
                subdirs[:] = (
                    sorted(d for d in subdirs if not d.startswith(".")) if depth < MAX_DEPTH else []
                )
                for name in sorted(names):
                    path = Path(directory) / name
                    if name.startswith(".") or path.suffix not in SUFFIXES:
                        continue
                    try:
                        self._inside(root, path)
                    except Forbidden:
                        continue  # (a link out of the folder)
                    files.append(
                        {"path": path.relative_to(root).as_posix(), "size": path.stat().st_size}
                    )
                    if len(files) >= MAX_FILES:
                        break
            out.append({"id": index, "name": root.name, "files": files})
        return out

    @staticmethod
    def _inside(root: Path, path: Path) -> Path:
        resolved = path.resolve()
        if not resolved.is_relative_to(root):
            raise Forbidden("outside the folders this server was given")
        return resolved

    def resolve(self, folder: Any, relative: Any) -> Path:
        """The file ``relative`` in folder number ``folder``; Forbidden for any path that
        would lead out of it (``..``, absolute paths, links), NotFound if absent."""
        if not isinstance(folder, int) or not 0 <= folder < len(self.roots):
            raise NotFound(f"no folder {folder!r}")
        if not isinstance(relative, str) or not relative or "\x00" in relative:
            raise Forbidden("a path relative to the folder is needed")
        root = self.roots[folder]
        candidate = Path(relative)
        if candidate.is_absolute() or ".." in candidate.parts:
            raise Forbidden(f"{relative}: outside the folders this server was given")
        path = self._inside(root, root / candidate)
        if path.suffix not in SUFFIXES:
            raise Forbidden(f"{relative}: only .json and .jsonl files are served")
        if not path.is_file():
            raise NotFound(f"{relative}: no such file")
        return path
