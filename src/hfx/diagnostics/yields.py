"""Pre- and post-fit yields per channel, bin and sample, with their uncertainties.

The uncertainty of a yield y(θ) comes from the parameters' uncertainties σ and correlations ρ:

* ``"symmetrised"`` (default, cabinetry's and most ATLAS tools' propagation): each parameter
  is moved by ±σᵢ alone, δᵢ = (y(θ + σᵢ eᵢ) − y(θ − σᵢ eᵢ)) / 2, and
  Var y = Σᵢⱼ δᵢ ρᵢⱼ δⱼ.
* ``"linear"``: first-order propagation with the exact Jacobian, Var y = J C Jᵀ
  (C the covariance).  The two agree where y is linear in each parameter over ±σ.

Pre-fit, the parameters sit at their nominal values (the initial value of a free parameter,
0 for normsys/histosys, 1 for the other constrained ones) with their constraint widths as σ
and no correlations; post-fit, at the best fit with its Hessian covariance.  Totals (over the
samples of a channel, and over the bins of a channel) are propagated as yields of their own,
so their uncertainties include every correlation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hfx.compile.parameters import CONSTRAINT_NONE
from hfx.diagnostics.ranking import prefit_widths
from hfx.errors import HfxError
from hfx.infer._common import as_numpy
from hfx.optimize import FitResult, fit

__all__ = ["ChannelYields", "YieldsResult", "prefit_parameters", "yields"]

METHODS = ("symmetrised", "linear")


@dataclass(frozen=True)
class ChannelYields:
    """One channel: expected counts per sample and bin, their totals and uncertainties.

    ``samples`` lists the samples the channel holds (in the model's sorted order).
    ``yields`` [nsamples, nbins]; ``total`` [nbins]; ``stdev`` [nsamples, nbins] and
    ``total_stdev`` [nbins]; the channel sums ``sample_sums`` / ``sum_stdev`` [nsamples]
    and ``total_sum`` / ``total_sum_stdev``; ``data`` [nbins] the observed counts.
    """

    name: str
    samples: tuple[str, ...]
    yields: np.ndarray
    stdev: np.ndarray
    total: np.ndarray
    total_stdev: np.ndarray
    sample_sums: np.ndarray
    sum_stdev: np.ndarray
    total_sum: float
    total_sum_stdev: float
    data: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "samples": [
                {
                    "name": name,
                    "yields": self.yields[k].tolist(),
                    "stdev": self.stdev[k].tolist(),
                    "sum": float(self.sample_sums[k]),
                    "sum_stdev": float(self.sum_stdev[k]),
                }
                for k, name in enumerate(self.samples)
            ],
            "total": {
                "yields": self.total.tolist(),
                "stdev": self.total_stdev.tolist(),
                "sum": self.total_sum,
                "sum_stdev": self.total_sum_stdev,
            },
            "data": {"yields": self.data.tolist(), "sum": float(self.data.sum())},
        }


@dataclass(frozen=True)
class YieldsResult:
    """Yields of every channel, pre- or post-fit, and how their uncertainties were made."""

    postfit: bool
    method: str
    channels: tuple[ChannelYields, ...]

    def channel(self, name: str) -> ChannelYields:
        for channel in self.channels:
            if channel.name == name:
                return channel
        known = ", ".join(c.name for c in self.channels)
        raise HfxError(f"no channel named {name!r} (the model has {known})")

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python (JSON-serialisable) view."""
        return {
            "postfit": self.postfit,
            "method": self.method,
            "channels": [channel.to_dict() for channel in self.channels],
        }


def prefit_parameters(model: Any) -> np.ndarray:
    """Nominal parameter values [npars]: a free parameter's initial value, 0 for normsys and
    histosys, 1 for the other constrained parameters (staterror, shapesys, lumi)."""
    cfg = model.config
    values: np.ndarray = np.array(cfg.suggested_init(), dtype=float)
    for name in cfg.parameters:
        spec = cfg.param_set(name)
        if spec.constraint == CONSTRAINT_NONE:
            continue
        values[spec.slice] = 0.0 if spec.kind in ("normsys", "histosys") else 1.0
    return values


def _blocks(model: Any) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per channel: its bin indices and the indices of the samples it holds."""
    cfg, layout = model.config, model.config.layout
    present = np.zeros((len(cfg.samples), cfg.nmaindata), dtype=bool)
    arrays = model.arrays
    present[arrays.entry_sample, arrays.entry_bin] = True
    bins, samples = [], []
    for channel in cfg.channels:
        sl = layout.channel_slices[channel]
        bins.append(np.arange(sl.start, sl.stop))
        samples.append(np.flatnonzero(present[:, sl].any(axis=1)))
    return bins, samples


def _components(model: Any, by_sample: np.ndarray) -> np.ndarray:
    """[..., nsamples, nbins] → the quantities whose uncertainties are wanted:
    [..., nsamples + 1, nbins + nchannels] (last sample: the total; last bins: channel sums)."""
    total = by_sample.sum(axis=-2, keepdims=True)
    rows = np.concatenate([by_sample, total], axis=-2)
    sums = [
        rows[..., sl.start : sl.stop].sum(axis=-1, keepdims=True)
        for sl in (model.config.channel_slices[c] for c in model.config.channels)
    ]
    return np.concatenate([rows, *sums], axis=-1)


def _symmetrised(
    model: Any, values: np.ndarray, sigma: np.ndarray, corr: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    npars = values.size
    varied = np.flatnonzero(sigma > 0)
    rows = np.repeat(values[None, :], 2 * varied.size + 1, axis=0)
    rows[1 + 2 * np.arange(varied.size), varied] += sigma[varied]
    rows[2 + 2 * np.arange(varied.size), varied] -= sigma[varied]
    comps = _components(model, as_numpy(model.expected_by_sample(rows)))
    delta = np.zeros((npars, *comps.shape[1:]))
    delta[varied] = 0.5 * (comps[1::2] - comps[2::2])
    var = np.einsum("i...,ij,j...->...", delta, corr, delta, optimize=True)
    return comps[0], np.sqrt(np.maximum(var, 0.0))


def _linear(model: Any, values: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    by_sample, jac = model.expected_by_sample_and_jacobian(values)
    comps = _components(model, as_numpy(by_sample))
    # the components are linear in the per-sample yields: sum the Jacobian the same way
    jac = np.moveaxis(as_numpy(jac), -1, 0)  # [npars, nsamples, nbins]
    jcomp = _components(model, jac)
    var = np.einsum("i...,ij,j...->...", jcomp, cov, jcomp, optimize=True)
    return comps, np.sqrt(np.maximum(var, 0.0))


def yields(
    model: Any,
    data: Any,
    *,
    postfit: bool = False,
    method: str = "symmetrised",
    fit_result: FitResult | None = None,
    engine: str = "auto",
) -> YieldsResult:
    """Expected yields per channel, sample and bin, with uncertainties, and the data.

    Post-fit (``postfit=True``) uses ``fit_result`` (an unconditional fit with uncertainties;
    made here when not given).  ``method`` is ``"symmetrised"`` or ``"linear"`` (see the
    module's notes).
    """
    if method not in METHODS:
        raise HfxError(f"unknown yield uncertainty method {method!r}; use one of {METHODS}")
    data = as_numpy(data)
    cfg = model.config
    if postfit:
        if fit_result is None:
            fit_result = fit(model, data, uncertainties=True, engine=engine)
        values = np.asarray(fit_result.bestfit, dtype=float)
        sigma = np.asarray(fit_result.uncertainties, dtype=float)
        cov = np.asarray(fit_result.covariance, dtype=float)
        corr = np.asarray(fit_result.correlation, dtype=float)
    else:
        values = prefit_parameters(model)
        sigma = prefit_widths(model)
        cov = np.diag(sigma**2)
        corr = np.eye(cfg.npars)
    if method == "symmetrised":
        comps, stdev = _symmetrised(model, values, sigma, corr)
    else:
        comps, stdev = _linear(model, values, cov)
    nb, ns = cfg.nmaindata, len(cfg.samples)
    observed = data[:nb]
    channels = []
    for c, (name, bins, present) in enumerate(zip(cfg.channels, *_blocks(model), strict=True)):
        channels.append(
            ChannelYields(
                name=name,
                samples=tuple(cfg.samples[k] for k in present),
                yields=comps[present][:, bins],
                stdev=stdev[present][:, bins],
                total=comps[ns, bins],
                total_stdev=stdev[ns, bins],
                sample_sums=comps[present, nb + c],
                sum_stdev=stdev[present, nb + c],
                total_sum=float(comps[ns, nb + c]),
                total_sum_stdev=float(stdev[ns, nb + c]),
                data=np.asarray(observed[bins], dtype=float),
            )
        )
    return YieldsResult(postfit=postfit, method=method, channels=tuple(channels))
