"""Bayesian posteriors of a HistFactory model, sampled with NUTS (numpyro) on the JAX backend.

The priors are those of bayesian_pyhf: each constrained parameter's constraint term is its
prior (a normal of width σ around the auxiliary datum for normsys, histosys, staterror and
lumi; for shapesys the Poisson term, a gamma density in γ), and the other parameters
(normfactors, shapefactors) are flat within their bounds.  So the posterior density is the
model's likelihood — main Poisson terms times constraint terms — inside the bounds.  Any
parameter's prior can be replaced (``priors={"mu": ("normal", 1.0, 0.5)}``; for a
constrained parameter its constraint term is then left out).  Fixed parameters stay at their
initial values.

Sampling runs in an unconstrained space: a bounded parameter is ``lo + (hi − lo) σ(z)``,
with the log-Jacobian added to the density.  Chains start near the maximum-likelihood point.
Needs ``pip install 'hfx[bayes]'`` (numpyro, jax).
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hfx.errors import FitError, MissingExtraError, ModelError

__all__ = ["PosteriorResult", "sample_posterior"]

PRIOR_KINDS = ("flat", "normal", "lognormal", "gamma")


@dataclass(frozen=True)
class PosteriorResult:
    """Posterior draws of one model and dataset, with their diagnostics.

    ``samples`` is [chains, draws, npars] in the model's parameter order (fixed parameters
    constant); ``rhat`` (split Gelman-Rubin) and ``ess`` (effective sample size) are per
    parameter (NaN for fixed ones).
    """

    par_names: tuple[str, ...]
    samples: np.ndarray
    poi_index: int | None
    rhat: np.ndarray
    ess: np.ndarray
    divergences: int
    seconds: float
    settings: Mapping[str, Any] = field(default_factory=dict)

    def draws(self, name: str) -> np.ndarray:
        """All draws of one parameter, chains concatenated."""
        return self.samples[:, :, self._index(name)].reshape(-1)

    def _index(self, name: str) -> int:
        try:
            return self.par_names.index(name)
        except ValueError:
            raise ModelError(f"no parameter {name!r} in the posterior") from None

    def mean(self, name: str) -> float:
        return float(np.mean(self.draws(name)))

    def std(self, name: str) -> float:
        return float(np.std(self.draws(name), ddof=1))

    def interval(self, name: str, level: float = 0.6827) -> tuple[float, float]:
        """Central credible interval (equal tails) of one parameter."""
        tail = 100 * (1 - level) / 2
        low, high = np.percentile(self.draws(name), [tail, 100 - tail])
        return float(low), float(high)

    def upper_limit(self, level: float = 0.95, name: str | None = None) -> float:
        """One-sided Bayesian upper limit: the ``level`` quantile of the POI's marginal."""
        if name is None:
            if self.poi_index is None:
                raise ModelError("the model has no POI: give the parameter name")
            name = self.par_names[self.poi_index]
        return float(np.percentile(self.draws(name), 100 * level))

    def to_dict(self) -> dict[str, Any]:
        summary = {}
        for i, name in enumerate(self.par_names):
            if not math.isfinite(self.rhat[i]):
                continue
            low, high = self.interval(name)
            summary[name] = {
                "mean": self.mean(name),
                "std": self.std(name),
                "interval_68": [low, high],
                "rhat": float(self.rhat[i]),
                "ess": float(self.ess[i]),
            }
        out: dict[str, Any] = {
            "parameters": summary,
            "chains": int(self.samples.shape[0]),
            "draws": int(self.samples.shape[1]),
            "divergences": self.divergences,
            "seconds": self.seconds,
            **dict(self.settings),
        }
        if self.poi_index is not None:
            out["poi"] = self.par_names[self.poi_index]
            out["upper_limit_95"] = self.upper_limit(0.95)
        return out


def sample_posterior(
    model: Any,
    data: Any,
    *,
    draws: int = 2000,
    warmup: int = 1000,
    chains: int = 2,
    seed: int = 0,
    priors: Mapping[str, Sequence[Any]] | None = None,
    init: Any = None,
    bounds: Any = None,
    fixed: Any = None,
    target_accept: float = 0.8,
    progress: bool = False,
) -> PosteriorResult:
    """NUTS draws from the posterior of ``model`` given ``data`` (main + auxiliary).

    ``priors`` maps parameter names (scalar parameters) to ``("flat",)``, ``("normal", mean,
    sigma)``, ``("lognormal", mu, sigma)`` or ``("gamma", shape, rate)``; the rest keep the
    defaults described in the module.  ``init``/``bounds``/``fixed`` default to the model's
    suggestions.  The model may be on any backend; sampling uses its JAX copy.
    """
    try:
        import jax
        import jax.numpy as jnp
        from numpyro.diagnostics import effective_sample_size, split_gelman_rubin
        from numpyro.infer import MCMC, NUTS
    except ImportError as exc:
        raise MissingExtraError(
            f"posterior sampling needs numpyro and jax ({exc.name} is missing): "
            "pip install 'hfx[bayes]'"
        ) from None
    if draws < 1 or warmup < 0 or chains < 1:
        raise ModelError("draws and chains must be at least 1, warmup at least 0")
    jax_model = model if model.backend.name == "jax" else model.to("jax")
    jax_model.prepare_arrays()
    cfg = model.config
    npars = cfg.npars
    start = np.array(cfg.suggested_init() if init is None else init, dtype=np.float64)
    box = np.array(cfg.suggested_bounds() if bounds is None else bounds, dtype=np.float64)
    held = np.array(cfg.suggested_fixed() if fixed is None else fixed, dtype=bool)
    if start.shape != (npars,) or box.shape != (npars, 2) or held.shape != (npars,):
        raise ModelError(f"init, bounds and fixed must describe the model's {npars} parameters")
    data_arr = jnp.asarray(np.asarray(data, dtype=np.float64))
    free = np.flatnonzero(~held)
    lo, hi = box[free, 0], box[free, 1]
    prior_terms = _prior_terms(model, priors or {})

    # start near the maximum-likelihood point (a fit on the NumPy copy)
    from hfx.optimize import fit

    numpy_model = model if model.backend.name == "numpy" else model.to("numpy")
    with contextlib.suppress(FitError):
        start = np.asarray(
            fit(numpy_model, np.asarray(data), init=start, bounds=box, fixed=held).bestfit
        )
    inside = np.clip(start[free], lo + 1e-6 * (hi - lo), hi - 1e-6 * (hi - lo))
    z_start = np.log((inside - lo) / (hi - inside))

    lo_j, hi_j, free_j = jnp.asarray(lo), jnp.asarray(hi), jnp.asarray(free)
    base = jnp.asarray(start)

    def potential(z: Any) -> Any:
        unit = jax.nn.sigmoid(z)
        x = lo_j + (hi_j - lo_j) * unit
        pars = base.at[free_j].set(x)
        log_post = jax_model.logpdf(pars, data_arr)
        for term in prior_terms:
            log_post = log_post + term(pars, data_arr)
        log_jacobian = jnp.sum(
            jnp.log(hi_j - lo_j) + jax.nn.log_sigmoid(z) + jax.nn.log_sigmoid(-z)
        )
        value = -(log_post + log_jacobian)
        return jnp.where(jnp.isfinite(value), value, jnp.inf)

    rng = np.random.default_rng(seed)
    z0 = z_start[None, :] + 0.01 * rng.standard_normal((chains, free.size))
    kernel = NUTS(potential_fn=potential, target_accept_prob=target_accept)
    mcmc = MCMC(
        kernel,
        num_warmup=warmup,
        num_samples=draws,
        num_chains=chains,
        chain_method="sequential",
        progress_bar=progress,
    )
    t0 = time.perf_counter()
    mcmc.run(jax.random.PRNGKey(seed), init_params=jnp.asarray(z0 if chains > 1 else z0[0]))
    z = np.asarray(mcmc.get_samples(group_by_chain=True))  # [chains, draws, nfree]
    seconds = time.perf_counter() - t0
    x = lo + (hi - lo) / (1.0 + np.exp(-z))
    samples = np.broadcast_to(start, (chains, draws, npars)).copy()
    samples[:, :, free] = x
    rhat = np.full(npars, np.nan)
    ess = np.full(npars, np.nan)
    if draws >= 4:
        rhat[free] = np.asarray(split_gelman_rubin(x)) if chains > 1 else np.nan
        ess[free] = np.asarray(effective_sample_size(x))
    diverging = mcmc.get_extra_fields(group_by_chain=True).get("diverging")
    return PosteriorResult(
        par_names=tuple(cfg.par_names),
        samples=samples,
        poi_index=cfg.poi_index,
        rhat=rhat,
        ess=ess,
        divergences=int(np.sum(np.asarray(diverging))) if diverging is not None else 0,
        seconds=seconds,
        settings={"sampler": "numpyro NUTS", "warmup": warmup, "seed": seed},
    )


def _prior_terms(model: Any, priors: Mapping[str, Sequence[Any]]) -> list[Any]:
    """log-density terms added to log L for the overridden priors (each replacing the
    parameter's constraint term, if it has one)."""
    import jax.numpy as jnp
    import jax.scipy.stats as st

    cfg, arrays = model.config, model.arrays
    terms: list[Any] = []
    nmain = cfg.nmaindata
    for name, prior in priors.items():
        if name not in cfg.par_names:
            raise ModelError(f"priors: no scalar parameter {name!r} in the model")
        index = cfg.par_names.index(name)
        if not prior or prior[0] not in PRIOR_KINDS:
            raise ModelError(
                f"priors[{name!r}] = {prior!r}: the first item is one of {', '.join(PRIOR_KINDS)}"
            )
        kind, args = prior[0], tuple(float(a) for a in prior[1:])
        needed = {"flat": 0, "normal": 2, "lognormal": 2, "gamma": 2}[kind]
        if len(args) != needed:
            raise ModelError(f"priors[{name!r}]: {kind} takes {needed} numbers, got {len(args)}")
        # take the parameter's own constraint term out of log L
        gauss = np.flatnonzero(np.asarray(arrays.gauss_par) == index)
        pois = np.flatnonzero(np.asarray(arrays.pois_par) == index)
        for j in gauss:
            aux_at = int(nmain + arrays.gauss_aux[j])
            sigma = float(arrays.gauss_sigma[j])
            terms.append(lambda p, d, i=index, a=aux_at, s=sigma: -st.norm.logpdf(d[a], p[i], s))
        for j in pois:
            aux_at = int(nmain + arrays.pois_aux[j])
            tau = float(arrays.pois_tau[j])
            # −(a log γτ − γτ): the Poisson constraint without its γ-free constant
            terms.append(lambda p, d, i=index, a=aux_at, t=tau: p[i] * t - d[a] * jnp.log(p[i] * t))
        if kind == "normal":
            terms.append(lambda p, d, i=index, m=args[0], s=args[1]: st.norm.logpdf(p[i], m, s))
        elif kind == "lognormal":
            terms.append(
                lambda p, d, i=index, m=args[0], s=args[1]: (
                    st.norm.logpdf(jnp.log(p[i]), m, s) - jnp.log(p[i])
                )
            )
        elif kind == "gamma":
            terms.append(
                lambda p, d, i=index, k=args[0], r=args[1]: st.gamma.logpdf(p[i], k, scale=1 / r)
            )
    return terms
