"""The inputs of a model as a physicist checks them: each sample's nominal histogram with the
up and down variations of its modifiers, and which modifier acts on which sample.

Variations are the ±1σ templates the workspace declares: normsys ``hi``/``lo`` times the
nominal, histosys ``hi_data``/``lo_data``, staterror and shapesys the nominal ± their
absolute uncertainties, lumi the nominal times 1 ± the measurement's lumi σ.  Free
modifiers (normfactor, shapefactor) have no variation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hfx.errors import HfxError

__all__ = ["ModifierGrid", "SampleTemplates", "Variation", "modifier_grid", "templates"]


@dataclass(frozen=True)
class Variation:
    """One modifier's up and down templates of a sample."""

    modifier: str
    type: str
    up: np.ndarray
    down: np.ndarray


@dataclass(frozen=True)
class SampleTemplates:
    """A sample of a channel: its nominal yields and its modifiers' variations."""

    channel: str
    sample: str
    nominal: np.ndarray
    variations: tuple[Variation, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "channel": self.channel,
            "sample": self.sample,
            "nominal": self.nominal.tolist(),
            "variations": [
                {
                    "modifier": v.modifier,
                    "type": v.type,
                    "up": v.up.tolist(),
                    "down": v.down.tolist(),
                }
                for v in self.variations
            ],
        }


def _lumi_sigma(spec: dict[str, Any], measurement: str | None) -> float | None:
    measurements = spec.get("measurements", [])
    chosen = next(
        (m for m in measurements if measurement is None or m.get("name") == measurement), None
    )
    if chosen is None:
        return None
    for par in chosen.get("config", {}).get("parameters", []):
        if par.get("name") == "lumi" and par.get("sigmas"):
            return float(par["sigmas"][0])
    return None


def _variation(
    modifier: dict[str, Any], nominal: np.ndarray, lumi_sigma: float | None
) -> Variation | None:
    kind, name = modifier["type"], modifier["name"]
    data: Any = modifier.get("data")
    if kind == "normsys":
        up, down = nominal * float(data["hi"]), nominal * float(data["lo"])
    elif kind == "histosys":
        up = np.asarray(data["hi_data"], dtype=float)
        down = np.asarray(data["lo_data"], dtype=float)
    elif kind in ("staterror", "shapesys"):
        delta = np.asarray(data, dtype=float)
        up, down = nominal + delta, nominal - delta
    elif kind == "lumi" and lumi_sigma is not None:
        up, down = nominal * (1 + lumi_sigma), nominal * (1 - lumi_sigma)
    else:
        return None
    return Variation(name, kind, up, down)


def templates(
    spec: dict[str, Any],
    *,
    channel: str | None = None,
    sample: str | None = None,
    measurement: str | None = None,
) -> list[SampleTemplates]:
    """Nominal and ±1σ templates of every sample (or of ``channel``/``sample`` only), from a
    workspace's JSON (``Workspace.spec``)."""
    lumi_sigma = _lumi_sigma(spec, measurement)
    out = []
    for ch in spec["channels"]:
        if channel is not None and ch["name"] != channel:
            continue
        for s in ch["samples"]:
            if sample is not None and s["name"] != sample:
                continue
            nominal = np.asarray(s["data"], dtype=float)
            found = (_variation(m, nominal, lumi_sigma) for m in s.get("modifiers", []))
            variations = tuple(v for v in found if v is not None)
            out.append(SampleTemplates(ch["name"], s["name"], nominal, variations))
    if not out:
        what = " and ".join(
            f"{k} {v!r}" for k, v in (("channel", channel), ("sample", sample)) if v is not None
        )
        raise HfxError(f"the workspace has no {what}")
    return out


@dataclass(frozen=True)
class ModifierGrid:
    """Which modifier acts on which (channel, sample): ``modifiers`` (sorted by type, then
    name), their ``types``, the ``columns`` (channel, sample) and ``acts[i][j]``."""

    modifiers: tuple[str, ...]
    types: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]
    acts: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        return {
            "modifiers": [
                {"name": n, "type": t} for n, t in zip(self.modifiers, self.types, strict=True)
            ],
            "columns": [{"channel": c, "sample": s} for c, s in self.columns],
            "acts": self.acts.astype(int).tolist(),
        }


def modifier_grid(spec: dict[str, Any]) -> ModifierGrid:
    """The modifier × (channel, sample) grid of a workspace's JSON."""
    columns: list[tuple[str, str]] = []
    kinds: dict[str, str] = {}
    pairs: set[tuple[str, int]] = set()
    for ch in spec["channels"]:
        for s in ch["samples"]:
            columns.append((ch["name"], s["name"]))
            for m in s.get("modifiers", []):
                kinds.setdefault(m["name"], m["type"])
                pairs.add((m["name"], len(columns) - 1))
    names = sorted(kinds, key=lambda n: (kinds[n], n))
    acts = np.zeros((len(names), len(columns)), dtype=bool)
    row = {n: i for i, n in enumerate(names)}
    for name, col in pairs:
        acts[row[name], col] = True
    return ModifierGrid(tuple(names), tuple(kinds[n] for n in names), tuple(columns), acts)
