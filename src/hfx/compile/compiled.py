"""``compile_workspace``: workspace + measurement + settings → (ModelConfig, CompiledArrays).

All string handling, sorting, masks and index arrays are made here, once, as NumPy
arrays (:class:`CompiledArrays`); the model (:func:`hfx.likelihood.build.compile_model`,
one layer up) moves them to its backend.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from hfx._names import did_you_mean
from hfx.compile.config import ModelConfig
from hfx.compile.layout import Layout, build_layout
from hfx.compile.measurement import apply_measurement
from hfx.compile.modifiers import Terms, build_terms, declare_parameters, finalize_constraints
from hfx.compile.parameters import CONSTRAINT_NORMAL, CONSTRAINT_POISSON, ParameterTable
from hfx.compile.settings import resolve_histosys_positive, resolve_modifier_settings
from hfx.errors import MissingPOIWarning, ModelError

if TYPE_CHECKING:
    from hfx.spec.workspace import Workspace

__all__ = ["CompiledArrays", "compile_workspace"]


@dataclass(frozen=True)
class CompiledArrays:
    """Everything the likelihood needs, as flat NumPy arrays."""

    nbins: int
    nentries: int
    nslots: int
    entry_bin: np.ndarray
    entry_sample: np.ndarray
    nominal: np.ndarray
    terms: Terms
    codes: dict[str, str]
    gauss_par: np.ndarray
    gauss_aux: np.ndarray  # position in the aux data vector
    gauss_sigma: np.ndarray
    pois_par: np.ndarray
    pois_aux: np.ndarray
    pois_tau: np.ndarray
    nauxdata: int
    histosys_positive: bool = True  # each sample's nominal + histosys shifts clamped at 0

    def clamped_entries(self) -> np.ndarray:
        """[nentries] bool: the entries whose nominal + histosys shifts is clamped at zero."""
        out = np.zeros(self.nentries, dtype=np.bool_)
        if self.histosys_positive:
            out[self.terms.histosys.entry] = True
        return out


def _constraint_arrays(table: ParameterTable) -> dict[str, Any]:
    g_par: list[int] = []
    g_aux: list[int] = []
    g_sigma: list[float] = []
    p_par: list[int] = []
    p_aux: list[int] = []
    p_tau: list[float] = []
    aux_pos = 0
    for spec in table:
        if spec.constraint is None:
            continue
        idx = range(spec.slice.start, spec.slice.stop)
        pos = range(aux_pos, aux_pos + spec.n)
        aux_pos += spec.n
        if spec.constraint == CONSTRAINT_NORMAL:
            g_par.extend(idx)
            g_aux.extend(pos)
            g_sigma.extend(spec.sigmas)
        elif spec.constraint == CONSTRAINT_POISSON:
            p_par.extend(idx)
            p_aux.extend(pos)
            p_tau.extend(spec.factors)

    def ints(x: list[int]) -> np.ndarray:
        return np.asarray(x, dtype=np.int64)

    return {
        "gauss_par": ints(g_par),
        "gauss_aux": ints(g_aux),
        "gauss_sigma": np.asarray(g_sigma, dtype=np.float64),
        "pois_par": ints(p_par),
        "pois_aux": ints(p_aux),
        "pois_tau": np.asarray(p_tau, dtype=np.float64),
        "nauxdata": aux_pos,
    }


def compile_workspace(
    workspace: Workspace,
    measurement: Mapping[str, Any],
    *,
    modifier_settings: Mapping[str, Any] | None = None,
    poi_name: str | None = None,
) -> tuple[ModelConfig, CompiledArrays]:
    """Compile ``workspace`` under ``measurement``: the model's config and its arrays."""
    source = workspace.source
    channels_spec = workspace._spec["channels"]
    codes = resolve_modifier_settings(modifier_settings)
    positive = resolve_histosys_positive(modifier_settings)
    layout: Layout = build_layout(channels_spec)
    specs = declare_parameters(layout)
    finalize_constraints(layout, specs)
    # The measurement's POI may be missing (a background-only workspace without its signal
    # patch): the model is then built without a POI, with one warning that names it.
    measurement_poi = measurement.get("config", {}).get("poi") or None
    declared = {s.name for s in specs}
    missing_poi = None
    if poi_name is not None and poi_name not in declared:
        if poi_name != measurement_poi:
            raise ModelError(
                f"POI {poi_name!r} is not a parameter of the model; "
                + did_you_mean(poi_name, declared),
                source=source,
            )
        missing_poi, poi_name = poi_name, None
        warnings.warn(
            MissingPOIWarning(
                f"{source + ': ' if source else ''}measurement {measurement.get('name')!r}: "
                f"the POI {missing_poi!r} is not a parameter of the model (a background-only "
                "workspace? its signal patch adds it); the model has no POI",
                poi=missing_poi,
            ),
            stacklevel=3,
        )
    # a model built without a POI may leave the POI's config unused (no second warning)
    unused_ok = (
        frozenset({measurement_poi}) if poi_name is None and measurement_poi else frozenset()
    )
    apply_measurement(specs, measurement, source=source, optional=unused_ok)
    table = ParameterTable(specs)
    if poi_name is not None and table[poi_name].n != 1:
        raise ModelError(
            f"The parameter {poi_name!r} contains multiple components and is not currently "
            "supported as parameter of interest (the POI must be a single parameter, not per-bin)",
            source=source,
        )
    terms = build_terms(layout, table)
    arrays = CompiledArrays(
        nbins=layout.nbins,
        nentries=layout.nentries,
        nslots=terms.nslots,
        entry_bin=layout.entry_bin,
        entry_sample=layout.entry_sample,
        nominal=layout.nominal,
        terms=terms,
        codes=codes,
        **_constraint_arrays(table),
        histosys_positive=positive,
    )
    config = ModelConfig(
        table=table,
        layout=layout,
        poi_name=poi_name,
        measurement_name=measurement.get("name"),
        modifier_settings={
            "normsys": {"interpcode": codes["normsys"]},
            "histosys": {"interpcode": codes["histosys"], "positive_definite": positive},
        },
    )
    # read by inference errors: "the measurement's POI ... is missing, apply its signal patch"
    config.missing_poi = missing_poi
    return config, arrays
