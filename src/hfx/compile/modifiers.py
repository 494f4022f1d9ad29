"""Turn the modifiers of a laid-out workspace into parameters and flat term arrays.

Multiplicative modifiers (normfactor, lumi, shapefactor, shapesys, staterror: factor = the
parameter; normsys: factor = κ(α)) become *factor terms*; histosys becomes *shift terms*.
Each term points at one entry and one component of the parameter vector.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from hfx.compile.layout import Layout
from hfx.compile.parameters import MODIFIER_TYPES, ParameterSpec, ParameterTable, default_spec
from hfx.errors import ModelError

VECTOR_TYPES = ("shapefactor", "shapesys", "staterror")
LINEAR_TYPES = ("normfactor", "lumi", "shapefactor", "shapesys", "staterror")
# Types that may share one parameter name (one α moves both a normsys and a histosys).
_SHAREABLE = {"normsys", "histosys"}


def declare_parameters(layout: Layout) -> list[ParameterSpec]:
    """Parameter sets with their defaults, in pyhf's order.

    Grouped by modifier type (``MODIFIER_TYPES`` order).  Within a type, parameters come in
    order of first appearance walking sorted channels, sorted samples and each sample's
    modifiers sorted by (name, type); staterror parameters are sorted by name.  A name
    declared by two types (normsys + histosys) sits with its first type.
    """
    first_seen: dict[str, list[str]] = {t: [] for t in MODIFIER_TYPES}
    kinds: dict[str, set[str]] = {}
    sizes: dict[str, int] = {}
    for block in layout.blocks:
        for mod in sorted(block.modifiers, key=lambda m: (m["name"], m["type"])):
            name, kind = mod["name"], mod["type"]
            known = kinds.setdefault(name, set())
            if known and kind not in known and not (known | {kind}) <= _SHAREABLE:
                raise ModelError(
                    f"modifier {name!r} is used as {kind} in channel {block.channel!r}, "
                    f"sample {block.sample!r}, but elsewhere as {', '.join(sorted(known))}"
                )
            if kind not in known:
                first_seen[kind].append(name)
            known.add(kind)
            n = block.entries.size if kind in VECTOR_TYPES else 1
            if sizes.setdefault(name, n) != n:
                raise ModelError(
                    f"{kind} {name!r} spans {n} bins in channel {block.channel!r} but "
                    f"{sizes[name]} elsewhere; a shared per-bin parameter needs equal bin counts"
                )
    first_seen["staterror"].sort()
    specs: list[ParameterSpec] = []
    placed: set[str] = set()
    for kind in MODIFIER_TYPES:
        for name in first_seen[kind]:
            if name not in placed:
                placed.add(name)
                specs.append(default_spec(name, kind, sizes[name]))
    return specs


def finalize_constraints(layout: Layout, specs: list[ParameterSpec]) -> None:
    """Per-bin constraint widths of staterror (σ) and shapesys (τ); empty bins are fixed at 1."""
    by_name = {s.name: s for s in specs}
    stat_sum_nom: dict[str, np.ndarray] = {}
    stat_sum_var: dict[str, np.ndarray] = {}
    for block in layout.blocks:
        for mod in block.modifiers:
            spec = by_name[mod["name"]]
            if mod["type"] == "staterror":
                delta = np.asarray(mod["data"], dtype=np.float64)
                stat_sum_nom[spec.name] = stat_sum_nom.get(spec.name, 0.0) + block.nominal
                stat_sum_var[spec.name] = stat_sum_var.get(spec.name, 0.0) + delta**2
            elif mod["type"] == "shapesys" and spec.kind == "shapesys":
                if spec.factors:
                    raise ModelError(
                        f"shapesys {spec.name!r} is used by more than one sample "
                        f"(again in channel {block.channel!r}, sample {block.sample!r}); "
                        "give each shapesys its own name"
                    )
                delta = np.asarray(mod["data"], dtype=np.float64)
                usable = (delta > 0) & (block.nominal > 0)
                with np.errstate(divide="ignore", invalid="ignore"):
                    tau = np.where(usable, block.nominal**2 / np.where(usable, delta, 1.0) ** 2, 1.0)
                spec.factors = tau.tolist()
                spec.auxdata = tau.tolist()
                spec.fixed = [not u for u in usable]
    for name, nom in stat_sum_nom.items():
        spec = by_name[name]
        var = stat_sum_var[name]
        usable = (nom > 0) & (var > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            sigma = np.where(usable, np.sqrt(var) / np.where(usable, nom, 1.0), 1.0)
        spec.sigmas = sigma.tolist()
        spec.fixed = [not u for u in usable]


@dataclass(frozen=True)
class FactorTerms:
    """Multiplicative terms; ``slot`` is the term's position among its entry's factors."""

    entry: np.ndarray
    slot: np.ndarray
    par: np.ndarray

    @property
    def size(self) -> int:
        return int(self.entry.size)


@dataclass(frozen=True)
class InterpTerms(FactorTerms):
    """Terms interpolated between templates (normsys factors or histosys shifts)."""

    nominal: np.ndarray
    high: np.ndarray
    low: np.ndarray


@dataclass(frozen=True)
class Terms:
    linear: FactorTerms
    normsys: InterpTerms
    histosys: InterpTerms
    nslots: int


def build_terms(layout: Layout, table: ParameterTable) -> Terms:
    """Flat term arrays for every modifier of every block."""
    lin: dict[str, list[np.ndarray]] = {"entry": [], "slot": [], "par": []}
    norm: dict[str, list[np.ndarray]] = {k: [] for k in ("entry", "slot", "par", "nominal", "high", "low")}
    hist: dict[str, list[np.ndarray]] = {k: [] for k in ("entry", "slot", "par", "nominal", "high", "low")}
    nslots = 1
    for block in layout.blocks:
        slot = 0
        nb = block.entries.size
        for mod in block.modifiers:
            kind = mod["type"]
            start = table[mod["name"]].slice.start
            if kind in LINEAR_TYPES:
                par = start + np.arange(nb) if kind in VECTOR_TYPES else np.full(nb, start)
                _append(lin, entry=block.entries, slot=np.full(nb, slot), par=par)
                slot += 1
            elif kind == "normsys":
                data = mod["data"]
                _append(
                    norm,
                    entry=block.entries,
                    slot=np.full(nb, slot),
                    par=np.full(nb, start),
                    nominal=np.ones(nb),
                    high=np.full(nb, float(data["hi"])),
                    low=np.full(nb, float(data["lo"])),
                )
                slot += 1
            elif kind == "histosys":
                data = mod["data"]
                _append(
                    hist,
                    entry=block.entries,
                    slot=np.zeros(nb, dtype=np.int64),
                    par=np.full(nb, start),
                    nominal=block.nominal,
                    high=np.asarray(data["hi_data"], dtype=np.float64),
                    low=np.asarray(data["lo_data"], dtype=np.float64),
                )
        nslots = max(nslots, slot)
    return Terms(
        linear=FactorTerms(**_finish(lin, ("entry", "slot", "par"))),
        normsys=InterpTerms(**_finish(norm, tuple(norm))),
        histosys=InterpTerms(**_finish(hist, tuple(hist))),
        nslots=nslots,
    )


def _append(store: dict[str, list[np.ndarray]], **arrays: np.ndarray) -> None:
    for key, value in arrays.items():
        store[key].append(value)


def _finish(store: dict[str, list[np.ndarray]], keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    out = {}
    for key in keys:
        integer = key in ("entry", "slot", "par")
        parts = store[key]
        if parts:
            out[key] = np.concatenate(parts).astype(np.int64 if integer else np.float64)
        else:
            out[key] = np.zeros(0, dtype=np.int64 if integer else np.float64)
    return out
