"""Searching personal data: prefix search only for roles that may reveal, and every matching search audited."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from console.audit.models import AuditEntry

EMAIL = "alice.lookup@example.com"
MASKED_EMAIL = "al•••p@e•••.com"


def search_entries(console_db) -> list[AuditEntry]:
    return list(console_db.scalars(select(AuditEntry).where(AuditEntry.action == "pii.search")
                                   .order_by(AuditEntry.seq)))


def test_a_product_owner_cannot_spell_out_an_email_by_its_start(client, login_as, alice, console_db):
    login_as("product_owner")
    for prefix in ("a", "al", "alice.l"):
        response = client.get("/admin/customers/", query_string={"q": prefix})
        html = response.get_data(as_text=True)
        assert response.status_code == 403, prefix
        assert "may not search by the start of an email" in html
        assert MASKED_EMAIL not in html and f"/admin/customers/{alice[0].id}" not in html
    assert search_entries(console_db) == []


@pytest.mark.parametrize("path", ["/admin/customers/", "/admin/orders/"])
def test_a_product_owner_still_finds_a_customer_by_the_full_address_masked(client, login_as, alice, console_db,
                                                                           path):
    customer, orders = alice
    login_as("product_owner")
    response = client.get(path, query_string={"q": EMAIL.upper()})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert MASKED_EMAIL in html and EMAIL not in html  # the search box echoes the query as typed: in capitals
    link = f"/admin/customers/{customer.id}" if path == "/admin/customers/" else f"/admin/orders/{orders[0].id}"
    assert link in html
    assert client.get("/admin/customers/", query_string={"q": str(orders[0].id)}).status_code == 200


def test_a_search_that_matches_personal_data_is_audited_without_the_query(client, login_as, alice, console_db):
    agent = login_as("agent")
    before = console_db.scalar(select(func.count()).select_from(AuditEntry))
    assert client.get("/admin/customers/", query_string={"q": "alice.l"}).status_code == 200
    assert client.get("/admin/orders/", query_string={"q": EMAIL}).status_code == 200
    entries = search_entries(console_db)
    assert console_db.scalar(select(func.count()).select_from(AuditEntry)) == before + 2  # one entry per search
    prefix, exact = (json.loads(entry.details) for entry in entries)
    assert [entry.actor for entry in entries] == [agent.email, agent.email]
    assert [entry.subject_type for entry in entries] == ["customers", "orders"]
    assert prefix["kind"] == "prefix" and prefix["matches"] == 1 and prefix["query"] == "a•••"
    assert exact["kind"] == "email" and exact["matches"] == 1 and exact["query"] == MASKED_EMAIL
    assert len(exact["query_digest"]) == 64 and exact["query_digest"] != prefix["query_digest"]
    for entry in entries:
        assert "alice.l" not in entry.details and "alice.l" not in (entry.customer or "")


def test_searches_that_match_no_personal_data_leave_no_entry(client, login_as, alice, console_db):
    customer, _ = alice
    login_as("agent")
    for query in ("nobody@example.com", "zz", str(customer.id), ""):
        assert client.get("/admin/customers/", query_string={"q": query}).status_code == 200, query
    assert client.get("/admin/customers/", query_string={"status": "active"}).status_code == 200
    assert search_entries(console_db) == []


def test_a_search_that_cannot_be_audited_shows_nothing(client, login_as, alice, monkeypatch):
    from console.audit.chain import AuditUnavailable
    from console.lookup import searches

    def broken(*args, **kwargs):
        raise AuditUnavailable("the audit trail could not be written: OperationalError")

    login_as("agent")
    monkeypatch.setattr(searches, "record_event", broken)
    response = client.get("/admin/customers/", query_string={"q": "alice"})
    assert response.status_code == 503
    assert MASKED_EMAIL not in response.get_data(as_text=True)
