"""Queueing webhook messages: in the event's own transaction, Slack markup escaped, no personal data."""
import json
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from console.db import console_session
from console.deflection.digest import send_digest
from console.deflection.tickets import add_ticket_event
from console.tasks.approvals import approve_run, expire_stale_approvals, reject_run
from console.tasks.models import TaskRun
from console.webhooks.models import WebhookMessage
from console.webhooks.outbox import KINDS, MAX_TEXT, destination_of, escape, notify, render
from tests.factories import CustomerFactory, OrderFactory, PaymentFactory, ShipmentFactory

HOOK = "https://chat.example.com/services/T0/B0/secret-part"


def test_slack_markup_in_user_text_stays_text():
    assert escape("<!channel> & <https://evil.example|click here>") == (
        "&lt;!channel&gt; &amp; &lt;https://evil.example|click here&gt;")


def test_only_the_fields_are_escaped_so_the_templates_own_links_work():
    text = render("See <https://docs.example.com/runbooks|the runbook> for ticket {ticket}",
                  {"ticket": "T-1 <!here>"})

    assert text == "See <https://docs.example.com/runbooks|the runbook> for ticket T-1 &lt;!here&gt;"


def test_long_texts_are_cut_without_leaving_half_an_escape():
    text = render("{a}{b}{c}{d}{e}{f}{g}", {name: "x" * 499 + "&" for name in "abcdefg"})

    assert len(text) <= MAX_TEXT and not text.endswith(("&", "&a", "&am", "&amp"))
    assert text.startswith("x" * 499 + "&amp;")


def test_the_url_is_stored_as_a_fingerprint_only(app, dbs, console_db, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_URL", HOOK)
    with app.app_context():
        message = notify(console_db, "escalation.created", "ticket {ticket}", ticket="T-1")
        console_db.flush()

    stored = console_db.get(WebhookMessage, message.id)
    assert stored.destination == destination_of(HOOK) and "secret-part" not in stored.destination
    assert (stored.status, stored.attempts, json.loads(stored.body)) == ("pending", 0, {"text": "ticket T-1"})


def test_no_url_means_no_message(app, dbs, console_db, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_URL", "")
    with app.app_context():
        assert notify(console_db, "escalation.created", "nothing") is None
    assert console_db.scalars(select(WebhookMessage)).all() == []


def test_an_unknown_kind_is_a_programming_error(app, dbs, console_db, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_URL", HOOK)
    with app.app_context(), pytest.raises(ValueError, match="unknown webhook message kind 'run.done'"):
        notify(console_db, "run.done", "text")


def test_a_message_commits_with_its_event_or_not_at_all(app, dbs, webhook_outbox):
    with app.app_context():
        session = console_session()
        add_ticket_event(session, "T-21", "escalated", escalation_class="knowledge", urgent=True)
        session.rollback()
        add_ticket_event(session, "T-22", "escalated", escalation_class="knowledge", urgent=True)
        session.commit()

    assert [text for _kind, text in webhook_outbox()] == ["URGENT: new escalation on ticket T-22 (knowledge) for "
                                                          "nobody on duty"]


def test_user_text_in_an_escalation_is_escaped(app, dbs, console_db, webhook_outbox, monkeypatch):
    monkeypatch.setitem(app.config, "TICKET_REF_PATTERN", r"[^\x00-\x1f\x7f]+")  # a deployment allowing markup
    with app.app_context():
        add_ticket_event(console_db, "T-<!channel>", "escalated", escalation_class="specialist",
                         missing_tool="<https://evil.example|free money> & more", urgent=True)
        console_db.commit()

    [(_kind, text)] = webhook_outbox()
    assert text == ("URGENT: new escalation on ticket T-&lt;!channel&gt; (specialist) for nobody on duty; missing tool: "
                    "&lt;https://evil.example|free money&gt; &amp; more")
    assert "<" not in text and ">" not in text


@pytest.fixture
def private_person(dbs):
    """A customer with a delivered order, and every piece of personal data they have."""
    customer = CustomerFactory(email="private.person@example.org", name="Prudence Privatsphaere",
                               phone="+49 30 5550101")
    order = OrderFactory(customer_id=customer.id, status="delivered", total_cents=50000)
    PaymentFactory(order_id=order.id, amount_cents=50000)
    shipment = ShipmentFactory(order_id=order.id, status="delivered", recipient_name="Prudence Privatsphaere",
                               line1="7 Verborgene Gasse", city="Geheimstadt", postcode="98765", country="DE",
                               tracking_number="TRACK-PRIVATE-1")
    personal = [customer.email, customer.email.split("@")[0], customer.name, "Prudence", "Privatsphaere",
                customer.phone, shipment.line1, shipment.city, shipment.postcode, shipment.tracking_number]
    return customer, order, personal


def test_no_kind_of_message_carries_the_customers_personal_data(app, run_task, task_user, private_person,
                                                                 console_db, target_db, webhook_outbox):
    customer, order, personal = private_person
    refunds = [run_task("refund_order", order_id=order.id, amount_cents=cents) for cents in (20000, 15000, 12000)]
    erasure = run_task("anonymize_customer", email=customer.email)
    assert [(run.status, run.error) for run in refunds + [erasure]] == [("pending_approval", "")] * 4
    lead = task_user("lead")
    to_reject, to_drift, to_expire = refunds
    with app.app_context():
        assert approve_run(erasure.id, lead, "erasure request checked").status == "succeeded"
        reject_run(to_reject.id, lead, f"{customer.email} asked for less, see {customer.name}")
    target_db.execute(update(type(order)).where(type(order).id == order.id).values(refunded_cents=100))
    with app.app_context():
        try:
            approve_run(to_drift.id, lead, "ok")
        except Exception as exc:  # the 422 of a run refused for drift: its message may name the customer
            assert getattr(exc, "run", None) is not None and exc.run.status == "refused"
    console_db.execute(update(TaskRun).where(TaskRun.id == to_expire.id)
                       .values(created_at=to_expire.created_at - timedelta(hours=25)))
    with app.app_context():
        assert expire_stale_approvals() == 1
        add_ticket_event(console_session(), "T-PRIVATE", "escalated", escalation_class="specialist",
                         category="privacy", missing_tool="erase tool", note=f"{customer.email} is furious",
                         urgent=True)
        add_ticket_event(console_session(), "T-PRIVATE-2", "escalated", escalation_class="knowledge",
                         category="privacy", note=f"{customer.name} wrote again")  # waits for the digest
        send_digest(console_session(), force=True)
        console_session().commit()

    messages = webhook_outbox()
    assert {kind for kind, _text in messages} == set(KINDS)
    for kind, text in messages:
        leaked = [value for value in personal if value.lower() in text.lower()]
        assert not leaked, f"{kind} message shows {leaked}: {text}"
