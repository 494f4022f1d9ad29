"""Names and conventions shared by the HS3 writer and reader.

hfx writes HS3 the way ROOT's ``RooJSONFactoryWSTool`` does (checked: ROOT 6.40), so that
ROOT loads it and so that one reader handles both: one ``histfactory_dist`` per channel named
``model_<channel>``, its observations ``obsData_<channel>``, the likelihood ``simPdf_obsData``,
normsys and histosys parameters ``alpha_<name>`` with an explicit ``gaussian_dist``
constraint, per-bin parameters ``gamma_<name>_bin_<i>`` (``gamma_stat_<channel>_bin_<i>``
for the staterror ``staterror_<channel>``) and global observables ``nom_<parameter>``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from hfx.errors import HfxWarning, SpecError

__all__ = [
    "HFX_CODES",
    "LIKELIHOOD",
    "ROOT_CODES",
    "fail",
    "gamma_names",
    "note",
    "scalar_parameter",
]

LIKELIHOOD = "simPdf_obsData"
DATA_PREFIX = "obsData_"
MODEL_PREFIX = "model_"
ALPHA = "alpha_"

# hfx interpolation code -> ROOT's integer code (RooFit/Detail/MathFuncs.h of ROOT 6.40:
# 0 linear, 1 exponential, 2 parabolic, 4 poly6 + linear extrapolation (additive),
# 5 poly6 + exponential extrapolation (multiplicative)), per modifier type.
ROOT_CODES: Mapping[str, Mapping[str, int]] = MappingProxyType(
    {
        "normsys": MappingProxyType({"code0": 0, "code1": 1, "code2": 2, "code4": 5}),
        "histosys": MappingProxyType({"code0": 0, "code2": 2, "code4p": 4}),
    }
)
HFX_CODES: Mapping[str, Mapping[int, str]] = MappingProxyType(
    {kind: MappingProxyType({v: k for k, v in codes.items()}) for kind, codes in ROOT_CODES.items()}
)
# The HS3 standard's names of interpolation functions, as ROOT codes.
NAMED_CODES: Mapping[str, int] = MappingProxyType({"lin": 0, "log": 1, "parabolic": 2, "poly6": 4})
# ROOT's codes when a modifier gives none (what its importer sets).
ROOT_DEFAULT_CODES: Mapping[str, int] = MappingProxyType({"normsys": 5, "histosys": 4})


def fail(source: str | None, where: str, message: str) -> SpecError:
    """A :class:`SpecError` naming the file and the HS3 element (a JSON pointer)."""
    return SpecError(message, source=source or "<HS3>", pointer=where)


def note(source: str | None, where: str, message: str) -> None:
    """An :class:`HfxWarning` for something carried over approximately."""
    warnings.warn(f"{source or '<HS3>'}: {where}: {message}", HfxWarning, stacklevel=4)


def scalar_parameter(kind: str, name: str) -> str:
    """The HS3 parameter of a scalar modifier (``alpha_<name>`` for normsys, histosys)."""
    return ALPHA + name if kind in ("normsys", "histosys") else name


def gamma_names(kind: str, name: str, channel: str, nbins: int) -> list[str]:
    """The HS3 parameters of a per-bin modifier, as ROOT names them."""
    stem = f"stat_{channel}" if kind == "staterror" and name == f"staterror_{channel}" else name
    return [f"gamma_{stem}_bin_{i}" for i in range(nbins)]


def as_number(value: Any, source: str | None, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail(source, where, f"expected a number, found {value!r}")
    return float(value)
