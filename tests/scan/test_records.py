"""Scan files: whole lines only, torn last lines dropped and cut, later lines win, compaction."""

from __future__ import annotations

import json

import pytest

from hfx.errors import HfxError, HfxWarning
from hfx.interfaces.scan.records import (
    RecordWriter,
    compact,
    dumps_record,
    latest_by_name,
    read_records,
)


def _rec(name: str, cls: float = 0.5) -> dict:
    return {"name": name, "status": "ok", "CLs_obs": cls}


def test_a_record_is_one_line_and_refuses_nan():
    line = dumps_record(_rec("a"))
    assert line.endswith("\n") and line.count("\n") == 1
    with pytest.raises(ValueError):
        dumps_record(_rec("a", float("nan")))


def test_a_torn_last_line_is_dropped_on_reading_and_cut_by_the_writer(tmp_path):
    path = tmp_path / "scan.jsonl"
    path.write_text(dumps_record(_rec("a")) + dumps_record(_rec("b"))[:-9])
    assert [r["name"] for r in read_records(path)] == ["a"]
    with RecordWriter(path) as writer:
        writer.write(_rec("c"))
    text = path.read_text()
    assert text == dumps_record(_rec("a")) + dumps_record(_rec("c"))
    assert [r["name"] for r in read_records(path)] == ["a", "c"]


def test_a_file_that_is_one_torn_line_is_emptied_by_the_writer(tmp_path):
    path = tmp_path / "scan.jsonl"
    path.write_text('{"name": "a", "sta')
    assert read_records(path) == []
    with RecordWriter(path) as writer:
        writer.write(_rec("b"))
    assert path.read_text() == dumps_record(_rec("b"))


def test_later_lines_win_and_compaction_orders_and_keeps_foreign_names(tmp_path):
    path = tmp_path / "scan.jsonl"
    with RecordWriter(path) as writer:
        for record in (_rec("b", 0.1), _rec("x"), _rec("a"), _rec("b", 0.2)):
            writer.write(record)
    assert latest_by_name(read_records(path))["b"]["CLs_obs"] == 0.2
    compact(path, ["a", "b"])
    names = [json.loads(line)["name"] for line in path.read_text().splitlines()]
    assert names == ["a", "b", "x"]
    assert read_records(path)[1]["CLs_obs"] == 0.2


def test_a_line_that_is_not_a_record_is_ignored_with_a_warning(tmp_path):
    path = tmp_path / "scan.jsonl"
    path.write_text(dumps_record(_rec("a")) + "not json\n" + "[1, 2]\n" + dumps_record(_rec("b")))
    with pytest.warns(HfxWarning) as caught:
        records = read_records(path)
    assert [r["name"] for r in records] == ["a", "b"]
    messages = [str(w.message) for w in caught]
    assert any("line 2 is not JSON" in m for m in messages)
    assert any("line 3 is not a scan record" in m for m in messages)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(HfxError, match=r"nope\.jsonl: no such file"):
        read_records(tmp_path / "nope.jsonl")
