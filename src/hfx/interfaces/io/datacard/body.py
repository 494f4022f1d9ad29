"""The lines after ``rate``: nuisances (``lnN``, ``shape``, ``shape?``, ``gmN``), ``param``,
``rateParam``, ``flatParam``, ``autoMCStats`` and ``group``, checked as Combine checks them.
"""

from __future__ import annotations

import fnmatch

from hfx.interfaces.io.datacard.records import (
    NUMBER,
    AutoMCStats,
    Datacard,
    Nuisance,
    Param,
    RateParam,
    to_float,
    to_range,
    tokens,
)

__all__ = ["Body"]

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


class Body:
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
        f = tokens(raw)
        if len(f) <= 1:
            return
        card = self.card
        name, kind = f[0], f[1]
        name = name.removesuffix("[nofloat]")
        if NUMBER.match(name):
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
            down, up = (to_float(card, number, p, f"{where}: value") for p in parts)
            if down <= 0 or up <= 0:
                raise card.fail(number, f"{where}: κ values must be > 0, got {text!r}")
            return (down, up)
        value = to_float(card, number, text, f"{where}: value")
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
        mean = to_float(card, number, args[0], "param mean")
        text = args[1]
        if "/" in text:
            low, _, high = text.partition("/")
            if not (low.startswith("-") and high.startswith("+")):
                raise card.fail(number, "asymmetric param uncertainties are written -x/+y")
            lo = to_float(card, number, low[1:], "param sigma")
            hi = to_float(card, number, high[1:], "param sigma")
            if lo != hi:
                raise card.fail(
                    number,
                    f"the asymmetric Gaussian constraint {text!r} on {name} cannot be "
                    "represented in the HistFactory JSON spec",
                )
            sigma = lo
        else:
            sigma = to_float(card, number, text, "param sigma")
        if not sigma > 0:
            raise card.fail(number, f"param sigma must be > 0, got {text!r}")
        bounds = to_range(card, number, args[2]) if len(args) == 3 else None
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
        bounds = to_range(card, number, f[5]) if len(f) == 6 else None
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
        threshold = to_float(card, number, f[2], "autoMCStats threshold")
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
