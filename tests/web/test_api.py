"""The web API behind `hfx serve`: the token, the library's numbers, jobs (progress,
cancel, seen by every client), figures, limits, and refused paths."""

from __future__ import annotations

import json
import os
import threading
import time

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx2")
from click.testing import CliRunner
from starlette.testclient import TestClient

import hfx
from hfx.interfaces.cli.main import cli
from hfx.interfaces.web import Limits, create_app
from tests.cli.helpers import doc_example
from tests.conftest import SHARED
from tests.scan.conftest import BKG, patchset_spec

TOKEN = "t0ken-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SIGNAL = [
    {
        "op": "add",
        "path": "/channels/0/samples/-",
        "value": {
            "name": "signal",
            "data": [6.0, 4.0, 2.0],
            "modifiers": [{"name": "mu", "type": "normfactor", "data": None}],
        },
    }
]


@pytest.fixture
def served(tmp_path):
    folder = tmp_path / "served"
    (folder / "sub").mkdir(parents=True)
    (folder / "bkg.json").write_text(json.dumps(BKG))
    (folder / "sub" / "signal.json").write_text(json.dumps(SIGNAL))
    (folder / "sub" / "grid.json").write_text(json.dumps(patchset_spec()))
    (tmp_path / "secret.json").write_text("{}")
    return folder


@pytest.fixture
def client(served):
    app = create_app([served], token=TOKEN, limits=Limits(upload_bytes=200_000, json_depth=16))
    with TestClient(app, headers=AUTH) as c:
        yield c
    app.state.hfx.jobs.shutdown()


def _upload(client, name, document):
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return client.post("/api/upload", params={"name": name}, content=body)


def _wait(client, job_id, timeout=120.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["state"] in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {job['state']} after {timeout} s")


# --- the token -----------------------------------------------------------------------------------


def test_requests_without_the_token_are_refused_and_the_page_sets_a_cookie(served):
    app = create_app([served], token=TOKEN)
    with TestClient(app) as anonymous:
        for path in ("/", "/static/app.js", "/api/items", "/api/folders", "/api/jobs"):
            assert anonymous.get(path).status_code == 401, path
            assert anonymous.get(path, params={"token": "wrong"}).status_code == 403, path
        assert anonymous.post("/api/upload", content=b"{}").status_code == 401
        page = anonymous.get("/", params={"token": TOKEN})
        assert page.status_code == 200 and "<html" in page.text.lower()
        assert "HttpOnly" in page.headers["set-cookie"]
        assert anonymous.get("/api/items").status_code == 200  # the cookie now
    with TestClient(app, headers={"Authorization": "Bearer nope"}) as wrong:
        assert wrong.get("/api/items").status_code == 403


# --- the library's numbers -----------------------------------------------------------------------


def test_cls_of_an_upload_equals_hfx_cls(client, tmp_path):
    ws = _upload(client, "ws.json", BKG).json()
    assert ws["kind"] == "workspace"
    summary = ws["summary"]
    assert [c["name"] for c in summary["channels"]] == ["CR", "SR"]  # sorted, as pyhf
    assert {m["type"] for m in summary["modifiers"]} == {"normsys", "staterror"}
    patch = _upload(client, "signal.json", SIGNAL).json()
    assert patch["kind"] == "patch" and patch["summary"] == {"operations": 1}
    job = client.post(
        "/api/jobs", json={"kind": "cls", "workspace": ws["id"], "patch": patch["id"]}
    ).json()
    done = _wait(client, job["id"])
    assert done["state"] == "done", done
    (tmp_path / "ws.json").write_text(json.dumps(BKG))
    (tmp_path / "signal.json").write_text(json.dumps(SIGNAL))
    printed = CliRunner().invoke(
        cli, ["cls", str(tmp_path / "ws.json"), "--patch", str(tmp_path / "signal.json")]
    )
    expected = json.loads(printed.stdout)
    np.testing.assert_allclose(done["result"]["CLs_obs"], expected["CLs_obs"], rtol=1e-12)
    np.testing.assert_allclose(done["result"]["CLs_exp"], expected["CLs_exp"], rtol=1e-12)
    assert client.get(f"/api/jobs/{job['id']}/result.json").json() == done["result"]


def test_a_patchset_point_fit_limit_and_ranking_with_their_figures(client):
    ws = client.post("/api/open", json={"folder": 0, "path": "bkg.json"}).json()
    grid = client.post("/api/open", json={"folder": 0, "path": "sub/grid.json"}).json()
    assert grid["kind"] == "patchset" and grid["summary"]["labels"] == ["m1", "m2"]
    base = {"workspace": ws["id"], "patch": grid["id"], "point": "p_400_100"}
    jobs = {
        kind: client.post("/api/jobs", json={**base, "kind": kind}).json()
        for kind in ("upper_limit", "fit", "ranking")
    }
    spec = hfx.PatchSet(patchset_spec()).apply(hfx.Workspace(BKG), "p_400_100")
    model = spec.model()
    data = spec.data(model)
    limit = _wait(client, jobs["upper_limit"]["id"])
    assert limit["state"] == "done", limit
    direct = hfx.upper_limit(model, data)
    np.testing.assert_allclose(limit["result"]["obs"], direct.obs, rtol=1e-9)
    np.testing.assert_allclose(limit["result"]["exp"], direct.exp, rtol=1e-9)
    assert len(limit["result"]["scan"]) == 31
    fit = _wait(client, jobs["fit"]["id"])
    best = hfx.fit(model, data)
    np.testing.assert_allclose(fit["result"]["twice_nll"], best.twice_nll, rtol=1e-9)
    ranking = _wait(client, jobs["ranking"]["id"])
    assert [r["name"] for r in ranking["result"]["ranking"]] == [
        i.name for i in hfx.ranking(model, data).impacts
    ]
    pytest.importorskip("matplotlib")
    for job_id, names in (
        (limit["id"], ["brazil"]),
        (fit["id"], ["pulls", "correlations"]),
        (ranking["id"], ["ranking"]),
    ):
        for name in names:
            png = client.get(f"/api/jobs/{job_id}/plots/{name}.png")
            assert png.status_code == 200 and png.content[:4] == b"\x89PNG", name
            svg = client.get(f"/api/jobs/{job_id}/plots/{name}.svg")
            assert svg.headers["content-type"].startswith("image/svg") and b"<svg" in svg.content
    for what in ("yields/SR", "yields/CR", "modifiers"):
        png = client.get(f"/api/items/{ws['id']}/plots/{what}.png")
        assert png.status_code == 200 and png.content[:4] == b"\x89PNG", what
    signal = client.get(
        f"/api/items/{ws['id']}/plots/yields/SR.png",
        params={"patch": grid["id"], "point": "p_300_0"},
    )
    assert signal.status_code == 200
    assert client.get(f"/api/items/{ws['id']}/plots/yields/XX.png").status_code == 400


def test_a_grid_scan_reports_progress_and_every_client_sees_it(client, served):
    ws = client.post("/api/open", json={"folder": 0, "path": "bkg.json"}).json()
    grid = client.post("/api/open", json={"folder": 0, "path": "sub/grid.json"}).json()
    job = client.post(
        "/api/jobs", json={"kind": "scan", "workspace": ws["id"], "patch": grid["id"]}
    ).json()
    # a second client (another tab) sees the job, and its events
    with TestClient(client.app, headers=AUTH) as other:
        assert job["id"] in [j["id"] for j in other.get("/api/jobs").json()["jobs"]]
        seen = []
        with other.stream("GET", f"/api/jobs/{job['id']}/events") as events:
            for line in events.iter_lines():
                if line.startswith("data: "):
                    seen.append(json.loads(line[6:]))
    assert seen[-1]["state"] == "done", seen[-1]
    assert seen[-1]["progress"] == {"done": 11, "total": 11}
    records = seen[-1]["result"]["records"]
    direct = hfx.scan(BKG, hfx.PatchSet(patchset_spec()))
    for ours, theirs in zip(records, direct.records, strict=True):
        np.testing.assert_allclose(ours["CLs_obs"], theirs["CLs_obs"], rtol=1e-12)
    assert seen[-1]["result"]["contour"]["x"] == "m1"
    pytest.importorskip("matplotlib")
    assert client.get(f"/api/jobs/{job['id']}/plots/contour.png").content[:4] == b"\x89PNG"


@pytest.mark.skipif(not (SHARED / "patchsets").is_dir(), reason="no shared patchsets")
def test_a_long_scan_can_be_cancelled(client, tmp_path):
    client.app.state.hfx.limits = Limits()  # (the workspace is larger than this client's limit)
    ws = _upload(
        client,
        "BkgOnlyA.json",
        (SHARED / "workspaces" / "atlas" / "2018-31_BkgOnlyA.json").read_bytes(),
    ).json()
    grid = _upload(
        client, "grid.json", (SHARED / "patchsets" / "2018-31_BkgOnlyA.patchset.json").read_bytes()
    ).json()
    job = client.post(
        "/api/jobs",
        json={
            "kind": "scan",
            "workspace": ws["id"],
            "patch": grid["id"],
            "options": {"upper_limit": True},
        },
    ).json()
    end = time.monotonic() + 60
    while client.get(f"/api/jobs/{job['id']}").json()["progress"] in (
        None,
        {"done": 0, "total": 117},
    ):
        assert time.monotonic() < end
        time.sleep(0.05)
    cancelled = client.delete(f"/api/jobs/{job['id']}").json()
    assert cancelled["state"] == "cancelled"
    time.sleep(1.0)
    final = client.get(f"/api/jobs/{job['id']}").json()
    assert final["state"] == "cancelled" and final["progress"]["done"] < 117
    assert client.get(f"/api/jobs/{job['id']}/result.json").status_code == 400


# --- bad input and limits ------------------------------------------------------------------------


def test_a_bad_file_gets_the_command_lines_message(client, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    bad_files = {
        "broken.json": b'{"channels": [1, 2,}',
        "negative.json": json.dumps(
            {**BKG, "observations": [{"name": "SR", "data": [1, -2, 3]}, BKG["observations"][1]]}
        ).encode(),
        "unknown.json": json.dumps(
            {
                **doc_example(),
                "channels": [
                    {
                        "name": "singlechannel",
                        "samples": [
                            {
                                "name": "s",
                                "data": [1.0, 2.0],
                                "modifiers": [{"name": "x", "type": "magic", "data": None}],
                            }
                        ],
                    }
                ],
            }
        ).encode(),
    }
    for name, content in bad_files.items():
        (tmp_path / name).write_bytes(content)
        answer = _upload(client, name, content)
        assert answer.status_code == 400, name
        message = answer.json()["error"]
        printed = CliRunner().invoke(cli, ["inspect", name])
        assert printed.exit_code == 2
        assert printed.stderr.strip() == f"hfx: error: {message}", name
    assert "\n" not in message


def test_limits_on_size_and_nesting(client):
    big = b"[" + b"0," * 150_000 + b"0]"
    assert _upload(client, "big.json", big).status_code == 413
    declared = client.post("/api/upload", content=b"{}", headers={"Content-Length": str(10**9)})
    assert declared.status_code == 413
    deep = b"[" * 40 + b"]" * 40
    answer = _upload(client, "deep.json", deep)
    assert answer.status_code == 400 and "nested more than 16" in answer.json()["error"]
    files = {"file": ("ws.json", json.dumps(BKG).encode(), "application/json")}
    assert client.post("/api/upload", files=files).json()["kind"] == "workspace"


def test_paths_outside_the_served_folders_are_refused(client, served, tmp_path):
    os.symlink(tmp_path / "secret.json", served / "link.json")
    listing = client.get("/api/folders").json()["folders"][0]
    paths = {f["path"] for f in listing["files"]}
    assert {"bkg.json", "sub/signal.json", "sub/grid.json"} <= paths
    assert "link.json" not in paths
    for path in (
        "../secret.json",
        str(tmp_path / "secret.json"),
        "link.json",
        "sub/../../secret.json",
    ):
        answer = client.post("/api/open", json={"folder": 0, "path": path})
        assert answer.status_code == 403, path
    assert client.post("/api/open", json={"folder": 0, "path": "nope.json"}).status_code == 404
    assert client.post("/api/open", json={"folder": 3, "path": "bkg.json"}).status_code == 404
    (served / "notes.txt").write_text("x")
    assert client.post("/api/open", json={"folder": 0, "path": "notes.txt"}).status_code == 403
    for path in ("/static/app.py", "/static/..%2Fapp.py", "/static/%2e%2e/app.py", "/../app.py"):
        assert client.get(path).status_code == 404, path


def test_no_input_crashes_the_server(client):
    for method, path, body in (
        ("post", "/api/jobs", b"not json"),
        ("post", "/api/jobs", b"[1]"),
        ("post", "/api/jobs", json.dumps({"kind": "cls", "workspace": "i99"}).encode()),
        ("post", "/api/jobs", json.dumps({"kind": "nope", "workspace": "i1"}).encode()),
        ("post", "/api/open", b"{}"),
        ("get", "/api/jobs/j99", None),
        ("delete", "/api/jobs/j99", None),
        ("get", "/api/items/i99/plots/modifiers.png", None),
        ("post", "/api/upload", b"\xff\xfe\x00"),
    ):
        answer = client.request(method.upper(), path, content=body)
        assert 400 <= answer.status_code < 500, (path, body, answer.status_code)
        assert answer.json()["error"]
    ws = _upload(client, "ws.json", BKG).json()
    patch = _upload(client, "signal.json", SIGNAL).json()
    answer = client.post(
        "/api/jobs",
        json={
            "kind": "cls",
            "workspace": ws["id"],
            "patch": patch["id"],
            "options": {"test_poi": "x"},
        },
    )
    job = _wait(client, answer.json()["id"])
    assert job["state"] == "failed" and "test_poi" in job["error"]
    assert client.get("/api/items").status_code == 200


def test_concurrent_requests(client):
    results = []

    def work(i):
        try:
            ws = _upload(client, f"ws{i}.json", BKG).json()
            patch = _upload(client, f"signal{i}.json", SIGNAL).json()
            job = client.post(
                "/api/jobs", json={"kind": "cls", "workspace": ws["id"], "patch": patch["id"]}
            ).json()
            done = _wait(client, job["id"])
            results.append(done["state"] if done["state"] == "done" else done["error"])
        except Exception as exc:  # a thread's failure is reported, not lost
            results.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["done"] * 6
