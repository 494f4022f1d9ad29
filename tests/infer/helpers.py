"""Small models with closed-form likelihoods for the inference tests."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtr

from hfx import Workspace


def counting_model(signal: float, background: float, observed: float, bounds=(0.0, 10.0)):
    """One bin, ν = s·μ + b, no nuisance parameters: (model, data)."""
    spec = {
        "version": "1.0.0",
        "channels": [
            {
                "name": "sr",
                "samples": [
                    {
                        "name": "signal",
                        "data": [signal],
                        "modifiers": [{"name": "mu", "type": "normfactor", "data": None}],
                    },
                    {"name": "background", "data": [background], "modifiers": []},
                ],
            }
        ],
        "observations": [{"name": "sr", "data": [observed]}],
        "measurements": [
            {
                "name": "meas",
                "config": {
                    "poi": "mu",
                    "parameters": [{"name": "mu", "bounds": [list(bounds)], "inits": [1.0]}],
                },
            }
        ],
    }
    ws = Workspace(spec)
    model = ws.model()
    return model, np.asarray(ws.data(model), dtype=float)


class CountingClosedForm:
    """Closed-form profile-likelihood quantities of :func:`counting_model`."""

    def __init__(self, s: float, b: float, n: float, lo: float = 0.0, hi: float = 10.0):
        self.s, self.b, self.n, self.lo, self.hi = s, b, n, lo, hi

    def twice_nll(self, mu: float, n: float | None = None) -> float:
        n = self.n if n is None else n
        nu = self.s * mu + self.b
        return 2.0 * (nu - n * math.log(nu) + math.lgamma(n + 1.0))

    def muhat(self, n: float | None = None) -> float:
        n = self.n if n is None else n
        return min(max((n - self.b) / self.s, self.lo), self.hi)

    def q(self, mu: float, n: float | None = None) -> float:
        """q_μ (q̃_μ when lo = 0)."""
        mh = self.muhat(n)
        if mh > mu:
            return 0.0
        return max(self.twice_nll(mu, n) - self.twice_nll(mh, n), 0.0)

    def q0(self, n: float | None = None) -> float:
        mh = self.muhat(n)
        return 0.0 if mh < 0 else self.twice_nll(0.0, n) - self.twice_nll(mh, n)

    def cls(self, mu: float, tilde: bool = True) -> tuple[float, float, float, list[float]]:
        """(CLs+b, CLb, CLs, expected CLs band n = 2..−2) for q̃ (Asimov at μ = 0: n_A = b)."""
        sq = math.sqrt(self.q(mu))
        sqa = math.sqrt(self.q(mu, n=self.b))
        t = sq - sqa if not tilde or sq <= sqa else (sq**2 - sqa**2) / (2.0 * sqa)
        clsb, clb = ndtr(-(t + sqa)), ndtr(-t)
        band = [ndtr(-(k + sqa)) / ndtr(-k) for k in (2, 1, 0, -1, -2)]
        return float(clsb), float(clb), float(clsb / clb), band
