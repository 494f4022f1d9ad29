"""A parsed datacard (+ its templates) -> HistFactory JSON workspace dict.

The mapping, parameter by parameter (see the package docstring for the interpolation
codes that make it Combine's model):

* signal processes (index <= 0): ``normfactor`` ``r`` (init 1, bounds [0, 20], Combine's
  default physics model); ``rateParam``: ``normfactor`` (init and range from the line);
* ``lnN`` κ: ``normsys`` hi = κ, lo = 1/κ; ``lnN`` κ_down/κ_up: hi = κ_up, lo = κ_down;
* ``shape``: ``histosys`` on templates scaled to the nominal integral, plus a ``normsys``
  with κ = integral ratios (dropped when both are within 1e-3 of 1, as Combine does); a
  scale s != 1 becomes the parameter θ' = sθ with a Gaussian constraint of width s;
* ``shape?``: as ``shape`` where the Up template exists, as ``lnN`` elsewhere;
* ``gmN N`` with α: the yield αN with a ``shapesys`` of δ = α√N, so τ = N: Pois(N | γN)
  is Combine's Pois(N | n) with n = γN;
* ``param`` on a rateParam: a ``lumi`` modifier (Gaussian-constrained factor);
* ``autoMCStats``: see :mod:`hfx.interfaces.io.datacard.stats`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hfx.interfaces.io.datacard.records import Column, Datacard, Nuisance
from hfx.interfaces.io.datacard.shapes import Template, TemplateReader
from hfx.interfaces.io.datacard.stats import Sample, add_auto_mc_stats

__all__ = ["POI", "build_spec"]

POI = "r"
_POI_BOUNDS = (0.0, 20.0)  # Combine's default physics model: r[1,0,20]
_UNBOUNDED_SCALE = 100.0  # a rateParam without range: [0, 100·init] (Combine: no range)


def build_spec(card: Datacard, reader: TemplateReader, measurement: str) -> dict[str, Any]:
    """The workspace dict of ``card``; ``measurement`` names its one measurement."""
    return _Builder(card, reader).build(measurement)


class _Builder:
    def __init__(self, card: Datacard, reader: TemplateReader):
        self.card = card
        self.reader = reader
        self.configs: dict[str, dict[str, Any]] = {}
        self.scales: dict[str, float] = {}  # nuisance -> s of its template entries
        self._pending_lognormal: list[tuple[str, dict[str, Any]]] = []
        self.rate_param_names = {rp.name for rp in card.rate_params}
        self.constrained_rates = {name for name in card.params if name in self.rate_param_names}
        self.used: set[str] = set()
        self.warned_counting: set[str] = set()

    # --- top level ---------------------------------------------------------------------
    def build(self, measurement: str) -> dict[str, Any]:
        card = self.card
        self._check_names()
        self._check_gmn()
        channels, observations = [], []
        for b in card.bins:
            columns = [c for c in card.columns if c.bin == b]
            samples, observed = self._channel(b, columns)
            channels.append(
                {
                    "name": b,
                    "samples": [
                        {"name": s.name, "data": s.data.tolist(), "modifiers": s.modifiers}
                        for s in samples
                    ],
                }
            )
            observations.append({"name": b, "data": observed})
        for name, mod in self._pending_lognormal:  # κ^θ = (κ^(1/s))^θ' with θ' = sθ
            s = self.scales.get(name, 1.0)
            if s != 1:
                mod["data"] = {key: value ** (1 / s) for key, value in mod["data"].items()}
        if not any(c.signal and c.rate != 0 for c in card.columns):
            card.warn(card.rate_line, "no signal process (index <= 0): POI 'r' affects nothing")
        else:
            self.configs[POI] = {"name": POI, "inits": [1.0], "bounds": [list(_POI_BOUNDS)]}
        self._rate_param_configs()
        self._param_configs()
        for name in card.flat_params:
            if name not in self.rate_param_names:
                card.warn(
                    card.flat_params[name],
                    f"flatParam {name}: no rateParam of that name; ignored (it changes "
                    "nothing in Combine's likelihood either)",
                )
        parameters = [self.configs[name] for name in sorted(self.configs) if name in self.used]
        return {
            "channels": channels,
            "observations": observations,
            "measurements": [
                {"name": measurement, "config": {"poi": POI, "parameters": parameters}}
            ],
            "version": "1.0.0",
        }

    def _check_names(self) -> None:
        card = self.card
        for name, nuis in card.nuisances.items():
            if name == POI:
                raise card.fail(nuis.line, "a nuisance named 'r' would be the POI")
            if name in self.rate_param_names:
                raise card.fail(nuis.line, f"{name} is both a {nuis.kind} nuisance and a rateParam")
        for rp in card.rate_params:
            if rp.name == POI:
                raise card.fail(rp.line, "a rateParam named 'r' would be the POI")

    def _check_gmn(self) -> None:
        card = self.card
        rates = {(c.bin, c.process): c.rate for c in card.columns}
        for nuis in card.nuisances.values():
            if nuis.kind != "gmN":
                continue
            assert nuis.gmn is not None
            if nuis.gmn == 0:
                raise card.fail(
                    nuis.line,
                    f"gmN {nuis.name} with N = 0 (yield α·n with the constraint exp(-n)) "
                    "cannot be represented in the HistFactory JSON spec",
                )
            if len(nuis.effects) > 1:
                raise card.fail(
                    nuis.line,
                    f"gmN {nuis.name} scales {len(nuis.effects)} (bin, process) columns with "
                    "one Poisson-constrained parameter, which the HistFactory JSON spec "
                    "cannot express (a shapesys parameter belongs to one sample)",
                )
            ((key, alpha),) = nuis.effects.items()
            assert isinstance(alpha, float)
            rate = rates[key]
            if abs(alpha * nuis.gmn - rate) > max(0.05 * max(rate, 1.0), alpha):
                raise card.fail(
                    nuis.line,
                    f"gmN {nuis.name}: N = {nuis.gmn} and α = {alpha:g} do not give the rate "
                    f"{rate:g} of process {key[1]!r} in bin {key[0]!r}",
                )

    # --- channels --------------------------------------------------------------------
    def _channel(self, b: str, columns: list[Column]) -> tuple[list[Sample], list[float]]:
        card, reader = self.card, self.reader
        live = [c for c in columns if c.rate != 0]
        if not live:
            raise card.fail(card.rate_line, f"bin {b!r} has no process with a non-zero rate")
        counting = [reader.is_counting(b, c.process) for c in live]
        if any(counting) != all(counting):
            raise card.fail(
                None, f"bin {b!r} mixes FAKE (counting) and template processes in 'shapes' lines"
            )
        flags = card.auto_mc_stats.get(b)
        if counting[0]:
            observed = self._counting_observation(b)
            samples = [self._counting_sample(c) for c in live]
            if flags is not None:
                card.warn(flags.line, f"autoMCStats has no effect on the counting bin {b!r}")
                flags = None
        else:
            observed = self._template_observation(b)
            samples = [self._template_sample(c, len(observed)) for c in live]
        for column, sample in zip(live, samples, strict=True):
            self._modifiers(column, sample, counting=counting[0])
        if flags is not None:
            scales = [self._initial_scale(b, c.process) for c in live]
            self.used.update(add_auto_mc_stats(card, b, flags, samples, scales))
        return samples, observed

    def _initial_scale(self, b: str, process: str) -> float:
        """The product of the initial values of the rateParams of (b, process)."""
        scale, seen = 1.0, set()
        for rp in self.card.rate_params:
            if (rp.bin, rp.process) == (b, process) and rp.name not in seen:
                seen.add(rp.name)
                param = self.card.params.get(rp.name)
                first = next(x for x in self.card.rate_params if x.name == rp.name)
                scale *= param.mean if param is not None else first.init
        return scale

    def _counting_observation(self, b: str) -> list[float]:
        card = self.card
        if card.observation is None:
            raise card.fail(None, "no 'observation' line: the workspace needs observed data")
        value = card.observation[b]
        if value < 0:
            raise card.fail(
                card.observation_line, f"observation {value:g} in the counting bin {b!r}"
            )
        return [value]

    def _template_observation(self, b: str) -> list[float]:
        card = self.card
        hist = self.reader.nominal(b, "data_obs")
        total = hist.integral
        text = None if card.observation is None else card.observation[b]
        mismatch = (text == 0 and total > 0.01) or (
            text is not None and text > 0 and abs(total / text - 1) > 0.005
        )
        if mismatch:
            raise card.fail(
                card.observation_line,
                f"observation {text:g} in bin {b!r}, but histogram {hist.name!r} holds "
                f"{total:g} events",
            )
        return [float(x) for x in hist.values]

    def _counting_sample(self, column: Column) -> Sample:
        if column.rate < 0:
            raise self.card.fail(
                self.card.rate_line,
                f"rate {column.rate:g} of process {column.process!r} in the counting bin "
                f"{column.bin!r}: a counting rate must be positive (-1 needs a template)",
            )
        data = np.array([column.rate])
        nuis = self._gmn_of(column)
        if nuis is not None:
            alpha = nuis.effects[(column.bin, column.process)]
            assert isinstance(alpha, float) and nuis.gmn is not None
            data = np.array([alpha * nuis.gmn])  # Combine's yield is α·n, n ~ N
        return Sample(column.process, column.signal, data, None)

    def _template_sample(self, column: Column, nbins: int) -> Sample:
        card = self.card
        b, p = column.bin, column.process
        hist = self.reader.nominal(b, p)
        if len(hist.values) != nbins:
            raise card.fail(
                self.reader.entry(b, p).line,
                f"histogram {hist.name!r} has {len(hist.values)} bins, the data in bin {b!r} "
                f"have {nbins}",
            )
        total = hist.integral
        rate = column.rate
        if rate == -1:
            rate = total
        elif rate > 0 and abs(total - rate) > 0.01 * max(1.0, rate):
            raise card.fail(
                card.rate_line,
                f"rate {rate:g} of process {p!r} in bin {b!r}, but its histogram "
                f"{hist.name!r} holds {total:g}",
            )
        if total <= 0:
            raise card.fail(
                self.reader.entry(b, p).line,
                f"histogram {hist.name!r} of process {p!r} in bin {b!r} has integral {total:g}",
            )
        # With autoMCStats Combine uses the template as it is; else rate × template/integral.
        factor = 1.0 if b in card.auto_mc_stats else rate / total
        nuis = self._gmn_of(column)
        if nuis is not None:
            if nbins != 1:
                raise card.fail(
                    nuis.line,
                    f"gmN {nuis.name} scales the {nbins}-bin template of process {p!r} in bin "
                    f"{b!r} with one Poisson-constrained parameter; a shapesys has one per bin",
                )
            alpha = nuis.effects[(b, p)]
            assert isinstance(alpha, float) and nuis.gmn is not None
            factor = alpha * nuis.gmn / total  # Combine's yield is α·n, n ~ N
        return Sample(p, column.signal, hist.values * factor, hist.errors * factor, factor)

    def _gmn_of(self, column: Column) -> Nuisance | None:
        for nuis in self.card.nuisances.values():
            if nuis.kind == "gmN" and (column.bin, column.process) in nuis.effects:
                return nuis
        return None

    # --- modifiers of one sample -------------------------------------------------------
    def _modifiers(self, column: Column, sample: Sample, *, counting: bool) -> None:
        card = self.card
        key = (column.bin, column.process)
        mods = sample.modifiers
        if column.signal:
            mods.append({"name": POI, "type": "normfactor", "data": None})
            self.used.add(POI)
        for rp in card.rate_params:
            if (rp.bin, rp.process) == key and not any(m["name"] == rp.name for m in mods):
                kind = "lumi" if rp.name in self.constrained_rates else "normfactor"
                mods.append({"name": rp.name, "type": kind, "data": None})
                self.used.add(rp.name)
        morphs: list[tuple[str, float, bool]] = []
        for nuis in card.nuisances.values():
            value = nuis.effects.get(key)
            if value is None:
                continue
            if nuis.kind == "gmN":
                assert nuis.gmn is not None
                delta = sample.data / math.sqrt(nuis.gmn)
                mods.append({"name": nuis.name, "type": "shapesys", "data": delta.tolist()})
                self.used.add(nuis.name)
                continue
            templates = None
            if nuis.kind in ("shape", "shape?") and not counting:
                templates = self.reader.variation(
                    column.bin, column.process, nuis.name, optional=nuis.kind == "shape?"
                )
            if templates is not None:
                self._shape(nuis, column, sample, templates, value, morphs)
            elif nuis.kind == "shape" and counting:
                if nuis.name not in self.warned_counting:
                    self.warned_counting.add(nuis.name)
                    card.warn(
                        nuis.line,
                        f"shape nuisance {nuis.name} has no effect on counting bin "
                        f"{column.bin!r} (as in Combine; use shape? or lnN for a rate effect)",
                    )
            else:
                self._lognormal(nuis, key, value, mods)
        self._warn_narrow_morphing(column, morphs)
        self._clip(sample)

    def _scale(self, nuis: Nuisance, value: float, line: int) -> float:
        """The common scale s of the template entries of ``nuis`` (θ' = sθ)."""
        old = self.scales.setdefault(nuis.name, value)
        if old != value:
            raise self.card.fail(
                line,
                f"shape nuisance {nuis.name} is scaled by {old:g} in one column and by "
                f"{value:g} in another; one parameter with one constraint width cannot be both",
            )
        if value != 1:
            cfg = self.configs.setdefault(nuis.name, {"name": nuis.name})
            cfg.update({"sigmas": [value], "auxdata": [0.0], "bounds": [[-5 * value, 5 * value]]})
        return value

    def _lognormal(
        self,
        nuis: Nuisance,
        key: tuple[str, str],
        value: float | tuple[float, float],
        mods: list[dict[str, Any]],
    ) -> None:
        down, up = value if isinstance(value, tuple) else (1.0 / value, value)
        mods.append({"name": nuis.name, "type": "normsys", "data": {"hi": up, "lo": down}})
        self.used.add(nuis.name)
        self._pending_lognormal.append((nuis.name, mods[-1]))

    def _shape(
        self,
        nuis: Nuisance,
        column: Column,
        sample: Sample,
        templates: tuple[Template, Template],
        value: float | tuple[float, float],
        morphs: list[tuple[str, float, bool]],
    ) -> None:
        card = self.card
        key = (column.bin, column.process)
        line = nuis.lines[key]
        if isinstance(value, tuple):
            raise card.fail(
                line,
                f"{nuis.name}: {value[0]:g}/{value[1]:g} for process {column.process!r}, which "
                "has templates; a shape entry is one scale factor",
            )
        s = self._scale(nuis, value, line)
        nominal = self.reader.nominal(column.bin, column.process)
        down, up = templates
        for t in (down, up):
            if len(t.values) != len(nominal.values):
                raise card.fail(
                    line,
                    f"histogram {t.name!r} has {len(t.values)} bins, {nominal.name!r} "
                    f"{len(nominal.values)}",
                )
        total = nominal.integral
        k_up, k_down = up.integral / total, down.integral / total
        for k, t in ((k_up, up), (k_down, down)):
            if not k > 0:
                raise card.fail(
                    line, f"histogram {t.name!r} of {nuis.name} has integral {t.integral:g}"
                )
        flags = card.auto_mc_stats.get(column.bin)
        scale = sample.factor
        if flags is not None and flags.hist_mode == 2:  # the normalisation is in the morphing
            hi, lo = up.values * scale, down.values * scale
        else:
            hi = up.values * (total / up.integral) * scale
            lo = down.values * (total / down.integral) * scale
            if abs(k_up - 1) >= 1e-3 or abs(k_down - 1) >= 1e-3:
                # Combine stores κ^s to six decimals; θ' = sθ takes it back to the power 1/s
                norm = {"hi": round(k_up**s, 6) ** (1 / s), "lo": round(k_down**s, 6) ** (1 / s)}
                sample.modifiers.append({"name": nuis.name, "type": "normsys", "data": norm})
        sample.modifiers.append(
            {
                "name": nuis.name,
                "type": "histosys",
                "data": {"hi_data": hi.tolist(), "lo_data": lo.tolist()},
            }
        )
        asymmetric = bool(np.any(np.abs(hi + lo - 2 * sample.data) > 1e-9 * max(hi.max(), 1e-300)))
        morphs.append((nuis.name, s, asymmetric))
        self.used.add(nuis.name)

    def _warn_narrow_morphing(self, column: Column, morphs: list[tuple[str, float, bool]]) -> None:
        """Combine's polynomial region of a process is |sθ| < min(1, smallest scale s)."""
        region = min([1.0, *(s for _, s, _ in morphs)])
        affected = [name for name, _, asymmetric in morphs if asymmetric]
        if region < 1 and affected:
            self.card.warn(
                self.card.nuisances[affected[0]].line,
                f"process {column.process!r} in bin {column.bin!r} has a shape scale "
                f"{region:g} < 1, so Combine narrows the polynomial part of its template "
                f"morphing ({', '.join(affected)}) to |sθ| < {region:g}; code4p keeps "
                "|sθ| < 1 (they agree at sθ = 0, for |sθ| >= 1 and for symmetric up/down)",
            )

    def _clip(self, sample: Sample) -> None:
        """Negative nominal bins -> 0, moving the templates along (the morphing is kept)."""
        if sample.data.min(initial=0.0) >= 0:
            return
        shift = np.where(sample.data < 0, -sample.data, 0.0)
        self.card.warn(
            self.card.rate_line,
            f"process {sample.name!r} has negative yields in bin(s) "
            f"{np.flatnonzero(shift).tolist()}; set to 0 (Combine truncates them at 0 too)",
        )
        sample.data = sample.data + shift
        for mod in sample.modifiers:
            if mod["type"] == "histosys":
                data = mod["data"]
                data["hi_data"] = (np.asarray(data["hi_data"]) + shift).tolist()
                data["lo_data"] = (np.asarray(data["lo_data"]) + shift).tolist()

    # --- parameter settings ------------------------------------------------------------
    def _rate_param_configs(self) -> None:
        card = self.card
        first: dict[str, Any] = {}
        for rp in card.rate_params:
            seen = first.setdefault(rp.name, rp)
            if (seen.init, seen.bounds) != (rp.init, rp.bounds):
                card.warn(
                    rp.line,
                    f"rateParam {rp.name}: another initial value or range than on line "
                    f"{seen.line}; the first is used (as by Combine)",
                )
        for name, rp in first.items():
            if name not in self.used:
                card.warn(rp.line, f"rateParam {name} multiplies no process with a non-zero rate")
                continue
            if rp.bounds is not None:
                bounds = list(rp.bounds)
            elif rp.init >= 0:
                bounds = [0.0, _UNBOUNDED_SCALE * (rp.init or 1.0)]
            else:
                bounds = [_UNBOUNDED_SCALE * rp.init, 0.0]
            self.configs[name] = {"name": name, "inits": [rp.init], "bounds": [bounds]}

    def _param_configs(self) -> None:
        card = self.card
        for name, param in card.params.items():
            if name in self.constrained_rates:
                if name != "lumi":
                    card.warn(
                        param.line,
                        f"param {name} on a rateParam: a Gaussian-constrained factor is a "
                        "HistFactory lumi modifier; hfx reads it under any name, pyhf's schema "
                        "only as 'lumi'",
                    )
                lo, hi = param.bounds or (
                    param.mean - 4 * param.sigma,
                    param.mean + 4 * param.sigma,
                )
                self.configs[name] = {
                    "name": name,
                    "auxdata": [param.mean],
                    "sigmas": [param.sigma],
                    "inits": [param.mean],
                    "bounds": [[lo, hi]],
                }
                continue
            nuis = card.nuisances.get(name)
            if nuis is None:
                card.warn(
                    param.line,
                    f"param {name}: no nuisance or rateParam of that name in the card; it "
                    "would only add a constraint on a parameter nothing uses: ignored",
                )
                continue
            if nuis.kind == "gmN":
                raise card.fail(param.line, f"param {name} on the gmN nuisance of line {nuis.line}")
            if name not in self.used:
                continue
            s = self.scales.get(name, 1.0)
            lo, hi = param.bounds or (param.mean - 4 * param.sigma, param.mean + 4 * param.sigma)
            cfg = self.configs.setdefault(name, {"name": name})
            cfg["bounds"] = [[s * lo, s * hi]]
            if param.order < card.nuisance_order[name]:
                # Combine builds the constraint of the line that comes first: this one.
                cfg.update({"auxdata": [s * param.mean], "sigmas": [s * param.sigma]})
                cfg["inits"] = [0.0]
            else:
                cfg["inits"] = [s * param.mean]
                if (param.mean, param.sigma) != (0.0, 1.0):
                    card.warn(
                        param.line,
                        f"param {name} comes after its {nuis.kind} line, so Combine keeps the "
                        "unit Gaussian constraint and takes only the range and initial value "
                        "from it; so does this workspace",
                    )
