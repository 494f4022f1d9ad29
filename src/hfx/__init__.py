"""hfx: fast HistFactory likelihoods.

Load a HistFactory JSON workspace, compile it into a model and evaluate its likelihood::

    import hfx
    ws = hfx.load("workspace.json")
    model = ws.model(patches=[signal_patch])
    data = ws.data(model)
    nll, grad = model.nll_and_grad(model.config.suggested_init(), data)
"""

from __future__ import annotations

from hfx import simplemodels
from hfx.compile.compiled import compile_model
from hfx.errors import (
    BackendError,
    FitError,
    HfxError,
    HfxWarning,
    MissingExtraError,
    ModelError,
    PatchError,
    SpecError,
)
from hfx.infer import (
    HypotestResult,
    SignificanceResult,
    UpperLimitResult,
    hypotest,
    significance,
    upper_limit,
)
from hfx.likelihood.backends import get_backend
from hfx.likelihood.model import Model, ModelConfig
from hfx.optimize import FitResult, fit, fixed_poi_fit
from hfx.spec.jsonio import PathLike
from hfx.spec.patches import Patch, PatchSet, apply_patch
from hfx.spec.workspace import Workspace

__version__ = "0.1.0"


def load(path: PathLike, **kwargs) -> Workspace:
    """Read and validate a HistFactory JSON workspace (``-`` reads stdin)."""
    return Workspace.load(path, **kwargs)


__all__ = [
    "BackendError",
    "FitError",
    "FitResult",
    "HfxError",
    "HfxWarning",
    "HypotestResult",
    "MissingExtraError",
    "Model",
    "ModelConfig",
    "ModelError",
    "Patch",
    "PatchError",
    "PatchSet",
    "SignificanceResult",
    "SpecError",
    "UpperLimitResult",
    "Workspace",
    "__version__",
    "apply_patch",
    "compile_model",
    "fit",
    "fixed_poi_fit",
    "get_backend",
    "hypotest",
    "load",
    "significance",
    "simplemodels",
    "upper_limit",
]
