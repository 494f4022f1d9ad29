"""The records a parsed datacard is made of, and the helpers that read its words.

Every record keeps the line it came from, so that later messages can name it.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from hfx.errors import HfxWarning, SpecError

__all__ = [
    "NUMBER",
    "AutoMCStats",
    "Column",
    "Datacard",
    "Nuisance",
    "Param",
    "RateParam",
    "ShapesLine",
    "fail",
    "to_float",
    "to_range",
    "tokens",
    "warn_at",
]

NUMBER = re.compile(r"-?[0-9]+")


def fail(source: str, line: int | None, message: str) -> SpecError:
    """A :class:`SpecError` naming the datacard and (when known) the line."""
    where = f"line {line}: " if line is not None else ""
    return SpecError(f"{where}{message}", source=source)


def warn_at(source: str, line: int | None, message: str) -> None:
    where = f"line {line}: " if line is not None else ""
    warnings.warn(f"{source}: {where}{message}", HfxWarning, stacklevel=4)


@dataclass(frozen=True)
class Column:
    """One (bin, process) column of the ``rate`` line."""

    bin: str
    process: str
    signal: bool
    rate: float


@dataclass(frozen=True)
class ShapesLine:
    """``shapes process channel file [histogram [systematic histogram]]``."""

    process: str
    channel: str
    names: tuple[str, ...]  # file, then histogram patterns
    line: int


@dataclass
class Nuisance:
    """The lines (``lnN``, ``shape``, ``shape?``, ``gmN``) of one nuisance name, merged.

    ``effects`` maps (bin, process) to the value of its column: a float (a symmetric
    κ or a shape scale) or (κ_down, κ_up).  Entries with no effect are left out.
    """

    name: str
    kind: str
    line: int
    effects: dict[tuple[str, str], float | tuple[float, float]] = field(default_factory=dict)
    lines: dict[tuple[str, str], int] = field(default_factory=dict)
    gmn: int | None = None


@dataclass(frozen=True)
class RateParam:
    """``name rateParam bin process init [min,max]`` for one matched (bin, process)."""

    name: str
    bin: str
    process: str
    init: float
    bounds: tuple[float, float] | None
    line: int


@dataclass(frozen=True)
class Param:
    """``name param mean sigma [min,max]``; ``order`` is its place among nuisance lines."""

    name: str
    mean: float
    sigma: float
    bounds: tuple[float, float] | None
    line: int
    order: int


@dataclass(frozen=True)
class AutoMCStats:
    """``channel autoMCStats threshold [include-signal [hist-mode]]`` for one channel."""

    threshold: float
    include_signal: bool
    hist_mode: int
    line: int


@dataclass
class Datacard:
    """A parsed datacard: what the build step needs, with line numbers for its messages."""

    source: str
    path: Path
    bins: list[str] = field(default_factory=list)
    observation: dict[str, float] | None = None
    observation_line: int | None = None
    columns: list[Column] = field(default_factory=list)
    rate_line: int | None = None
    shapes: list[ShapesLine] = field(default_factory=list)
    nuisances: dict[str, Nuisance] = field(default_factory=dict)
    nuisance_order: dict[str, int] = field(default_factory=dict)
    rate_params: list[RateParam] = field(default_factory=list)
    params: dict[str, Param] = field(default_factory=dict)
    flat_params: dict[str, int] = field(default_factory=dict)
    auto_mc_stats: dict[str, AutoMCStats] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    group_lines: dict[str, int] = field(default_factory=dict)

    @property
    def processes(self) -> list[str]:
        """Process names in order of first appearance."""
        return list(dict.fromkeys(c.process for c in self.columns))

    def fail(self, line: int | None, message: str) -> SpecError:
        return fail(self.source, line, message)

    def warn(self, line: int | None, message: str) -> None:
        warn_at(self.source, line, message)


def tokens(raw: str) -> list[str]:
    cut = raw.find("#")
    return (raw[:cut] if cut >= 0 else raw).split()


def to_float(card: Datacard, line: int, text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise card.fail(line, f"{what} {text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise card.fail(line, f"{what} {text!r} is not a finite number")
    return value


def to_range(card: Datacard, line: int, text: str) -> tuple[float, float]:
    if not (text.startswith("[") and text.endswith("]")) or text.count(",") != 1:
        raise card.fail(line, f"range {text!r} is not of the form [min,max]")
    lo, hi = (to_float(card, line, part, "range bound") for part in text[1:-1].split(","))
    if lo > hi:
        raise card.fail(line, f"range {text!r} has min > max")
    return lo, hi
