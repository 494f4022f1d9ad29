"""``autoMCStats``: Combine's bin-by-bin template statistics as HistFactory modifiers.

Combine (``CMSHistErrorPropagator::setupBinPars``) treats each bin of a channel in one of
two ways, decided at the nominal yields:

* ``n_eff = round((Σv)² / Σe²)`` over the background processes (all processes with
  include-signal 1) above the threshold: one Gaussian parameter x per bin that adds
  ``x·e_tot`` to the bin (Barlow-Beeston lite), ``e_tot`` the quadrature sum of the errors
  of *all* processes.  Here: a ``staterror`` named ``prop_bin<channel>`` carried by every
  process of the channel, with δ = the process's bin error.  HistFactory's γ scales the
  summed yield with σ_γ = e_tot/Σv, which is Combine's x·e_tot at the nominal yields
  (exactly), while away from them Combine scales each error with its own process
  normalisation and HistFactory scales the sum.
* otherwise one parameter per process with a non-zero error: a Poisson one (yield ×
  var/n, constraint Pois(n | var), n = round(v²/e²)) when n is at most the threshold, here a
  ``shapesys`` named ``prop_bin<channel>_<process>`` with δ = v/√n, so that τ = n exactly;
  else a Gaussian one adding x·e, here a ``staterror`` named
  ``prop_bin<channel>_<process>_gaus`` carried by that process alone (σ = e/v).

Bins with no error get no parameter (their modifier data are 0, which fixes them).  A
process with a zero yield and a non-zero error in a per-process bin (Combine adds x·e to
nothing) cannot be scaled in HistFactory: it is left out with a warning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hfx.interfaces.io.datacard.records import AutoMCStats, Datacard

__all__ = ["Sample", "add_auto_mc_stats"]


@dataclass
class Sample:
    """One process in one channel while the workspace is built."""

    name: str
    signal: bool
    data: np.ndarray
    errors: np.ndarray | None
    factor: float = 1.0  # raw template -> yields
    modifiers: list[dict[str, Any]] = field(default_factory=list)


def add_auto_mc_stats(
    card: Datacard,
    channel: str,
    flags: AutoMCStats,
    samples: list[Sample],
    scales: list[float] | None = None,
) -> list[str]:
    """Add the modifiers of ``autoMCStats`` in ``channel`` to ``samples``; the new names.

    ``scales``: each sample's normalisation at the initial parameter values (rateParam
    initial values), which Combine's choice between BB-lite and per-process bins uses.
    """
    if flags.threshold < 0 or not samples:
        return []
    nbins = len(samples[0].data)
    errors = [s.errors if s.errors is not None else np.zeros(nbins) for s in samples]
    lite_bins = np.zeros(nbins, dtype=bool)
    poisson = [np.zeros(nbins) for _ in samples]
    gauss = [np.zeros(nbins) for _ in samples]
    for j in range(nbins):
        use = [i for i, s in enumerate(samples) if flags.include_signal or not s.signal]
        c = scales if scales is not None else [1.0] * len(samples)
        sub_sum = sum(c[i] * float(samples[i].data[j]) for i in use)
        sub_err = math.sqrt(sum((c[i] * float(errors[i][j])) ** 2 for i in use))
        if sub_err <= 0:
            continue
        n_eff = math.floor(0.5 + sub_sum * sub_sum / (sub_err * sub_err))
        if n_eff > flags.threshold:
            lite_bins[j] = True
            continue
        for i, sample in enumerate(samples):
            v, e = float(sample.data[j]), float(errors[i][j])
            if e <= 0 or v < 0:
                continue
            if v > 0 and v >= 0.999 * e:
                n_p = math.floor(0.5 + v * v / (e * e))
                if n_p <= flags.threshold:
                    poisson[i][j] = v / math.sqrt(n_p)
                else:
                    gauss[i][j] = e
            elif v > 0:
                gauss[i][j] = e
            else:
                card.warn(
                    flags.line,
                    f"autoMCStats: process {sample.name!r} in channel {channel!r}, bin {j}, has "
                    f"no yield but an error of {e:g}; Combine adds x·error to it, which a "
                    "HistFactory modifier cannot: left out",
                )
    names = []
    lite = f"prop_bin{channel}"
    if lite_bins.any():
        names.append(lite)
        for i, sample in enumerate(samples):
            data = np.where(lite_bins, errors[i], 0.0)
            sample.modifiers.append({"name": lite, "type": "staterror", "data": data.tolist()})
    for i, sample in enumerate(samples):
        if poisson[i].any():
            name = f"prop_bin{channel}_{sample.name}"
            names.append(name)
            sample.modifiers.append({"name": name, "type": "shapesys", "data": poisson[i].tolist()})
        if gauss[i].any():
            name = f"prop_bin{channel}_{sample.name}_gaus"
            names.append(name)
            sample.modifiers.append({"name": name, "type": "staterror", "data": gauss[i].tolist()})
    return names
