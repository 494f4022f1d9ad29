"""pytest plugin: record pyhf's ``test_validation`` hypotests, fits converged further.

Run with pyhf 0.7.6 itself, in pyhf's tests folder (jax/torch/tensorflow backends removed
from its conftest when those are not installed)::

    OUT=validation.json PYTHONPATH=tools/pyhf_tests python -m pytest -p record_validation \\
        tests/test_validation.py -k "test_validation and not toys"

Each case's ``validate_hypotest`` is replaced by one that runs the same hypotest with
``scipy_optimizer(tolerance=1e-13)`` and records the inputs, the result and the value the
test pins; the JSON is written at the end of the session.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np
import pytest

RESULTS: dict[str, Any] = {}


@pytest.fixture(autouse=True)
def _record(request: Any, monkeypatch: Any) -> None:
    import pyhf

    module = request.module
    if not hasattr(module, "validate_hypotest"):
        return

    def record(
        pdf, data, mu_test, expected_result, test_stat="q", tolerance=1e-6, calctype="asymptotics"
    ):
        pyhf.set_backend(pyhf.tensorlib, pyhf.optimize.scipy_optimizer(tolerance=1e-13))
        np.random.seed(0)
        obs, exp = pyhf.infer.hypotest(
            mu_test,
            data,
            pdf,
            pdf.config.suggested_init(),
            pdf.config.suggested_bounds(),
            return_expected_set=True,
            test_stat=test_stat,
            calctype=calctype,
        )
        RESULTS[request.node.name] = {
            "obs": float(obs),
            "exp": [float(e) for e in exp],
            "pinned": expected_result,
            "tolerance": tolerance,
            "spec": pdf.spec,
            "data": [float(x) for x in data],
            "mu": float(mu_test),
            "test_stat": test_stat,
        }

    monkeypatch.setattr(module, "validate_hypotest", record)


def pytest_sessionfinish(session: Any) -> None:
    with open(os.environ["OUT"], "w", encoding="utf-8") as out:
        json.dump(RESULTS, out, indent=1)
