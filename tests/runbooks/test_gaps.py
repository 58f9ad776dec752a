"""Runbook gaps: searches that found nothing, grouped by what was asked."""
from __future__ import annotations

from datetime import timedelta

import pytest

from sqlalchemy import select

from console.db import utcnow
from console.runbooks.gaps import REPEAT_WINDOW, gap_key, record_search_miss, search_gaps
from console.runbooks.models import RunbookSearchMiss


def test_gap_key_ignores_wording_order_and_punctuation():
    assert gap_key("Gift card balance?") == gap_key("balance of my gift cards") == "balanc card gift"
    assert gap_key("!!! the ???") == ""


def test_customer_addresses_and_order_numbers_are_not_kept(console_db):
    miss = record_search_miss(console_db, "alice@example.com wants gift card 1004", actor="a@example.com")

    assert miss.query == "[email] wants gift card 1004" and miss.terms == "card gift want"
    assert record_search_miss(console_db, "bob@example.com 1003", actor="a@example.com") is None


@pytest.mark.parametrize("query, kept", [
    ("call +44 20 7946 0958 about a refund", "call [phone] about a refund"),
    ("(555) 123-4567 cannot log in", "[phone] cannot log in"),
    ("wants a refund, phone 0171-1234567", "wants a refund, phone [phone]"),
    ("callback +4915112345678 voucher", "callback [phone] voucher"),
    ("gift card, order 1234567", "gift card, order [phone]"),  # 7 digits or more: a phone number, whatever it is
])
def test_phone_numbers_are_not_kept(console_db, query, kept):
    miss = record_search_miss(console_db, query, actor="a@example.com")
    assert miss.query == kept
    assert not any(ch.isdigit() for ch in miss.query + miss.terms)
    assert "phone" not in miss.terms.split()


@pytest.mark.parametrize("query, kept", [
    ("moved to 12 Baker Street, wants the voucher", "moved to [address], wants the voucher"),
    ("221B Baker St voucher", "[address] voucher"),
    ("voucher for Baker Street 12", "voucher for [address]"),
    ("voucher to 5 old kent road", "voucher to [address]"),
    ("Lieferung an Hauptstr. 5 fehlt", "Lieferung an [address] fehlt"),
    ("Bahnhofstraße 12a voucher", "[address] voucher"),
])
def test_street_addresses_are_not_kept(console_db, query, kept):
    miss = record_search_miss(console_db, query, actor="a@example.com")
    assert miss.query == kept
    assert not {"baker", "kent", "hauptstr", "bahnhofstrass", "bahnhofstraß", "address"} & set(miss.terms.split())


@pytest.mark.parametrize("query", ["refund 2 items", "order 1004 not delivered", "where is order 123456",
                                   "orders 1001, 1002 missing", "wrong road 3 times", "email address change"])
def test_ordinary_queries_keep_their_words_and_short_numbers(console_db, query):
    miss = record_search_miss(console_db, query, actor="a@example.com")
    assert miss.query == query


def test_noise_is_not_recorded(console_db):
    assert record_search_miss(console_db, "?!", actor="a@example.com") is None
    assert console_db.scalars(select(RunbookSearchMiss)).all() == []


def test_a_repeat_by_the_same_agent_is_one_gap_until_the_window_passes(console_db):
    first = record_search_miss(console_db, "gift card balance", actor="a@example.com", ticket="T-1")
    repeat = record_search_miss(console_db, "Gift cards balance", actor="a@example.com")
    other_agent = record_search_miss(console_db, "gift card balance", actor="b@example.com")
    first.created_at = utcnow() - REPEAT_WINDOW - timedelta(seconds=1)
    console_db.flush()
    later = record_search_miss(console_db, "gift card balance", actor="a@example.com")

    assert repeat is None
    assert other_agent is not None and later is not None
    assert first.ticket == "T-1" and first.query == "gift card balance"


def test_long_queries_are_cut_to_fit(console_db):
    miss = record_search_miss(console_db, "word " * 200, actor="a@example.com")

    assert len(miss.query) == 200 and miss.terms == "word"


def test_search_gaps_rank_the_most_searched_first_within_the_period(console_db):
    now = utcnow()
    for actor in ("a", "b", "c"):
        record_search_miss(console_db, "gift card balance", actor=f"{actor}@example.com")
    record_search_miss(console_db, "loyalty points", actor="a@example.com")
    old = record_search_miss(console_db, "invoice copy", actor="a@example.com")
    old.created_at = now - timedelta(days=40)
    console_db.flush()

    gaps = search_gaps(console_db, since=now - timedelta(days=30))

    assert [(gap.terms, gap.searches) for gap in gaps] == [("balanc card gift", 3), ("loyalt point", 1)]
    assert gaps[0].example == "gift card balance"
    assert [gap.terms for gap in search_gaps(console_db, until=now - timedelta(days=1))] == ["cop invoic"]
