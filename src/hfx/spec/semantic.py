"""Checks on HistFactory documents that JSON Schema cannot express.

Each ``check_*`` function assumes its document already passed the matching schema and
returns ``None`` when all is well, or ``(json_pointer, message)`` for the first problem
found (in document order).  :mod:`hfx.spec.validate` turns that into an exception.

What is checked: bin counts agree within a channel and with its observation; names are
unique where they must be; every number is finite; yields, observations and
uncertainties are not negative; one parameter name is not claimed by modifier types that
cannot share it; measurement parameter settings are consistent.  Whether the POI or a
parameter setting names a modifier that exists is left to model compilation, since a
background-only workspace may name a POI that only a signal patch adds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "MODIFIER_TYPES",
    "Problem",
    "check_jsonpatch",
    "check_measurement",
    "check_model",
    "check_patchset",
    "check_workspace",
    "count",
    "first_negative",
    "first_nonfinite",
    "json_pointer",
    "number_text",
    "workspace_notes",
]

# The seven HistFactory modifier types, in the order their parameters are laid out.
MODIFIER_TYPES = (
    "histosys",
    "lumi",
    "normfactor",
    "normsys",
    "shapefactor",
    "shapesys",
    "staterror",
)

# Pairs of distinct modifier types that may use the same parameter name (one shared alpha).
_SHAREABLE = frozenset({frozenset({"normsys", "histosys"})})

Problem = tuple[str, str] | None


def json_pointer(parts: Iterable[Any]) -> str:
    """RFC 6901 pointer for a path of keys and indices (``[]`` gives ``""``)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def number_text(x: Any) -> str:
    """How a number reads in a message; non-finite floats use their JSON literal names."""
    if isinstance(x, float) and not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")
    return repr(x)


def count(n: int, noun: str) -> str:
    """``1 bin``, ``3 bins``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _finite(x: Any) -> bool:
    try:
        return math.isfinite(x)
    except OverflowError:  # an integer too large for a float
        return False


def first_nonfinite(values: Sequence[Any]) -> int | None:
    """Index of the first NaN/infinite/oversized number in ``values``, else None."""
    try:
        if all(map(math.isfinite, values)):
            return None
    except OverflowError:
        pass
    for i, x in enumerate(values):
        if not _finite(x):
            return i
    return None


def first_negative(values: Sequence[Any]) -> int | None:
    """Index of the first number below zero in (finite) ``values``, else None."""
    if not values or min(values) >= 0:
        return None
    return next(i for i, x in enumerate(values) if x < 0)


def _numbers(values: Sequence[Any], where: str, what: str, *, negative_ok: bool = True) -> Problem:
    """Check an array of numbers is finite (and, unless ``negative_ok``, not negative)."""
    i = first_nonfinite(values)
    if i is not None:
        return f"{where}/{i}", f"{what}: expected a finite number, got {number_text(values[i])}"
    if not negative_ok:
        i = first_negative(values)
        if i is not None:
            return f"{where}/{i}", f"{what}: negative value {values[i]!r} is not allowed"
    return None


# --- workspaces and model specs ----------------------------------------------------------
def check_workspace(
    spec: Mapping[str, Any],
    *,
    allow_negative: bool = False,
    based_on: Mapping[str, Any] | None = None,
) -> Problem:
    """First semantic problem of a schema-valid workspace, or None.

    ``based_on``: a workspace spec that passed this check (with ``allow_negative`` false,
    or as now), never changed since, and that ``spec`` shares objects with (copy-on-write).
    A sample of ``spec`` that is one of its samples, in a channel of the same name and
    bin count, keeps its yields and modifiers: only its parameter names are checked again,
    for they relate to all other samples.  The answer is the same as without it.
    """
    channels = spec["channels"]
    kept = None if based_on is None else _samples_by_channel(based_on["channels"])
    problem = _check_channels(channels, allow_negative=allow_negative, kept=kept)
    # the observations and measurements are checked again unless they are based_on's own,
    # for the same channels with the same bin counts
    if problem is None and (
        based_on is None
        or kept is None
        or spec["observations"] is not based_on["observations"]
        or _bin_counts(channels) != {name: nbins for name, (nbins, _) in kept.items()}
    ):
        problem = _check_observations(channels, spec["observations"])
    if problem is None and (
        based_on is None or spec["measurements"] is not based_on["measurements"]
    ):
        problem = _check_measurements(spec["measurements"])
    return problem


def _bin_counts(channels: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    return {c["name"]: len(c["samples"][0]["data"]) for c in channels}


def check_model(spec: Mapping[str, Any], *, allow_negative: bool = False) -> Problem:
    """First semantic problem of a schema-valid model spec (channels + parameters), or None."""
    problem = _check_channels(spec["channels"], allow_negative=allow_negative)
    if problem is None:
        problem = _check_parameter_configs(spec.get("parameters", []), "/parameters")
    return problem


def check_measurement(measurement: Mapping[str, Any]) -> Problem:
    """First semantic problem of one schema-valid measurement, or None."""
    return _check_parameter_configs(measurement["config"]["parameters"], "/config/parameters")


def _samples_by_channel(
    channels: Sequence[Mapping[str, Any]],
) -> dict[str, tuple[int, frozenset[int]]]:
    """Channel name -> (bin count, ids of its samples)."""
    return {
        c["name"]: (len(c["samples"][0]["data"]), frozenset(map(id, c["samples"])))
        for c in channels
    }


def _check_channels(
    channels: Sequence[Mapping[str, Any]],
    *,
    allow_negative: bool,
    kept: Mapping[str, tuple[int, frozenset[int]]] | None = None,
) -> Problem:
    channel_at: dict[str, int] = {}
    # parameter name -> {modifier type: pointer of its first use}
    types_of: dict[str, dict[str, Any]] = {}
    for ci, channel in enumerate(channels):
        cname = channel["name"]
        if cname in channel_at:
            return (
                f"/channels/{ci}/name",
                f"duplicate channel name {cname!r} (first at /channels/{channel_at[cname]})",
            )
        channel_at[cname] = ci
        problem = _check_samples(ci, channel, types_of, allow_negative=allow_negative, kept=kept)
        if problem is not None:
            return problem
    return None


def _check_samples(
    ci: int,
    channel: Mapping[str, Any],
    types_of: dict[str, dict[str, Any]],
    *,
    allow_negative: bool,
    kept: Mapping[str, tuple[int, frozenset[int]]] | None = None,
) -> Problem:
    cname = channel["name"]
    samples = channel["samples"]
    nbins = len(samples[0]["data"])
    old = None if kept is None else kept.get(cname)
    same = old[1] if old is not None and old[0] == nbins else frozenset()
    sample_at: dict[str, int] = {}
    for si, sample in enumerate(samples):
        sname = sample["name"]
        if sname in sample_at:
            return (
                f"/channels/{ci}/samples/{si}/name",
                f"duplicate sample name {sname!r} in channel {cname!r} "
                f"(first at /channels/{ci}/samples/{sample_at[sname]})",
            )
        sample_at[sname] = si
        if id(sample) in same:  # checked before with this bin count: only the names relate
            problem = _claim_names(ci, si, channel, types_of)
            if problem is not None:
                return problem
            continue
        data = sample["data"]
        if not (
            len(data) == nbins
            and _all_finite(data)
            and (allow_negative or min(data, default=0) >= 0)
        ):
            problem = _check_sample_data(ci, si, channel, nbins, allow_negative=allow_negative)
            if problem is not None:
                return problem
        problem = _check_modifiers(ci, si, channel, nbins, types_of)
        if problem is not None:
            return problem
    return None


def _check_sample_data(
    ci: int, si: int, channel: Mapping[str, Any], nbins: int, *, allow_negative: bool
) -> Problem:
    """The first problem of a sample's yields (bin count, finite, not negative), or None."""
    cname = channel["name"]
    samples = channel["samples"]
    sample = samples[si]
    where = f"/channels/{ci}/samples/{si}"
    data = sample["data"]
    label = f"sample {sample['name']!r} in channel {cname!r}"
    if len(data) != nbins:
        return (
            f"{where}/data",
            f"{label} has {count(len(data), 'bin')}, but channel {cname!r} has {nbins} "
            f"(the bin count of its first sample {samples[0]['name']!r})",
        )
    i = first_nonfinite(data)
    if i is not None:
        return f"{where}/data/{i}", f"{label}: expected a finite yield, got {number_text(data[i])}"
    if not allow_negative:
        i = first_negative(data)
        if i is not None:
            return (
                f"{where}/data/{i}",
                f"{label} has a negative yield {data[i]!r}; "
                "pass allow_negative=True to accept negative nominal yields",
            )
    return None


def _all_finite(values: Sequence[Any]) -> bool:
    """True only if every number in ``values`` is finite (False may also mean that their
    sum overflows: :func:`first_nonfinite` tells)."""
    try:
        return math.isfinite(sum(values))  # NaN and infinities survive any sum
    except OverflowError:  # an integer too large for a float
        return False


def _check_modifiers(
    ci: int,
    si: int,
    channel: Mapping[str, Any],
    nbins: int,
    types_of: dict[str, dict[str, Any]],
) -> Problem:
    sample = channel["samples"][si]
    isfinite = math.isfinite
    modifiers = sample["modifiers"]
    seen: set[tuple[str, str]] = set()
    for mi, modifier in enumerate(modifiers):
        mname = modifier["name"]
        mtype = modifier["type"]
        key = (mname, mtype)
        if key in seen:
            return _repeated_modifier(ci, si, channel, mi)
        seen.add(key)
        data = modifier["data"]
        try:  # NaN and infinities survive any sum; an overflow goes the slow way
            if mtype == "histosys":
                hi, lo = data["hi_data"], data["lo_data"]
                ok = len(hi) == nbins and len(lo) == nbins and isfinite(sum(hi) + sum(lo))
            elif mtype == "normsys":
                ok = isfinite(data["hi"]) and isfinite(data["lo"])
            elif mtype == "staterror":  # only δ² enters (a negative δ: see workspace_notes)
                ok = len(data) == nbins and isfinite(sum(data))
            elif mtype == "shapesys":
                ok = len(data) == nbins and isfinite(sum(data)) and min(data, default=0) >= 0
            else:
                ok = True
        except OverflowError:  # an integer too large for a float
            ok = False
        if not ok:
            problem = _check_modifier_data(
                f"/channels/{ci}/samples/{si}/modifiers/{mi}",
                _label(sample, channel),
                modifier,
                nbins,
            )
            if problem is not None:
                return problem
        # the parameter name's claim: a first use recorded as its (channel, sample,
        # modifier) indices (a pointer only for a message), a new type checked by _claim
        uses = types_of.get(mname)
        if uses is None:
            types_of[mname] = {mtype: (ci, si, mi)}
        elif mtype not in uses:
            problem = _claim(types_of, mname, mtype, (ci, si, mi))
            if problem is not None:
                return problem
    return None


def _repeated_modifier(ci: int, si: int, channel: Mapping[str, Any], mi: int) -> Problem:
    """The message for modifier ``mi``, which repeats an earlier one's name and type."""
    sample = channel["samples"][si]
    modifiers = sample["modifiers"]
    mname, mtype = modifiers[mi]["name"], modifiers[mi]["type"]
    first = next(i for i, m in enumerate(modifiers) if m["name"] == mname and m["type"] == mtype)
    where = f"/channels/{ci}/samples/{si}"
    return (
        f"{where}/modifiers/{mi}",
        f"{_label(sample, channel)} has two {mtype} modifiers named {mname!r} "
        f"(first at {where}/modifiers/{first})",
    )


def _claim_names(
    ci: int, si: int, channel: Mapping[str, Any], types_of: dict[str, dict[str, Any]]
) -> Problem:
    """The parameter-name part of :func:`_check_modifiers` alone."""
    for mi, modifier in enumerate(channel["samples"][si]["modifiers"]):
        mname, mtype = modifier["name"], modifier["type"]
        uses = types_of.get(mname)
        if uses is None:
            types_of[mname] = {mtype: (ci, si, mi)}
        elif mtype not in uses:
            problem = _claim(types_of, mname, mtype, (ci, si, mi))
            if problem is not None:
                return problem
    return None


def _claim(
    types_of: dict[str, dict[str, Any]], mname: str, mtype: str, here: tuple[int, int, int]
) -> Problem:
    """Record the first use of parameter ``mname`` by a ``mtype`` modifier (at ``here``),
    unless another type, one that may not share it, has it already."""
    uses = types_of.setdefault(mname, {})
    for other, other_at in uses.items():
        if frozenset((other, mtype)) not in _SHAREABLE:
            return (
                f"{_modifier_pointer(here)}/type",
                f"parameter name {mname!r} is used by a {mtype} modifier here and by "
                f"a {other} modifier at {_modifier_pointer(other_at)}; only normsys and "
                "histosys modifiers may share a name across types",
            )
    uses[mtype] = here
    return None


def _modifier_pointer(at: tuple[int, int, int]) -> str:
    ci, si, mi = at
    return f"/channels/{ci}/samples/{si}/modifiers/{mi}"


def _label(sample: Mapping[str, Any], channel: Mapping[str, Any]) -> str:
    return f"sample {sample['name']!r} in channel {channel['name']!r}"


def _check_modifier_data(here: str, label: str, modifier: Mapping[str, Any], nbins: int) -> Problem:
    mtype = modifier["type"]
    data = modifier["data"]
    what = f"{mtype} modifier {modifier['name']!r} of {label}"
    if mtype == "normsys":
        for key in ("hi", "lo"):
            if not _finite(data[key]):
                return (
                    f"{here}/data/{key}",
                    f"{what}: expected a finite number, got {number_text(data[key])}",
                )
    elif mtype == "histosys":
        for key in ("hi_data", "lo_data"):
            values = data[key]
            if len(values) != nbins:
                return (
                    f"{here}/data/{key}",
                    f"{what}: {key} has {count(len(values), 'bin')}, but the channel has {nbins}",
                )
            problem = _numbers(values, f"{here}/data/{key}", what)
            if problem is not None:
                return problem
    elif mtype in ("shapesys", "staterror"):
        if len(data) != nbins:
            return (
                f"{here}/data",
                f"{what}: data has {count(len(data), 'bin')}, but the channel has {nbins}",
            )
        i = first_nonfinite(data)
        if i is not None:
            return (
                f"{here}/data/{i}",
                f"{what}: expected a finite uncertainty, got {number_text(data[i])}",
            )
        i = first_negative(data) if mtype == "shapesys" else None
        if i is not None:
            return f"{here}/data/{i}", f"{what}: negative uncertainty {data[i]!r}"
    return None


def _check_observations(
    channels: Sequence[Mapping[str, Any]], observations: Sequence[Mapping[str, Any]]
) -> Problem:
    nbins = _bin_counts(channels)
    observed_at: dict[str, int] = {}
    for oi, obs in enumerate(observations):
        oname = obs["name"]
        data = obs["data"]
        if oname in observed_at:
            if data == observations[observed_at[oname]]["data"]:
                continue  # an identical repeat is only noted (workspace_notes)
            return (
                f"/observations/{oi}/name",
                f"channel {oname!r} has two different observations (first at "
                f"/observations/{observed_at[oname]})",
            )
        observed_at[oname] = oi
        if oname not in nbins:
            continue  # ignored, as pyhf does (workspace_notes)
        if len(data) == nbins[oname] and _all_finite(data) and min(data, default=0) >= 0:
            continue
        where = f"/observations/{oi}"
        if len(data) != nbins[oname]:
            return (
                f"{where}/data",
                f"observation of channel {oname!r} has {count(len(data), 'bin')}, "
                f"but the channel has {nbins[oname]}",
            )
        problem = _numbers(
            data, f"{where}/data", f"observation of channel {oname!r}", negative_ok=False
        )
        if problem is not None:
            return problem
    return None


def workspace_notes(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What a valid workspace has that pyhf accepts and hfx reads with a warning.

    Returns ``(json_pointer, message)`` pairs: negative staterror uncertainties (only their
    square enters), repeated identical observations, observations of channels that do not
    exist (ignored), channels without an observation (no data for a model with them), and
    repeated measurement names (the first is used, as in pyhf).
    """
    notes: list[tuple[str, str]] = []
    channels = spec["channels"]
    for ci, channel in enumerate(channels):
        for si, sample in enumerate(channel["samples"]):
            for mi, mod in enumerate(sample["modifiers"]):
                if mod["type"] == "staterror" and first_negative(mod["data"]) is not None:
                    notes.append(
                        (
                            f"/channels/{ci}/samples/{si}/modifiers/{mi}/data",
                            f"staterror {mod['name']!r} of sample {sample['name']!r} in channel "
                            f"{channel['name']!r} has negative uncertainties; their absolute "
                            "values are used",
                        )
                    )
    names = {c["name"] for c in channels}
    seen: set[str] = set()
    for oi, obs in enumerate(spec["observations"]):
        oname = obs["name"]
        if oname in seen:
            notes.append(
                (f"/observations/{oi}", f"channel {oname!r} is observed twice (same data)")
            )
        elif oname not in names:
            notes.append(
                (
                    f"/observations/{oi}",
                    f"ignoring the observation of channel {oname!r}, which does not exist",
                )
            )
        seen.add(oname)
    for ci, channel in enumerate(channels):
        if channel["name"] not in seen:
            notes.append(
                (
                    f"/channels/{ci}",
                    f"channel {channel['name']!r} has no observation in /observations "
                    "(ws.data() fails for a model with it)",
                )
            )
    first: dict[str, int] = {}
    for mi, meas in enumerate(spec["measurements"]):
        at = first.setdefault(meas["name"], mi)
        if at != mi:
            notes.append(
                (
                    f"/measurements/{mi}",
                    f"measurement name {meas['name']!r} repeats /measurements/{at}, "
                    "which is the one used",
                )
            )
    return notes


# --- measurements ------------------------------------------------------------------------
def _check_measurements(measurements: Sequence[Mapping[str, Any]]) -> Problem:
    measurement_at: dict[str, int] = {}
    for mi, measurement in enumerate(measurements):
        measurement_at.setdefault(measurement["name"], mi)  # repeats: workspace_notes
        problem = _check_parameter_configs(
            measurement["config"]["parameters"], f"/measurements/{mi}/config/parameters"
        )
        if problem is not None:
            return problem
    return None


_SIZED_SETTINGS = ("inits", "bounds", "auxdata", "sigmas")


def _check_parameter_configs(configs: Sequence[Mapping[str, Any]], base: str) -> Problem:
    config_at: dict[str, int] = {}
    for pi, config in enumerate(configs):
        where = f"{base}/{pi}"
        name = config["name"]
        if name in config_at:
            return (
                f"{where}/name",
                f"parameter {name!r} is configured twice (first at {base}/{config_at[name]})",
            )
        config_at[name] = pi
        if _config_plain(config):
            continue
        what = f"settings of parameter {name!r}"
        for key in ("inits", "auxdata", "sigmas", "factors"):
            if key in config:
                problem = _numbers(config[key], f"{where}/{key}", what)
                if problem is not None:
                    return problem
        for bi, pair in enumerate(config.get("bounds", ())):
            problem = _numbers(pair, f"{where}/bounds/{bi}", what)
            if problem is not None:
                return problem
            lo, hi = pair
            if lo > hi:
                return (
                    f"{where}/bounds/{bi}",
                    f"{what}: lower bound {lo!r} is above upper bound {hi!r}",
                )
        for si, sigma in enumerate(config.get("sigmas", ())):
            if sigma <= 0:
                return (
                    f"{where}/sigmas/{si}",
                    f"{what}: a constraint width must be positive, got {sigma!r}",
                )
        sizes = {key: len(config[key]) for key in _SIZED_SETTINGS if key in config}
        if len(set(sizes.values())) > 1:
            listed = ", ".join(f"{n} {key}" for key, n in sizes.items())
            return where, f"{what}: the lists disagree in length ({listed})"
    return None


def _config_plain(config: Mapping[str, Any]) -> bool:
    """True when the checks of :func:`_check_parameter_configs` cannot find a problem in
    ``config`` (False may also mean a sum that overflows: the full checks tell)."""
    lengths = set()
    for key in ("inits", "auxdata", "sigmas", "factors"):
        values = config.get(key)
        if values is not None and not _all_finite(values):
            return False
    for pair in config.get("bounds", ()):
        if not _all_finite(pair) or pair[0] > pair[1]:
            return False
    sigmas = config.get("sigmas")
    if sigmas and min(sigmas) <= 0:
        return False
    for key in _SIZED_SETTINGS:
        if key in config:
            lengths.add(len(config[key]))
    return len(lengths) <= 1


# --- patches -----------------------------------------------------------------------------
def check_jsonpatch(ops: Sequence[Mapping[str, Any]]) -> Problem:
    """First semantic problem of a schema-valid JSON Patch, or None."""
    return _check_ops(ops, "")


def _check_ops(ops: Sequence[Mapping[str, Any]], base: str) -> Problem:
    for i, op in enumerate(ops):
        if op["op"] == "move":
            source, target = op["from"], op["path"]
            if target.startswith(source + "/"):
                return (
                    f"{base}/{i}/from",
                    f"cannot move {source!r} into its own child {target!r}",
                )
    return None


def check_patchset(spec: Mapping[str, Any]) -> Problem:
    """First semantic problem of a schema-valid HEPData patchset, or None."""
    labels = spec["metadata"]["labels"]
    if len(set(labels)) != len(labels):
        dup = next(x for i, x in enumerate(labels) if x in labels[:i])
        return "/metadata/labels", f"label {dup!r} is listed twice"
    name_at: dict[str, int] = {}
    values_at: dict[tuple[Any, ...], int] = {}
    for pi, patch in enumerate(spec["patches"]):
        where = f"/patches/{pi}"
        meta = patch["metadata"]
        name = meta["name"]
        if name in name_at:
            return (
                f"{where}/metadata/name",
                f"duplicate patch name {name!r} (first at /patches/{name_at[name]})",
            )
        name_at[name] = pi
        values = meta["values"]
        if len(values) != len(labels):
            return (
                f"{where}/metadata/values",
                f"patch {name!r} has {count(len(values), 'value')}, but the patchset has "
                f"{count(len(labels), 'label')} ({', '.join(map(repr, labels))})",
            )
        for vi, value in enumerate(values):
            if not isinstance(value, str) and not _finite(value):
                return (
                    f"{where}/metadata/values/{vi}",
                    f"patch {name!r}: expected a finite value, got {number_text(value)}",
                )
        key = tuple(values)
        if key in values_at:
            return (
                f"{where}/metadata/values",
                f"patch {name!r} has the same values as /patches/{values_at[key]}",
            )
        values_at[key] = pi
        problem = _check_ops(patch["patch"], f"{where}/patch")
        if problem is not None:
            return problem
    return None
