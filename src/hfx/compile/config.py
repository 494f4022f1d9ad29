"""The static description of a compiled model: parameters, channels, samples, settings.

Built by :func:`hfx.compile.compiled.compile_workspace` and bound to every
:class:`~hfx.likelihood.model.Model` (also importable from :mod:`hfx.likelihood.model`).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from hfx.compile.layout import Layout
from hfx.compile.parameters import ParameterSpec, ParameterTable
from hfx.errors import ModelError

__all__ = ["ModelConfig"]


class ModelConfig:
    """Static description of a model: parameters, channels, samples and settings."""

    #: The measurement's POI when it is not a parameter of the model (a background-only
    #: workspace); set by :func:`hfx.compile.compiled.compile_workspace`, read by inference
    #: errors.
    missing_poi: str | None = None

    def __init__(
        self,
        *,
        table: ParameterTable,
        layout: Layout,
        poi_name: str | None,
        measurement_name: str | None,
        modifier_settings: dict[str, dict[str, Any]],
    ):
        self.table = table
        self.layout = layout
        self.poi_name = poi_name
        self.measurement_name = measurement_name
        self.modifier_settings = modifier_settings

    npars = property(lambda self: self.table.npars, doc="Number of parameters.")
    channels = property(lambda self: list(self.layout.channels), doc="Channel names, sorted.")
    samples = property(lambda self: list(self.layout.samples), doc="Sample names, sorted.")
    channel_nbins = property(lambda self: dict(self.layout.channel_nbins))
    channel_slices = property(lambda self: dict(self.layout.channel_slices))
    nmaindata = property(lambda self: self.layout.nbins, doc="Number of observed bins.")
    par_order = property(lambda self: self.table.order, doc="Parameter set names in vector order.")

    @cached_property
    def modifiers(self) -> list[tuple[str, str]]:
        """Unique (modifier name, modifier type) pairs of the model's samples, sorted."""
        return sorted(
            {(m["name"], m["type"]) for block in self.layout.blocks for m in block.modifiers}
        )

    @cached_property
    def par_names(self) -> list[str]:
        """One label per vector component (``name`` or ``name[i]``)."""
        return self.table.par_names()

    @property
    def parameters(self) -> list[str]:
        return sorted(self.table.order)

    def par_slice(self, name: str) -> slice:
        return self.table[name].slice

    def param_set(self, name: str) -> ParameterSpec:
        return self.table[name]

    @property
    def poi_index(self) -> int | None:
        return None if self.poi_name is None else self.table[self.poi_name].slice.start

    # (the table is complete once the config exists: its arrays are made once, and every
    # call returns a fresh copy that the caller may change)
    @cached_property
    def _inits(self) -> np.ndarray:
        return self.table.inits()

    @cached_property
    def _bounds(self) -> np.ndarray:
        return self.table.bounds()

    @cached_property
    def _fixed(self) -> np.ndarray:
        return self.table.fixed()

    def suggested_init(self) -> np.ndarray:
        out: np.ndarray = self._inits.copy()
        return out

    def suggested_bounds(self) -> np.ndarray:
        out: np.ndarray = self._bounds.copy()
        return out

    def suggested_fixed(self) -> np.ndarray:
        out: np.ndarray = self._fixed.copy()
        return out

    @cached_property
    def suggested_start(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(init, bounds, fixed) as :meth:`suggested_init`, :meth:`suggested_bounds` and
        :meth:`suggested_fixed` give them, as read-only views made once: for code that only
        reads them (every fit that starts from the defaults)."""
        views = (self._inits.view(), self._bounds.view(), self._fixed.view())
        for view in views:
            view.flags.writeable = False
        return views

    @cached_property
    def suggested_free(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The parameters not fixed by :meth:`suggested_fixed` (their indices, int64) and
        their lower and upper :meth:`suggested_bounds`: read-only vectors made once."""
        idx = np.flatnonzero(~self._fixed).astype(np.int64)
        free = (idx, self._bounds[idx, 0], self._bounds[idx, 1])  # (new contiguous vectors)
        for vector in free:
            vector.flags.writeable = False
        return free

    @cached_property
    def _kernel_fit_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The suggested start as a row [1, npars] and the free parameters' indices and
        bounds, as private writeable copies for the compiled kernels (which take writeable
        arrays only, and only read these); never handed out."""
        idx, lo, hi = self.suggested_free
        return self._inits[None, :].copy(), idx.copy(), lo.copy(), hi.copy()

    @cached_property
    def _kernel_held_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The free parameters' indices and bounds without the POI (those of a fit that
        holds it), as private writeable arrays for the compiled kernels (as
        :attr:`_kernel_fit_arrays`); None for a model without a POI."""
        poi = self.poi_index
        if poi is None:
            return None
        _, idx, lo, hi = self._kernel_fit_arrays
        keep = idx != poi
        return idx[keep], lo[keep], hi[keep]  # (boolean indexing: new arrays)

    @cached_property
    def suggested_start_in_bounds(self) -> bool:
        """Whether the suggested bounds are ordered (lower ≤ upper) and the suggested init of
        every parameter not fixed lies within them."""
        lo, hi = self._bounds[:, 0], self._bounds[:, 1]
        outside = (self._inits < lo) | (self._inits > hi)
        return not (lo > hi).any() and not (outside & ~self._fixed).any()

    @cached_property
    def _auxdata(self) -> np.ndarray:
        return self.table.auxdata()

    @property
    def auxdata(self) -> np.ndarray:
        auxdata: np.ndarray = self._auxdata.copy()  # numpy's stubs type ndarray.copy() as Any
        return auxdata

    @property
    def nauxdata(self) -> int:
        return int(self._auxdata.size)

    def pars_from_dict(self, values: dict[str, Any], base: Any = None) -> np.ndarray:
        """Parameter vector from ``{name: value(s)}``, starting from ``base`` or the inits."""
        pars = np.array(self.suggested_init() if base is None else base, dtype=np.float64)
        for name, value in values.items():
            sl = self.par_slice(name)
            arr = np.atleast_1d(np.asarray(value, dtype=np.float64))
            if arr.size != sl.stop - sl.start:
                raise ModelError(
                    f"parameter {name!r} takes {sl.stop - sl.start} values, got {arr.size}"
                )
            pars[sl] = arr
        return pars
