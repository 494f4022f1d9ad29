"""Times one benchmark case with NextStat; run by ``suite.py`` inside a NextStat environment.

Usage: ``python nextstat_runner.py '<case JSON>'`` with the case dictionaries of
``pyhf_runner.py`` (kinds build, fit, cls, limit; the optimizer entry is ignored: NextStat
has one), repeated by the same rule (``repeats.timed_runs``).  Prints one JSON object
``{"times": [...], "value": ...}`` plus, for build, ``from_workspace_times`` (the model
from the already patched workspace text alone) and, for fit, ``fit_with_uncertainties_times``
(``nextstat.fit``, which always computes the Hessian uncertainties).

``python nextstat_runner.py --write-patched WORKSPACE PATCH OUTPUT`` writes the workspace
with the JSON Patch applied (for the NextStat command line, which takes no patch file).

Imports only nextstat, jsonpatch and the standard library.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from statistics import NormalDist

import jsonpatch

from repeats import timed_runs

NSIGMA = (2, 1, 0, -1, -2)  # the order of pyhf's (and hfx's) expected CLs band


def _patched_text(case) -> str:
    """Both files read, parsed and patched with ``jsonpatch``: the text ``from_workspace`` takes."""
    spec = json.loads(Path(case["workspace"]).read_text())
    if case.get("patch"):
        spec = jsonpatch.apply_patch(spec, json.loads(Path(case["patch"]).read_text()))
    return json.dumps(spec)


def _native_patched_model(nextstat, case):
    """Both files read as text, the patch applied by NextStat's own ``apply_patchset``
    (Rust) and the model built: NextStat's fastest path from the two files to a model.

    ``apply_patchset`` takes a HEPData PatchSet; the plain JSON Patch file is wrapped into
    a one-patch PatchSet by string concatenation (no parsing on the Python side).
    """
    workspace = Path(case["workspace"]).read_text()
    patch = Path(case["patch"]).read_text()
    patchset = (
        '{"metadata": {"name": "signal", "description": "one signal patch", '
        '"digests": {"sha256": "0"}, "labels": ["mu"]}, "version": "1.0.0", '
        '"patches": [{"metadata": {"name": "signal", "values": [1]}, "patch": ' + patch + "}]}"
    )
    text = nextstat.apply_patchset(workspace, patchset, patch_name="signal")
    return nextstat.HistFactoryModel.from_workspace(text)


def expected_band(clsb: float, clb: float) -> list[float]:
    """Expected CLs at -2σ … +2σ from one asymptotic qtilde test's tail probabilities.

    NextStat's Python ``hypotest`` returns CLs+b and CLb but not the band (``cls_curve``
    has it but needs two scan points and runs one full test per point).  With pyhf's
    asymptotic qtilde formulae, CLs+b = Φ(-t - √q_A) and CLb = Φ(-t) in both regimes of
    q̃, so √q_A = Φ⁻¹(CLb) - Φ⁻¹(CLs+b), and the expected CLs at n σ is
    Φ(-n - √q_A) / Φ(-n): arithmetic on NextStat's fits, microseconds.
    """
    normal = NormalDist()
    if not (0.0 < clsb < 1.0 and 0.0 < clb < 1.0):
        return [float("nan")] * len(NSIGMA)
    sqrt_qa = normal.inv_cdf(clb) - normal.inv_cdf(clsb)
    return [normal.cdf(-n - sqrt_qa) / normal.cdf(-n) for n in NSIGMA]


def _answer(nextstat, kind: str, model):
    if kind == "fit":
        # the fit without uncertainties (nextstat.fit always adds the Hessian)
        return nextstat.MaximumLikelihoodEstimator().fit_minimum(model).twice_nll
    if kind == "cls":
        cls, (clsb, clb) = nextstat.hypotest(1.0, model, return_tail_probs=True)
        return [cls, *expected_band(clsb, clb)]
    if kind == "limit":
        obs, exp = nextstat.upper_limit(model, method="root")
        return [obs, *exp]
    raise ValueError(f"unknown case kind {kind!r}")


def main() -> None:
    if sys.argv[1] == "--write-patched":
        workspace, patch, output = sys.argv[2:5]
        Path(output).write_text(_patched_text({"workspace": workspace, "patch": patch}))
        return
    import nextstat

    case = json.loads(sys.argv[1])
    kind = case["kind"]
    from_workspace = nextstat.HistFactoryModel.from_workspace
    out = {"version": nextstat.__version__, "eval_mode": nextstat.get_eval_mode()}
    if kind == "build":
        out["times"], model = timed_runs(lambda: from_workspace(_patched_text(case)), case)
        out["value"] = model.n_params()
        text = _patched_text(case)
        out["from_workspace_times"], _ = timed_runs(lambda: from_workspace(text), case)
        if case.get("patch"):
            times, native = timed_runs(lambda: _native_patched_model(nextstat, case), case)
            # the same model both ways: its parameters and its likelihood at the start point
            init = model.suggested_init()
            if native.parameter_names() == model.parameter_names() and math.isclose(
                native.nll(init), model.nll(init), rel_tol=1e-12
            ):
                out["apply_patchset_times"] = times
    else:
        model = from_workspace(_patched_text(case))
        out["times"], value = timed_runs(lambda: _answer(nextstat, kind, model), case)
        out["value"] = float(value) if kind == "fit" else [float(v) for v in value]
        if kind == "fit":
            out["fit_with_uncertainties_times"], _ = timed_runs(lambda: nextstat.fit(model), case)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
