"""Revealing one record's personal data: with a reason, audited, for a while, never for product owners."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from console.audit.chain import AuditUnavailable
from console.audit.models import AuditEntry
from console.lookup import reveal
from tests.factories import CustomerFactory

EMAIL = "alice.lookup@example.com"
MASKED_EMAIL = "al•••p@e•••.com"


def _reveal(client, auth, path, reason="Customer asked about their address, T-77"):
    return client.post(path, data={"csrf_token": auth.csrf(path.rsplit("/", 1)[0]), "reason": reason},
                       follow_redirects=True)


def _reveals(console_db):
    return console_db.scalars(select(AuditEntry).where(AuditEntry.action == "pii.reveal")
                              .order_by(AuditEntry.seq)).all()


def test_record_pages_are_masked_until_revealed(client, login_as, alice):
    customer, orders = alice
    login_as("agent")
    for path in (f"/admin/records/customers/{customer.id}", f"/admin/records/orders/{orders[-1].id}"):
        html = client.get(path).get_data(as_text=True)
        assert MASKED_EMAIL in html and EMAIL not in html, path
        assert "Lindenstr" not in html and "Alice Lookup" not in html and "1512345678" not in html
        assert 'name="reason"' in html


@pytest.mark.parametrize("role", ["agent", "lead", "developer", "admin"])
def test_a_reveal_shows_the_record_and_is_audited(client, auth, login_as, alice, console_db, role):
    customer, _ = alice
    user = login_as(role)
    with client.session_transaction() as session:
        session["ticket_ref"] = "T-77"
    path = f"/admin/records/customers/{customer.id}"
    response = _reveal(client, auth, f"{path}/reveal")
    assert response.status_code == 200 and response.request.path == path
    html = response.get_data(as_text=True)
    assert EMAIL in html and "Alice Lookup" in html and "+49 1512345678" in html and "revealed until" in html
    [entry] = _reveals(console_db)
    assert (entry.actor, entry.subject_type, entry.subject_id, entry.customer, entry.ticket) == (
        user.email, "customers", str(customer.id), EMAIL, "T-77")
    assert entry.reason == "Customer asked about their address, T-77"
    assert EMAIL in client.get(path).get_data(as_text=True)
    # Lists never reveal, whatever the session holds.
    assert EMAIL not in client.get("/admin/records/customers/?q=alice.lookup").get_data(as_text=True)


def test_a_reveal_covers_one_record_only(client, auth, login_as, alice):
    customer, orders = alice
    other = CustomerFactory(email="other.person@example.com")
    login_as("agent")
    _reveal(client, auth, f"/admin/records/customers/{customer.id}/reveal")
    assert "other.person@example.com" not in client.get(f"/admin/records/customers/{other.id}").get_data(as_text=True)
    assert EMAIL not in client.get(f"/admin/records/orders/{orders[-1].id}").get_data(as_text=True)


def test_revealing_an_order_unmasks_what_its_page_shows(client, auth, login_as, alice, console_db):
    customer, orders = alice
    login_as("agent")
    html = _reveal(client, auth, f"/admin/records/orders/{orders[-1].id}/reveal").get_data(as_text=True)
    assert "Lindenstr. 12" in html and EMAIL in html
    assert [(e.subject_type, e.subject_id) for e in _reveals(console_db)] == [("orders", str(orders[-1].id))]


def test_the_reveal_runs_out(client, auth, login_as, alice, monkeypatch):
    customer, _ = alice
    login_as("agent")
    _reveal(client, auth, f"/admin/records/customers/{customer.id}/reveal")
    real = reveal.clock
    monkeypatch.setattr(reveal, "clock", lambda: real() + 16 * 60)
    html = client.get(f"/admin/records/customers/{customer.id}").get_data(as_text=True)
    assert EMAIL not in html and MASKED_EMAIL in html


def test_mask_again_hides_it_at_once(client, auth, login_as, alice):
    customer, _ = alice
    login_as("agent")
    path = f"/admin/records/customers/{customer.id}"
    _reveal(client, auth, f"{path}/reveal")
    response = client.post(path + "/hide", data={"csrf_token": auth.csrf(path)})
    assert response.status_code == 303
    assert EMAIL not in client.get(path).get_data(as_text=True)


@pytest.mark.parametrize("reason, message", [("", "at least 5"), ("ok", "at least 5"), ("x" * 501, "at most 500"),
                                             ("bad\x07bell", "control characters")])
def test_a_bad_reason_reveals_nothing_and_says_why(client, auth, login_as, alice, console_db, reason, message):
    customer, _ = alice
    login_as("agent")
    path = f"/admin/records/customers/{customer.id}"
    response = client.post(f"{path}/reveal", data={"csrf_token": auth.csrf(path), "reason": reason})
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert EMAIL not in response.get_data(as_text=True) and _reveals(console_db) == []


def test_product_owners_may_not_reveal(client, auth, login_as, alice, console_db):
    customer, _ = alice
    login_as("product_owner")
    path = f"/admin/records/customers/{customer.id}"
    assert "Your role cannot reveal it" in client.get(path).get_data(as_text=True)
    response = client.post(f"{path}/reveal", data={"csrf_token": auth.csrf(path), "reason": "just looking"})
    assert response.status_code == 403 and EMAIL not in response.get_data(as_text=True)
    assert _reveals(console_db) == []


def test_a_reveal_needs_the_csrf_token(client, login_as, alice, console_db):
    customer, _ = alice
    login_as("agent")
    response = client.post(f"/admin/records/customers/{customer.id}/reveal", data={"reason": "Customer asked"})
    assert response.status_code == 400 and _reveals(console_db) == []


def test_an_unwritable_audit_trail_reveals_nothing(client, auth, login_as, alice, monkeypatch):
    customer, _ = alice
    login_as("agent")

    def down(*args, **kwargs):
        raise AuditUnavailable("the audit trail could not be written: OperationalError")

    monkeypatch.setattr(reveal, "record_event", down)
    response = _reveal(client, auth, f"/admin/records/customers/{customer.id}/reveal")
    assert response.status_code == 503 and EMAIL not in response.get_data(as_text=True)


def test_unknown_records_cannot_be_revealed(client, auth, login_as, alice, console_db):
    login_as("agent")
    response = client.post("/admin/records/customers/999999999/reveal",
                           data={"csrf_token": auth.csrf(), "reason": "Customer asked about it"})
    assert response.status_code == 404
    assert _reveals(console_db) == []


def test_a_partial_search_on_personal_data_is_for_roles_that_may_reveal_and_is_audited(client, auth, login_as, alice,
                                                                                      console_db):
    customer, _ = alice
    login_as("product_owner")
    for partial in ("alice.look", "lookup@exam"):  # the start of the email, and a part of it
        response = client.get("/admin/records/customers/", query_string={"q": partial})
        html = response.get_data(as_text=True)
        assert response.status_code == 403 and f"/admin/records/customers/{customer.id}" not in html
        assert "Search: your role (Product owner) may not search customers by part of email, name, phone" in html
    exact = client.get(f"/admin/records/customers/?q={EMAIL}").get_data(as_text=True)
    assert f"/admin/records/customers/{customer.id}" in exact
    auth.logout()
    login_as("agent")
    client.get("/admin/records/customers/?q=alice.look")
    searches = console_db.scalars(select(AuditEntry).where(AuditEntry.action == "pii.search")).all()
    # The product owner's exact search and the agent's prefix search; the query is masked in both.
    assert len(searches) == 2
    assert all(EMAIL not in str(e.details) and "alice.look" not in str(e.details) for e in searches)
