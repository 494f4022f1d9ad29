"""Differentiable inference (what neos needs): the profile likelihood ratio, asymptotic CLs
and the expected discovery significance as JAX functions of a model's yields and modifier
data.

Fits enter through the implicit function theorem, not by differentiating the optimiser:
the fit itself runs in hfx's NumPy engine (a ``jax.pure_callback``), and its derivative
with respect to the yields is −H⁻¹ ∂²(−log L)/∂θ∂ν at the fitted point (H over the free
parameters that are not on a bound).  Everything after the fits — −log L at the fitted
points, the Asimov data, q̃μ, CLs — is ordinary JAX, so ``jax.grad`` of any of them with
respect to the yields is exact.

The inputs ``nu`` are either the model's per-entry nominal counts (``model.arrays.nominal``,
one per sample and bin; ``entry_labels(model)`` names them), the modifier data then staying
as compiled, or a dict of named inputs (:data:`hfx.likelihood.model.MODEL_INPUTS`: nominal
yields, histosys templates, normsys factors, constraint widths and τ; ``model.inputs()``
gives them as compiled, ``input_labels(model)`` names their components), so that
``jax.grad`` returns a dict of the same shape.  Needs the ``jax`` extra.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hfx.errors import ModelError

__all__ = ["DifferentiableModel", "entry_labels", "input_labels"]


def entry_labels(model: Any) -> list[tuple[str, str, int]]:
    """(channel, sample, bin within the channel) of each entry of the nominal yields."""
    cfg, arrays = model.config, model.arrays
    channel_of_bin: list[tuple[str, int]] = []
    for name, part in sorted(cfg.channel_slices.items(), key=lambda item: item[1].start):
        channel_of_bin += [(name, i) for i in range(part.stop - part.start)]
    return [
        (channel_of_bin[b][0], cfg.samples[s], channel_of_bin[b][1])
        for s, b in zip(arrays.entry_sample.tolist(), arrays.entry_bin.tolist(), strict=True)
    ]


def input_labels(model: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Names of the components of each of ``model.inputs()``: (channel, sample, bin) of the
    nominal yields, (channel, sample, bin, modifier) of the histosys templates, (channel,
    sample, modifier) of the normsys factors and the constrained parameter of each
    ``gauss_sigma`` / ``pois_tau``."""
    entries = entry_labels(model)
    names = model.config.par_names
    arrays, t = model.arrays, model.arrays.terms

    def variations(terms: Any) -> list[tuple[tuple[str, str, int], str]]:
        first_entry = np.zeros(terms.var_par.size, dtype=np.intp)
        first_entry[terms.source] = terms.entry
        return [
            (entries[e], names[p])
            for e, p in zip(first_entry.tolist(), terms.var_par.tolist(), strict=True)
        ]

    histosys = [(*entry, par) for entry, par in variations(t.histosys)]
    normsys = [(entry[0], entry[1], par) for entry, par in variations(t.normsys)]
    return {
        "nominal": [tuple(e) for e in entries],
        "histosys_high": histosys,
        "histosys_low": list(histosys),
        "normsys_high": normsys,
        "normsys_low": list(normsys),
        "gauss_sigma": [(names[p],) for p in arrays.gauss_par.tolist()],
        "pois_tau": [(names[p],) for p in arrays.pois_par.tolist()],
    }


class DifferentiableModel:
    """Inference on ``model`` as JAX functions of its inputs ``nu``: the nominal yields
    [nentries], or a dict of named inputs (see the module's docstring).

    ``twice_nll(nu, pars, data)``, ``fit(nu, data, poi=None)`` (best-fit parameters; with
    ``poi`` the POI held there), ``qmu_tilde(nu, data, mu)``, ``cls(nu, data, mu)``
    (asymptotic, q̃μ) and ``expected_cls(nu, mu)`` / ``expected_significance(nu)`` (on the
    background-only / signal-plus-background Asimov data of the yields ``nu``).
    """

    def __init__(self, model: Any):
        try:
            import jax
            import jax.numpy as jnp
        except ImportError:
            from hfx.errors import MissingExtraError

            raise MissingExtraError(
                "differentiable inference needs JAX: pip install 'hfx[jax]'"
            ) from None
        if model.config.poi_index is None:
            raise ModelError("differentiable inference needs a model with a POI")
        self.jax, self.jnp = jax, jnp
        self.model = model if model.backend.name == "jax" else model.to("jax")
        self.model.prepare_arrays()
        self.numpy_model = model if model.backend.name == "numpy" else model.to("numpy")
        cfg = model.config
        self.poi = cfg.poi_index
        self.init = np.array(cfg.suggested_init(), dtype=np.float64)
        self.bounds = np.array(cfg.suggested_bounds(), dtype=np.float64)
        self.fixed = np.array(cfg.suggested_fixed(), dtype=bool)
        self.nominal = np.array(model.arrays.nominal, dtype=np.float64)
        self.inputs = model.inputs()  # every input as compiled, for dict-valued ``nu``
        self._fits = {held: self._make_fit(held) for held in (False, True)}

    # --- the likelihood as a function of the inputs -------------------------------------
    def twice_nll(self, nu: Any, pars: Any, data: Any) -> Any:
        return -2.0 * _twin(self.model, nu).logpdf(pars, data)

    def expected_data(self, nu: Any, pars: Any) -> Any:
        return _twin(self.model, nu).expected_data(pars)

    # --- fits with implicit gradients ----------------------------------------------------
    def fit(self, nu: Any, data: Any, poi: Any = None) -> Any:
        """Best-fit parameters [npars]; with ``poi``, the POI held at that value."""
        jnp = self.jnp
        nu = self.jax.tree_util.tree_map(lambda v: jnp.asarray(v, dtype=jnp.float64), nu)
        data = jnp.asarray(data, dtype=jnp.float64)
        if poi is None:
            return self._fits[False](nu, data, jnp.asarray(0.0))
        return self._fits[True](nu, data, jnp.asarray(poi, dtype=jnp.float64))

    def _make_fit(self, hold_poi: bool) -> Any:
        jax, jnp = self.jax, self.jnp
        fixed = self.fixed.copy()
        if hold_poi:
            fixed[self.poi] = True
        lo, hi = self.bounds[:, 0], self.bounds[:, 1]
        numpy_model, poi, init = self.numpy_model, self.poi, self.init

        def solve(nu: Any, data: Any, poi_value: Any) -> np.ndarray:
            from hfx.optimize import fit

            start = init.copy()
            if hold_poi:
                start[poi] = float(poi_value)
            twin = _twin(numpy_model, jax.tree_util.tree_map(np.asarray, nu))
            result = fit(
                twin,
                np.asarray(data),
                init=start,
                bounds=self.bounds,
                fixed=fixed,
                engine="numpy",
                uncertainties=False,
            )
            return np.asarray(result.bestfit, dtype=np.float64)

        shape = jax.ShapeDtypeStruct((self.init.size,), jnp.float64)

        def primal(nu: Any, data: Any, poi_value: Any) -> Any:
            return jax.pure_callback(solve, shape, nu, data, poi_value)

        best: Any = jax.custom_vjp(primal)

        def forward(nu: Any, data: Any, poi_value: Any) -> tuple[Any, Any]:
            x = best(nu, data, poi_value)
            return x, (x, nu, data, poi_value)

        def backward(saved: Any, cotangent: Any) -> tuple[Any, Any, Any]:
            x, nu, data, poi_value = saved

            def gradient(x: Any, nu: Any, data: Any) -> Any:
                return jax.grad(lambda p: self.twice_nll(nu, p, data))(x)

            g = gradient(x, nu, data)
            on_bound = ((x <= lo) & (g > 0)) | ((x >= hi) & (g < 0))
            moving = jnp.asarray(~fixed) & ~on_bound
            hessian = jax.hessian(lambda p: self.twice_nll(nu, p, data))(x)
            pair = moving[:, None] & moving[None, :]
            h = jnp.where(pair, hessian, 0.0) + jnp.diag(jnp.where(moving, 0.0, 1.0))
            w = -jnp.linalg.solve(h, jnp.where(moving, cotangent, 0.0))
            w = jnp.where(moving, w, 0.0)
            _, pullback = jax.vjp(lambda n, d: gradient(x, n, d), nu, data)
            d_nu, d_data = pullback(w)
            d_poi = cotangent[poi] if hold_poi else jnp.zeros_like(poi_value)
            if hold_poi:  # the held POI moves the other parameters too
                d_poi = d_poi + jnp.dot(
                    w, jax.jacfwd(lambda m: gradient(x.at[poi].set(m), nu, data))(x[poi])
                )
            return d_nu, d_data, d_poi

        best.defvjp(forward, backward)
        return best

    # --- test statistics and CLs ---------------------------------------------------------
    def qmu_tilde(self, nu: Any, data: Any, mu: float) -> Any:
        """q̃μ (POI bounded at 0): 2 [NLL(μ, θ̂̂) − NLL(μ̂, θ̂)], 0 where μ̂ > μ."""
        jnp = self.jnp
        free = self.fit(nu, data)
        held = self.fit(nu, data, mu)
        q = self.twice_nll(nu, held, data) - self.twice_nll(nu, free, data)
        return jnp.where(free[self.poi] > mu, 0.0, jnp.clip(q, 0.0, None))

    def asimov_data(self, nu: Any, data: Any, mu: float) -> Any:
        """Expected data at the fit with the POI held at ``mu`` (main + auxiliary)."""
        return self.expected_data(nu, self.fit(nu, data, mu))

    def cls(self, nu: Any, data: Any, mu: float = 1.0) -> Any:
        """Observed asymptotic CLs of ``mu`` (q̃μ, background-only Asimov data)."""
        q = self.qmu_tilde(nu, data, mu)
        q_a = self.qmu_tilde(nu, self.asimov_data(nu, data, 0.0), mu)
        return _cls_from_q(self.jnp, self.jax, q, q_a)

    def expected_cls(self, nu: Any, mu: float = 1.0) -> Any:
        """Median expected CLs of ``mu``: the CLs of the background-only Asimov data of the
        yields themselves (μ = 0, the other parameters at their initial values)."""
        asimov = self.expected_data(nu, self.jnp.asarray(self.init).at[self.poi].set(0.0))
        return self.cls(nu, asimov, mu)

    def expected_significance(self, nu: Any) -> Any:
        """Median expected discovery significance √q₀ on the μ = 1 Asimov data."""
        jnp = self.jnp
        asimov = self.expected_data(nu, jnp.asarray(self.init).at[self.poi].set(1.0))
        free = self.fit(nu, asimov)
        held = self.fit(nu, asimov, 0.0)
        q0 = self.twice_nll(nu, held, asimov) - self.twice_nll(nu, free, asimov)
        return jnp.sqrt(jnp.clip(q0, 1e-300, None))


def _twin(model: Any, nu: Any) -> Any:
    """``model`` with the inputs ``nu`` (nominal yields, or a dict of named inputs)."""
    if isinstance(nu, dict):
        return model.with_inputs(nu)
    return model.with_nominal(nu)


def _cls_from_q(jnp: Any, jax: Any, q: Any, q_a: Any) -> Any:
    """Asymptotic CLs for q̃μ (Cowan et al. 2011): p_{s+b} / (1 − p_b)."""
    from jax.scipy.stats import norm

    sqrt_q = jnp.sqrt(jnp.clip(q, 1e-300, None))
    sqrt_qa = jnp.sqrt(jnp.clip(q_a, 1e-300, None))
    low = q <= q_a
    clsb = jnp.where(low, norm.sf(sqrt_q), norm.sf((q + q_a) / (2.0 * sqrt_qa)))
    clb = jnp.where(low, norm.cdf(sqrt_qa - sqrt_q), norm.sf((q - q_a) / (2.0 * sqrt_qa)))
    return clsb / clb
