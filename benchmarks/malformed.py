"""Malformed workspaces, each one problem away from a published one, for comparing which
problems a model build refuses (``build_floor.py`` runs them through hfx and NextStat).

Every case starts from ``2018-14_Comb_bkgonly`` with its signal patch applied (a valid
workspace) and breaks one thing that a HistFactory workspace must not have.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

Spec = dict[str, Any]


def _sample(ws: Spec) -> Spec:
    sample: Spec = ws["channels"][0]["samples"][0]
    return sample


def _add_modifier(modifier: Spec) -> Callable[[Spec], None]:
    def change(ws: Spec) -> None:
        _sample(ws)["modifiers"].append(modifier)

    return change


def _set(where: Callable[[Spec], Any], key: str, value: Callable[[Any], Any]) -> Callable:
    def change(ws: Spec) -> None:
        target = where(ws)
        target[key] = value(target.get(key))

    return change


def _nbins(ws: Spec) -> int:
    return len(_sample(ws)["data"])


def _duplicate_sample(ws: Spec) -> None:
    ws["channels"][0]["samples"].append(copy.deepcopy(_sample(ws)))


def _duplicate_channel(ws: Spec) -> None:
    ws["channels"].append(copy.deepcopy(ws["channels"][0]))
    ws["observations"].append(copy.deepcopy(ws["observations"][0]))


def _staterror_too_long(ws: Spec) -> None:
    data = [0.1] * (_nbins(ws) + 2)
    _sample(ws)["modifiers"].append({"name": "st", "type": "staterror", "data": data})


def _type_conflict(ws: Spec) -> None:
    data = [0.1] * _nbins(ws)
    _sample(ws)["modifiers"].append({"name": "mu_SIG", "type": "staterror", "data": data})


def _repeated_modifier(ws: Spec) -> None:
    _sample(ws)["modifiers"].append(copy.deepcopy(_sample(ws)["modifiers"][0]))


def _bounds_reversed(ws: Spec) -> None:
    parameters = ws["measurements"][0]["config"]["parameters"]
    entry = next((p for p in parameters if p["name"] == "mu_SIG"), None)
    if entry is None:
        parameters.append({"name": "mu_SIG", "bounds": [[5.0, 1.0]]})
    else:
        entry["bounds"] = [[5.0, 1.0]]


def _not_a_number(ws: Spec) -> str:
    _sample(ws)["data"][0] = float("nan")
    return json.dumps(ws)  # (Python writes NaN, as some producers of JSON do)


CASES: dict[str, Callable[[Spec], Any]] = {
    "a sample without its data": lambda ws: _sample(ws).pop("data"),
    "a yield that is a string": _set(_sample, "data", lambda d: ["x"] * len(d)),
    "a NaN yield": _not_a_number,
    "a negative yield": _set(_sample, "data", lambda d: [-5.0] * len(d)),
    "a sample with a bin too many": _set(_sample, "data", lambda d: [*d, 1.0]),
    "an unknown modifier type": _add_modifier({"name": "q", "type": "banana", "data": None}),
    "normsys data that is a list": _add_modifier({"name": "n", "type": "normsys", "data": [1]}),
    "histosys templates of the wrong length": _add_modifier(
        {"name": "h", "type": "histosys", "data": {"hi_data": [1.0, 2.0, 3.0], "lo_data": [1.0]}}
    ),
    "staterror data of the wrong length": _staterror_too_long,
    "a normsys factor hi <= 0 (log taken)": _add_modifier(
        {"name": "n0", "type": "normsys", "data": {"hi": -1.0, "lo": 0.9}}
    ),
    "one modifier twice in a sample": _repeated_modifier,
    "a name used as normfactor and staterror": _type_conflict,
    "two samples of one name in a channel": _duplicate_sample,
    "two channels of one name": _duplicate_channel,
    "a channel without observations": lambda ws: ws["observations"].pop(0),
    "observations with a bin too many": _set(
        lambda ws: ws["observations"][0], "data", lambda d: [*d, 3.0]
    ),
    "bounds with low > high": _bounds_reversed,
    "a POI that no modifier declares": _set(
        lambda ws: ws["measurements"][0]["config"], "poi", lambda _: "nope"
    ),
    "an unsupported version": _set(lambda ws: ws, "version", lambda _: "9.9.9"),
    "an unknown top-level key": _set(lambda ws: ws, "bogus", lambda _: 1),
}


def write_cases(valid: Spec, folder: Path) -> dict[str, Path]:
    """Each case's workspace written to ``folder``; the label -> file."""
    files = {}
    for index, (label, change) in enumerate(CASES.items()):
        ws = copy.deepcopy(valid)
        text = change(ws)
        path = folder / f"case{index:02d}.json"
        path.write_text(text if isinstance(text, str) else json.dumps(ws))
        files[label] = path
    return files
