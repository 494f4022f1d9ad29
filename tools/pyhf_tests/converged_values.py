"""The numbers of pyhf 0.7.6's own tests that hfx does not reproduce to their pinned
tolerance, recomputed by pyhf itself with its fits converged further.

Run in a venv with pyhf 0.7.6 (``python converged_values.py > values.json``) and in hfx's
venv with ``--facade`` to compute the same with ``hfx.compat.pyhf``.  pyhf's pinned values
come from its default SLSQP fit (tolerance ~1e-6 on the objective); here pyhf runs with
``scipy_optimizer(tolerance=1e-13)``.  tests/compat/test_pyhf_converged.py compares hfx's
default answers with these.
"""

from __future__ import annotations

import json
import sys

import numpy as np

if "--facade" in sys.argv:
    import hfx.compat.pyhf as pyhf
else:
    import pyhf


def hypotest_args() -> tuple[float, list[float], object]:
    model = pyhf.simplemodels.uncorrelated_background(
        signal=[12.0, 11.0], bkg=[50.0, 52.0], bkg_uncertainty=[3.0, 7.0]
    )
    return 1.0, [51, 48, *model.config.auxdata], model


def main() -> None:
    if "--facade" not in sys.argv:
        pyhf.set_backend("numpy", pyhf.optimize.scipy_optimizer(tolerance=1e-13))
    values: dict[str, object] = {}
    mu, data, model = hypotest_args()

    obs, exp = pyhf.infer.intervals.upper_limits.upper_limit(
        data, model, scan=np.linspace(0, 5, 11)
    )
    values["upper_limit_scan"] = {"obs": float(obs), "exp": [float(e) for e in exp]}

    np.random.seed(0)
    init, bounds = model.config.suggested_init(), model.config.suggested_bounds()
    fixed = model.config.suggested_fixed()
    samples = model.make_pdf(pyhf.tensorlib.astensor(init)).sample((10,))
    values["empirical_qmu_tilde"] = [
        float(pyhf.infer.test_statistics.qmu_tilde(mu, s, model, init, bounds, fixed))
        for s in samples
    ]

    np.random.seed(0)
    calc = pyhf.infer.calculators.ToyCalculator(data, model, ntoys=10, track_progress=False)
    sb, b = calc.distributions(mu)
    values["toys_qtilde"] = {
        "sb": [float(x) for x in sb.samples],
        "b": [float(x) for x in b.samples],
        "observed": float(calc.teststatistic(mu)),
    }
    json.dump(values, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
