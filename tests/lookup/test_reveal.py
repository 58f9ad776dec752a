"""Revealing one customer's personal data: with a reason, audited, for a while, never for product owners."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from console.audit.models import AuditEntry
from console.lookup import reveal

EMAIL = "alice.lookup@example.com"
MASKED_EMAIL = "al•••p@e•••.com"


def _reveal(client, auth, path, reason="Customer asked about their address, T-77"):
    return client.post(path, data={"csrf_token": auth.csrf(path.rsplit("/", 1)[0]), "reason": reason},
                       follow_redirects=True)


def test_detail_pages_are_masked_until_revealed(client, login_as, alice):
    customer, orders = alice
    login_as("agent")
    for path in (f"/admin/customers/{customer.id}", f"/admin/orders/{orders[-1].id}"):
        html = client.get(path).get_data(as_text=True)
        assert MASKED_EMAIL in html and EMAIL not in html, path
        assert "Lindenstr" not in html and "Alice Lookup" not in html
        assert 'name="reason"' in html


@pytest.mark.parametrize("role", ["agent", "lead", "developer", "admin"])
def test_a_reveal_shows_the_record_and_is_audited(client, auth, login_as, alice, console_db, role):
    customer, _ = alice
    user = login_as(role)
    response = _reveal(client, auth, f"/admin/customers/{customer.id}/reveal")
    assert response.status_code == 200 and response.request.path == f"/admin/customers/{customer.id}"
    html = response.get_data(as_text=True)
    assert EMAIL in html and "Alice Lookup" in html and "+49 1512345678" in html
    assert "revealed until" in html
    entry = console_db.scalars(select(AuditEntry).where(AuditEntry.action == "pii.reveal")
                               .order_by(AuditEntry.seq.desc())).first()
    assert (entry.actor, entry.subject_type, entry.subject_id, entry.customer) == (
        user.email, "customer", str(customer.id), EMAIL)
    assert entry.reason == "Customer asked about their address, T-77"
    assert EMAIL in client.get(f"/admin/customers/{customer.id}").get_data(as_text=True)


def test_a_reveal_covers_one_customer_only(client, auth, login_as, alice):
    from tests.factories import CustomerFactory

    customer, _ = alice
    other = CustomerFactory(email="other.person@example.com")
    login_as("agent")
    _reveal(client, auth, f"/admin/customers/{customer.id}/reveal")
    assert "other.person@example.com" not in client.get(f"/admin/customers/{other.id}").get_data(as_text=True)


def test_revealing_on_the_order_page_unmasks_its_address(client, auth, login_as, alice, console_db):
    customer, orders = alice
    login_as("agent")
    html = _reveal(client, auth, f"/admin/orders/{orders[-1].id}/reveal").get_data(as_text=True)
    assert "Lindenstr. 12" in html and EMAIL in html
    subject = console_db.scalars(select(AuditEntry.subject_id).where(AuditEntry.action == "pii.reveal")).all()
    assert str(customer.id) in subject


def test_the_reveal_runs_out(client, auth, login_as, alice, monkeypatch):
    customer, _ = alice
    login_as("agent")
    _reveal(client, auth, f"/admin/customers/{customer.id}/reveal")
    real = reveal.clock
    monkeypatch.setattr(reveal, "clock", lambda: real() + 16 * 60)
    html = client.get(f"/admin/customers/{customer.id}").get_data(as_text=True)
    assert EMAIL not in html and MASKED_EMAIL in html


def test_mask_again_hides_it_at_once(client, auth, login_as, alice):
    customer, _ = alice
    login_as("agent")
    _reveal(client, auth, f"/admin/customers/{customer.id}/reveal")
    path = f"/admin/customers/{customer.id}"
    response = client.post(path + "/hide", data={"csrf_token": auth.csrf(path)})
    assert response.status_code == 303 and response.headers["Location"] == path
    html = client.get(path).get_data(as_text=True)
    assert EMAIL not in html and MASKED_EMAIL in html


def test_a_reason_is_required(client, auth, login_as, alice, console_db):
    customer, _ = alice
    login_as("agent")
    before = console_db.scalars(select(AuditEntry.seq).where(AuditEntry.action == "pii.reveal")).all()
    response = _reveal(client, auth, f"/admin/customers/{customer.id}/reveal", reason="   ")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Reason: say why" in html and EMAIL not in html
    assert console_db.scalars(select(AuditEntry.seq).where(AuditEntry.action == "pii.reveal")).all() == before


def test_a_reveal_without_csrf_token_is_refused(client, login_as, alice):
    customer, _ = alice
    login_as("agent")
    response = client.post(f"/admin/customers/{customer.id}/reveal", data={"reason": "Customer asked, T-1"})
    assert response.status_code == 400
    assert EMAIL not in client.get(f"/admin/customers/{customer.id}").get_data(as_text=True)


def test_product_owners_can_never_reveal(client, auth, login_as, alice, console_db):
    customer, orders = alice
    login_as("product_owner")
    page = client.get(f"/admin/customers/{customer.id}").get_data(as_text=True)
    assert 'name="reason"' not in page and "cannot reveal" in page
    for path in (f"/admin/customers/{customer.id}/reveal", f"/admin/orders/{orders[-1].id}/reveal"):
        response = _reveal(client, auth, path)
        assert response.status_code == 403, path
    assert console_db.scalars(select(AuditEntry).where(AuditEntry.action == "pii.reveal")).first() is None


def test_a_product_owner_session_holding_a_reveal_still_sees_masks(client, login_as, alice):
    customer, _ = alice
    login_as("product_owner")
    with client.session_transaction() as session:
        session[reveal.SESSION_KEY] = {str(customer.id): int(reveal.clock()) + 600}
    html = client.get(f"/admin/customers/{customer.id}").get_data(as_text=True)
    assert EMAIL not in html and MASKED_EMAIL in html


def test_no_reveal_when_the_audit_cannot_be_written(client, auth, login_as, alice, monkeypatch):
    from console.audit.chain import AuditUnavailable

    customer, _ = alice
    login_as("agent")

    def broken(*args, **kwargs):
        raise AuditUnavailable("the audit trail could not be written: OperationalError")

    monkeypatch.setattr(reveal, "record_event", broken)
    response = _reveal(client, auth, f"/admin/customers/{customer.id}/reveal")
    assert response.status_code == 503
    assert "nothing was revealed" in response.get_data(as_text=True)
    assert EMAIL not in client.get(f"/admin/customers/{customer.id}").get_data(as_text=True)


def test_a_revealed_name_cannot_reverse_the_page(client, auth, login_as, target_db):
    from tests.factories import CustomerFactory

    customer = CustomerFactory(email="bidi@example.com", name="Anna \u202egnp.exe Muller")
    login_as("agent")
    html = _reveal(client, auth, f"/admin/customers/{customer.id}/reveal").get_data(as_text=True)
    assert "\u202e" not in html
    assert "Anna [U+202E]gnp.exe Muller" in html
