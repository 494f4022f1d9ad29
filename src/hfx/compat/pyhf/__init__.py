"""pyhf's public names and signatures on top of hfx.

Port a pyhf script by changing its import::

    import hfx.compat.pyhf as pyhf

    ws = pyhf.Workspace(spec)
    model = ws.model(patches=[signal_patch])
    data = ws.data(model)
    model.logpdf(model.config.suggested_init(), data)

Covered so far: ``Workspace``, ``Model`` (with ``model.config``), ``simplemodels``,
``PatchSet``, ``infer`` (``mle``, ``hypotest``, ``test_statistics``, ``calculators``,
``intervals.upper_limits``), ``optimize`` and ``set_backend``/``get_backend``/``tensorlib``
(NumPy, or JAX after ``set_backend("jax")``; ``set_backend`` also sets the default optimizer
of later inference calls).  The numbers are hfx's, which agree with pyhf 0.7 (see the tests).
"""

from __future__ import annotations

from typing import Any

from hfx.compat.pyhf import (
    events,
    exceptions,
    infer,
    optimize,
    probability,
    schema,
    simplemodels,
    tensor,
    utils,
)
from hfx.compat.pyhf.backend import current_tensorlib, get_backend, set_backend
from hfx.compat.pyhf.backend import tensorlib as _numpy_tensorlib
from hfx.compat.pyhf.patchset import PatchSet
from hfx.compat.pyhf.pdf import Model
from hfx.compat.pyhf.workspace import Workspace

default_backend = _numpy_tensorlib  # pyhf's name for its NumPy backend object

__version__ = "0.7.6"  # the pyhf release whose API and numbers the facade follows


def __getattr__(name: str) -> Any:
    if name == "optimizer":  # pyhf.optimizer: the current default optimizer
        return infer.mle.current_optimizer()
    if name == "tensorlib":  # pyhf.tensorlib: the helpers of the backend set last
        return current_tensorlib()
    raise AttributeError(f"module 'hfx.compat.pyhf' has no attribute {name!r}")


__all__ = [
    "Model",
    "PatchSet",
    "Workspace",
    "default_backend",
    "events",
    "exceptions",
    "get_backend",
    "infer",
    "optimize",
    "probability",
    "schema",
    "set_backend",
    "simplemodels",
    "tensor",
    "tensorlib",
    "utils",
]
