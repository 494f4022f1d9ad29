"""hfx.scan: every point equals a CLs computed on its own, on any executor, resumable."""

from __future__ import annotations

import concurrent.futures
import json
from pathlib import Path

import numpy as np
import pytest

import hfx
from hfx.errors import HfxWarning, PatchError
from hfx.interfaces.scan import read_records, scan
from hfx.interfaces.scan.executors import process_executor
from hfx.spec.patches import apply_patch
from tests.conftest import ATLAS_WS, SHARED

from .conftest import BKG, patchset_spec

KEYS = ("CLs_obs", "CLs_exp")


def _alone(bkg: dict, ops: list, **kwargs) -> tuple:
    """CLs of one point as `hfx cls --patch` computes it: full copy, full validation."""
    ws = hfx.Workspace(apply_patch(bkg, ops))
    model = ws.model()
    data = ws.data(model)
    result = hfx.hypotest(model, data, 1.0, **kwargs)
    return model, data, result


def test_every_point_equals_its_cls_computed_alone():
    spec = patchset_spec()
    result = scan(BKG, hfx.PatchSet(spec))
    assert result.computed == len(spec["patches"]) and result.skipped == 0
    assert result.failed == 0
    for record, entry in zip(result.records, spec["patches"], strict=True):
        assert record["name"] == entry["metadata"]["name"]
        assert record["values"] == entry["metadata"]["values"]
        assert record["labels"] == ["m1", "m2"] and record["status"] == "ok"
        _, _, alone = _alone(BKG, entry["patch"])
        np.testing.assert_allclose(record["CLs_obs"], alone.cls, rtol=1e-8, atol=1e-14)
        np.testing.assert_allclose(record["CLs_exp"], alone.cls_expected, rtol=1e-8, atol=1e-14)
    # the grid is not flat: a test that could not tell points apart would pass the above too
    assert len({round(r["CLs_obs"], 6) for r in result.records}) == len(result.records)


def test_upper_limits_equal_upper_limit_alone():
    spec = patchset_spec()
    result = scan(BKG, hfx.PatchSet(spec), upper_limit=True)
    for record, entry in list(zip(result.records, spec["patches"], strict=True))[::4]:
        model, data, _ = _alone(BKG, entry["patch"])
        limit = hfx.upper_limit(model, data)
        np.testing.assert_allclose(record["upper_limit"]["obs"], limit.obs, rtol=1e-8)
        np.testing.assert_allclose(record["upper_limit"]["exp"], limit.exp, rtol=1e-8)


def _cls(records):
    return {r["name"]: [r["CLs_obs"], *r["CLs_exp"]] for r in records}


def test_a_process_pool_and_a_thread_pool_give_the_serial_numbers():
    ps = hfx.PatchSet(patchset_spec())
    serial = _cls(scan(BKG, ps).records)
    with process_executor(2) as pool:
        pooled = scan(BKG, ps, executor=pool, chunk_size=2)
    with concurrent.futures.ThreadPoolExecutor(2) as threads:
        threaded = scan(BKG, ps, executor=threads)
    for other in (_cls(pooled.records), _cls(threaded.records)):
        assert other.keys() == serial.keys()
        for name, values in serial.items():
            np.testing.assert_allclose(other[name], values, rtol=1e-12)
    assert [r["name"] for r in pooled.records] == list(serial)  # the inputs' order


def test_a_rerun_skips_done_points_and_recomputes_what_changed(tmp_path):
    out = tmp_path / "scan.jsonl"
    ps = hfx.PatchSet(patchset_spec())
    first = scan(BKG, ps, output=out)
    lines = out.read_text().splitlines()
    assert len(lines) == len(ps) and [json.loads(x)["name"] for x in lines] == [p.name for p in ps]
    again = scan(BKG, ps, output=out)
    assert (again.computed, again.skipped) == (0, len(ps))
    assert again.records == first.records

    # a torn last line and a lost line: only those two points are computed again
    out.write_text("\n".join(lines[1:-1]) + "\n" + lines[-1][: len(lines[-1]) // 2])
    resumed = scan(BKG, ps, output=out)
    assert (resumed.computed, resumed.skipped) == (2, len(ps) - 2)
    assert _cls(resumed.records) == _cls(first.records)
    assert len(out.read_text().splitlines()) == len(ps)

    # other settings: a new digest, so everything again; force: everything again
    other = scan(BKG, ps, output=out, test_poi=2.0)
    assert other.computed == len(ps)
    assert all(r["test_poi"] == 2.0 for r in read_records(out))
    assert scan(BKG, ps, output=out, test_poi=2.0, force=True).computed == len(ps)


def test_a_failing_point_records_its_error_and_the_scan_goes_on(tmp_path):
    spec = patchset_spec()
    spec["patches"][3]["patch"][0]["value"]["data"] = [1.0, 2.0]  # 2 bins in a 3-bin channel
    spec["patches"][5]["patch"][0]["path"] = "/channels/7/samples/-"  # no such channel
    out = tmp_path / "scan.jsonl"
    with pytest.warns(HfxWarning, match="2 of 11 points failed"):
        result = scan(BKG, hfx.PatchSet(spec), output=out)
    failed = {r["name"]: r for r in result.records if r["status"] == "failed"}
    assert set(failed) == {spec["patches"][i]["metadata"]["name"] for i in (3, 5)}
    for record in failed.values():
        assert "\n" not in record["error"] and "CLs_obs" not in record
    assert "2 bins" in failed["p_400_100"]["error"] or "bins" in failed["p_400_100"]["error"]
    assert "/channels/7" in failed["p_500_0"]["error"]
    assert sum(r["status"] == "ok" for r in result.records) == len(spec["patches"]) - 2
    # failed points are tried again by a rerun; the others are kept
    with pytest.warns(HfxWarning):
        rerun = scan(BKG, hfx.PatchSet(spec), output=out)
    assert (rerun.computed, rerun.skipped) == (2, len(spec["patches"]) - 2)


def test_a_limit_outside_the_poi_bounds_keeps_the_cls_of_its_point():
    spec = patchset_spec()
    with pytest.warns(HfxWarning, match="points failed"):
        narrow = scan(
            BKG, hfx.PatchSet(spec), upper_limit=True, test_poi=0.4, poi_bounds=(0.0, 0.5)
        )
    weak = next(r for r in narrow.records if r["name"] == "p_600_200")
    assert weak["status"] == "failed" and "upper limit" in weak["error"]
    assert "upper_limit" not in weak and 0 < weak["CLs_obs"] < 1
    wide = scan(BKG, hfx.PatchSet(spec), upper_limit=True, poi_bounds=(0.0, 50.0))
    assert wide.failed == 0
    assert next(r for r in wide.records if r["name"] == "p_600_200")["upper_limit"]["obs"] > 0.5


def test_a_patchset_for_another_workspace_is_refused_unless_not_verified():
    spec = patchset_spec()
    spec["metadata"]["digests"]["sha256"] = "0" * 64
    with pytest.raises(PatchError, match=r"digest mismatch.*verify=False"):
        scan(BKG, hfx.PatchSet(spec))
    assert scan(BKG, hfx.PatchSet(spec), verify=False).failed == 0


def test_a_dask_local_cluster_gives_the_serial_numbers():
    distributed = pytest.importorskip("distributed")
    ps = hfx.PatchSet(patchset_spec())
    serial = _cls(scan(BKG, ps).records)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        result = scan(BKG, ps, executor=client.get_executor())
    assert result.failed == 0
    for name, values in _cls(result.records).items():
        np.testing.assert_allclose(values, serial[name], rtol=1e-12)


PYHF_REF = Path(__file__).resolve().parents[1] / "reference" / "pyhf" / "scan_points.json"


@pytest.mark.skipif(not (SHARED / "patchsets").is_dir(), reason="no shared patchsets")
def test_points_of_the_shared_grids_agree_with_pyhf():
    """pyhf 0.7.6's CLs and limits (tools/pyhf_scan_reference.py) at a few points of each
    shared grid: within 2e-3 relative."""
    reference = json.loads(PYHF_REF.read_text())
    by_grid: dict[str, list[dict]] = {}
    for point in reference["points"]:
        by_grid.setdefault(point["workspace"], []).append(point)
    assert set(by_grid) == {"2018-31_BkgOnlyA", "2018-14_Comb_bkgonly"}
    for grid, points in by_grid.items():
        names = {p["name"] for p in points}
        patchset = hfx.PatchSet.load(SHARED / "patchsets" / f"{grid}.patchset.json")
        chosen = [p for p in patchset.patches if p.name in names]
        result = scan(ATLAS_WS / f"{grid}.json", chosen, upper_limit=True)
        ours = {r["name"]: r for r in result.records}
        for point in points:
            record = ours[point["name"]]
            np.testing.assert_allclose(record["CLs_obs"], point["CLs_obs"], rtol=2e-3)
            np.testing.assert_allclose(record["CLs_exp"], point["CLs_exp"], rtol=2e-3)
            limit = record["upper_limit"]
            np.testing.assert_allclose(limit["obs"], point["upper_limit"]["obs"], rtol=2e-3)
            np.testing.assert_allclose(limit["exp"], point["upper_limit"]["exp"], rtol=2e-3)
