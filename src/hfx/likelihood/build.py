"""``compile_model``: workspace + measurement + settings → :class:`~hfx.likelihood.model.Model`.

:func:`hfx.compile.compiled.compile_workspace` makes the config and the flat arrays; the
model binds them to a backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hfx.compile.compiled import compile_workspace
from hfx.likelihood.model import Model

if TYPE_CHECKING:
    from hfx.spec.workspace import Workspace

__all__ = ["compile_model"]


def compile_model(
    workspace: Workspace,
    measurement: Mapping[str, Any],
    *,
    modifier_settings: Mapping[str, Any] | None = None,
    backend: Any = "numpy",
    poi_name: str | None = None,
) -> Model:
    """Compile ``workspace`` under ``measurement`` into a model on ``backend``."""
    config, arrays = compile_workspace(
        workspace, measurement, modifier_settings=modifier_settings, poi_name=poi_name
    )
    return Model(config, arrays, backend=backend)
