"""Synthetic HistFactory workspaces of a chosen size for the scaling series.

Imports only the standard library so the pyhf side of the benchmark can use it too.
Each workspace has channels of at most 100 bins and four samples: a signal with the POI
``mu``, a background with a shared normsys + histosys + staterror, a second background with a
shapesys and a shared normsys, and a third with a lumi-free normfactor.  Yields come from a
fixed-seed generator, so the same size always gives the same workspace.
"""

from __future__ import annotations

import random
from typing import Any

BINS_PER_CHANNEL = 100


def _channel_bins(nbins: int) -> list[int]:
    full, rest = divmod(nbins, BINS_PER_CHANNEL)
    return [BINS_PER_CHANNEL] * full + ([rest] if rest else [])


def workspace(nbins: int, seed: int = 1) -> dict[str, Any]:
    """A valid HistFactory JSON workspace with ``nbins`` bins in total."""
    rng = random.Random(seed)
    channels, observations = [], []
    for c, n in enumerate(_channel_bins(nbins)):
        name = f"ch{c:03d}"
        sig = [rng.uniform(0.5, 5.0) for _ in range(n)]
        bkg1 = [rng.uniform(20.0, 200.0) for _ in range(n)]
        bkg2 = [rng.uniform(5.0, 50.0) for _ in range(n)]
        bkg3 = [rng.uniform(1.0, 10.0) for _ in range(n)]
        hi = [b * rng.uniform(1.01, 1.08) for b in bkg1]
        lo = [b * rng.uniform(0.93, 0.99) for b in bkg1]
        samples = [
            {
                "name": "signal",
                "data": sig,
                "modifiers": [
                    {"name": "mu", "type": "normfactor", "data": None},
                    {"name": "sig_norm", "type": "normsys", "data": {"hi": 1.1, "lo": 0.9}},
                ],
            },
            {
                "name": "bkg1",
                "data": bkg1,
                "modifiers": [
                    {"name": "jes", "type": "histosys", "data": {"hi_data": hi, "lo_data": lo}},
                    {"name": "xsec1", "type": "normsys", "data": {"hi": 1.05, "lo": 0.96}},
                    {
                        "name": f"staterror_{name}",
                        "type": "staterror",
                        "data": [0.03 * b for b in bkg1],
                    },
                ],
            },
            {
                "name": "bkg2",
                "data": bkg2,
                "modifiers": [
                    {"name": f"shape_{name}", "type": "shapesys", "data": [0.1 * b for b in bkg2]},
                    {"name": "xsec1", "type": "normsys", "data": {"hi": 1.03, "lo": 0.98}},
                ],
            },
            {
                "name": "bkg3",
                "data": bkg3,
                "modifiers": [{"name": "mu_bkg3", "type": "normfactor", "data": None}],
            },
        ]
        channels.append({"name": name, "samples": samples})
        totals = [a + b + c for a, b, c in zip(bkg1, bkg2, bkg3, strict=True)]
        observations.append({"name": name, "data": [float(round(t)) for t in totals]})
    return {
        "channels": channels,
        "observations": observations,
        "measurements": [{"name": "meas", "config": {"poi": "mu", "parameters": []}}],
        "version": "1.0.0",
    }
