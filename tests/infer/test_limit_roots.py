"""The root finder behind upper limits (Brent's method) and the limits it finds, against
closed forms and against scipy's brentq on the same CLs curves."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy.optimize import brentq

import hfx
from hfx.infer.asymptotic import AsymptoticCalculator
from hfx.infer.hypotest import run_hypotest
from hfx.infer.limits import _brent


class Counted:
    def __init__(self, fn):
        self.fn, self.calls = fn, 0

    def __call__(self, x: float) -> float:
        self.calls += 1
        return self.fn(x)


@pytest.mark.parametrize(
    ("fn", "a", "b", "root"),
    [
        (lambda x: 0.3 - x, 0.0, 2.0, 0.3),  # decreasing, as a CLs curve minus the level
        (lambda x: x**3 - 2.0 * x - 5.0, 2.0, 3.0, 2.0945514815423265),
        (lambda x: math.exp(-x) - 0.5, 0.0, 10.0, math.log(2.0)),
        (lambda x: math.atan(50.0 * (1.7 - x)), 0.0, 100.0, 1.7),  # steep, far bracket
    ],
)
def test_brent_finds_closed_form_roots(fn, a, b, root):
    f = Counted(fn)
    x = _brent(f, a, b, fn(a), fn(b), xtol=2e-12, rtol=1e-10)
    assert abs(x - root) <= 2e-12 + 1e-10 * abs(root)
    assert f.calls < 40


def test_brent_is_quick_on_a_line_and_honours_rtol():
    f = Counted(lambda x: 2.5 - 0.8 * x)
    x = _brent(f, 0.0, 10.0, 2.5, -5.5, xtol=2e-12, rtol=1e-6)
    assert x == pytest.approx(3.125, rel=1e-6) and f.calls <= 3
    # a looser relative tolerance stops earlier, never outside it
    g = Counted(lambda x: math.exp(-x) - 0.05)
    y = _brent(g, 0.0, 20.0, 0.95, math.exp(-20.0) - 0.05, xtol=0.0, rtol=1e-3)
    assert abs(y - math.log(20.0)) <= 1e-3 * math.log(20.0)


def test_brent_returns_an_exact_endpoint_root():
    assert _brent(lambda x: 1.0 - x, 0.0, 1.0, 1.0, 0.0, xtol=1e-12, rtol=0.0) == 1.0


def test_limits_match_brentq_on_the_same_curves(shared_data):
    name = "2018-31_simplifiedA"
    ws = hfx.load(shared_data / "workspaces" / "atlas" / f"{name}.json")
    patch = (shared_data / "workspaces" / "atlas" / f"{name}.signal.json").read_text()
    model = ws.model(patches=[json.loads(patch)])
    data = np.asarray(ws.data(model))
    limit = hfx.upper_limit(model, data, rtol=1e-8)
    calc = AsymptoticCalculator(model, data)
    obs = brentq(lambda m: run_hypotest(calc, m).cls - 0.05, 0.1, 10.0, xtol=1e-12, rtol=1e-10)
    assert limit.obs == pytest.approx(obs, rel=3e-8)
    for k in range(5):
        exp = brentq(lambda m, k=k: calc.expected_cls(m)[k] - 0.05, 0.1, 10.0, rtol=1e-10)
        assert limit.exp[k] == pytest.approx(exp, rel=3e-8)
