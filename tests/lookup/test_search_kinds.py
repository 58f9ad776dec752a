"""A search leaves out the substring steps whose column's kind (`holds`) never holds a character of the text:
no phone number holds a letter or an @, no name a digit or an @. Whatever could match is found as before."""
from __future__ import annotations

import pytest

from console.lookup import listing
from console.product.queries import phases
from tests.factories import CustomerFactory

# Texts that could match, found by the search with and without the kinds' rule.
TEXTS = ("lopez.499499", "lopez", "499499", "+49 151", "151 4994", "(0) 151-499", "o'brien-núñez", "núñez",
         "clara.lopez.499499@example.net", "@example", "lopez4", "brien", "lopez garcia")


@pytest.fixture
def customers(app, target_db):
    made = [CustomerFactory(email="clara.lopez.499499@example.net", name="Clara Lopez", phone="+49 151 499499"),
            CustomerFactory(email="sean@example.net", name="Seán O'Brien-Núñez", phone="+44 (0) 151-499.1200"),
            CustomerFactory(email="lopez4@example.org", name="Lopez Garcia", phone="0151 4994 9900"),
            CustomerFactory(email="x499499@example.com", name="Ana Lopez", phone=None)]
    return app.extensions["product_schema"].record("customers"), made


def _substrings(customers, q: str) -> list[str]:
    return [phase.column for phase in phases(customers, q) if phase.kind == "substring"]


@pytest.mark.parametrize("q, searched", [
    ("lopez.499499", ["email"]),  # a letter, which no phone number holds, and a digit, which no name holds
    ("lopez garcia", ["email", "name"]),  # letters: no phone number holds them
    ("clara.lopez.499499@example.net", ["email"]),  # an @ and a digit: no name holds them either
    ("499499", ["email", "phone"]),  # a digit: no name holds it
    ("(0) 151-499.12", ["email", "phone"]),
    ("O'Brien-Núñez", ["email", "name"]),  # an accented letter is still a letter
    ("lopez", ["email", "name"]),
])
def test_a_search_skips_the_substring_steps_its_text_cannot_be_in(customers, q, searched):
    record, _made = customers
    assert _substrings(record, q) == searched


def test_without_kinds_every_substring_step_runs(customers, monkeypatch):
    record, _made = customers
    monkeypatch.setattr(record.record, "holds", {})
    assert _substrings(record, "clara.lopez.499499@example.net") == ["email", "name", "phone"]


@pytest.mark.parametrize("q", TEXTS)
def test_what_could_match_is_found_as_before(customers, target_db, monkeypatch, q):
    record, _made = customers

    def found() -> list:
        page = listing.search(target_db.connection(), record, q, size=10)
        return [(phase.kind, phase.column, row.id) for phase, row in page.found]

    narrowed = found()
    monkeypatch.setattr(record.record, "holds", {})
    assert narrowed == found() and narrowed  # every text here matches someone


def test_a_text_with_letters_sends_no_phone_search(customers, target_db, sql_log):
    """The SQL itself: the phone's substring index (FTS5 or suffix table, named after the column) or its ILIKE
    appears only when the text could be in a phone number."""
    record, _made = customers

    def sent(q: str) -> str:
        sql_log.statements.clear()
        listing.search(target_db.connection(), record, q, size=10)
        return " ".join(statement for database, statement, _ in sql_log.statements if database == "target")

    def phone_searched(sql: str) -> bool:
        return "sc_trgm_customers_phone" in sql or "customers.phone ILIKE" in sql

    assert phone_searched(sent("151 4994"))  # the control: a phone-like text does search phone numbers
    assert not phone_searched(sent("lopez.499499"))
