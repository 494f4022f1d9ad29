"""pyhf's ``infer`` API (``hypotest``, ``mle``, ``test_statistics``, ``calculators``,
``intervals``) with pyhf's arguments and return shapes, computed by :mod:`hfx.infer`.

::

    from hfx.compat import pyhf

    model = pyhf.simplemodels.uncorrelated_background([12.0, 11.0], [50.0, 52.0], [3.0, 7.0])
    data = [51, 48] + model.config.auxdata
    cls_obs, cls_exp = pyhf.infer.hypotest(1.0, data, model, return_expected_set=True)

Results are NumPy arrays, 0-d for scalars, as pyhf's default backend gives.  Keyword
extensions: ``optimizer=`` on every call (``"scipy"``, ``"minuit"`` or an object from
:mod:`hfx.compat.pyhf.optimize`; default: the one set with ``pyhf.set_backend``) and
``seed=`` for toys.
"""

from __future__ import annotations

from hfx.compat.pyhf.infer import calculators, intervals, mle, test_statistics, utils
from hfx.compat.pyhf.infer._hypotest import hypotest

__all__ = ["calculators", "hypotest", "intervals", "mle", "test_statistics", "utils"]
