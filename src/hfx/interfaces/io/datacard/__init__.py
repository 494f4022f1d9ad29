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
  Combine's κ^θ.  An asymmetric κ_down/κ_up is exactly Combine's for |θ| >= 0.5; inside,
  Combine interpolates log κ smoothly (``AsymPow``) where code 1 switches at θ = 0: for
  0.8/1.3 the factors differ by at most 0.14 % (θ = 0.25: 1.06671 in Combine, 1.06779
  here).  The normalisation part of ``shape`` nuisances is such an asymmetric lnN.
* ``histosys`` code 4p, which is Combine's vertical template morphing exactly (the
  6th-order polynomial in |θ| < 1, linear outside, negative bins truncated at 0) when every
  shape scale of the process is >= 1.  A scale s < 1 narrows Combine's polynomial region
  to |sθ| < s (a warning says so; the two agree for symmetric up/down templates and
  for |sθ| >= 1).

hfx's default codes (pyhf's: normsys 4, histosys 4p) give the same morphing, and for a
symmetric lnN agree with κ^θ to 3e-10; for an asymmetric one code 4 is up to 0.28 % from
``AsymPow`` (0.8/1.3), twice code 1's difference.  Main terms are Poisson as in Combine;
constraints are Gaussian (nuisances, ``param``) or Poisson (``gmN``, ``autoMCStats`` per
process); ``group`` lines change nothing in the likelihood and are returned by
:func:`load_datacard`, not written into the workspace (which has no place for them).

pyhf.  pyhf 0.7 reads these workspaces and gives the same likelihood (checked on Combine's
tutorial cards to 1e-12, with pyhf's unclamped morphing), except for two hfx settings:
a shape scale s != 1 or a ``param`` on an lnN/shape nuisance sets ``sigmas``/``auxdata``
of a normsys/histosys parameter (pyhf refuses them), and a ``param`` on a rateParam makes
a ``lumi`` modifier that pyhf's schema accepts only under the name ``lumi``.
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
