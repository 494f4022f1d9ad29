"""Lay a workspace's channels and samples out as flat (sample, bin) entries.

Channels are sorted by name and concatenated into one global bin axis; within a channel
each sample contributes one entry per bin.  Only entries that exist are laid out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

__all__ = ["Block", "Layout", "build_layout"]


class Block(NamedTuple):
    """One sample in one channel: the entries ``first_entry`` … ``first_entry + nbins - 1``
    for the global bins ``first_bin`` … (a named tuple: a model has one per sample and
    channel, made on every build)."""

    channel: str
    sample: str
    sample_index: int  # index into the sorted global sample list
    nominal: np.ndarray  # the sample's yields (a view of one array for all blocks)
    modifiers: tuple[Mapping[str, Any], ...]
    first_entry: int
    first_bin: int
    nbins: int


@dataclass(frozen=True)
class Layout:
    channels: tuple[str, ...]
    channel_nbins: dict[str, int]
    channel_slices: dict[str, slice]
    samples: tuple[str, ...]
    blocks: tuple[Block, ...]
    nbins: int
    entry_bin: np.ndarray
    entry_sample: np.ndarray
    nominal: np.ndarray

    @property
    def nentries(self) -> int:
        return int(self.entry_bin.size)


def build_layout(channels_spec: list[Mapping[str, Any]]) -> Layout:
    """Flat entry layout of the channels of a (validated) workspace spec."""
    by_name = {c["name"]: c for c in channels_spec}
    channels = tuple(sorted(by_name))
    samples = tuple(sorted({s["name"] for c in channels_spec for s in c["samples"]}))
    sample_index = {name: i for i, name in enumerate(samples)}

    channel_nbins: dict[str, int] = {}
    channel_slices: dict[str, slice] = {}
    # per block: channel, sample, its index, bins, first bin, first entry, first yield
    placed: list[tuple[str, Mapping[str, Any], int, int, int, int, int]] = []
    yields: list[Any] = []  # every sample's data, in block order: converted in one step
    entry_bin: list[int] = []
    entry_sample: list[int] = []
    offset = 0
    for cname in channels:
        channel = by_name[cname]
        nbins = len(channel["samples"][0]["data"])
        channel_nbins[cname] = nbins
        channel_slices[cname] = slice(offset, offset + nbins)
        bins = range(offset, offset + nbins)
        for sample in sorted(channel["samples"], key=_by_name):
            index = sample_index[sample["name"]]
            placed.append((cname, sample, index, nbins, offset, len(entry_bin), len(yields)))
            yields += sample["data"]
            entry_bin += bins
            entry_sample += [index] * nbins
        offset += nbins

    nominal = np.array(yields, dtype=np.float64)
    blocks = tuple(
        Block(
            channel=cname,
            sample=sample["name"],
            sample_index=index,
            nominal=nominal[first_yield : first_yield + len(sample["data"])],
            modifiers=tuple(sample["modifiers"]),
            first_entry=first_entry,
            first_bin=first_bin,
            nbins=nbins,
        )
        for cname, sample, index, nbins, first_bin, first_entry, first_yield in placed
    )
    return Layout(
        channels=channels,
        channel_nbins=channel_nbins,
        channel_slices=channel_slices,
        samples=samples,
        blocks=blocks,
        nbins=offset,
        entry_bin=np.array(entry_bin, dtype=np.int64),
        entry_sample=np.array(entry_sample, dtype=np.int64),
        nominal=nominal.copy(),  # the blocks' yields are views of the other copy
    )


def _by_name(sample: Mapping[str, Any]) -> Any:
    return sample["name"]
