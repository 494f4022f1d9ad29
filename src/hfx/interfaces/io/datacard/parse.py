"""Read the text of a CMS Combine datacard into plain records, each with its line number.

The syntax is Combine's (``DatacardParser.py``): a header of ``imax``/``jmax``/``kmax``,
``shapes``, ``bin``/``observation`` and ``bin``/``process``/``process``/``rate`` lines,
then one line per nuisance or directive (:mod:`hfx.interfaces.io.datacard.body`).  What
is accepted is only what :mod:`hfx.interfaces.io.datacard.build` can represent; anything
else is a :class:`~hfx.errors.SpecError` that names the file and the line.
"""

from __future__ import annotations

from pathlib import Path

from hfx.errors import SpecError
from hfx.interfaces.io.datacard.body import Body
from hfx.interfaces.io.datacard.records import (
    NUMBER,
    AutoMCStats,
    Column,
    Datacard,
    Nuisance,
    Param,
    RateParam,
    ShapesLine,
    fail,
    to_float,
    tokens,
)

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
    body = Body(card)
    for number in range(body_start + 1, len(lines) + 1):
        body.feed(number, lines[number - 1])
    header.check_counts(body.counted)
    body.finish()
    return card


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
        f = tokens(raw)
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
            self.obs = [to_float(card, number, x, "observation") for x in f[1:]]
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
        if NUMBER.fullmatch(names[0]) and not NUMBER.fullmatch(ids[0]):
            names, ids = ids, names  # the lines may come in either order
        if len(ids) != len(names):
            raise card.fail(
                number, f"the two 'process' lines have {len(names)} and {len(ids)} columns"
            )
        for text in ids:
            if not NUMBER.fullmatch(text):
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
            rate = to_float(card, number, r, "rate")
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
