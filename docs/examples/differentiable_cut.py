"""Optimise a cut by gradient descent on the expected CLs (what neos does), with hfx.

A signal peaks at x = 2 (width 1), a falling background is exponential in x (scale 2); a
soft cut x > c keeps s(c) signal and b(c) background events in one bin with a 10 %
background normalisation uncertainty.  jax.grad of the expected CLs of mu = 1 with respect
to c flows through the fits by implicit differentiation (hfx.infer.differentiable).

    python docs/examples/differentiable_cut.py
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax.scipy.stats import norm

import hfx
from hfx.infer.differentiable import DifferentiableModel, entry_labels

SIGNAL, BACKGROUND = 15.0, 400.0  # totals before the cut


def yields(cut: jnp.ndarray) -> jnp.ndarray:
    """Signal and background kept by x > cut (as smooth functions of the cut)."""
    s = SIGNAL * norm.sf(cut, loc=2.0, scale=1.0)
    b = BACKGROUND * jnp.exp(-jnp.clip(cut, 0.0, None) / 2.0)
    return jnp.stack([s, b])


spec = {
    "channels": [
        {
            "name": "sr",
            "samples": [
                {
                    "name": "signal",
                    "data": [1.0],
                    "modifiers": [{"name": "mu", "type": "normfactor", "data": None}],
                },
                {
                    "name": "background",
                    "data": [1.0],
                    "modifiers": [
                        {"name": "bkg_norm", "type": "normsys", "data": {"hi": 1.1, "lo": 0.9}}
                    ],
                },
            ],
        }
    ],
    "observations": [{"name": "sr", "data": [1.0]}],
    "measurements": [{"name": "m", "config": {"poi": "mu", "parameters": []}}],
    "version": "1.0.0",
}
model = hfx.Workspace(spec).model()
order = [sample for _, sample, _ in entry_labels(model)]  # the model's entry order
inference = DifferentiableModel(model)


def expected_cls(cut: jnp.ndarray) -> jnp.ndarray:
    s, b = yields(cut)
    nu = jnp.stack([s if name == "signal" else b for name in order])
    return inference.expected_cls(nu, 1.0)


value_and_grad = jax.jit(jax.value_and_grad(expected_cls))
cut = jnp.asarray(0.0)
for step in range(40):
    value, slope = value_and_grad(cut)
    if step % 5 == 0:
        print(f"step {step:2d}: cut {float(cut):.3f}  expected CLs {float(value):.4f}")
    cut = cut - 4.0 * slope
print(f"final: cut {float(cut):.3f}  expected CLs {float(expected_cls(cut)):.4f}")
