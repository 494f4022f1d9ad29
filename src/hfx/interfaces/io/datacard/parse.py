"""Read the text of a CMS Combine datacard into plain records, each with its line number.

The syntax is Combine's (``DatacardParser.py``): a header of ``imax``/``jmax``/``kmax``,
``shapes``, ``bin``/``observation`` and ``bin``/``process``/``process``/``rate`` lines,
then one line per nuisance or directive.  What this module accepts is only what
:mod:`hfx.interfaces.io.datacard.build` can represent; anything else is a
:class:`~hfx.errors.SpecError` that names the file and the line.
"""

from __future__ import annotations

import fnmatch
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from hfx.errors import HfxWarning, SpecError

__all__ = [
    "AutoMCStats",
    "Column",
    "Datacard",
    "Nuisance",
    "Param",
    "RateParam",
    "ShapesLine",
    "fail",
    "parse_datacard",
    "parse_text",
]

# Nuisance types Combine knows that the HistFactory JSON spec cannot express, and why.
_UNSUPPORTED = (
    ("lnU", "a log-uniform (flat) constraint"),
    ("shapeU", "a flat constraint on a shape morphing"),
    ("shapeN", "log-space template morphing (HistFactory morphs linearly)"),
    ("shapeN?", "log-space template morphing (HistFactory morphs linearly)"),
    ("shapeN2", "log-space template morphing (HistFactory morphs linearly)"),
    ("shape2", "morphing with the normalisation inside the template"),
    ("shape*", "template morphing with another smoothing"),
    ("gmM", "a gamma constraint on a relative uncertainty"),
    ("trG", "a truncated Gaussian"),
    ("unif", "a uniform constraint"),
    ("dFD", "a Fermi-Dirac constraint"),
    ("dFD2", "a Fermi-Dirac constraint"),
    ("constr", "a constraint written as a formula"),
    ("extArg", "parameters from a RooFit workspace"),
    ("discrete", "discrete (pdf index) parameters"),
    ("edit", "'nuisance edit' directives (apply them to the card first)"),
)
_NUMBER = re.compile(r"-?[0-9]+")


def fail(source: str, line: int | None, message: str) -> SpecError:
    """A :class:`SpecError` naming the datacard and (when known) the line."""
    where = f"line {line}: " if line is not None else ""
    return SpecError(f"{where}{message}", source=source)


def _warn(source: str, line: int | None, message: str) -> None:
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
        _warn(self.source, line, message)


def parse_datacard(path: str | Path, *, source: str | None = None) -> Datacard:
    """Parse the datacard file at ``path`` (errors name ``source``, default the path)."""
    name = source if source is not None else str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read the datacard: {exc.strerror or exc}", source=name) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(
            f"not a text datacard (byte {exc.start} is not UTF-8)", source=name
        ) from None
    return parse_text(text, source=name, path=Path(path))


def parse_text(text: str, *, source: str, path: Path | None = None) -> Datacard:
    """Parse the text of a datacard; ``path`` locates relative shape files."""
    card = Datacard(source=source, path=path if path is not None else Path(source))
    lines = text.splitlines()
    header = _Header(card)
    body_start = None
    for number, raw in enumerate(lines, start=1):
        if header.feed(number, raw):
            body_start = number
            break
    if body_start is None:
        raise card.fail(None, "no 'rate' line: a datacard lists bin, process, process and rate")
    body = _Body(card)
    for number in range(body_start + 1, len(lines) + 1):
        body.feed(number, lines[number - 1])
    header.check_counts(body.counted)
    body.finish()
    return card


def _tokens(raw: str) -> list[str]:
    cut = raw.find("#")
    return (raw[:cut] if cut >= 0 else raw).split()


def _float(card: Datacard, line: int, text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise card.fail(line, f"{what} {text!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise card.fail(line, f"{what} {text!r} is not a finite number")
    return value


def _range(card: Datacard, line: int, text: str) -> tuple[float, float]:
    if not (text.startswith("[") and text.endswith("]")) or text.count(",") != 1:
        raise card.fail(line, f"range {text!r} is not of the form [min,max]")
    lo, hi = (_float(card, line, part, "range bound") for part in text[1:-1].split(","))
    if lo > hi:
        raise card.fail(line, f"range {text!r} has min > max")
    return lo, hi


class _Header:
    """The lines up to and including ``rate``."""

    def __init__(self, card: Datacard):
        self.card = card
        self.declared: dict[str, tuple[int, int]] = {}  # imax/jmax/kmax -> (value, line)
        self.binline: list[str] = []
        self.names: list[str] = []
        self.names_line = 0
        self.ids: list[str] = []
        self.obs: list[float] | None = None
        self.shape_keys: set[tuple[str, str]] = set()

    def feed(self, number: int, raw: str) -> bool:
        """Read one line; True at the ``rate`` line, which ends the header."""
        card = self.card
        f = _tokens(raw)
        if not f or raw.lstrip().startswith("-"):
            return False
        key = f[0]
        if key in ("imax", "jmax", "kmax"):
            if len(f) < 2:
                raise card.fail(number, f"{key} needs a number or '*'")
            if f[1] != "*":
                if not f[1].isdigit():
                    raise card.fail(number, f"{key} {f[1]!r} is neither a number nor '*'")
                self.declared[key] = (int(f[1]), number)
        elif key == "shapes":
            self._shapes(number, f)
        elif key in ("observation", "Observation"):
            self.obs = [_float(card, number, x, "observation") for x in f[1:]]
            card.observation_line = number
            if self.binline:
                self._observation_bins(number, self.binline)
                self.binline = []
        elif key == "bin":
            self.binline = f[1:]
        elif key == "process":
            if not self.names:
                self.names, self.names_line = f[1:], number
                if len(self.names) != len(self.binline):
                    raise card.fail(
                        number,
                        f"'process' line has {len(self.names)} columns, the 'bin' line above "
                        f"has {len(self.binline)}",
                    )
            else:
                self._process_ids(number, f[1:])
        elif key == "rate":
            self._rates(number, f[1:])
            return True
        elif self.declared or self.binline or card.shapes or self.obs is not None:
            card.warn(number, f"{key!r} is no datacard keyword; line ignored (as by Combine)")
        # else: free text before the first keyword, e.g. combineCards.py's "Combination of"
        return False

    def _shapes(self, number: int, f: list[str]) -> None:
        card = self.card
        if len(f) < 4:
            raise card.fail(number, "a 'shapes' line is: shapes process channel file [histogram]")
        process, channel = f[1], f[2]
        if (process, channel) in self.shape_keys:
            raise card.fail(
                number, f"second 'shapes' line for process {process!r}, channel {channel!r}"
            )
        self.shape_keys.add((process, channel))
        card.shapes.append(ShapesLine(process, channel, tuple(f[3:]), number))

    def _observation_bins(self, number: int, bins: list[str]) -> None:
        assert self.obs is not None
        if len(bins) != len(self.obs):
            raise self.card.fail(
                number, f"{len(self.obs)} observations for {len(bins)} bins on the 'bin' line"
            )
        if len(set(bins)) != len(bins):
            raise self.card.fail(number, "a bin is named twice on the 'bin' line")
        self.card.observation = dict(zip(bins, self.obs, strict=True))
        self.card.bins = list(bins)

    def _process_ids(self, number: int, ids: list[str]) -> None:
        card = self.card
        names = self.names
        if _NUMBER.fullmatch(names[0]) and not _NUMBER.fullmatch(ids[0]):
            names, ids = ids, names  # the lines may come in either order
        if len(ids) != len(names):
            raise card.fail(
                number, f"the two 'process' lines have {len(names)} and {len(ids)} columns"
            )
        for text in ids:
            if not _NUMBER.fullmatch(text):
                raise card.fail(number, f"process index {text!r} is not an integer")
        self.names, self.ids = names, ids
        if self.obs is not None and card.observation is None:
            if len(self.obs) != len(dict.fromkeys(self.binline)):
                raise card.fail(
                    card.observation_line,
                    f"{len(self.obs)} observations for {len(dict.fromkeys(self.binline))} bins",
                )
            card.observation = dict(zip(dict.fromkeys(self.binline), self.obs, strict=True))
            card.bins = list(card.observation)

    def _rates(self, number: int, rates: list[str]) -> None:
        card = self.card
        if not self.ids:
            raise card.fail(number, "the 'rate' line needs the two 'process' lines before it")
        if len(rates) != len(self.names):
            raise card.fail(
                number, f"{len(rates)} rates for {len(self.names)} (bin, process) columns"
            )
        known = set(card.bins)
        signal_of: dict[str, bool] = {}
        seen: set[tuple[str, str]] = set()
        for b, p, pid, r in zip(self.binline, self.names, self.ids, rates, strict=True):
            if known and b not in known:
                raise card.fail(number, f"bin {b!r} has no observation (bins: {sorted(known)})")
            if b not in card.bins:
                card.bins.append(b)
            if (b, p) in seen:
                raise card.fail(number, f"process {p!r} appears twice in bin {b!r}")
            seen.add((b, p))
            signal = int(pid) <= 0
            if signal_of.setdefault(p, signal) != signal:
                raise card.fail(
                    number, f"process {p!r} is a signal in one bin and a background in another"
                )
            rate = _float(card, number, r, "rate")
            card.columns.append(Column(b, p, signal, rate))
        card.rate_line = number

    def check_counts(self, nuisances: int) -> None:
        card = self.card
        found = {
            "imax": len(card.bins),
            "jmax": len(card.processes) - 1,
            "kmax": nuisances,
        }
        what = {"imax": "bins", "jmax": "processes - 1", "kmax": "nuisance parameters"}
        for key, (value, number) in self.declared.items():
            if value != found[key]:
                raise card.fail(
                    number, f"{key} {value} declared, but the card has {found[key]} {what[key]}"
                )


class _Body:
    """The nuisance and directive lines after ``rate``."""

    def __init__(self, card: Datacard):
        self.card = card
        self.counted = 0  # lines Combine counts against kmax
        self.order = 0
        self.keys = [(c.bin, c.process) for c in card.columns]
        self.rates = {(c.bin, c.process): c.rate for c in card.columns}

    def feed(self, number: int, raw: str) -> None:
        stripped = raw.lstrip()
        if stripped.startswith("--") or stripped.startswith("#"):
            return
        f = _tokens(raw)
        if len(f) <= 1:
            return
        card = self.card
        name, kind = f[0], f[1]
        name = name.removesuffix("[nofloat]")
        if _NUMBER.match(name):
            name = "theta" + name  # as Combine renames it
        self.order += 1
        reason = dict(_UNSUPPORTED).get(kind)
        if reason is not None:
            raise card.fail(
                number,
                f"{kind!r} ({reason}) cannot be represented in the HistFactory JSON spec",
            )
        if kind in ("lnN", "shape", "shape?"):
            self._nuisance(number, name, kind, f[2:], None)
        elif kind == "gmN":
            if len(f) < 3 or not f[2].isdigit():
                raise card.fail(number, "gmN needs the number of events N after the type")
            self._nuisance(number, name, kind, f[3:], int(f[2]))
        elif kind == "param":
            self._param(number, name, f[2:])
        elif kind == "rateParam":
            self._rate_param(number, name, f)
        elif kind == "flatParam":
            card.flat_params.setdefault(name, number)
        elif kind == "autoMCStats":
            self._auto_mc_stats(number, f)
        elif kind == "group":
            self._group(number, name, f[2:])
        else:
            raise card.fail(number, f"unknown nuisance type {kind!r}")

    # --- nuisances with one value per column ----------------------------------------
    def _nuisance(
        self, number: int, name: str, kind: str, values: list[str], n: int | None
    ) -> None:
        card = self.card
        if len(values) < len(self.keys):
            raise card.fail(
                number,
                f"{name} has {len(values)} values for {len(self.keys)} (bin, process) columns",
            )
        effects: dict[tuple[str, str], float | tuple[float, float]] = {}
        for key, text in zip(self.keys, values, strict=False):
            value = self._value(number, name, kind, key, text)
            # a zero rate has no effect, except for gmN (Combine then sets it to 1e-6)
            if value is None or (self.rates[key] == 0 and kind != "gmN"):
                continue
            effects[key] = value
        if not effects:  # Combine drops a line without effect (and does not count it)
            return
        self.counted += 1
        old = card.nuisances.get(name)
        if old is None:
            card.nuisances[name] = Nuisance(
                name, kind, number, effects, dict.fromkeys(effects, number), n
            )
            card.nuisance_order[name] = self.order
            return
        if {old.kind, kind} == {"lnN", "shape"}:
            raise card.fail(
                number,
                f"{name} is a {kind} here and a {old.kind} on line {old.line}; Combine asks "
                "for one 'shape?' line instead",
            )
        if old.kind != kind or kind == "gmN":
            raise card.fail(number, f"{name} is declared again (as {old.kind} on line {old.line})")
        for key, value in effects.items():
            if key in old.effects:
                if kind != "lnN":
                    raise card.fail(
                        number,
                        f"{name} affects bin {key[0]!r}, process {key[1]!r} again "
                        f"(also on line {old.lines[key]})",
                    )
                value = _times(old.effects[key], value)  # the same θ twice: κ1^θ κ2^θ
            old.effects[key] = value
            old.lines.setdefault(key, number)

    def _value(
        self, number: int, name: str, kind: str, key: tuple[str, str], text: str
    ) -> float | tuple[float, float] | None:
        card = self.card
        where = f"{name}, bin {key[0]!r}, process {key[1]!r}"
        if text == "-" * len(text):
            return None
        if "/" in text:
            if kind not in ("lnN", "shape?"):
                raise card.fail(number, f"{where}: asymmetric values {text!r} are for lnN only")
            parts = text.split("/")
            if len(parts) != 2:
                raise card.fail(number, f"{where}: {text!r} is not κ_down/κ_up")
            down, up = (_float(card, number, p, f"{where}: value") for p in parts)
            if down <= 0 or up <= 0:
                raise card.fail(number, f"{where}: κ values must be > 0, got {text!r}")
            return (down, up)
        value = _float(card, number, text, f"{where}: value")
        if value < 0:
            raise card.fail(number, f"{where}: negative value {text!r}")
        if value == 0 or (kind == "lnN" and value == 1):
            return None
        return value

    # --- parameters ------------------------------------------------------------------
    def _param(self, number: int, name: str, args: list[str]) -> None:
        card = self.card
        if len(args) < 2 or len(args) > 3:
            raise card.fail(number, "a 'param' line is: name param mean sigma [min,max]")
        mean = _float(card, number, args[0], "param mean")
        text = args[1]
        if "/" in text:
            low, _, high = text.partition("/")
            if not (low.startswith("-") and high.startswith("+")):
                raise card.fail(number, "asymmetric param uncertainties are written -x/+y")
            lo = _float(card, number, low[1:], "param sigma")
            hi = _float(card, number, high[1:], "param sigma")
            if lo != hi:
                raise card.fail(
                    number,
                    f"the asymmetric Gaussian constraint {text!r} on {name} cannot be "
                    "represented in the HistFactory JSON spec",
                )
            sigma = lo
        else:
            sigma = _float(card, number, text, "param sigma")
        if not sigma > 0:
            raise card.fail(number, f"param sigma must be > 0, got {text!r}")
        bounds = _range(card, number, args[2]) if len(args) == 3 else None
        if name in card.params:
            raise card.fail(
                number, f"second 'param' line for {name} (first on line {card.params[name].line})"
            )
        card.params[name] = Param(name, mean, sigma, bounds, number, self.order)
        self.counted += 1

    def _rate_param(self, number: int, name: str, f: list[str]) -> None:
        card = self.card
        if len(f) < 5 or len(f) > 6:
            raise card.fail(
                number, "a 'rateParam' line is: name rateParam bin process initial [min,max]"
            )
        if len(f) == 6 and not (f[5].startswith("[") and f[5].endswith("]")):
            raise card.fail(
                number,
                f"rateParam {name} is the formula {f[4]!r} of {f[5]}; functions of parameters "
                "cannot be represented in the HistFactory JSON spec",
            )
        if len(f) == 5 and ".root" in f[4] and ":" in f[4]:
            raise card.fail(
                number,
                f"rateParam {name} is taken from the RooFit workspace {f[4]!r}, which cannot "
                "be represented in the HistFactory JSON spec",
            )
        try:
            init = float(f[4])
        except ValueError:
            raise card.fail(
                number,
                f"rateParam {name}: initial value {f[4]!r} is not a number (a formula needs "
                "its arguments, and cannot be represented in the HistFactory JSON spec)",
            ) from None
        bounds = _range(card, number, f[5]) if len(f) == 6 else None
        if bounds is not None and not bounds[0] <= init <= bounds[1]:
            raise card.fail(number, f"rateParam {name}: initial value {init:g} outside {f[5]}")
        pairs = self._match(number, f[2], f[3])
        for b, p in pairs:
            card.rate_params.append(RateParam(name, b, p, init, bounds, number))

    def _match(self, number: int, bin_pattern: str, proc_pattern: str) -> list[tuple[str, str]]:
        card = self.card
        if "*" in bin_pattern or "*" in proc_pattern:
            pairs = [
                (b, p)
                for b in card.bins
                for p in card.processes
                if fnmatch.fnmatchcase(b, bin_pattern) and fnmatch.fnmatchcase(p, proc_pattern)
            ]
            if not pairs:
                raise card.fail(
                    number, f"bin {bin_pattern!r} and process {proc_pattern!r} match nothing"
                )
            return pairs
        if bin_pattern not in card.bins or proc_pattern not in card.processes:
            raise card.fail(number, f"no bin {bin_pattern!r} with process {proc_pattern!r}")
        return [(bin_pattern, proc_pattern)]

    def _auto_mc_stats(self, number: int, f: list[str]) -> None:
        card = self.card
        if len(f) < 3 or len(f) > 5:
            raise card.fail(
                number, "an autoMCStats line is: channel autoMCStats threshold [0|1 [1|2]]"
            )
        threshold = _float(card, number, f[2], "autoMCStats threshold")
        include = f[3] if len(f) > 3 else "0"
        mode = f[4] if len(f) > 4 else "1"
        if include not in ("0", "1") or mode not in ("1", "2"):
            raise card.fail(number, "autoMCStats: include-signal is 0 or 1, hist-mode 1 or 2")
        flags = AutoMCStats(threshold, include == "1", int(mode), number)
        pattern = f[0]
        if "*" in pattern:
            for b in card.bins:
                if fnmatch.fnmatchcase(b, pattern):
                    card.auto_mc_stats[b] = flags
        elif pattern in card.bins:
            card.auto_mc_stats[pattern] = flags
        else:
            raise card.fail(number, f"autoMCStats for {pattern!r}, which is no bin of the card")

    def _group(self, number: int, name: str, args: list[str]) -> None:
        card = self.card
        if not args or args[0] not in ("=", "+="):
            raise card.fail(number, f"a group line is: {name} group = names (or += names)")
        if len(args) == 1:
            raise card.fail(number, f"group {name} lists no nuisance")
        members = args[1:]
        if args[0] == "=":
            if name in card.groups:
                raise card.fail(
                    number,
                    f"group {name} is defined again (first on line {card.group_lines[name]}); "
                    "use += to extend it",
                )
            card.groups[name] = list(dict.fromkeys(members))
            card.group_lines[name] = number
        else:
            if name not in card.groups:
                raise card.fail(number, f"+= to group {name}, which is not defined yet")
            card.groups[name] = list(dict.fromkeys([*card.groups[name], *members]))

    def finish(self) -> None:
        card = self.card
        known = (
            set(card.nuisances)
            | set(card.params)
            | {rp.name for rp in card.rate_params}
            | set(card.flat_params)
        )
        for group, members in card.groups.items():
            for member in members:
                if member not in known:
                    raise card.fail(
                        card.group_lines[group],
                        f"group {group} names {member!r}, which is no parameter of the card",
                    )


def _times(
    a: float | tuple[float, float], b: float | tuple[float, float]
) -> float | tuple[float, float]:
    """Two lnN effects of one parameter on one column, as one."""
    if isinstance(a, float) and isinstance(b, float):
        return a * b
    down_a, up_a = a if isinstance(a, tuple) else (1 / a, a)
    down_b, up_b = b if isinstance(b, tuple) else (1 / b, b)
    return (down_a * down_b, up_a * up_b)
