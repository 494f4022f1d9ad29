"""hfx: fast HistFactory likelihoods.

Load a HistFactory JSON workspace, compile it into a model and evaluate its likelihood::

    import hfx
    ws = hfx.load("workspace.json")
    model = ws.model(patches=[signal_patch])
    data = ws.data(model)
    nll, grad = model.nll_and_grad(model.config.suggested_init(), data)
"""

from __future__ import annotations

import importlib

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

TYPE_CHECKING = False  # not typing's: importing typing would slow the start of `hfx`
if TYPE_CHECKING:
    from typing import Any

    from hfx import abcd, simplemodels
    from hfx.diagnostics import (
        PullsResult,
        RankingResult,
        YieldsResult,
        correlations,
        pulls,
        ranking,
        yields,
    )
    from hfx.infer import (
        HypotestResult,
        SignificanceResult,
        UpperLimitResult,
        hypotest,
        significance,
        upper_limit,
    )
    from hfx.interfaces.scan import ScanResult, scan
    from hfx.likelihood.backends import get_backend
    from hfx.likelihood.build import compile_model
    from hfx.likelihood.model import Model, ModelConfig
    from hfx.optimize import FitResult, fit, fixed_poi_fit
    from hfx.spec.jsonio import PathLike
    from hfx.spec.patches import Patch, PatchSet, apply_patch
    from hfx.spec.workspace import Workspace

__version__ = "0.1.0"

# The rest of the public API, imported on first use: NumPy, SciPy and the compiled
# kernels take a second to import, which `import hfx` (and the start of every `hfx`
# command, where Ctrl-C must already be handled) should not pay up front.  (name, module)
# pairs: a tuple, not a dict, so that nothing at module level can be changed.
_LAZY = (
    ("simplemodels", "hfx.simplemodels"),
    ("abcd", "hfx.abcd"),
    ("compile_model", "hfx.likelihood.build"),
    ("HypotestResult", "hfx.infer"),
    ("SignificanceResult", "hfx.infer"),
    ("UpperLimitResult", "hfx.infer"),
    ("hypotest", "hfx.infer"),
    ("significance", "hfx.infer"),
    ("upper_limit", "hfx.infer"),
    ("PullsResult", "hfx.diagnostics"),
    ("RankingResult", "hfx.diagnostics"),
    ("YieldsResult", "hfx.diagnostics"),
    ("correlations", "hfx.diagnostics"),
    ("pulls", "hfx.diagnostics"),
    ("ranking", "hfx.diagnostics"),
    ("yields", "hfx.diagnostics"),
    ("scan", "hfx.interfaces.scan"),
    ("ScanResult", "hfx.interfaces.scan"),
    ("get_backend", "hfx.likelihood.backends"),
    ("Model", "hfx.likelihood.model"),
    ("ModelConfig", "hfx.likelihood.model"),
    ("FitResult", "hfx.optimize"),
    ("fit", "hfx.optimize"),
    ("fixed_poi_fit", "hfx.optimize"),
    ("Patch", "hfx.spec.patches"),
    ("PatchSet", "hfx.spec.patches"),
    ("apply_patch", "hfx.spec.patches"),
    ("Workspace", "hfx.spec.workspace"),
)


def __getattr__(name: str) -> Any:
    module = dict(_LAZY).get(name)
    if module is None:
        raise AttributeError(f"module 'hfx' has no attribute {name!r}")
    imported = importlib.import_module(module)
    value = imported if module == f"hfx.{name}" else getattr(imported, name)
    globals()[name] = value  # PEP 562's usual memo: later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | {name for name, _ in _LAZY})


def load(path: PathLike, **kwargs: Any) -> Workspace:
    """Read and validate a HistFactory JSON workspace (``-`` reads stdin)."""
    from hfx.spec.workspace import Workspace

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
    "PullsResult",
    "RankingResult",
    "ScanResult",
    "SignificanceResult",
    "SpecError",
    "UpperLimitResult",
    "Workspace",
    "YieldsResult",
    "__version__",
    "abcd",
    "apply_patch",
    "compile_model",
    "correlations",
    "fit",
    "fixed_poi_fit",
    "get_backend",
    "hypotest",
    "load",
    "pulls",
    "ranking",
    "scan",
    "significance",
    "simplemodels",
    "upper_limit",
    "yields",
]
