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
(NumPy only; ``set_backend`` sets the default optimizer of later inference calls).  The
numbers are hfx's, which agree with pyhf 0.7 (see the tests).
"""

from __future__ import annotations

from hfx.compat.pyhf import exceptions, infer, optimize, probability, schema, simplemodels, utils
from hfx.compat.pyhf.backend import get_backend, set_backend, tensorlib
from hfx.compat.pyhf.patchset import PatchSet
from hfx.compat.pyhf.pdf import Model
from hfx.compat.pyhf.workspace import Workspace

__version__ = "0.7.6"  # the pyhf release whose API and numbers the facade follows

__all__ = [
    "Model",
    "PatchSet",
    "Workspace",
    "exceptions",
    "get_backend",
    "infer",
    "optimize",
    "probability",
    "schema",
    "set_backend",
    "simplemodels",
    "tensorlib",
    "utils",
]
