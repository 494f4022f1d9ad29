"""Apply a measurement's parameter configs (inits, bounds, fixed, auxdata, sigmas) to the table."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

from hfx._names import did_you_mean
from hfx.compile.parameters import CONSTRAINT_NORMAL, CONSTRAINT_POISSON, ParameterSpec
from hfx.errors import HfxWarning, ModelError

__all__ = ["apply_measurement"]

# HistFactory XML always declares a luminosity config, with or without a lumi modifier,
# so a config for this name alone may refer to no parameter.
_OPTIONAL_CONFIGS = frozenset({"lumi"})


def apply_measurement(
    specs: list[ParameterSpec],
    measurement: Mapping[str, Any],
    *,
    source: str | None = None,
    optional: frozenset[str] = frozenset(),
) -> None:
    """Override parameter defaults with the measurement's configs (in place).

    A config naming a parameter the model lacks is ignored with an :class:`HfxWarning`
    (published background-only workspaces still configure their signal's parameters; pyhf
    ignores them silently), except for ``lumi`` and the names in ``optional`` (no warning).
    """
    by_name = {s.name: s for s in specs}
    mname = measurement.get("name", "?")
    configured: set[str] = set()
    for i, cfg in enumerate(measurement.get("config", {}).get("parameters", [])):
        name = cfg["name"]
        where = f"measurement {mname!r}, parameters[{i}] ({name!r})"
        spec = by_name.get(name)
        if spec is None:
            if name not in _OPTIONAL_CONFIGS and name not in optional:
                prefix = f"{source}: " if source else ""
                warnings.warn(
                    f"{prefix}{where}: ignoring the config of parameter {name!r}, which the "
                    f"model does not have; {did_you_mean(name, by_name)}",
                    HfxWarning,
                    stacklevel=4,
                )
            continue
        configured.add(name)
        _apply_one(spec, cfg, where, source)
    for spec in specs:
        if spec.kind == "lumi" and (spec.name not in configured or not spec.sigmas):
            raise ModelError(
                f"measurement {mname!r}: lumi parameter {spec.name!r} needs a parameter config "
                "with 'auxdata' and 'sigmas' (the luminosity and its uncertainty)",
                source=source,
            )
        _clip_inits(spec, mname, source)


def _apply_one(spec: ParameterSpec, cfg: Mapping[str, Any], where: str, source: str | None) -> None:
    n = spec.n

    def sized(key: str) -> list[Any]:
        values = list(cfg[key])
        if len(values) != n:
            raise ModelError(
                f"{where}: '{key}' has {len(values)} values, expected {n}", source=source
            )
        return values

    if "inits" in cfg:
        spec.inits = [float(v) for v in sized("inits")]
    if "bounds" in cfg:
        bounds = [(float(lo), float(hi)) for lo, hi in sized("bounds")]
        for lo, hi in bounds:
            if lo > hi:
                raise ModelError(f"{where}: bound [{lo}, {hi}] has low > high", source=source)
        spec.bounds = bounds
    if "fixed" in cfg:
        spec.fixed = [bool(cfg["fixed"])] * n
    if "auxdata" in cfg:
        if spec.constraint is None and spec.kind != "lumi":
            raise ModelError(
                f"{where}: 'auxdata' given for an unconstrained {spec.kind}", source=source
            )
        spec.auxdata = [float(v) for v in sized("auxdata")]
    if "sigmas" in cfg:
        if spec.constraint != CONSTRAINT_NORMAL:
            raise ModelError(
                f"{where}: 'sigmas' given for a {spec.kind} parameter "
                "(it has no Gaussian constraint)",
                source=source,
            )
        spec.sigmas = [float(v) for v in sized("sigmas")]
    if "factors" in cfg:
        if spec.constraint != CONSTRAINT_POISSON:
            raise ModelError(
                f"{where}: 'factors' given for a non-Poisson-constrained {spec.kind}", source=source
            )
        spec.factors = [float(v) for v in sized("factors")]
    if spec.kind == "lumi" and "auxdata" not in cfg and "inits" in cfg:
        spec.auxdata = list(spec.inits)


def _clip_inits(spec: ParameterSpec, mname: str, source: str | None) -> None:
    """Inits outside their bounds are moved onto the nearest bound, as RooRealVar does."""
    if all(lo <= value <= hi for value, (lo, hi) in zip(spec.inits, spec.bounds, strict=True)):
        return
    clipped = []
    for i, (value, (lo, hi)) in enumerate(zip(spec.inits, spec.bounds, strict=True)):
        new = min(max(value, lo), hi)
        if new != value:
            clipped.append(f"{spec.name}[{i}]: {value:g} -> {new:g} (bounds [{lo:g}, {hi:g}])")
            spec.inits[i] = new
    if clipped:
        where = f"{source}: " if source else ""
        warnings.warn(
            f"{where}measurement {mname!r}: init outside bounds, moved onto the bound: "
            + "; ".join(clipped),
            HfxWarning,
            stacklevel=4,
        )
