"""Read-only views of one named parameter set, under pyhf's class and attribute names.

``model.config.param_set(name)`` returns one of :class:`unconstrained`,
:class:`constrained_by_normal` or :class:`constrained_by_poisson`, built from hfx's
:class:`~hfx.compile.parameters.ParameterSpec`.
"""

from __future__ import annotations

import math

from hfx.compile.parameters import CONSTRAINT_NORMAL, CONSTRAINT_POISSON, ParameterSpec

__all__ = ["constrained_by_normal", "constrained_by_poisson", "paramset", "unconstrained"]


class paramset:  # pyhf's name
    """A parameter set: its size, suggested inits/bounds/fixed, and whether it is a scalar."""

    constrained = False

    def __init__(self, spec: ParameterSpec):
        self.name = spec.name
        self.n_parameters = spec.n
        self.is_scalar = spec.is_scalar
        self.suggested_init = [float(v) for v in spec.inits]
        self.suggested_bounds = [(float(lo), float(hi)) for lo, hi in spec.bounds]
        self.suggested_fixed = [bool(v) for v in spec.fixed]

    @property
    def suggested_fixed_as_bool(self) -> bool:
        """The fixed flag as one bool; a RuntimeError if the components disagree."""
        first = self.suggested_fixed[0]
        if any(flag != first for flag in self.suggested_fixed):
            raise RuntimeError(
                f"{self.suggested_fixed} is neither all-True nor all-False, so not compressible"
            )
        return first

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} ({self.n_parameters} parameters)>"


class unconstrained(paramset):  # pyhf's name
    """A free parameter set (normfactor, shapefactor)."""


class constrained_by_normal(paramset):  # pyhf's name
    """Gaussian-constrained parameters: ``auxdata`` are the means, ``sigmas`` the widths."""

    constrained = True
    pdf_type = "normal"

    def __init__(self, spec: ParameterSpec):
        super().__init__(spec)
        self.auxdata = [float(v) for v in spec.auxdata]
        self.sigmas = [float(v) for v in spec.sigmas]

    def width(self) -> list[float]:
        return list(self.sigmas)


class constrained_by_poisson(paramset):  # pyhf's name
    """Poisson-constrained parameters: aux data τ·γ with scale ``factors`` τ."""

    constrained = True
    pdf_type = "poisson"

    def __init__(self, spec: ParameterSpec):
        super().__init__(spec)
        self.auxdata = [float(v) for v in spec.auxdata]
        self.factors = [float(v) for v in spec.factors]

    def width(self) -> list[float]:
        """Relative width 1/√τ of each constraint."""
        return [1.0 / math.sqrt(f) if f > 0 else math.inf for f in self.factors]


def view(spec: ParameterSpec) -> paramset:
    """The pyhf-style view of ``spec``."""
    if spec.constraint == CONSTRAINT_NORMAL:
        return constrained_by_normal(spec)
    if spec.constraint == CONSTRAINT_POISSON:
        return constrained_by_poisson(spec)
    return unconstrained(spec)
