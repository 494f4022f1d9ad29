"""CMS Combine datacards -> HistFactory JSON workspaces (``hfx datacard2json``).

Counting and template (TH1) shape datacards are read; the model is Combine's default one
(``text2workspace.py`` with the default physics model: ``r`` scales the signal processes).
What the JSON spec cannot express is a :class:`~hfx.errors.SpecError` naming the file and
line: ``lnU``, ``shapeN``/``shapeU``, ``gmM``, ``trG``, ``unif``, ``dFD``, ``constr``,
formula or workspace ``rateParam``, ``extArg``, ``discrete``, ``nuisance edit``,
parametric/RooFit shapes, asymmetric ``param`` widths, ``gmN`` with N = 0 or shared by
several columns, ``gmN`` on a template of more than one bin.

Interpolation.  The JSON spec carries no interpolation codes; choose them when building
the model: ``ws.model(modifier_settings=COMBINE_MODIFIER_SETTINGS)`` gives

* ``normsys`` code 1 (piecewise exponential): a symmetric ``lnN`` κ is then exactly
  Combine's κ^θ.  An asymmetric κ_down/κ_up is exactly Combine's outside |θ| < 0.5; inside,
  Combine interpolates log κ smoothly (``AsymPow``) where code 1 switches at θ = 0 (for
  0.8/1.3 at θ = 0.25: 1.06666 in Combine, 1.06779 here, 0.1 %).  The normalisation part of
  ``shape`` nuisances is such an asymmetric lnN.
* ``histosys`` code 4p, which is Combine's vertical template morphing (the 6th-order
  polynomial in |θ| < 1, linear outside) exactly, when the shape scale is >= 1.  A scale
  s < 1 narrows Combine's polynomial region of that process to |sθ| < s; code 4p keeps
  |sθ| < 1 (they agree for symmetric up/down variations and outside |sθ| < 1).

hfx's default codes (normsys 4, histosys 4p, as pyhf's) differ from κ^θ for |θ| < 1 (for
κ = 1.2 at θ = 0.5 by about 0.1 %).  Main terms are Poisson as in Combine, constraints
Gaussian (nuisances, ``param``) or Poisson (``gmN``, ``autoMCStats`` per process).
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType
from typing import Any

from hfx.interfaces.io.datacard.build import POI
from hfx.interfaces.io.datacard.parse import Datacard, parse_datacard, parse_text

__all__ = [
    "COMBINE_MODIFIER_SETTINGS",
    "POI",
    "Datacard",
    "load_datacard",
    "parse_datacard",
    "parse_text",
    "read_datacard",
]

COMBINE_MODIFIER_SETTINGS = MappingProxyType(
    {
        "normsys": MappingProxyType({"interpcode": "code1"}),
        "histosys": MappingProxyType({"interpcode": "code4p"}),
    }
)
"""``modifier_settings`` that make a converted datacard's model Combine's (read-only)."""


def read_datacard(
    path: str | Path,
    *,
    basedir: str | Path | None = None,
    mass: float = 0.0,
    source: str | None = None,
) -> dict[str, Any]:
    """Read a Combine datacard into a validated HistFactory JSON workspace dict.

    Shape files are looked up in the current folder, then in ``basedir`` (default: the
    datacard's folder); ``$MASS`` in ``shapes`` lines becomes ``mass`` (Combine's ``-m``).
    Build its model with ``modifier_settings=COMBINE_MODIFIER_SETTINGS`` for Combine's
    interpolation.  Errors name the file and line (``source``, default ``path``).
    """
    return load_datacard(path, basedir=basedir, mass=mass, source=source)[0]


def load_datacard(
    path: str | Path,
    *,
    basedir: str | Path | None = None,
    mass: float = 0.0,
    source: str | None = None,
) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """:func:`read_datacard`, and the card's nuisance groups (``{group: [parameters]}``).

    Groups change nothing in the likelihood and the JSON spec has no place for them.
    """
    from hfx.interfaces.io.datacard.build import build_spec
    from hfx.interfaces.io.datacard.shapes import TemplateReader
    from hfx.spec.workspace import Workspace

    name = source if source is not None else str(path)
    card = parse_datacard(path, source=name)
    stem = Path(path).stem or "datacard"
    base = Path(basedir) if basedir is not None else None
    with TemplateReader(card, base, mass) as reader:
        spec = build_spec(card, reader, stem)
    Workspace(spec, source=f"{name} (as JSON)")
    return spec, {group: list(members) for group, members in card.groups.items()}
