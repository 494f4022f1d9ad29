"""The hfx side of each benchmark case (same case dictionaries as ``pyhf_runner.py``).

Also the optional JAX rows (first call and steady state), skipped cleanly without JAX.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Any

import numpy as np

import hfx
from hfx.infer import hypotest, upper_limit
from hfx.optimize import fit
from repeats import timed_runs

# pyhf's model exactly (hfx's default clamps a sample's histosys-interpolated yield at zero,
# as ROOT does; pyhf does not): answers are checked against pyhf's, so both sides compute the
# same model (the clamp itself costs no measurable time)
PYHF_MODEL = {
    "normsys": {"interpcode": "code4"},
    "histosys": {"interpcode": "code4p", "positive_definite": False},
}


def _model(case: dict[str, Any], backend: str = "numpy"):
    ws = hfx.load(case["workspace"])
    patches = [case["patch"]] if case.get("patch") else []  # the file, read by hfx
    model = ws.model(patches=patches, backend=backend, modifier_settings=PYHF_MODEL)
    return ws, model, np.asarray(ws.data(model))


def _answer(case: dict[str, Any], model, data) -> Any:
    kind, opt = case["kind"], case["optimizer"]
    engine = case.get("engine", "auto")
    if kind == "fit":
        return fit(model, data, optimizer=opt, engine=engine, uncertainties=False).twice_nll
    if kind == "cls":
        r = hypotest(model, data, 1.0, test_stat="qtilde", optimizer=opt, engine=engine)
        return [r.cls, *r.cls_expected]
    if kind == "limit":
        r = upper_limit(model, data, optimizer=opt, engine=engine)
        return [r.obs, *r.exp]
    if kind == "toys":
        r = hypotest(
            model, data, 1.0, calculator="toys", ntoys=case["ntoys"], seed=0, engine=engine
        )
        return [r.cls, *r.cls_expected]
    raise ValueError(f"unknown case kind {kind!r}")


def hfx_case(case: dict[str, Any]) -> dict[str, Any]:
    """Time one case (see ``repeats.timed_runs``); returns {"times": [...], "value": answer}."""
    _, model, data = _model(case)
    if case["kind"] == "build":
        times, value = timed_runs(lambda: _model(case)[1].config.npars, case)
    else:
        times, value = timed_runs(lambda: _answer(case, model, data), case)
    if isinstance(value, np.generic):
        value = value.item()
    return {"times": times, "value": value}


def nll_grad_seconds(model, calls: int = 50) -> float:
    """Median time of one −log L + gradient evaluation at the suggested initial values."""
    ws_data = np.concatenate(
        [np.asarray(model.expected_actualdata(model.config.suggested_init())), model.config.auxdata]
    )
    pars = np.asarray(model.config.suggested_init(), dtype=float)
    model.nll_and_grad(pars, ws_data)
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            model.nll_and_grad(pars, ws_data)
        runs.append((time.perf_counter() - start) / calls)
    return float(np.median(runs))


def jax_case(ws_file: Path, patch: Path, repeats: int) -> dict[str, Any] | None:
    """Asymptotic CLs on the JAX backend: first call (tracing/compilation) and steady state."""
    if importlib.util.find_spec("jax") is None:
        return None
    case = {"workspace": str(ws_file), "patch": str(patch), "kind": "cls", "optimizer": "scipy"}
    _, model, data = _model(case, backend="jax")
    start = time.perf_counter()
    value = np.asarray(_answer(case, model, data), dtype=float).tolist()
    first = time.perf_counter() - start
    steady = []
    for _ in range(repeats):
        start = time.perf_counter()
        _answer(case, model, data)
        steady.append(time.perf_counter() - start)
    numpy = hfx_case({**case, "repeats": repeats})
    return {
        "first": first,
        "steady": steady,
        "numpy": numpy["times"],
        "value": value,
        "numpy_value": numpy["value"],
    }
