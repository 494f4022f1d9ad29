"""Second derivatives of the expected counts, for exact Newton steps (NumPy or JAX).

The Hessian of Σ_b (ν_b − n_b log ν_b) is JᵀWJ (Gauss-Newton, W = n/ν²) plus the
residual curvature Σ_b r_b ∂²ν_b/∂θ∂θ with r_b = 1 − n_b/ν_b.  Each entry's rate is
ν_e = Π_k κ_k · (I⁰_e + Σ_h Δ_h), so ∂²ν_e is built from per-slot factors: pairs of
multiplicative slots (product of the other factors), one slot's κ'', slot × histosys
cross terms and each histosys Δ''.  Products "of the other factors" are taken from the
product of the non-zero factors and the count of zero ones, so they stay exact when a
factor is zero (μ = 0).  Slot terms are gathered into dense [entry, parameter] matrices
whose products give the parameter-space blocks in a few matrix multiplications.  The same
code runs on a JAX model inside a compiled fit (there the zero-factor blocks are always
built, as their need is not known before the trace).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hfx.likelihood.interpolation import second_derivative

MAX_DENSE_ELEMENTS = 4_000_000  # rows × entries × parameters of the dense slot matrices


class ResidualCurvature:
    """Σ_b r_b ∂²ν_b/∂θ∂θ for a NumPy or JAX :class:`~hfx.likelihood.model.Model`, many rows
    at once."""

    def __init__(self, model: Any):
        a, t = model.arrays, model.arrays.terms
        self.model = model
        self.npars = model.config.npars
        self.nentries = a.nentries
        self.entry_bin = a.entry_bin
        self.nlin = t.linear.size
        self.mult_entry = np.concatenate([t.linear.entry, t.normsys.entry])
        mult_par = np.concatenate([t.linear.par, t.normsys.par])
        self.mult_flat = self.mult_entry * self.npars + mult_par
        self.mult_par = mult_par
        self.hs_flat = t.histosys.entry * self.npars + t.histosys.par
        self.hs_entry = t.histosys.entry
        self.hs_par = t.histosys.par

    @staticmethod
    def supports(model: Any) -> bool:
        """Whether ``model`` is a NumPy hfx model small enough for the dense products."""
        return (
            getattr(getattr(model, "backend", None), "name", None) == "numpy"
            and hasattr(model, "arrays")
            and model.arrays.nentries * model.config.npars <= MAX_DENSE_ELEMENTS
        )

    def __call__(self, pars: Any, residual: Any) -> Any:
        """[n, npars, npars] for parameters ``pars`` [n, npars] and r_b ``residual`` [n, nbins]."""
        m = self.model
        xp = m.backend.xp
        n, P = pars.shape[0], self.npars
        codes = m.arrays.codes
        with m._errstate():
            table, d1 = m._mult_table(pars, with_derivs=True)
            ns_d2 = second_derivative(pars[:, m._ns_var_par], m._ns_consts, codes["normsys"], xp)
            d2 = xp.concatenate([xp.zeros((n, self.nlin)), ns_d2[:, m._ns_source]], axis=1)
            shift, hs_d1 = m._shifts(pars)
            hs_d2 = second_derivative(pars[:, m._hs_par], m._hs_consts, codes["histosys"], xp)
        base, keep = m._base(shift)  # [n, E], clamped at zero as the model's rates are
        if keep is not True:  # clamped entries: their histosys terms do not move them
            hs_keep = keep[:, self.hs_entry]
            hs_d1, hs_d2 = hs_d1 * hs_keep, hs_d2 * hs_keep
        w = residual[:, self.entry_bin]  # r_b of each entry's bin
        zero = table == 0.0
        nonzero_prod = xp.prod(xp.where(zero, 1.0, table), axis=-1)  # [n, E]
        nzero = xp.sum(zero, axis=-1)
        kappa = table.reshape(n, -1)[:, m._mult_flat]
        zk = kappa == 0.0
        n0 = nzero[:, self.mult_entry]
        u = d1 / xp.where(zk, 1.0, kappa)  # κ'_k / κ_k (κ_k replaced by 1 where it is zero)
        c = (w * base * nonzero_prod)[:, self.mult_entry]  # r · I · Π(non-zero factors)
        alone = n0 == zk  # the other factors are all non-zero: O_k = Π(non-zero)/κ_k
        # dense [entry, parameter] matrices of the slot terms, one scatter for all:
        # U0 (entries without a zero factor), W = r O_k κ'_k and Dh = Δ'_h; with zero
        # factors also Uz / Unz (one zero: the zero slot / the others) and Uz2 (two zeros)
        one = n0 == 1
        blocks = [
            u * (n0 == 0),
            (w[:, self.mult_entry] * nonzero_prod[:, self.mult_entry]) * u * alone,
        ]
        with_zeros = xp is not np or bool(zk.any())
        if with_zeros:
            blocks += [u * (zk & one), u * (~zk & one), u * (zk & (n0 == 2))]
        mats = self._scatter(xp, n, blocks, hs_d1)  # [n, nblocks, E, P]
        u0, wm, dh = mats[:, 0], mats[:, 1], mats[:, -1]
        cw = (w * base * nonzero_prod)[:, :, None]  # c per entry
        cross = xp.matmul(wm.transpose(0, 2, 1), dh)
        hess = xp.matmul(u0.transpose(0, 2, 1), cw * u0) + cross + cross.transpose(0, 2, 1)
        if with_zeros:
            uz, unz, uz2 = mats[:, 2], mats[:, 3], mats[:, 4]
            half = xp.matmul(uz.transpose(0, 2, 1), cw * unz)
            hess += half + half.transpose(0, 2, 1) + xp.matmul(uz2.transpose(0, 2, 1), cw * uz2)
        # diagonal: remove the k = l products counted above, add κ'' and Δ'' terms
        pairs_self = (n0 == 0) | (zk & (n0 == 2))
        diag_mult = c * (alone * d2 / xp.where(zk, 1.0, kappa) - pairs_self * u * u)
        factor = xp.where(nzero == 0, nonzero_prod, 0.0)
        diag_hs = (w * factor)[:, self.hs_entry] * hs_d2
        ids = np.concatenate([self.mult_par, self.hs_par])
        vals = xp.concatenate([diag_mult, diag_hs], axis=1)
        if xp is np:
            offsets = (np.arange(n) * P)[:, None]
            flat = (ids + offsets).ravel()
            diag = np.bincount(flat, vals.ravel(), minlength=n * P).reshape(n, P)
            idx = np.arange(P)
            hess[:, idx, idx] += diag
            return hess
        diag = xp.zeros((n, P), dtype=vals.dtype).at[:, ids].add(vals)
        return hess + diag[:, :, None] * xp.eye(P, dtype=vals.dtype)

    def _scatter(self, xp: Any, n: int, slot_terms: list[Any], hs_terms: Any) -> Any:
        """[n, len(slot_terms) + 1, E, P]: each slot term, then Δ'_h, as a dense matrix."""
        k = self.nentries * self.npars
        nblocks = len(slot_terms) + 1
        ids = [self.mult_flat + i * k for i in range(len(slot_terms))]
        ids.append(self.hs_flat + len(slot_terms) * k)
        flat = np.concatenate(ids)
        vals = xp.concatenate([*slot_terms, hs_terms], axis=1)
        total = nblocks * k
        if xp is np:
            offsets = (np.arange(n) * total)[:, None]
            out = np.bincount((flat + offsets).ravel(), vals.ravel(), minlength=n * total)
        else:
            out = xp.zeros((n, total), dtype=vals.dtype).at[:, flat].add(vals)
        return out.reshape(n, nblocks, self.nentries, self.npars)
