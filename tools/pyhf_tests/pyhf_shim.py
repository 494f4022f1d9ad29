"""pytest plugin that makes ``import pyhf`` give hfx's facade, and nothing else.

Every module of :mod:`hfx.compat.pyhf` is registered under the matching ``pyhf.*`` name
(``hfx.compat.pyhf.infer.mle`` as ``pyhf.infer.mle``), so pyhf's own tests run against
the facade unchanged.  Loaded with ``pytest -p pyhf_shim`` by ``run.py``.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import hfx.compat.pyhf as facade

PREFIX = "hfx.compat.pyhf."

sys.modules["pyhf"] = facade
for info in pkgutil.walk_packages(facade.__path__, PREFIX):
    sys.modules["pyhf." + info.name[len(PREFIX) :]] = importlib.import_module(info.name)
