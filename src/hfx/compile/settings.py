"""Interpolation codes: their names, and the ``modifier_settings`` that choose them per type.

The names are a compile-time concern (settings are read and checked once, in
:func:`~hfx.compile.compiled.compile_workspace`); :mod:`hfx.likelihood.interpolation`
implements the codes and re-exports these names.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from hfx.errors import ModelError

__all__ = [
    "DEFAULT_MODIFIER_SETTINGS",
    "INTERP_CODES",
    "normalize_code",
    "resolve_histosys_positive",
    "resolve_modifier_settings",
]

INTERP_CODES = ("code0", "code1", "code2", "code4", "code4p")

_CODE_ALIASES: Mapping[str, str] = MappingProxyType(
    {
        "0": "code0",
        "1": "code1",
        "2": "code2",
        "4": "code4",
        "4p": "code4p",
    }
)


def normalize_code(code: str | int) -> str | None:
    """``code4p``, ``4p``, 4 … → canonical name, or None when unknown."""
    key = str(code).strip().lower()
    if key in INTERP_CODES:
        return key
    return _CODE_ALIASES.get(key)


DEFAULT_MODIFIER_SETTINGS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "normsys": MappingProxyType({"interpcode": "code4"}),
        "histosys": MappingProxyType({"interpcode": "code4p"}),
    }
)
"""hfx's (and pyhf's) codes when no ``modifier_settings`` are given (read-only)."""

# Codes a type falls back to when settings are given but do not mention it (as pyhf does).
_FALLBACK_CODES: Mapping[str, str] = MappingProxyType({"normsys": "code1", "histosys": "code0"})


# The settings each interpolated type takes.
_SETTING_NAMES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "normsys": frozenset({"interpcode"}),
        "histosys": frozenset({"interpcode", "positive_definite"}),
    }
)


def resolve_modifier_settings(settings: Mapping[str, Any] | None) -> dict[str, str]:
    """Interpolation code per interpolated modifier type, e.g. ``{"normsys": "code4", ...}``."""
    if settings is None:
        settings = DEFAULT_MODIFIER_SETTINGS
    if not isinstance(settings, Mapping):
        raise ModelError(
            "modifier_settings must be a mapping like {'normsys': {'interpcode': 'code4'}}"
        )
    unknown = settings.keys() - _FALLBACK_CODES.keys()
    if unknown:
        raise ModelError(
            f"modifier_settings: unknown modifier type(s) {sorted(unknown)}; "
            "only normsys and histosys take an interpolation code"
        )
    codes = {}
    for kind, fallback in _FALLBACK_CODES.items():
        entry = settings.get(kind, {"interpcode": fallback})
        if isinstance(entry, Mapping):
            extra = entry.keys() - _SETTING_NAMES[kind]
            if extra:
                raise ModelError(
                    f"modifier_settings: unknown setting(s) {sorted(extra)} for {kind}; "
                    "it takes 'interpcode'"
                    + (" and 'positive_definite'" if kind == "histosys" else "")
                )
        raw = entry.get("interpcode", fallback) if isinstance(entry, Mapping) else entry
        code = normalize_code(raw)
        if code is None:
            raise ModelError(
                f"modifier_settings: unknown interpcode {raw!r} for {kind}; "
                f"choose one of {', '.join(INTERP_CODES)}"
            )
        codes[kind] = code
    return codes


def resolve_histosys_positive(settings: Mapping[str, Any] | None) -> bool:
    """Whether each sample's histosys-interpolated yield is clamped at zero (default True).

    ROOT's HistFactory makes that interpolation positive definite; pyhf does not clamp
    (``modifier_settings={"histosys": {"interpcode": "code4p", "positive_definite": False}}``
    reproduces pyhf where a sample's interpolated yield goes negative).
    """
    entry = (settings or {}).get("histosys")
    if not isinstance(entry, Mapping):
        return True
    value = entry.get("positive_definite", True)
    if not isinstance(value, bool):
        raise ModelError(
            f"modifier_settings: histosys positive_definite must be true or false, not {value!r}"
        )
    return value
