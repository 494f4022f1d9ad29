"""Compilation takes shortcuts by size (a loop for few term records, NumPy for many): both
ways give the same arrays."""

from __future__ import annotations

import dataclasses
import json
import random
import warnings

import numpy as np
import pytest

from hfx.compile import modifiers
from hfx.compile.compiled import compile_workspace
from hfx.spec.workspace import Workspace
from tests.conftest import ATLAS_WS, needs_shared


def _same(a: object, b: object) -> bool:
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if dataclasses.is_dataclass(a):
        return all(_same(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    return a == b


def _columns(rng: random.Random, nblocks: int, nrecords: int, kind: str) -> modifiers._Columns:
    columns = modifiers._Columns()
    for _ in range(nrecords):
        columns.block.append(rng.randrange(nblocks))
        columns.par.append(rng.randrange(50))
        if kind != "histosys":
            columns.slot.append(rng.randrange(4))
        if kind == "linear":
            columns.per_bin.append(rng.random() < 0.5)
    return columns


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("kind", ["linear", "normsys", "histosys"])
def test_few_records_expand_as_many_do(seed, kind, monkeypatch):
    rng = random.Random(seed)
    nblocks = rng.randint(1, 6)
    size = [rng.randint(0, 4) for _ in range(nblocks)]
    first = np.concatenate([[0], np.cumsum(size)[:-1]]).astype(np.int64).tolist()
    columns = _columns(rng, nblocks, rng.randint(0, 12), kind)
    monkeypatch.setattr(modifiers, "_FEW_RECORDS", 10**9)
    looped = columns.expand(first, size)
    monkeypatch.setattr(modifiers, "_FEW_RECORDS", -1)
    vectorised = columns.expand(first, size)
    assert all(_same(a, b) for a, b in zip(looped, vectorised, strict=True))


@needs_shared()
@pytest.mark.parametrize(
    "name", ["2018-14_Comb_bkgonly", "2018-31_simplifiedA", "2018-31_BkgOnlyA"]
)
def test_compiled_arrays_do_not_depend_on_the_way(name, monkeypatch):
    ws = Workspace.load(ATLAS_WS / f"{name}.json")
    patched = ws.apply_patches([json.loads((ATLAS_WS / f"{name}.signal.json").read_text())])
    measurement = patched.get_measurement()
    results = []
    for few in (10**9, -1):
        monkeypatch.setattr(modifiers, "_FEW_RECORDS", few)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results.append(compile_workspace(patched, measurement, poi_name="mu_SIG")[1])
    assert _same(results[0], results[1])
