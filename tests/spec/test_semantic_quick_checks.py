"""The semantic checks test parameter settings and observations in one quick pass and run the
located checks only where that pass finds something: the answer (problem, pointer and
message) is the one the located checks alone give, for valid and invalid values alike."""

from __future__ import annotations

import math
import random

import pytest

from hfx.spec import semantic

NUMBERS = [0.0, 1.0, -1.0, 2.5, 1e308, -1e308, math.nan, math.inf, -math.inf, 10**400, 3]


def _values(rng: random.Random, n: int) -> list[float]:
    """Mostly ordinary numbers, sometimes an extreme or non-finite one."""
    return [rng.choice(NUMBERS) if rng.random() < 0.3 else rng.uniform(-2, 5) for _ in range(n)]


def _config(rng: random.Random, name: str) -> dict:
    config: dict = {"name": name}
    n = rng.choice([1, 1, 2, 3])
    for key in ("inits", "auxdata", "sigmas", "factors"):
        if rng.random() < 0.5:
            config[key] = _values(rng, n if rng.random() < 0.9 else n + 1)
    if rng.random() < 0.6:
        pairs = []
        for _ in range(n if rng.random() < 0.9 else n + 1):
            lo, hi = _values(rng, 2)
            pairs.append(
                sorted([lo, hi]) if rng.random() < 0.8 and lo == lo and hi == hi else [lo, hi]
            )
        config["bounds"] = pairs
    if rng.random() < 0.3:
        config["fixed"] = rng.random() < 0.5
    return config


@pytest.mark.parametrize("seed", range(300))
def test_parameter_settings_quick_pass_changes_no_answer(seed, monkeypatch):
    rng = random.Random(seed)
    configs = [_config(rng, rng.choice("abcde")) for _ in range(rng.randint(1, 4))]
    quick = semantic._check_parameter_configs(configs, "/p")
    monkeypatch.setattr(semantic, "_config_plain", lambda config: False)
    assert quick == semantic._check_parameter_configs(configs, "/p")


@pytest.mark.parametrize("seed", range(200))
def test_observations_quick_pass_changes_no_answer(seed, monkeypatch):
    rng = random.Random(seed)
    channels = [
        {"name": f"c{i}", "samples": [{"name": "s", "data": [1.0] * rng.randint(1, 3)}]}
        for i in range(rng.randint(1, 3))
    ]
    observations = []
    for _ in range(rng.randint(1, 4)):
        channel = rng.choice(channels)
        nbins = len(channel["samples"][0]["data"])
        size = nbins if rng.random() < 0.85 else nbins + 1
        name = channel["name"] if rng.random() < 0.9 else "missing"
        observations.append({"name": name, "data": _values(rng, size)})
    quick = semantic._check_observations(channels, observations)
    # the located checks alone: every observation that passes the quick test still goes
    # through them (an _all_finite that never answers yes)
    monkeypatch.setattr(semantic, "_all_finite", lambda values: False)
    assert quick == semantic._check_observations(channels, observations)
