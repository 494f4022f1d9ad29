"""A small background-only workspace and a signal grid on it, written by the tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import hfx

BKG = {
    "channels": [
        {
            "name": "SR",
            "samples": [
                {
                    "name": "bkg",
                    "data": [50.0, 30.0, 12.0],
                    "modifiers": [
                        {"name": "bkg_norm", "type": "normsys", "data": {"hi": 1.1, "lo": 0.9}},
                        {"name": "stat_SR", "type": "staterror", "data": [2.0, 1.5, 1.0]},
                    ],
                }
            ],
        },
        {
            "name": "CR",
            "samples": [
                {
                    "name": "bkg",
                    "data": [200.0, 150.0],
                    "modifiers": [
                        {"name": "bkg_norm", "type": "normsys", "data": {"hi": 1.1, "lo": 0.9}}
                    ],
                }
            ],
        },
    ],
    "observations": [{"name": "SR", "data": [53, 28, 14]}, {"name": "CR", "data": [205, 148]}],
    "measurements": [
        {
            "name": "meas",
            "config": {
                "poi": "mu",
                "parameters": [{"name": "mu", "bounds": [[0.0, 10.0]], "inits": [1.0]}],
            },
        }
    ],
    "version": "1.0.0",
}


def signal_patch(m1: float, m2: float) -> list[dict]:
    """A signal falling with m1, moving to the last bin as m1 − m2 grows."""
    scale = 40.0 * (300.0 / m1) ** 3
    share = min(0.9, (m1 - m2) / 1000.0)
    yields = [scale * (1 - share) * 0.6, scale * (1 - share) * 0.4, scale * share]
    return [
        {
            "op": "add",
            "path": "/channels/0/samples/-",
            "value": {
                "name": "signal",
                "data": [round(y, 6) for y in yields],
                "modifiers": [
                    {"name": "mu", "type": "normfactor", "data": None},
                    {"name": "sig_theory", "type": "normsys", "data": {"hi": 1.1, "lo": 0.9}},
                ],
            },
        }
    ]


GRID = tuple((m1, m2) for m1 in (300, 400, 500, 600) for m2 in (0, 100, 200) if m2 < m1 - 100)


def patchset_spec(bkg: dict = BKG, grid=GRID) -> dict:
    return {
        "metadata": {
            "description": "test grid",
            "digests": {"sha256": hfx.Workspace(bkg).digest("sha256")},
            "labels": ["m1", "m2"],
            "references": {"hepdata": "ins0000000"},
        },
        "patches": [
            {
                "metadata": {"name": f"p_{m1}_{m2}", "values": [m1, m2]},
                "patch": signal_patch(m1, m2),
            }
            for m1, m2 in grid
        ],
        "version": "1.0.0",
    }


@pytest.fixture
def grid_files(tmp_path: Path) -> tuple[Path, Path]:
    """(background workspace file, patchset file)."""
    bkg = tmp_path / "BkgOnly.json"
    bkg.write_text(json.dumps(BKG))
    ps = tmp_path / "patchset.json"
    ps.write_text(json.dumps(patchset_spec()))
    return bkg, ps
