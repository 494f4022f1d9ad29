"""parse_json: the fast parser and the standard library give the same documents and errors."""

from __future__ import annotations

import json
import math

import pytest

from hfx.errors import SpecError
from hfx.spec.jsonio import parse_json
from tests.conftest import ATLAS_WS, needs_shared


@needs_shared()
def test_published_workspaces_parse_as_the_standard_library_does():
    for path in sorted(ATLAS_WS.glob("*.json")):
        raw = path.read_bytes()
        assert parse_json(raw, source=str(path)) == json.loads(raw.decode("utf-8"))


def test_what_the_fast_parser_refuses_still_parses_or_fails_located():
    # NaN/Infinity literals and numbers beyond double range: the standard library reads them
    # (validation then reports them with their place)
    doc = parse_json(b'{"a": [NaN, Infinity, -Infinity, 1e400]}')
    assert math.isnan(doc["a"][0]) and doc["a"][1:] == [math.inf, -math.inf, math.inf]
    assert parse_json('["\\ud800"]') == ["\ud800"]  # a lone surrogate escape
    assert parse_json("  [1, 2.5, -0.0]\n") == [1, 2.5, -0.0]
    with pytest.raises(SpecError, match=r"ws\.json.*line 2, column 1"):
        parse_json(b'{"a": 1,\n}', source="ws.json")
    with pytest.raises(SpecError, match="UTF-8"):
        parse_json(b'{"a": "\xff"}', source="ws.json")
