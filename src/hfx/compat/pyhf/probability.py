"""pyhf's ``probability``: Poisson and Normal distributions and their products, with
``log_prob``, ``expected_data`` and ``sample`` (what ``model.make_pdf(pars)`` returns).

Samples are drawn from NumPy's global generator (``np.random``), as pyhf's NumPy backend
draws them, so ``np.random.seed`` makes them repeatable.  For a model with Poisson
constraints only, the same seed gives pyhf's toys (main counts, then auxiliary data; tested);
with Gaussian constraints the draws may come in another order than pyhf's, so the toys
differ from pyhf's while following the same distribution.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np

from hfx.compat.pyhf.backend import tensorlib

__all__ = ["Independent", "Normal", "Poisson", "Simultaneous"]


def _shape(sample_shape: Any) -> tuple[int, ...]:
    return tuple(int(n) for n in np.atleast_1d(sample_shape)) if sample_shape != () else ()


class Poisson:
    """Poisson counts of mean ``rate`` (the continuous density for non-integer counts)."""

    def __init__(self, rate: Any):
        self.rate = np.asarray(rate, dtype=np.float64)

    def expected_data(self) -> np.ndarray:
        return self.rate

    def log_prob(self, value: Any) -> Any:
        return tensorlib.poisson_logpdf(value, self.rate)

    def sample(self, sample_shape: Any = ()) -> np.ndarray:
        return np.random.poisson(self.rate, size=_shape(sample_shape) + self.rate.shape)


class Normal:
    """Normal values of mean ``loc`` and width ``scale``."""

    def __init__(self, loc: Any, scale: Any):
        self.loc = np.asarray(loc, dtype=np.float64)
        self.scale = np.asarray(scale, dtype=np.float64)

    def expected_data(self) -> np.ndarray:
        return self.loc

    def log_prob(self, value: Any) -> Any:
        return tensorlib.normal_logpdf(value, self.loc, self.scale)

    def sample(self, sample_shape: Any = ()) -> np.ndarray:
        shape = _shape(sample_shape) + np.broadcast(self.loc, self.scale).shape
        return np.random.normal(self.loc, self.scale, size=shape)


class Independent:
    """Independent components of one distribution: ``log_prob`` sums over the last axis."""

    def __init__(self, distribution: Any, batch_size: int | None = None):
        self.distribution = distribution
        self.batch_size = batch_size

    def expected_data(self) -> Any:
        return self.distribution.expected_data()

    def log_prob(self, value: Any) -> Any:
        return np.sum(self.distribution.log_prob(value), axis=-1)

    def sample(self, sample_shape: Any = ()) -> Any:
        return self.distribution.sample(sample_shape)


class Simultaneous:
    """Distributions of consecutive blocks of one data vector (main data, then auxiliary
    data): ``log_prob`` is the sum of the blocks', ``sample`` concatenates their draws.
    ``blocks``: the index arrays of each distribution's entries in the vector (default:
    consecutive blocks of their sizes)."""

    def __init__(
        self,
        pdfobjs: Sequence[Any],
        tensorshape: Any = None,
        batch_size: int | None = None,
        blocks: Sequence[Any] | None = None,
    ):
        self.pdfobjs = list(pdfobjs)
        self.batch_size = batch_size
        if blocks is None:
            sizes = [np.size(p.expected_data()) for p in self.pdfobjs]
            edges = np.cumsum([0, *sizes])
            blocks = [np.arange(a, b) for a, b in itertools.pairwise(edges)]
        self.blocks = [np.asarray(b, dtype=np.int64) for b in blocks]
        self.size = int(sum(b.size for b in self.blocks))

    def expected_data(self) -> np.ndarray:
        out = np.empty(self.size)
        for pdf, block in zip(self.pdfobjs, self.blocks, strict=True):
            out[block] = pdf.expected_data()
        return out

    def log_prob(self, data: Any) -> Any:
        data = np.asarray(data, dtype=np.float64)
        return sum(
            pdf.log_prob(data[..., block])
            for pdf, block in zip(self.pdfobjs, self.blocks, strict=True)
            if block.size
        )

    def sample(self, sample_shape: Any = ()) -> np.ndarray:
        shape = _shape(sample_shape)
        out = np.empty((*shape, self.size))
        for pdf, block in zip(self.pdfobjs, self.blocks, strict=True):
            if block.size:
                out[..., block] = pdf.sample(sample_shape)
        return out
