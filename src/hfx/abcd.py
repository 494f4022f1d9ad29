"""ABCD background estimates as ordinary HistFactory workspaces (the abcd-pyhf method).

Four single-bin regions: the signal region ``A`` and three control regions ``B``, ``C``,
``D``, where ``A``/``B`` and ``C``/``D`` differ in one variable and ``A``/``C`` and
``B``/``D`` in the other.  If the two variables are independent for the background,
``b_A · b_D = b_B · b_C``.  That tie is a product of normfactors, as in abcd-pyhf::

    b_A = mu_b        b_B = mu_b · tau_B
    b_C = mu_b · tau_C        b_D = mu_b · tau_B · tau_C

so ``mu_b`` *is* the signal-region background: a background-only fit to the blinded
control regions gives ``mu_b = N_B · N_C / N_D``.  Optional pieces:

- a signal (``mu`` × its yields) in ``A`` and, as contamination, in ``B``, ``C``, ``D``,
  with an optional normsys ``signal_uncertainty`` shared by all regions;
- a closure (non-closure) systematic: normsys ``closure_uncertainty`` on ``A``'s background.

Without ``A`` in ``observed`` the workspace is blinded (channels ``B``, ``C``, ``D`` only).
Inits and bounds follow abcd-pyhf (``mu_b`` starts at ``N_B N_C / N_D``; ``tau_B``,
``tau_C`` at their closed forms, bounded by five times that), so CLs and limits agree with it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hfx.errors import ModelError
from hfx.simplemodels import model_workspace

if TYPE_CHECKING:
    from hfx.spec.workspace import Workspace

__all__ = ["REGIONS", "abcd_spec", "abcd_workspace"]

#: The signal region first, then the control regions.
REGIONS = ("A", "B", "C", "D")
POI_NAME = "mu"
BKG_NORM = "mu_b"
TAU_B = "tau_B"
TAU_C = "tau_C"
SIGNAL_UNCERTAINTY = "signal_uncertainty"
CLOSURE_UNCERTAINTY = "closure_uncertainty"

Uncertainty = float | tuple[float, float]


def _count(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ModelError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(number) or number < 0.0:
        raise ModelError(f"{what} must be a finite number ≥ 0, got {value!r}")
    return number


def _observed(observed: Mapping[str, Any]) -> dict[str, float]:
    if not isinstance(observed, Mapping):
        raise ModelError(f"observed must map regions A–D to counts, got {observed!r}")
    unknown = sorted(set(observed) - set(REGIONS))
    if unknown:
        raise ModelError(f"unknown region(s) {', '.join(map(repr, unknown))}; regions are A–D")
    missing = [r for r in REGIONS[1:] if r not in observed]
    if missing:
        raise ModelError(f"observed needs the control regions B, C, D; missing {missing}")
    counts = {r: _count(observed[r], f"observed[{r!r}]") for r in REGIONS if r in observed}
    empty = [r for r in REGIONS[1:] if counts[r] <= 0.0]
    if empty:
        raise ModelError(f"the ABCD estimate needs events in B, C and D; none in {empty}")
    return counts


def _signal(signal: Mapping[str, Any] | float | None) -> dict[str, float] | None:
    if signal is None:
        return None
    if not isinstance(signal, Mapping):
        return {"A": _count(signal, "signal"), "B": 0.0, "C": 0.0, "D": 0.0}
    unknown = sorted(set(signal) - set(REGIONS))
    if unknown:
        raise ModelError(f"unknown signal region(s) {', '.join(map(repr, unknown))}")
    yields = {r: _count(signal.get(r, 0.0), f"signal[{r!r}]") for r in REGIONS}
    if yields["A"] <= 0.0:
        raise ModelError("the signal must have a yield > 0 in the signal region A")
    return yields


def _normsys(name: str, uncertainty: Uncertainty, what: str) -> dict[str, Any] | None:
    """A normsys for a relative uncertainty (symmetric, or ``(down, up)``); None if zero."""
    pair = uncertainty if isinstance(uncertainty, tuple) else (uncertainty, uncertainty)
    if len(pair) != 2:
        raise ModelError(f"{what} must be a number or a (down, up) pair, got {uncertainty!r}")
    down, up = (_count(v, what) for v in pair)
    if down >= 1.0:
        raise ModelError(f"{what}: a downward relative uncertainty must be < 1, got {down}")
    if down == 0.0 and up == 0.0:
        return None
    return {"name": name, "type": "normsys", "data": {"hi": 1.0 + up, "lo": 1.0 - down}}


def _normfactor(name: str) -> dict[str, Any]:
    return {"name": name, "type": "normfactor", "data": None}


def abcd_spec(
    observed: Mapping[str, float],
    *,
    signal: Mapping[str, float] | float | None = None,
    signal_uncertainty: Uncertainty = 0.0,
    closure_uncertainty: Uncertainty = 0.0,
) -> dict[str, Any]:
    """The model spec (``channels`` + ``parameters``) of an ABCD plane; see the module doc.

    ``observed`` maps regions to counts (``B``, ``C``, ``D`` required; no ``A``: blinded).
    ``signal`` is the yield in ``A`` or a ``{region: yield}`` mapping (missing regions: no
    contamination); ``mu`` multiplies it.  Uncertainties are relative (0.1 = 10 %), a number
    or a ``(down, up)`` pair.
    """
    counts = _observed(observed)
    sig = _signal(signal)
    blinded = "A" not in counts
    n_b, n_c, n_d = counts["B"], counts["C"], counts["D"]
    estimate = n_b * n_c / n_d
    # abcd-pyhf's bounds: the background norm up to 5σ above the larger of N_A and the estimate
    if not blinded and counts["A"] > estimate:
        norm_max = counts["A"] + 5.0 * math.sqrt(counts["A"])
    else:
        norm_max = max(estimate + 5.0 * math.sqrt(estimate), 10.0)
    tau_b, tau_c = n_d / n_c, n_d / n_b

    closure = _normsys(CLOSURE_UNCERTAINTY, closure_uncertainty, "closure_uncertainty")
    bkg_modifiers = {
        "A": [_normfactor(BKG_NORM), *([closure] if closure else [])],
        "B": [_normfactor(BKG_NORM), _normfactor(TAU_B)],
        "C": [_normfactor(BKG_NORM), _normfactor(TAU_C)],
        "D": [_normfactor(BKG_NORM), _normfactor(TAU_B), _normfactor(TAU_C)],
    }
    sig_modifiers = [_normfactor(POI_NAME)]
    sig_sys = _normsys(SIGNAL_UNCERTAINTY, signal_uncertainty, "signal_uncertainty")
    if sig_sys is not None:
        sig_modifiers.append(sig_sys)

    channels = []
    for region in REGIONS[1:] if blinded else REGIONS:
        samples: list[dict[str, Any]] = []
        if sig is not None:
            samples.append({"name": "signal", "data": [sig[region]], "modifiers": sig_modifiers})
        samples.append({"name": "background", "data": [1.0], "modifiers": bkg_modifiers[region]})
        channels.append({"name": region, "samples": samples})

    parameters: list[dict[str, Any]] = [
        {"name": BKG_NORM, "inits": [estimate], "bounds": [[0.0, norm_max]]},
        {"name": TAU_B, "inits": [tau_b], "bounds": [[0.0, 5.0 * tau_b]]},
        {"name": TAU_C, "inits": [tau_c], "bounds": [[0.0, 5.0 * tau_c]]},
    ]
    if sig is not None:
        # abcd-pyhf: signal events in A up to the background norm's bound (rounded up)
        poi_max = math.ceil(norm_max) / sig["A"]
        parameters.append({"name": POI_NAME, "inits": [0.0], "bounds": [[0.0, poi_max]]})
    return {"channels": channels, "parameters": parameters}


def abcd_workspace(
    observed: Mapping[str, float],
    *,
    signal: Mapping[str, float] | float | None = None,
    signal_uncertainty: Uncertainty = 0.0,
    closure_uncertainty: Uncertainty = 0.0,
) -> Workspace:
    """An ABCD plane as a workspace (arguments as :func:`abcd_spec`).

    Its measurement's POI is ``mu`` when there is a signal, else ``mu_b`` (the signal-region
    background, so that ``fit(...).value("mu_b")`` is the ABCD estimate either way).
    """
    spec = abcd_spec(
        observed,
        signal=signal,
        signal_uncertainty=signal_uncertainty,
        closure_uncertainty=closure_uncertainty,
    )
    counts = _observed(observed)
    observations = {c["name"]: [counts[c["name"]]] for c in spec["channels"]}
    poi = POI_NAME if signal is not None else BKG_NORM
    return model_workspace(spec, observations=observations, poi_name=poi)
