"""A model's terms as flat tables for scalar (compiled) code.

The compiled kernels (:mod:`hfx.optimize.kernel`) evaluate the expected counts and −log L
one row at a time; they read the model through these tables: the multiplicative terms of
each (sample, bin) entry in a CSR layout, the interpolation constants of every normsys and
histosys variation as one table of columns (:data:`NOM` … :data:`COEF` + 5), and the
constraints.  The constants are those of :func:`hfx.likelihood.interpolation.prepare`.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, NamedTuple

import numpy as np

from hfx.compile.compiled import CompiledArrays
from hfx.likelihood.interpolation import prepare

__all__ = [
    "CODE_IDS",
    "FLOAT_TABLES",
    "INT_TABLES",
    "NCONST",
    "FlatTerms",
    "build_flat_terms",
    "pack_flat_terms",
]

CODE_IDS = MappingProxyType({"code0": 0, "code1": 1, "code2": 2, "code4": 4, "code4p": 5})
# columns of the per-variation constant table
NOM, UP, DOWN, LOG_UP, LOG_DOWN, A, B, S, COEF = range(9)
NCONST = COEF + 6


class FlatTerms(NamedTuple):
    """A model's terms as flat tables for scalar code: per entry its multiplicative terms
    (a CSR layout), per variation its interpolation constants, per constraint its data."""

    nbins: int
    nominal: np.ndarray  # [E]
    entry_bin: np.ndarray  # [E]
    mult_ptr: np.ndarray  # [E + 1]: entry e owns multiplicative terms ptr[e]:ptr[e + 1]
    mult_par: np.ndarray  # parameter of each multiplicative term
    mult_var: np.ndarray  # its normsys variation, −1 for a linear factor
    ns_code: int
    ns_par: np.ndarray  # [V] parameter of each normsys variation
    ns_consts: np.ndarray  # [V, NCONST]
    hs_code: int
    hs_par: np.ndarray  # [W] parameter of each histosys variation
    hs_consts: np.ndarray  # [W, NCONST]
    hs_entry: np.ndarray  # [T] entry of each histosys term
    hs_var: np.ndarray  # [T] its variation
    hs_clamp: np.ndarray  # [E] 1 where the entry's nominal + histosys shifts is clamped at 0
    gauss_par: np.ndarray
    gauss_aux: np.ndarray  # position in the full data vector
    gauss_sigma: np.ndarray
    pois_par: np.ndarray
    pois_aux: np.ndarray
    pois_tau: np.ndarray


def _constants(code: str, nominal: Any, high: Any, low: Any) -> np.ndarray:
    """Interpolation constants per variation as one table (columns NOM … COEF + 5)."""
    c = prepare(code, nominal, high, low)
    out = np.zeros((c.nominal.size, NCONST))
    out[:, NOM], out[:, UP], out[:, DOWN] = c.nominal, c.up, c.down
    for name, col in (("log_up", LOG_UP), ("log_down", LOG_DOWN), ("a", A), ("b", B)):
        if name in c.extra:
            out[:, col] = c.extra[name]
    if "s" in c.extra:
        out[:, S] = c.extra["s"]
    if "coef" in c.extra:
        out[:, COEF:] = c.extra["coef"]
    return out


def build_flat_terms(a: CompiledArrays) -> FlatTerms:
    """The :class:`FlatTerms` of compiled arrays (``Model.flat_terms`` keeps them)."""
    t = a.terms

    def ints(v: Any) -> np.ndarray:
        return np.ascontiguousarray(v, dtype=np.int64)

    entry = np.concatenate([t.linear.entry, t.normsys.entry])
    par = np.concatenate([t.linear.par, t.normsys.par])
    var = np.concatenate([np.full(t.linear.size, -1), t.normsys.source])
    order = np.argsort(entry, kind="stable")
    ptr = np.zeros(a.nentries + 1, dtype=np.int64)
    np.cumsum(np.bincount(entry, minlength=a.nentries), out=ptr[1:])
    codes = a.codes
    return FlatTerms(
        nbins=int(a.nbins),
        nominal=np.ascontiguousarray(a.nominal, dtype=np.float64),
        entry_bin=ints(a.entry_bin),
        mult_ptr=ptr,
        mult_par=ints(par[order]),
        mult_var=ints(var[order]),
        ns_code=CODE_IDS[codes["normsys"]],
        ns_par=ints(t.normsys.var_par),
        ns_consts=_constants(codes["normsys"], t.normsys.nominal, t.normsys.high, t.normsys.low),
        hs_code=CODE_IDS[codes["histosys"]],
        hs_par=ints(t.histosys.var_par),
        hs_consts=_constants(
            codes["histosys"], t.histosys.nominal, t.histosys.high, t.histosys.low
        ),
        hs_entry=ints(t.histosys.entry),
        hs_var=ints(t.histosys.source),
        hs_clamp=ints(a.clamped_entries()),
        gauss_par=ints(a.gauss_par),
        gauss_aux=ints(a.gauss_aux + a.nbins),
        gauss_sigma=np.ascontiguousarray(a.gauss_sigma, dtype=np.float64),
        pois_par=ints(a.pois_par),
        pois_aux=ints(a.pois_aux + a.nbins),
        pois_tau=np.ascontiguousarray(a.pois_tau, dtype=np.float64),
    )


# The tables of a FlatTerms as the compiled kernels receive them: the integer tables one
# after another in one vector, likewise the float vectors, the two constant tables stacked.
# Four arrays instead of eighteen: each array handed to compiled code costs its own
# conversion on every call (about 0.2 µs).
INT_TABLES = (
    "entry_bin", "mult_ptr", "mult_par", "mult_var", "ns_par", "hs_par", "hs_entry", "hs_var",
    "hs_clamp", "gauss_par", "gauss_aux", "pois_par", "pois_aux",
)  # fmt: skip
FLOAT_TABLES = ("nominal", "gauss_sigma", "pois_tau")


def pack_flat_terms(k: FlatTerms) -> tuple[Any, ...]:
    """``k`` as the plain tuple the kernels take: (nbins, ns_code, hs_code, ints, floats,
    consts, ends); ``ends`` holds the end offsets of :data:`INT_TABLES` in ``ints``, then
    of :data:`FLOAT_TABLES` in ``floats``, then the number of normsys rows of ``consts``
    (normsys constants first, histosys ones after)."""
    int_parts = [np.asarray(getattr(k, name), dtype=np.int64) for name in INT_TABLES]
    float_parts = [np.asarray(getattr(k, name), dtype=np.float64) for name in FLOAT_TABLES]
    ends = np.concatenate(
        [
            np.cumsum([part.size for part in int_parts]),
            np.cumsum([part.size for part in float_parts]),
            [k.ns_consts.shape[0]],
        ]
    ).astype(np.int64)
    consts = np.concatenate([k.ns_consts, k.hs_consts]).reshape(-1, NCONST)
    return (
        int(k.nbins),
        int(k.ns_code),
        int(k.hs_code),
        np.ascontiguousarray(np.concatenate(int_parts), dtype=np.int64),
        np.ascontiguousarray(np.concatenate(float_parts), dtype=np.float64),
        np.ascontiguousarray(consts, dtype=np.float64),
        ends,
    )
