"""The compiled :class:`Model`: expected rates, log-likelihood and its exact gradient.

Evaluation is a fixed sequence of array operations on flat (sample, bin) entries; it
broadcasts over any leading batch axes of ``pars`` [..., npars] and ``data`` [..., ndata].
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import math
from collections.abc import Mapping
from functools import cached_property
from typing import Any

import numpy as np

from hfx._names import did_you_mean
from hfx.compile.compiled import CompiledArrays
from hfx.compile.config import ModelConfig
from hfx.errors import ModelError
from hfx.likelihood.backends import Backend, SegmentIndex, get_backend
from hfx.likelihood.flat_terms import FlatTerms, build_flat_terms, pack_flat_terms
from hfx.likelihood.interpolation import interpolate, prepare
from hfx.likelihood.terms import (
    gauss_gradient,
    gauss_nll,
    poisson_constant,
    poisson_nll,
    poisson_residual,
    rate_constraint_gradient,
)

__all__ = ["MODEL_INPUTS", "Model", "ModelConfig"]

# the numeric inputs Model.with_inputs replaces (Model.inputs gives them as compiled)
MODEL_INPUTS = (
    "nominal",
    "histosys_high",
    "histosys_low",
    "normsys_high",
    "normsys_low",
    "gauss_sigma",
    "pois_tau",
)

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
# largest [entries, features · histosys parameters · bins] table of the dense histosys path
_MAX_DENSE_HISTOSYS = 4_000_000


def check_pars_shape(pars: Any, npars: int) -> None:
    """Refuse parameters whose last axis is not ``npars`` long (ModelError naming both)."""
    shape = tuple(getattr(pars, "shape", ()))
    if not shape or shape[-1] != npars:
        raise ModelError(
            f"pars has shape {list(shape)}, the model expects [..., {npars}] "
            f"(one value per parameter)"
        )


def check_data_shape(data: Any, size: int, what: str) -> None:
    """Refuse data whose last axis is not ``size`` long; ``what`` says what it holds."""
    shape = tuple(getattr(data, "shape", ()))
    if not shape or shape[-1] != size:
        raise ModelError(
            f"data has shape {list(shape)}, the model expects {size} values per dataset "
            f"([..., {size}]: {what})"
        )


def check_model_data(data: Any, nmaindata: int, nauxdata: int) -> None:
    """Refuse data whose last axis is not the main bins followed by the auxiliary data."""
    check_data_shape(data, nmaindata + nauxdata, f"{nmaindata} bins + {nauxdata} auxiliary")


def _is_tracer(value: Any) -> bool:
    """Whether ``value`` is a JAX tracer (without importing JAX when it is not loaded)."""
    import sys

    core = sys.modules.get("jax.core")
    return core is not None and isinstance(value, core.Tracer)


class Model:
    """A compiled HistFactory model bound to one array backend."""

    def __init__(self, config: ModelConfig, arrays: CompiledArrays, backend: Any = "numpy"):
        self.config = config
        self.arrays = arrays
        self.backend: Backend = get_backend(backend)
        self._prepared = False

    def __getattr__(self, name: str) -> Any:
        # The backend arrays of the array code (_prepare) are made at their first use: fits
        # on the compiled kernels read flat_terms instead and never need them.
        if name.startswith("_") and not self.__dict__.get("_prepared", True):
            self.prepare_arrays()
            return getattr(self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def with_nominal(self, nominal: Any) -> Model:
        """The same model with its nominal yields replaced: ``nominal`` is one value per
        entry (a sample in a bin; ``arrays.entry_sample``/``entry_bin`` say which), and may
        be a traced JAX array, so gradients with respect to the yields flow.  The modifiers'
        data stay as compiled: normsys factors and staterror widths relative to the yield,
        histosys shifts absolute.  :meth:`with_inputs` replaces modifier data too."""
        return self.with_inputs({"nominal": nominal})

    def inputs(self) -> dict[str, np.ndarray]:
        """The model's numeric inputs as compiled, by name (see :data:`MODEL_INPUTS`)."""
        a, t = self.arrays, self.arrays.terms
        values = {
            "nominal": a.nominal,
            "histosys_high": t.histosys.high,
            "histosys_low": t.histosys.low,
            "normsys_high": t.normsys.high,
            "normsys_low": t.normsys.low,
            "gauss_sigma": a.gauss_sigma,
            "pois_tau": a.pois_tau,
        }
        return {name: np.array(value, dtype=np.float64) for name, value in values.items()}

    def with_inputs(self, inputs: Mapping[str, Any]) -> Model:
        """The same model with some numeric inputs replaced (names in :data:`MODEL_INPUTS`,
        shapes as :meth:`inputs` gives them); values may be traced JAX arrays, so gradients
        with respect to yields and modifier data flow.

        ``histosys_high``/``histosys_low`` are the up/down templates' yields of each histosys
        variation; when they are given with ``nominal``, the shifts are taken from the new
        nominal yields of their entries.  ``normsys_high``/``normsys_low`` are the factors
        κ±, ``gauss_sigma`` the widths of the Gaussian constraints (relative for staterror)
        and ``pois_tau`` the τ of the Poisson (shapesys) constraints.
        """
        current = self.inputs()
        for name, value in inputs.items():
            if name not in current:
                hint = did_you_mean(name, list(current), noun="input")
                raise ModelError(f"unknown model input {name!r}: {hint}")
            shape = tuple(np.shape(value))
            if shape != current[name].shape:
                what = "entries" if name == "nominal" else "values"
                raise ModelError(
                    f"{name} has shape {list(shape)}, the model has {current[name].size} {what}"
                )
        t = self.arrays.terms
        histosys_nominal = t.histosys.nominal
        if "nominal" in inputs and ("histosys_high" in inputs or "histosys_low" in inputs):
            first_entry = np.zeros(t.histosys.var_par.size, dtype=np.intp)
            first_entry[t.histosys.source] = t.histosys.entry
            histosys_nominal = inputs["nominal"][first_entry]
        if not any(_is_tracer(value) for value in inputs.values()):
            new = {**current, **{k: np.array(v, dtype=np.float64) for k, v in inputs.items()}}
            histosys = dataclasses.replace(
                t.histosys,
                nominal=np.array(histosys_nominal, dtype=np.float64),
                high=new["histosys_high"],
                low=new["histosys_low"],
            )
            normsys = dataclasses.replace(
                t.normsys, high=new["normsys_high"], low=new["normsys_low"]
            )
            arrays = dataclasses.replace(
                self.arrays,
                nominal=new["nominal"],
                terms=dataclasses.replace(t, histosys=histosys, normsys=normsys),
                gauss_sigma=new["gauss_sigma"],
                pois_tau=new["pois_tau"],
            )
            return Model(self.config, arrays, backend=self.backend)
        # inside a JAX trace: the same model with the traced inputs in its backend arrays
        if self.backend.name != "jax":
            raise ModelError("traced model inputs need the model on the JAX backend")
        self.prepare_arrays()
        xp = self.backend.xp
        twin = copy.copy(self)
        for name in ("jax_compiled", "jax_exported", "flat_terms", "packed_terms"):
            twin.__dict__.pop(name, None)  # compiled for the old inputs
        if "nominal" in inputs:
            twin._nominal = xp.asarray(inputs["nominal"])
        codes = self.arrays.codes
        if "normsys_high" in inputs or "normsys_low" in inputs:
            twin._ns_consts = self._traced_consts(
                codes["normsys"],
                t.normsys.nominal,
                inputs.get("normsys_high", t.normsys.high),
                inputs.get("normsys_low", t.normsys.low),
            )
        if "histosys_high" in inputs or "histosys_low" in inputs:
            twin._hs_consts = self._traced_consts(
                codes["histosys"],
                histosys_nominal,
                inputs.get("histosys_high", t.histosys.high),
                inputs.get("histosys_low", t.histosys.low),
            )
        if "gauss_sigma" in inputs:
            sigma = xp.asarray(inputs["gauss_sigma"])
            twin._g_sigma = sigma
            twin._g_norm = -xp.sum(xp.log(sigma)) - _HALF_LOG_2PI * self.arrays.gauss_sigma.size
        if "pois_tau" in inputs:
            twin._p_tau = xp.asarray(inputs["pois_tau"])
        return twin

    def _traced_consts(self, code: str, nominal: Any, high: Any, low: Any) -> dict[str, Any]:
        xp = self.backend.xp
        consts = prepare(code, xp.asarray(nominal), xp.asarray(high), xp.asarray(low), xp=xp)
        return {"nominal": consts.nominal, "up": consts.up, "down": consts.down, **consts.extra}

    def prepare_arrays(self) -> None:
        """Make the backend arrays of the array code now, if not made yet.  A JAX trace
        must not be the first use: the arrays would be made inside it and escape it."""
        if self._prepared:
            return
        self._prepared = True
        try:
            self._prepare()
        except BaseException:
            self._prepared = False
            raise

    @cached_property
    def flat_terms(self) -> FlatTerms:
        """The model's terms as flat tables for scalar code (the compiled kernels read them)."""
        return build_flat_terms(self.arrays)

    @cached_property
    def packed_terms(self) -> tuple[Any, ...]:
        """:attr:`flat_terms` packed as the compiled kernels take them
        (:func:`~hfx.likelihood.flat_terms.pack_flat_terms`)."""
        return pack_flat_terms(self.flat_terms)

    def to(self, backend: Any) -> Model:
        """The same model on another backend (arrays are moved once)."""
        return Model(self.config, self.arrays, backend=backend)

    def __repr__(self) -> str:
        c = self.config
        return (
            f"<Model {c.npars} parameters, {c.nmaindata} bins in {len(c.channels)} channels, "
            f"{len(c.samples)} samples, poi={c.poi_name!r}, backend={self.backend.name}>"
        )

    # --- set-up ---------------------------------------------------------------------
    def _prepare(self) -> None:
        a, B = self.arrays, self.backend
        t = a.terms
        self._E, self._K, self._nb = a.nentries, a.nslots, a.nbins
        self._nominal = B.asarray(a.nominal)
        self._entry_bin = B.index(a.entry_bin)
        self._seg_bins = SegmentIndex(a.entry_bin, a.nbins)
        # multiplicative terms: linear ones then normsys ones, in one padded [E, K] table
        self._lin_par = B.index(t.linear.par)
        self._ns_var_par = B.index(t.normsys.var_par)
        self._ns_source = B.index(t.normsys.source)
        self._n_lin = t.linear.size
        flat = np.concatenate(
            [t.linear.entry * a.nslots + t.linear.slot, t.normsys.entry * a.nslots + t.normsys.slot]
        )
        self._mult_flat = B.index(flat)
        self._mult_entry = B.index(np.concatenate([t.linear.entry, t.normsys.entry]))
        self._ns_consts = self._backend_consts(
            prepare(a.codes["normsys"], t.normsys.nominal, t.normsys.high, t.normsys.low)
        )
        # additive histosys terms
        self._hs_par = B.index(t.histosys.var_par)
        self._hs_entry = B.index(t.histosys.entry)
        self._seg_hs = SegmentIndex(t.histosys.entry, a.nentries)
        self._hs_consts = self._backend_consts(
            prepare(a.codes["histosys"], t.histosys.nominal, t.histosys.high, t.histosys.low)
        )
        # entries whose nominal + histosys shifts are clamped at zero (see _base)
        clamped = a.clamped_entries()
        self._unclamped = B.asarray(~clamped) > 0.5 if clamped.any() else None
        # constraints
        self._g_par, self._g_aux = B.index(a.gauss_par), B.index(a.gauss_aux + a.nbins)
        self._g_sigma = B.asarray(a.gauss_sigma)
        self._g_norm = float(-np.sum(np.log(a.gauss_sigma)) - _HALF_LOG_2PI * a.gauss_sigma.size)
        self._p_par, self._p_aux = B.index(a.pois_par), B.index(a.pois_aux + a.nbins)
        self._p_tau = B.asarray(a.pois_tau)
        # gradient: one segment sum over every (term → parameter) contribution
        grad_ids = np.concatenate(
            [t.linear.par, t.normsys.par, t.histosys.par, a.gauss_par, a.pois_par]
        )
        self._seg_grad = SegmentIndex(grad_ids, self.config.npars)
        self._sample_flat = B.index(a.entry_sample * a.nbins + a.entry_bin)

    def _backend_consts(self, consts: Any) -> dict[str, Any]:
        B = self.backend
        out = {
            "nominal": B.asarray(consts.nominal),
            "up": B.asarray(consts.up),
            "down": B.asarray(consts.down),
        }
        out.update({k: B.asarray(v) for k, v in consts.extra.items()})
        return out

    def _errstate(self) -> Any:
        if self.backend.name == "numpy":
            return np.errstate(divide="ignore", invalid="ignore", over="ignore")
        return contextlib.nullcontext()

    # --- building blocks ------------------------------------------------------------
    def _asarray(self, x: Any) -> Any:
        return self.backend.asarray(x)

    def _mult_table(self, pars: Any, with_derivs: bool) -> tuple[Any, Any]:
        """Padded factor table [..., E, K] and per-term dκ/dθ (None without derivatives)."""
        B = self.backend
        lin = pars[..., self._lin_par]
        # one κ per normsys variation, then spread over the bins it scales
        d, dd = interpolate(
            B.xp, pars[..., self._ns_var_par], self._ns_consts, self.arrays.codes["normsys"]
        )
        d, dd = d[..., self._ns_source], dd[..., self._ns_source]
        values = B.concat([lin, 1.0 + d])
        table = B.full((*pars.shape[:-1], self._E * self._K), 1.0)
        table = B.scatter_into(table, self._mult_flat, values)
        table = table.reshape((*pars.shape[:-1], self._E, self._K))
        if not with_derivs:
            return table, None
        return table, B.concat([1.0 + 0.0 * lin, dd])

    def _shifts(self, pars: Any) -> tuple[Any, Any]:
        """Summed histosys shift per entry [..., E] and per-term ∂Δ/∂α."""
        d, dd = interpolate(
            self.backend.xp, pars[..., self._hs_par], self._hs_consts, self.arrays.codes["histosys"]
        )
        return self.backend.segment_sum(d, self._seg_hs), dd

    def _base(self, shift: Any) -> tuple[Any, Any]:
        """Each entry's nominal + histosys shifts, clamped at zero, and where it is not clamped.

        As ROOT's HistFactory (its histosys interpolation is positive definite), a sample's
        histosys-interpolated yield never goes below zero; where it is clamped, the histosys
        parameters do not move it.  pyhf does not clamp (``positive_definite`` False in the
        histosys modifier settings); the two agree wherever no such yield is negative.
        """
        raw = self._nominal + shift
        if self._unclamped is None:
            return raw, True
        keep = (raw >= 0.0) | self._unclamped
        return self.backend.xp.where(keep, raw, 0.0 * raw), keep

    def _entry_rates(self, pars: Any) -> Any:
        B = self.backend
        table, _ = self._mult_table(pars, with_derivs=False)
        shift, _ = self._shifts(pars)
        return B.prod(table) * self._base(shift)[0]

    def _pars(self, pars: Any) -> Any:
        """``pars`` as a backend array, its last axis checked against the model's npars."""
        pars = self.backend.asarray(pars)
        check_pars_shape(pars, self.config.npars)
        return pars

    # --- public evaluation ----------------------------------------------------------
    def expected_actualdata(self, pars: Any) -> Any:
        """Expected counts in every bin, [..., nbins]."""
        with self._errstate():
            pars = self._pars(pars)
            return self.backend.segment_sum(self._entry_rates(pars), self._seg_bins)

    def expected_auxdata(self, pars: Any) -> Any:
        """Expected auxiliary data (the constraint means), [..., nauxdata]."""
        B = self.backend
        pars = self._pars(pars)
        gauss = pars[..., self._g_par]
        pois = pars[..., self._p_par] * self._p_tau
        # assemble in aux order: positions are a permutation of range(nauxdata)
        out = B.full((*pars.shape[:-1], self.config.nauxdata), 0.0)
        out = B.scatter_into(out, self.arrays.gauss_aux, gauss)
        out = B.scatter_into(out, self.arrays.pois_aux, pois)
        return out

    def expected_data(self, pars: Any, include_auxdata: bool = True) -> Any:
        """Expected main data followed (by default) by the expected auxiliary data."""
        main = self.expected_actualdata(pars)
        if not include_auxdata:
            return main
        return self.backend.concat([main, self.expected_auxdata(pars)])

    def expected_by_sample(self, pars: Any) -> Any:
        """Expected counts per sample, [..., nsamples, nbins] (samples sorted by name)."""
        B = self.backend
        with self._errstate():
            pars = self._pars(pars)
            rates = self._entry_rates(pars)
            nsamples = len(self.config.samples)
            out = B.full((*pars.shape[:-1], nsamples * self._nb), 0.0)
            out = B.scatter_into(out, self._sample_flat, rates)
            return out.reshape((*pars.shape[:-1], nsamples, self._nb))

    def _split(self, data: Any) -> tuple[Any, Any]:
        data = self._asarray(data)
        check_model_data(data, self._nb, self.config.nauxdata)
        return data, data[..., : self._nb]

    def logpdf(self, pars: Any, data: Any) -> Any:
        """log L(pars | data): Poisson main terms plus constraint terms, shape [...]."""
        with self._errstate():
            pars = self._pars(pars)
            data, observed = self._split(data)
            return self._main_logpdf(pars, observed) + self._constraint_logpdf(pars, data)

    def main_logpdf(self, pars: Any, observed: Any) -> Any:
        """Poisson part of log L for the observed bins only, [...]."""
        with self._errstate():
            observed = self._asarray(observed)
            check_data_shape(observed, self._nb, "the observed bins")
            return self._main_logpdf(self._pars(pars), observed)

    def constraint_logpdf(self, pars: Any, auxdata: Any) -> Any:
        """Constraint part of log L for the auxiliary data only, [...]."""
        with self._errstate():
            pars = self._pars(pars)
            aux = self._asarray(auxdata)
            check_data_shape(aux, self.config.nauxdata, "the auxiliary data")
            padded = self.backend.concat([self.backend.full((*aux.shape[:-1], self._nb), 0.0), aux])
            return self._constraint_logpdf(pars, padded)

    def _main_logpdf(self, pars: Any, observed: Any) -> Any:
        rates = self.backend.segment_sum(self._entry_rates(pars), self._seg_bins)
        return self._poisson_logpdf(observed, rates)

    def _poisson_logpdf(self, observed: Any, rates: Any) -> Any:
        """Σ_b log Pois(n_b | ν_b), continuous in n and safe at n = 0."""
        B = self.backend
        return -B.xp.sum(poisson_nll(B, observed, rates) + poisson_constant(B, observed), -1)

    def _constraint_logpdf(self, pars: Any, data: Any) -> Any:
        B, xp = self.backend, self.backend.xp
        gauss = gauss_nll(pars[..., self._g_par], data[..., self._g_aux], self._g_sigma)
        total = self._g_norm - xp.sum(gauss, -1)
        pois_aux = data[..., self._p_aux]
        lam = pars[..., self._p_par] * self._p_tau
        return total - xp.sum(poisson_nll(B, pois_aux, lam) + poisson_constant(B, pois_aux), -1)

    def nll(self, pars: Any, data: Any) -> Any:
        """Negative log-likelihood, −log L."""
        return -self.logpdf(pars, data)

    def twice_nll(self, pars: Any, data: Any) -> Any:
        """−2 log L."""
        return -2.0 * self.logpdf(pars, data)

    def nll_and_grad(self, pars: Any, data: Any) -> tuple[Any, Any]:
        """−log L and its exact gradient with respect to every parameter, [...] and [..., npars]."""
        B, xp = self.backend, self.backend.xp
        with self._errstate():
            pars = self._pars(pars)
            data, observed = self._split(data)
            table, dkappa = self._mult_table(pars, with_derivs=True)
            shift, dshift = self._shifts(pars)
            base, keep = self._base(shift)
            batch = table.shape[:-1]
            ones = B.full((*batch[:-1], self._E, 1), 1.0)
            prefix = B.cumprod(table)
            factor = prefix[..., -1]
            rates = B.segment_sum(factor * base, self._seg_bins)
            nll = -(self._poisson_logpdf(observed, rates) + self._constraint_logpdf(pars, data))

            weight = poisson_residual(xp, observed, rates)
            w_entry = weight[..., self._entry_bin]
            if self._K > 1:
                suffix = B.flip(B.cumprod(B.flip(table)))
                others = B.concat([ones, prefix[..., :-1]]) * B.concat([suffix[..., 1:], ones])
            else:
                others = 1.0 + 0.0 * table
            others = others.reshape((*batch[:-1], self._E * self._K))[..., self._mult_flat]
            coeff = (w_entry * base)[..., self._mult_entry]
            g_mult = coeff * others * dkappa
            g_add = (w_entry * factor * keep)[..., self._hs_entry] * dshift
            g_gauss = gauss_gradient(pars[..., self._g_par], data[..., self._g_aux], self._g_sigma)
            g_pois = rate_constraint_gradient(
                pars[..., self._p_par], data[..., self._p_aux], self._p_tau
            )
            shape = B.broadcast_shapes(
                tuple(g_mult.shape[:-1]),
                tuple(g_add.shape[:-1]),
                tuple(g_gauss.shape[:-1]),
                tuple(g_pois.shape[:-1]),
            )
            parts = [
                xp.broadcast_to(g, (*shape, g.shape[-1])) for g in (g_mult, g_add, g_gauss, g_pois)
            ]
            grad = B.segment_sum(B.concat(parts), self._seg_grad)
            return nll, grad

    def grad_nll(self, pars: Any, data: Any) -> Any:
        """Exact gradient of −log L, [..., npars]."""
        return self.nll_and_grad(pars, data)[1]

    def expected_and_jacobian(self, pars: Any) -> tuple[Any, Any]:
        """Expected main counts ν [..., nbins] and their Jacobian ∂ν/∂θ [..., nbins, npars].

        Exact, from the same per-term derivatives as :meth:`nll_and_grad`; used by the
        batched Gauss-Newton fits (the Fisher information of the Poisson terms is JᵀWJ).
        """
        B = self.backend
        dense = self._dense_histosys()
        if dense is None:
            with self._errstate():
                rates, d = self._term_derivatives(self._pars(pars))
                jac = B.segment_sum(d, self._jacobian_index(with_histosys=True))
                return rates, jac.reshape((*d.shape[:-1], self._nb, self.config.npars))
        seg = self._jacobian_index(with_histosys=False)
        with self._errstate():
            pars = self._pars(pars)
            table, dkappa = self._mult_table(pars, with_derivs=True)
            alpha = pars[..., dense["par"]]
            # every feature in one call: α [..., 1, P] against unit constants [K, P]
            feats, dshift = interpolate(np, alpha[..., None, :], dense["units"], dense["code"])
            shift = feats.reshape((*feats.shape[:-2], -1)) @ dense["shift_w"]
            base, keep = self._base(shift)
            batch = table.shape[:-1]
            factor = np.prod(table, axis=-1)
            rates = B.segment_sum(factor * base, self._seg_bins)
            # product of the other factors as (product of non-zero factors) / κ, exact
            # when at most the term itself is zero (e.g. μ = 0)
            zero = table == 0.0
            nonzero_prod = np.prod(np.where(zero, 1.0, table), axis=-1)
            nzero = np.count_nonzero(zero, axis=-1)
            kappa = table.reshape((*batch[:-1], self._E * self._K))[..., self._mult_flat]
            p_e = nonzero_prod[..., self._mult_entry]
            n_e = nzero[..., self._mult_entry]
            with np.errstate(divide="ignore", invalid="ignore"):
                others = np.where(
                    kappa == 0.0,
                    np.where(n_e == 1, p_e, 0.0),
                    np.where(n_e == 0, p_e / kappa, 0.0),
                )
            d_mult = base[..., self._mult_entry] * others * dkappa
            # numpy only: histosys columns as one dense product over the entries
            shape = np.broadcast_shapes(d_mult.shape[:-1], dshift.shape[:-2])
            d_mult = np.broadcast_to(d_mult, (*shape, d_mult.shape[-1]))
            jac = B.segment_sum(d_mult, seg).reshape((*shape, self._nb, self.config.npars))
            # G[k, p, b] = Σ_{e in b} w[k, p, e] · factor[e]; ∂ν_b/∂α_p = Σ_k f'_k(α_p) G[k, p, b]
            npar_hs = dense["par"].size
            g = ((factor * keep) @ dense["jac_w"]).reshape(
                (*factor.shape[:-1], -1, npar_hs, self._nb)
            )
            d_hs = np.einsum("...kp,...kpb->...bp", dshift, g)
            jac[..., dense["par"]] += d_hs
            return rates, jac

    def expected_by_sample_and_jacobian(self, pars: Any) -> tuple[Any, Any]:
        """Expected counts per sample [..., nsamples, nbins] and their exact Jacobian
        [..., nsamples, nbins, npars] (the per-sample split of :meth:`expected_and_jacobian`)."""
        B = self.backend
        nsamples, npars = len(self.config.samples), self.config.npars
        seg = self.__dict__.get("_seg_jac_sample")
        if seg is None:
            t, a = self.arrays.terms, self.arrays
            groups = [t.linear, t.normsys, t.histosys]
            entries = np.concatenate([g.entry for g in groups])
            params = np.concatenate([g.par for g in groups])
            cell = a.entry_sample[entries] * self._nb + a.entry_bin[entries]
            seg = SegmentIndex(cell * npars + params, nsamples * self._nb * npars)
            self.__dict__["_seg_jac_sample"] = seg
        with self._errstate():
            pars = self._pars(pars)
            _, d = self._term_derivatives(pars)
            jac = B.segment_sum(d, seg).reshape((*d.shape[:-1], nsamples, self._nb, npars))
        return self.expected_by_sample(pars), jac

    def _term_derivatives(self, pars: Any) -> tuple[Any, Any]:
        """Expected counts [..., nbins] and every term's ∂ν_entry/∂θ [..., T] (multiplicative
        terms, then histosys), the pieces the Jacobian sums by (bin, parameter)."""
        B = self.backend
        table, dkappa = self._mult_table(pars, with_derivs=True)
        shift, dshift = self._shifts(pars)
        base, keep = self._base(shift)
        batch = table.shape[:-1]
        prefix = B.cumprod(table)
        factor = prefix[..., -1]
        rates = B.segment_sum(factor * base, self._seg_bins)
        if self._K > 1:
            ones = B.full((*batch[:-1], self._E, 1), 1.0)
            suffix = B.flip(B.cumprod(B.flip(table)))
            others = B.concat([ones, prefix[..., :-1]]) * B.concat([suffix[..., 1:], ones])
            others = others.reshape((*batch[:-1], self._E * self._K))[..., self._mult_flat]
        else:
            others = (1.0 + 0.0 * table).reshape((*batch[:-1], self._E))[..., self._mult_flat]
        d_mult = base[..., self._mult_entry] * others * dkappa
        d_add = (factor * keep)[..., self._hs_entry] * dshift
        shape = B.broadcast_shapes(tuple(d_mult.shape[:-1]), tuple(d_add.shape[:-1]))
        parts = [B.xp.broadcast_to(d, (*shape, d.shape[-1])) for d in (d_mult, d_add)]
        return rates, B.concat(parts)

    def fisher_diagonal(self, pars: Any, weight: Any) -> Any:
        """Σ_b weight_b (∂ν_b/∂θ_p)², [..., npars]: the diagonal of JᵀWJ without forming J.

        Linear in the number of modifier entries (the Jacobian is summed only at the
        (bin, parameter) pairs that occur), for models too large for a dense Jacobian.
        """
        B = self.backend
        pairs = self.__dict__.get("_jac_pairs")
        if pairs is None:
            flat = self._jacobian_index(with_histosys=True).ids
            uniq, inverse = np.unique(flat, return_inverse=True)
            npars = self.config.npars
            pairs = (
                SegmentIndex(inverse, uniq.size),
                B.index(uniq // npars),
                SegmentIndex(uniq % npars, npars),
            )
            self.__dict__["_jac_pairs"] = pairs
        seg_pairs, pair_bin, seg_par = pairs
        with self._errstate():
            pars = self._pars(pars)
            _, d = self._term_derivatives(pars)
            jac = B.segment_sum(d, seg_pairs)
            return B.segment_sum(self._asarray(weight)[..., pair_bin] * jac * jac, seg_par)

    def _jacobian_index(self, with_histosys: bool) -> SegmentIndex:
        """Segment ids (bin · npars + parameter) of the multiplicative (and histosys) terms."""
        key = "_seg_jac_all" if with_histosys else "_seg_jac_mult"
        seg = self.__dict__.get(key)
        if seg is None:
            t, a = self.arrays.terms, self.arrays
            groups = [t.linear, t.normsys] + ([t.histosys] if with_histosys else [])
            entries = np.concatenate([g.entry for g in groups])
            params = np.concatenate([g.par for g in groups])
            flat = a.entry_bin[entries] * self.config.npars + params
            seg = SegmentIndex(flat, self._nb * self.config.npars)
            self.__dict__[key] = seg
        return seg

    def _dense_histosys(self) -> dict[str, Any] | None:
        """Histosys shifts as dense per-parameter products (NumPy backend, linear codes).

        code0, code2 and code4p give d(α) = Σ_k c_k f_k(α) with per-term constants c_k: the
        features f_k come from interpolating with unit constants, and the constants are
        summed per (parameter, entry) once.  None for other codes/backends or no histosys.
        """
        if "_dense_hs" in self.__dict__:
            cached: dict[str, Any] | None = self.__dict__["_dense_hs"]
            return cached
        code = self.arrays.codes["histosys"]
        t = self.arrays.terms.histosys
        dense = None
        pars, pos = np.unique(t.var_par, return_inverse=True)
        # at most four features per code: [E, 4 · P, nb] bounds the Jacobian table
        small = self._E * 4 * pars.size * self._nb <= _MAX_DENSE_HISTOSYS
        if (
            self.backend.name == "numpy"
            and code in ("code0", "code2", "code4p")
            and t.size
            and small
        ):
            consts = prepare(code, t.nominal, t.high, t.low)
            fields = {"up": consts.up, "down": consts.down, **consts.extra}
            weights = np.zeros((len(fields), pars.size, self._E))
            # unit constants [K, P]: feature k is d(α) with field k set to 1, the others to 0
            eye = np.eye(len(fields))[:, :, None] * np.ones(pars.size)
            units = {f: eye[k] for k, f in enumerate(fields)}
            units["nominal"] = np.zeros((len(fields), pars.size))
            for k, values in enumerate(fields.values()):
                np.add.at(weights[k], (pos, t.entry), values)
            entry_bin = np.zeros((self._E, self._nb))
            entry_bin[np.arange(self._E), self.arrays.entry_bin] = 1.0
            nk = len(fields)
            jac_w = weights[:, :, :, None] * entry_bin[None, None, :, :]  # [K, P, E, nb]
            dense = {
                "code": code,
                "par": pars,
                "units": units,
                "shift_w": weights.reshape(nk * pars.size, self._E),
                "jac_w": np.moveaxis(jac_w, 2, 0).reshape(self._E, -1),
            }
        self.__dict__["_dense_hs"] = dense
        return dense
