"""Interpolation codes against closed forms written independently, scalar by scalar."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hfx.likelihood.interpolation import INTERP_CODES, interpolate, prepare

ALPHAS = [-2.5, -1.2, -1.0, -0.5, -1e-3, 0.0, 0.3, 0.999, 1.0, 1.7, 3.0]
TEMPLATES = [(10.0, 14.0, 7.0), (1.0, 1.3, 0.8), (5.0, 4.0, 4.5), (2.0, 2.0, 2.0)]


def reference(code: str, alpha: float, nom: float, hi: float, lo: float) -> float:
    """Shift d(α) = I(α) − I⁰ from the textbook definition of each code."""
    up, down = hi - nom, nom - lo
    if code == "code0":
        return alpha * (up if alpha >= 0 else down)
    if code == "code1":
        ratio = hi / nom if alpha >= 0 else lo / nom
        return nom * ratio ** abs(alpha) - nom
    if code == "code2":
        a, b = 0.5 * (hi + lo) - nom, 0.5 * (hi - lo)
        if alpha > 1:
            return up + (b + 2 * a) * (alpha - 1)
        if alpha < -1:
            return -down + (b - 2 * a) * (alpha + 1)
        return a * alpha**2 + b * alpha
    if code == "code4p":
        if abs(alpha) > 1:
            return alpha * (up if alpha >= 0 else down)
        s, a = 0.5 * (up + down), (up - down) / 16
        return alpha * s + alpha**2 * a * (15 - 10 * alpha**2 + 3 * alpha**4)
    if code == "code4":
        if abs(alpha) >= 1:
            return reference("code1", alpha, nom, hi, lo)
        # solve the matching conditions with numpy for the 6 polynomial coefficients
        rp, rm = hi / nom, lo / nom
        lp, lm = math.log(rp), math.log(rm)
        rows, rhs = [], []
        for x, f, f1, f2 in ((1, rp, rp * lp, rp * lp**2), (-1, rm, -rm * lm, rm * lm**2)):
            rows += [
                [x**i for i in range(1, 7)],
                [i * x ** (i - 1) for i in range(1, 7)],
                [i * (i - 1) * x ** (i - 2) for i in range(1, 7)],
            ]
            rhs += [f - 1, f1, f2]
        coef = np.linalg.solve(np.array(rows, float), np.array(rhs))
        return nom * sum(c * alpha ** (i + 1) for i, c in enumerate(coef))
    raise AssertionError(code)


@pytest.mark.parametrize("code", INTERP_CODES)
@pytest.mark.parametrize("template", TEMPLATES)
def test_codes_match_closed_form_and_derivative(code, template):
    nom, hi, lo = template
    consts = prepare(code, [nom], [hi], [lo])
    c = {"nominal": consts.nominal, "up": consts.up, "down": consts.down, **consts.extra}
    for alpha in ALPHAS:
        value, deriv = interpolate(np, np.array([alpha]), c, code)
        assert value[0] == pytest.approx(reference(code, alpha, nom, hi, lo), rel=1e-12, abs=1e-12)
        h = 1e-6
        numeric = (
            reference(code, alpha + h, nom, hi, lo) - reference(code, alpha - h, nom, hi, lo)
        ) / (2 * h)
        kink = alpha == 0.0 and code in ("code0", "code1")  # d is not differentiable there
        if not kink:
            assert deriv[0] == pytest.approx(numeric, rel=1e-5, abs=1e-6), alpha


@pytest.mark.parametrize("code", INTERP_CODES)
def test_codes_hit_the_templates_at_plus_minus_one(code):
    nom, hi, lo = 10.0, 14.0, 7.0
    consts = prepare(code, [nom] * 3, [hi] * 3, [lo] * 3)
    c = {"nominal": consts.nominal, "up": consts.up, "down": consts.down, **consts.extra}
    value, _ = interpolate(np, np.array([-1.0, 0.0, 1.0]), c, code)
    np.testing.assert_allclose(value, [lo - nom, 0.0, hi - nom], rtol=1e-12, atol=1e-12)


def test_code4_is_twice_differentiable_at_one():
    consts = prepare("code4", [1.0], [1.3], [0.8])
    c = {"nominal": consts.nominal, "up": consts.up, "down": consts.down, **consts.extra}
    for edge in (1.0, -1.0):
        eps = 1e-7
        inner, d_inner = interpolate(np, np.array([edge * (1 - eps)]), c, "code4")
        outer, d_outer = interpolate(np, np.array([edge * (1 + eps)]), c, "code4")
        assert inner[0] == pytest.approx(outer[0], abs=1e-6)
        assert d_inner[0] == pytest.approx(d_outer[0], abs=1e-6)


def test_code4_inverse_is_the_exact_inverse_of_its_system():
    """The constant inverse code 4 uses, against the system's inverse in exact rationals
    (Gauss-Jordan on Fractions, written here) and against the system itself."""
    from fractions import Fraction

    from hfx.likelihood.interpolation import _CODE4_INVERSE, code4_system

    system = code4_system()
    n = system.shape[0]
    rows = [[Fraction(int(v)) for v in row] + [Fraction(int(i == j)) for j in range(n)]
            for i, row in enumerate(system)]  # fmt: skip
    for col in range(n):
        pivot = next(r for r in range(col, n) if rows[r][col] != 0)
        rows[col], rows[pivot] = rows[pivot], rows[col]
        rows[col] = [v / rows[col][col] for v in rows[col]]
        for r in range(n):
            if r != col and rows[r][col] != 0:
                factor = rows[r][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[col], strict=True)]
    exact = np.array([[float(v) for v in row[n:]] for row in rows])
    assert np.array_equal(_CODE4_INVERSE, exact)
    assert np.array_equal(system @ _CODE4_INVERSE, np.eye(n))
