"""pyhf's ``PatchSet``: hfx's :class:`~hfx.spec.patches.PatchSet`, with ``apply`` returning
a pyhf-style :class:`~hfx.compat.pyhf.workspace.Workspace`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hfx.compat.pyhf.workspace import Workspace
from hfx.spec import patches as _patches
from hfx.spec.patches import apply_patch

__all__ = ["Patch", "PatchSet"]


class Patch(_patches.Patch):
    """One patch of a patchset, built as pyhf builds it: ``Patch({"metadata": {"name",
    "values"}, "patch": [...]})`` (hfx's keyword form ``Patch(name=..., values=...)`` works
    too)."""

    def __init__(self, spec: Mapping[str, Any] | None = None, /, **fields: Any):
        if spec is None:
            super().__init__(**fields)
            return
        built = _patches.Patch.from_dict(spec)
        for name in ("name", "values", "metadata", "operations"):
            object.__setattr__(self, name, getattr(built, name))

    def __repr__(self) -> str:
        return (
            f"<hfx.compat.pyhf.patchset.Patch object '{self.name}{self.values}' at "
            f"{id(self):#x}: {len(self.operations)} ops>"
        )


class PatchSet(_patches.PatchSet):
    """A HEPData patchset (labels, digests, named patches); look patches up by name or values.

    ``labels`` and ``patches`` are lists, as pyhf's are (hfx's own PatchSet gives tuples).
    """

    @property
    def labels(self) -> list[str]:  # type: ignore[override]
        return list(super().labels)

    @property
    def patches(self) -> list[_patches.Patch]:  # type: ignore[override]
        return list(super().patches)

    def __repr__(self) -> str:
        count = f"{len(self)} patch" + ("" if len(self) == 1 else "es")
        return (
            f"<hfx.compat.pyhf.patchset.PatchSet object with {count} at {id(self):#x}: "
            f"labels={self.labels}>"
        )

    # pyhf's signature, not hfx's: a spec in, a pyhf-style (dict) Workspace out
    def apply(  # type: ignore[override]
        self, spec: Mapping[str, Any], key: str | Sequence[Any]
    ) -> Workspace:
        """Verify ``spec`` against the digests; return it with patch ``key`` applied."""
        patch = self[key]
        self.verify(spec)
        document = spec.spec if hasattr(spec, "spec") and not isinstance(spec, Mapping) else spec
        return Workspace(apply_patch(dict(document), patch.operations, source=patch.name))
