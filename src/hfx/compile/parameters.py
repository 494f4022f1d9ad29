"""The parameter table: one row per named parameter (scalar or one per bin)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hfx._names import did_you_mean
from hfx.errors import ModelError

__all__ = [
    "CONSTRAINT_NONE",
    "CONSTRAINT_NORMAL",
    "CONSTRAINT_POISSON",
    "ParameterSpec",
    "ParameterTable",
    "default_spec",
]

CONSTRAINT_NONE = None
CONSTRAINT_NORMAL = "normal"
CONSTRAINT_POISSON = "poisson"


@dataclass
class ParameterSpec:
    """One named parameter set: its size, defaults, measurement overrides and constraint."""

    name: str
    kind: str  # modifier type that declared it first
    n: int
    inits: list[float]
    bounds: list[tuple[float, float]]
    fixed: list[bool]
    constraint: str | None = CONSTRAINT_NONE
    auxdata: list[float] = field(default_factory=list)
    sigmas: list[float] = field(default_factory=list)  # normal constraints
    factors: list[float] = field(default_factory=list)  # poisson constraints (τ)
    slice: slice = field(default_factory=lambda: slice(0, 0))

    @property
    def is_scalar(self) -> bool:
        return self.n == 1 and self.kind not in ("shapefactor", "shapesys", "staterror")


def default_spec(name: str, kind: str, n: int) -> ParameterSpec:
    """Defaults of a parameter declared by a modifier of type ``kind``."""
    if kind in ("normfactor", "shapefactor"):
        return ParameterSpec(name, kind, n, [1.0] * n, [(0.0, 10.0)] * n, [False] * n)
    if kind in ("normsys", "histosys"):
        return ParameterSpec(
            name, kind, 1, [0.0], [(-5.0, 5.0)], [False], CONSTRAINT_NORMAL, [0.0], [1.0]
        )
    if kind == "lumi":
        return ParameterSpec(name, kind, 1, [1.0], [(0.0, 10.0)], [False], CONSTRAINT_NORMAL, [1.0])
    if kind == "staterror":
        return ParameterSpec(
            name, kind, n, [1.0] * n, [(1e-10, 10.0)] * n, [False] * n, CONSTRAINT_NORMAL, [1.0] * n
        )
    if kind == "shapesys":
        return ParameterSpec(
            name, kind, n, [1.0] * n, [(1e-10, 10.0)] * n, [False] * n, CONSTRAINT_POISSON
        )
    raise ModelError(f"unknown modifier type {kind!r}")


class ParameterTable:
    """Ordered parameter sets and the flat parameter vector they make up."""

    def __init__(self, specs: Sequence[ParameterSpec]):
        start = 0
        self._specs: dict[str, ParameterSpec] = {}
        for spec in specs:
            spec.slice = slice(start, start + spec.n)
            start += spec.n
            self._specs[spec.name] = spec
        self.npars = start

    def __iter__(self) -> Iterator[ParameterSpec]:
        return iter(self._specs.values())

    def __len__(self) -> int:
        return len(self._specs)

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __getitem__(self, name: str) -> ParameterSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise ModelError(
                f"no parameter named {name!r}; {did_you_mean(name, self._specs)}"
            ) from None

    @property
    def order(self) -> list[str]:
        return list(self._specs)

    def par_names(self) -> list[str]:
        """Flat names: scalar parameters by name, vector ones as ``name[i]``."""
        names: list[str] = []
        for spec in self._specs.values():
            if spec.is_scalar:
                names.append(spec.name)
            else:
                names.extend(f"{spec.name}[{i}]" for i in range(spec.n))
        return names

    def _flat(self, attr: str) -> list[Any]:
        out: list[Any] = []
        for spec in self._specs.values():
            out.extend(getattr(spec, attr))
        return out

    def inits(self) -> np.ndarray:
        return np.asarray(self._flat("inits"), dtype=np.float64)

    def bounds(self) -> np.ndarray:
        return np.asarray(self._flat("bounds"), dtype=np.float64).reshape(self.npars, 2)

    def fixed(self) -> np.ndarray:
        return np.asarray(self._flat("fixed"), dtype=bool)

    def auxdata(self) -> np.ndarray:
        """Auxiliary data of the constrained parameters, in parameter order."""
        return np.asarray(
            [a for spec in self._specs.values() if spec.constraint for a in spec.auxdata],
            dtype=np.float64,
        )
