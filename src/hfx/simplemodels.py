"""Ready-made one-channel models: a signal on top of a background with an uncertainty.

The specs are the ones pyhf's ``simplemodels`` build (same channel, sample, modifier and
POI names), so parameter order, auxiliary data and likelihood values agree with pyhf.

- :func:`uncorrelated_background`: the background has an independent uncertainty in each
  bin (a ``shapesys``, one Poisson-constrained γ per bin).
- :func:`correlated_background`: the background moves coherently between given up and
  down templates (one ``histosys``, a single Gaussian-constrained α).

Each exists as a model spec (``*_spec``), a workspace (``*_workspace``) and a compiled
model. :func:`model_workspace` turns any bare model spec into a workspace.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hfx.errors import ModelError

if TYPE_CHECKING:
    from hfx.likelihood.model import Model
    from hfx.spec.workspace import Workspace

__all__ = [
    "correlated_background",
    "correlated_background_spec",
    "correlated_background_workspace",
    "model_workspace",
    "uncorrelated_background",
    "uncorrelated_background_spec",
    "uncorrelated_background_workspace",
]

POI_NAME = "mu"
MEASUREMENT_NAME = "measurement"
SCHEMA_VERSION = "1.0.0"


def _numbers(values: Sequence[float], what: str) -> list[float]:
    try:
        return [float(v) for v in values]
    except (TypeError, ValueError):
        raise ModelError(f"{what} must be a sequence of numbers, got {values!r}") from None


def _same_length(**named: list[float]) -> int:
    sizes = {name: len(values) for name, values in named.items()}
    if len(set(sizes.values())) != 1:
        listed = ", ".join(f"{name} has {n}" for name, n in sizes.items())
        raise ModelError(f"the inputs must have one value per bin: {listed}")
    nbins = next(iter(sizes.values()))
    if nbins == 0:
        raise ModelError("the inputs must have at least one bin")
    return nbins


def _signal_sample(signal: list[float]) -> dict[str, Any]:
    return {
        "name": "signal",
        "data": signal,
        "modifiers": [{"name": POI_NAME, "type": "normfactor", "data": None}],
    }


def uncorrelated_background_spec(
    signal: Sequence[float], bkg: Sequence[float], bkg_uncertainty: Sequence[float]
) -> dict[str, Any]:
    """Model spec: channel ``singlechannel``; ``signal`` × ``mu``; ``background`` with shapesys
    ``uncorr_bkguncrt`` (absolute per-bin uncertainties ``bkg_uncertainty``)."""
    sig = _numbers(signal, "signal")
    bkg_ = _numbers(bkg, "bkg")
    unc = _numbers(bkg_uncertainty, "bkg_uncertainty")
    _same_length(signal=sig, bkg=bkg_, bkg_uncertainty=unc)
    background = {
        "name": "background",
        "data": bkg_,
        "modifiers": [{"name": "uncorr_bkguncrt", "type": "shapesys", "data": unc}],
    }
    return {"channels": [{"name": "singlechannel", "samples": [_signal_sample(sig), background]}]}


def correlated_background_spec(
    signal: Sequence[float],
    bkg: Sequence[float],
    bkg_up: Sequence[float],
    bkg_down: Sequence[float],
) -> dict[str, Any]:
    """Model spec: channel ``single_channel``; ``signal`` × ``mu``; ``background`` with histosys
    ``correlated_bkg_uncertainty`` (``bkg_up`` at α=+1, ``bkg_down`` at α=−1)."""
    sig = _numbers(signal, "signal")
    bkg_ = _numbers(bkg, "bkg")
    up = _numbers(bkg_up, "bkg_up")
    down = _numbers(bkg_down, "bkg_down")
    _same_length(signal=sig, bkg=bkg_, bkg_up=up, bkg_down=down)
    background = {
        "name": "background",
        "data": bkg_,
        "modifiers": [
            {
                "name": "correlated_bkg_uncertainty",
                "type": "histosys",
                "data": {"hi_data": up, "lo_data": down},
            }
        ],
    }
    return {"channels": [{"name": "single_channel", "samples": [_signal_sample(sig), background]}]}


def model_workspace(
    spec: Mapping[str, Any],
    *,
    observations: Mapping[str, Sequence[float]] | Sequence[float] | None = None,
    poi_name: str | None = POI_NAME,
    measurement_name: str = MEASUREMENT_NAME,
    validate: bool = True,
) -> Workspace:
    """A workspace holding a bare model spec (``channels`` + optional ``parameters``).

    ``observations`` is either ``{channel: counts}`` or one flat list in sorted channel
    order; without it every channel observes zeros (enough to build a model).  The single
    measurement carries the spec's parameter settings and ``poi_name`` (``""`` for None).
    """
    from hfx.spec.workspace import Workspace

    channels = list(spec["channels"])
    nbins = {c["name"]: len(c["samples"][0]["data"]) for c in channels}
    if observations is None:
        observed = {name: [0.0] * n for name, n in nbins.items()}
    elif isinstance(observations, Mapping):
        observed = {name: [float(v) for v in observations[name]] for name in nbins}
    else:
        flat = [float(v) for v in observations]
        if len(flat) != sum(nbins.values()):
            raise ModelError(
                f"observations has {len(flat)} values, the channels have {sum(nbins.values())} bins"
            )
        observed, start = {}, 0
        for name in sorted(nbins):
            observed[name] = flat[start : start + nbins[name]]
            start += nbins[name]
    document = {
        "channels": channels,
        "observations": [{"name": name, "data": observed[name]} for name in nbins],
        "measurements": [
            {
                "name": measurement_name,
                "config": {"poi": poi_name or "", "parameters": list(spec.get("parameters", []))},
            }
        ],
        "version": SCHEMA_VERSION,
    }
    return Workspace(document, validate=validate)


def uncorrelated_background_workspace(
    signal: Sequence[float],
    bkg: Sequence[float],
    bkg_uncertainty: Sequence[float],
    *,
    observations: Sequence[float] | None = None,
) -> Workspace:
    """:func:`uncorrelated_background_spec` as a workspace (observed counts default to 0)."""
    spec = uncorrelated_background_spec(signal, bkg, bkg_uncertainty)
    return model_workspace(spec, observations=observations)


def correlated_background_workspace(
    signal: Sequence[float],
    bkg: Sequence[float],
    bkg_up: Sequence[float],
    bkg_down: Sequence[float],
    *,
    observations: Sequence[float] | None = None,
) -> Workspace:
    """:func:`correlated_background_spec` as a workspace (observed counts default to 0)."""
    spec = correlated_background_spec(signal, bkg, bkg_up, bkg_down)
    return model_workspace(spec, observations=observations)


def uncorrelated_background(
    signal: Sequence[float],
    bkg: Sequence[float],
    bkg_uncertainty: Sequence[float],
    *,
    backend: Any = "numpy",
) -> Model:
    """Signal (× ``mu``) plus a background with uncorrelated per-bin uncertainties.

    Parameters are ``mu`` then ``uncorr_bkguncrt`` (one γ per bin); the auxiliary data are
    τ_b = (bkg_b / bkg_uncertainty_b)².
    """
    return uncorrelated_background_workspace(signal, bkg, bkg_uncertainty).model(backend=backend)


def correlated_background(
    signal: Sequence[float],
    bkg: Sequence[float],
    bkg_up: Sequence[float],
    bkg_down: Sequence[float],
    *,
    backend: Any = "numpy",
) -> Model:
    """Signal (× ``mu``) plus a background with one correlated shape uncertainty.

    Parameters are ``correlated_bkg_uncertainty`` (α, Gaussian aux 0) then ``mu``.
    """
    return correlated_background_workspace(signal, bkg, bkg_up, bkg_down).model(backend=backend)
