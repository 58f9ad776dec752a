"""console/jsontext.py: the one way values become JSON, and encoded text carried along unparsed."""
from __future__ import annotations

import enum
import json
from datetime import date, datetime, time
from decimal import Decimal

import pytest

from console.jsontext import REDACTED, Encoded, canonical_json, encode, jsonable


class Colour(enum.Enum):
    RED = "red"


def test_jsonable_gives_plain_json_types_whatever_it_is_given():
    value = {3: {"b", "a"}, "when": datetime(2026, 1, 2, 3, 4, 5, 6), "day": date(2026, 1, 2), "at": time(9, 30),
             "money": Decimal("12.30"), "colour": Colour.RED, "raw": b"\x00\xff", "pair": (1, 2),
             "nan": float("nan"), "text": "nul:\x00 lone \ud800"}
    assert jsonable(value) == {
        "3": ["a", "b"], "when": "2026-01-02T03:04:05.000006", "day": "2026-01-02", "at": "09:30:00",
        "money": "12.30", "colour": "red", "raw": "00ff", "pair": [1, 2], "nan": "nan",
        "text": "nul:\ufffd lone ?"}


def test_two_byte_strings_of_one_length_stay_apart():
    assert jsonable(b"\x01\x02") != jsonable(b"\x03\x04")


def test_a_secret_rule_redacts_at_any_depth_but_leaves_none_as_none():
    secret = {"password"}.__contains__
    assert jsonable({"a": [{"password": "x"}], "password": None}, secret=secret) == {
        "a": [{"password": REDACTED}], "password": None}


def test_canonical_json_is_sorted_and_compact_with_utf8_kept():
    assert canonical_json({"b": 1, "a": ["caf\u00e9", None]}) == '{"a":["caf\u00e9",null],"b":1}'


def test_an_encoded_member_is_placed_as_it_is_and_the_whole_stays_canonical():
    params = encode({"order_id": 1004, "note": "caf\u00e9"})
    whole = canonical_json({"stage": "preview", "params": params, "a": [1]})
    assert whole == canonical_json({"stage": "preview", "params": json.loads(params), "a": [1]})
    assert whole == '{"a":[1],"params":{"note":"caf\u00e9","order_id":1004},"stage":"preview"}'


def test_encoded_text_is_not_parsed_again(monkeypatch):
    params = encode({"order_id": 1004})
    monkeypatch.setattr(json, "loads", lambda *a, **k: pytest.fail("parsed again"))
    assert canonical_json(jsonable({"params": params})) == '{"params":{"order_id":1004}}'


def test_with_a_secret_rule_encoded_text_is_read_and_redacted():
    params = encode({"token": "t-1", "email": "a@example.com"})
    assert jsonable({"params": params}, secret={"token"}.__contains__) == {
        "params": {"token": REDACTED, "email": "a@example.com"}}


def test_encode_gives_encoded_text():
    assert isinstance(encode([]), Encoded) and encode([]) == "[]"
