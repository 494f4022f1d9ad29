"""pyhf's ``hypotest``: one hypothesis test with pyhf's return values."""

from __future__ import annotations

from typing import Any

from hfx.compat.pyhf.infer import utils
from hfx.compat.pyhf.infer._common import _empty, poi_index, scalar
from hfx.errors import ModelError
from hfx.infer.hypotest import check_poi_in_bounds
from hfx.infer.teststats import test_statistic

__all__ = ["check_prerequisites", "hypotest", "run_test"]


def check_prerequisites(pdf: Any, fixed_params: Any) -> None:
    """The model must have a POI and it must float (pyhf's messages)."""
    idx = poi_index(pdf, "to run a hypothesis test")
    fixed = pdf.config.suggested_fixed() if _empty(fixed_params) else fixed_params
    if fixed[idx]:
        raise ModelError(
            f"POI at index [{idx}] is set as fixed, which makes profile likelihood ratio based "
            "inference impossible. Please unfix the POI to continue."
        )


def run_test(
    calc: Any,
    poi_test: float,
    test_stat: str,
    return_tail_probs: bool = False,
    return_expected: bool = False,
    return_expected_set: bool = False,
) -> list[Any]:
    """One hypothesis test with an existing calculator: pyhf's return values, as a list.

    A ``poi_test`` outside the POI bounds raises a ValueError, as pyhf's fits do.
    """
    check_poi_in_bounds(calc, [poi_test])
    teststat = calc.teststatistic(poi_test)
    sb_dist, b_dist = calc.distributions(poi_test)
    clsb, clb, cls = calc.pvalues(teststat, sb_dist, b_dist)
    clsb_exp, _, cls_exp = calc.expected_pvalues(sb_dist, b_dist)
    discovery = test_statistic(test_stat).discovery
    out: list[Any] = [clsb if discovery else cls]
    if return_tail_probs:
        out.append([clb] if discovery else [clsb, clb])
    band = [scalar(p) for p in (clsb_exp if discovery else cls_exp)]
    if return_expected:
        out.append(band[2])
    if return_expected_set:
        out.append(band)
    return out


def hypotest(
    poi_test: float,
    data: Any,
    pdf: Any,
    init_pars: Any = None,
    par_bounds: Any = None,
    fixed_params: Any = None,
    calctype: str = "asymptotics",
    return_tail_probs: bool = False,
    return_expected: bool = False,
    return_expected_set: bool = False,
    return_calculator: bool = False,
    **kwargs: Any,
) -> Any:
    """CLs (p₀ for ``test_stat="q0"``) at ``poi_test``, plus what the ``return_*`` flags ask.

    Returns in pyhf's order: the observed value; ``[CLs+b, CLb]`` (``[CLb]`` for q0);
    the median expected value; the expected set (five values, −2σ … +2σ edge); the
    calculator.  A single item is returned bare, several as a tuple.  ``kwargs`` go to the
    calculator: ``test_stat`` ("qtilde", "q", "q0"), ``calc_base_dist`` (asymptotics),
    ``ntoys``, ``track_progress`` and ``seed`` (toys), ``optimizer``.
    """
    check_prerequisites(pdf, fixed_params)
    calc = utils.create_calculator(
        calctype, data, pdf, init_pars, par_bounds, fixed_params, **kwargs
    )
    out = run_test(
        calc,
        poi_test,
        kwargs.get("test_stat", "qtilde"),
        return_tail_probs,
        return_expected,
        return_expected_set,
    )
    if return_calculator:
        out.append(calc)
    return tuple(out) if len(out) > 1 else out[0]
