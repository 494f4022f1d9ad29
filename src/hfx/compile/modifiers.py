"""Turn the modifiers of a laid-out workspace into parameters and flat term arrays.

Multiplicative modifiers (normfactor, lumi, shapefactor, shapesys, staterror: factor = the
parameter; normsys: factor = κ(α)) become *factor terms*; histosys becomes *shift terms*.
Each term points at one entry and one component of the parameter vector.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import itemgetter

import numpy as np

from hfx.compile.layout import Layout
from hfx.compile.parameters import ParameterSpec, ParameterTable, default_spec
from hfx.errors import ModelError
from hfx.spec.semantic import MODIFIER_TYPES

__all__ = [
    "LINEAR_TYPES",
    "VECTOR_TYPES",
    "FactorTerms",
    "InterpTerms",
    "Terms",
    "build_terms",
    "declare_parameters",
    "finalize_constraints",
]

VECTOR_TYPES = ("shapefactor", "shapesys", "staterror")
LINEAR_TYPES = ("normfactor", "lumi", "shapefactor", "shapesys", "staterror")
# Types that may share one parameter name (one α moves both a normsys and a histosys).
_SHAREABLE = frozenset({"normsys", "histosys"})
_VECTOR = frozenset(VECTOR_TYPES)
_NAME_TYPE = itemgetter("name", "type")  # a modifier's (name, type), taken in C


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
    seen: set[tuple[str, str]] = set()  # (name, type) pairs met so far
    seen_vectors: set[tuple[str, str]] = set()  # those of per-bin types
    for block in layout.blocks:
        nbins = block.nbins
        # (a sample's pairs are distinct: the workspace checks refuse a repeated one)
        pairs = set(map(_NAME_TYPE, block.modifiers))
        # a pair met before changes nothing but where its size must match: only the new
        # pairs are walked in order, and the per-bin ones met before are size-checked
        for name, kind in sorted(pairs - seen):
            n = nbins if kind in _VECTOR else 1
            known = kinds.get(name)
            if known is None:
                kinds[name] = {kind}
                first_seen[kind].append(name)
                sizes[name] = n
            elif not (known | {kind}) <= _SHAREABLE:
                raise ModelError(
                    f"modifier {name!r} is used as {kind} in channel {block.channel!r}, "
                    f"sample {block.sample!r}, but elsewhere as {', '.join(sorted(known))}"
                )
            else:
                first_seen[kind].append(name)
                known.add(kind)
            if kind in _VECTOR:
                seen_vectors.add((name, kind))
            seen.add((name, kind))
        for name, kind in pairs & seen_vectors:
            if sizes[name] != nbins:
                raise ModelError(
                    f"{kind} {name!r} spans {nbins} bins in channel {block.channel!r} but "
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
            kind = mod["type"]
            if kind != "staterror" and kind != "shapesys":
                continue
            spec = by_name[mod["name"]]
            if kind == "staterror":
                delta = np.asarray(mod["data"], dtype=np.float64)
                stat_sum_nom[spec.name] = stat_sum_nom.get(spec.name, 0.0) + block.nominal
                stat_sum_var[spec.name] = stat_sum_var.get(spec.name, 0.0) + delta**2
            elif spec.kind == "shapesys":
                if spec.factors:
                    raise ModelError(
                        f"shapesys {spec.name!r} is used by more than one sample "
                        f"(again in channel {block.channel!r}, sample {block.sample!r}); "
                        "give each shapesys its own name"
                    )
                delta = np.asarray(mod["data"], dtype=np.float64)
                usable = (delta > 0) & (block.nominal > 0)
                with np.errstate(divide="ignore", invalid="ignore"):
                    tau = np.where(
                        usable, block.nominal**2 / np.where(usable, delta, 1.0) ** 2, 1.0
                    )
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
    """Terms interpolated between templates (normsys factors or histosys shifts).

    The templates are stored once per *variation* (``var_*``); term ``t`` uses variation
    ``source[t]``.  A normsys is one variation per (sample, channel), shared by its bins.
    """

    source: np.ndarray
    var_par: np.ndarray
    nominal: np.ndarray
    high: np.ndarray
    low: np.ndarray


@dataclass(frozen=True)
class Terms:
    linear: FactorTerms
    normsys: InterpTerms
    histosys: InterpTerms
    nslots: int


_FEW_RECORDS = 16


class _Columns:
    """Per (block, modifier) records of one kind of term, one list per field (NumPy converts
    flat lists of ints several times faster than lists of tuples)."""

    def __init__(self) -> None:
        self.block: list[int] = []  # index of the block
        self.slot: list[int] = []  # position among the block's factors
        self.par: list[int] = []  # first parameter
        self.per_bin: list[bool] = []  # one parameter component per bin

    def expand(
        self, first_entry: list[int], nbins: list[int]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(entry, slot, par, source record) per term, given each block's first entry and
        bin count: the records expanded in one vectorised step (by a loop when they are
        few, where a dozen NumPy calls cost more)."""
        if len(self.block) <= _FEW_RECORDS:
            return self._expand_few(first_entry, nbins)
        first = np.array(first_entry, dtype=np.int64)
        size = np.array(nbins, dtype=np.int64)
        block = np.array(self.block, dtype=np.int64)
        counts = size[block]
        source = np.repeat(np.arange(block.size, dtype=np.int64), counts)
        offset = np.arange(int(counts.sum()), dtype=np.int64) - (np.cumsum(counts) - counts)[source]
        entry = first[block][source] + offset
        slot = np.array(self.slot, dtype=np.int64)[source] if self.slot else 0 * source
        par: np.ndarray = np.array(self.par, dtype=np.int64)[source]
        if self.per_bin:
            par = par + offset * np.array(self.per_bin, dtype=np.int64)[source]
        return entry, slot, par, source

    def _expand_few(
        self, first: list[int], size: list[int]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        count = len(self.block)
        if not count:
            columns = np.zeros((4, 0), dtype=np.int64)
            return columns[0], columns[1], columns[2], columns[3]
        slots = self.slot or [0] * count
        if min(size, default=1) == 1 == max(size, default=1):  # one bin per block: one term
            columns = np.array(
                ([first[b] for b in self.block], slots, self.par, range(count)), dtype=np.int64
            ).reshape(4, count)
            return columns[0], columns[1], columns[2], columns[3]
        entry: list[int] = []
        slot: list[int] = []
        par: list[int] = []
        source: list[int] = []
        per_bins = self.per_bin or [False] * count
        for record, (block, start, at, per_bin) in enumerate(
            zip(self.block, self.par, slots, per_bins, strict=True)
        ):
            n, begin = size[block], first[block]
            entry += range(begin, begin + n)
            slot += [at] * n
            par += range(start, start + n) if per_bin else [start] * n
            source += [record] * n
        # one conversion for the four columns (each a row of one [4, nterms] array)
        columns = np.array((entry, slot, par, source), dtype=np.int64).reshape(4, len(entry))
        return columns[0], columns[1], columns[2], columns[3]


def build_terms(layout: Layout, table: ParameterTable) -> Terms:
    """Flat term arrays for every modifier of every block."""
    start_of = {spec.name: spec.slice.start for spec in table}
    linear, normsys, histosys = _Columns(), _Columns(), _Columns()
    ns_high: list[float] = []
    ns_low: list[float] = []
    hs_nominal: list[float] = []
    hs_high: list[float] = []
    hs_low: list[float] = []
    nslots = 1
    for index, block in enumerate(layout.blocks):
        slot = 0
        nominal: list[float] | None = None
        for mod in block.modifiers:
            kind = mod["type"]
            name = mod["name"]
            start = start_of.get(name)
            if start is None:
                start = table[name].slice.start  # raises the ModelError naming it
            if kind == "histosys":
                histosys.block.append(index)
                histosys.par.append(start)
                if nominal is None:
                    nominal = block.nominal.tolist()
                hs_nominal.extend(nominal)
                data = mod["data"]
                hs_high.extend(data["hi_data"])
                hs_low.extend(data["lo_data"])
            elif kind == "normsys":
                normsys.block.append(index)
                normsys.slot.append(slot)
                normsys.par.append(start)
                data = mod["data"]
                ns_high.append(float(data["hi"]))
                ns_low.append(float(data["lo"]))
                slot += 1
            elif kind in LINEAR_TYPES:
                linear.block.append(index)
                linear.slot.append(slot)
                linear.par.append(start)
                linear.per_bin.append(kind in VECTOR_TYPES)
                slot += 1
        nslots = max(nslots, slot)

    size = [b.nbins for b in layout.blocks]
    first = [b.first_entry for b in layout.blocks]
    entry, slots, par, _ = linear.expand(first, size)
    lin_terms = FactorTerms(entry=entry, slot=slots, par=par)
    entry, slots, par, source = normsys.expand(first, size)
    ns_terms = InterpTerms(
        entry=entry,
        slot=slots,
        par=par,
        source=source,
        var_par=np.array(normsys.par, dtype=np.int64),
        nominal=np.array([1.0] * len(ns_high)),
        high=np.asarray(ns_high, dtype=np.float64),
        low=np.asarray(ns_low, dtype=np.float64),
    )
    entry, slots, par, _ = histosys.expand(first, size)
    hs_terms = InterpTerms(
        entry=entry,
        slot=slots,
        par=par,
        source=np.arange(entry.size, dtype=np.int64),
        var_par=par,
        nominal=np.asarray(hs_nominal, dtype=np.float64),
        high=np.asarray(hs_high, dtype=np.float64),
        low=np.asarray(hs_low, dtype=np.float64),
    )
    return Terms(linear=lin_terms, normsys=ns_terms, histosys=hs_terms, nslots=nslots)
