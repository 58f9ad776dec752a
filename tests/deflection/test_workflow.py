"""Resolving, escalating, reopening and developer time: validation, idempotency, the audit entry."""
import json

import pytest
from sqlalchemy import func, select

from console.audit.models import AuditEntry
from console.deflection.models import Ticket, TicketEvent
from console.deflection.ticket_refs import TicketError
from console.deflection.workflow import categories, log_dev_time, open_escalations, parse_outcome, record_outcome


FIVE_WHYS = {"why_1": "a", "why_2": "b", "why_3": "c", "why_4": "d", "root_cause": "e", "action_kind": "runbook",
             "action": "write the runbook"}


@pytest.mark.parametrize("body, field", [
    ({}, "outcome"),
    ({"outcome": "deflected"}, "outcome"),
    ({"outcome": "escalated"}, "escalation_class"),
    ({"outcome": "escalated", "escalation_class": "urgent"}, "escalation_class"),
    ({"outcome": "resolved", "escalation_class": "urgent"}, "escalation_class"),
    ({"outcome": "escalated", "escalation_class": "knowledge", "category": 5}, "category"),
    ({"outcome": "escalated", "escalation_class": "knowledge", "missing_tool": "x" * 201}, "missing_tool"),
    ({"outcome": "escalated", "escalation_class": "knowledge", "missing_tool": " \n "}, "missing_tool"),
    ({"outcome": "escalated", "escalation_class": "knowledge"}, "missing_tool"),
    ({"outcome": "resolved", "note": "x" * 4001}, "note"),
])
def test_bad_outcomes_name_the_field(body, field):
    with pytest.raises(TicketError) as caught:
        parse_outcome(body)
    assert caught.value.field == field


def test_text_is_tidied_and_categories_lower_cased():
    parsed = parse_outcome({"outcome": "escalated", "escalation_class": "small_change", "category": " Orders ",
                            "missing_tool": "  a task  to split\n orders ", "note": " checked "})
    assert (parsed.category, parsed.missing_tool, parsed.note) == ("orders", "a task to split orders", "checked")
    resolved = parse_outcome({"outcome": "resolved", "escalation_class": "knowledge", "missing_tool": "ignored"})
    assert (resolved.escalation_class, resolved.missing_tool) == ("", "")


def events_of(session, ref):
    return session.scalars(select(TicketEvent.kind).join(Ticket).where(Ticket.ref == ref)
                           .order_by(TicketEvent.id)).all()


def test_recording_the_same_outcome_twice_changes_nothing(app, console_db):
    escalation = parse_outcome({"outcome": "escalated", "escalation_class": "knowledge", "note": "n", "missing_tool": "a tool"})
    with app.app_context():
        _ticket, first = record_outcome(console_db, "T-10", escalation, actor="agent@example.com")
        _ticket, second = record_outcome(console_db, "T-10", escalation, actor="agent@example.com")
        other = parse_outcome({"outcome": "escalated", "escalation_class": "specialist", "note": "n", "missing_tool": "a tool"})
        _ticket, third = record_outcome(console_db, "T-10", other, actor="agent@example.com")
        reopen = parse_outcome({"outcome": "reopened"})
        record_outcome(console_db, "T-10", reopen, actor="agent@example.com")
        _ticket, reopened_twice = record_outcome(console_db, "T-10", reopen, actor="agent@example.com")
    assert (first, second, third, reopened_twice) == (True, False, True, False)
    assert events_of(console_db, "T-10") == ["escalated", "escalated", "reopened"]
    audited = console_db.scalar(select(func.count(AuditEntry.seq)).where(AuditEntry.ticket == "T-10"))
    assert audited == 3


def test_a_developer_logs_time_adds_a_root_cause_and_closes_the_escalation(app, console_db, make_user):
    developer = make_user("developer")
    with app.app_context():
        record_outcome(console_db, "T-11", parse_outcome({"outcome": "escalated", "escalation_class": "small_change",
                                                          "missing_tool": "a tool"}), actor="agent@example.com")
        ticket = console_db.scalar(select(Ticket).where(Ticket.ref == "T-11"))
        assert ticket in open_escalations(console_db, ticket.assignee)
        log_dev_time(console_db, "T-11", actor=developer.email, minutes="45", close=True, five_whys=FIVE_WHYS)
    assert events_of(console_db, "T-11") == ["escalated", "dev_time", "root_cause", "resolved"]
    assert (ticket.outcome, ticket.dev_minutes) == ("escalated", 45)
    assert ticket.escalation_closed_at is not None
    assert ticket not in open_escalations(console_db, ticket.assignee)
    audited = console_db.execute(select(AuditEntry.action, AuditEntry.details).where(AuditEntry.ticket == "T-11")
                                 .order_by(AuditEntry.seq)).all()
    assert [action for action, _ in audited] == ["ticket.escalated", "ticket.dev_time", "ticket.root_cause",
                                                 "ticket.resolved"]
    assert json.loads(audited[1].details)["minutes"] == 45
    assert json.loads(audited[2].details)["note"].splitlines()[::4] == ["Why 1: a", "Root cause: e"]


def test_the_note_of_an_outcome_is_in_its_audit_entry(app, console_db):
    with app.app_context():
        record_outcome(console_db, "T-14", parse_outcome({"outcome": "resolved", "note": "refunded by hand"}),
                       actor="agent@example.com")
    [details] = console_db.scalars(select(AuditEntry.details).where(AuditEntry.ticket == "T-14")).all()
    assert json.loads(details)["note"] == "refunded by hand"


@pytest.mark.parametrize("minutes", ["", "ten", "0", "1441", None])
def test_minutes_must_be_a_sensible_whole_number(app, console_db, minutes):
    with app.app_context():
        record_outcome(console_db, "T-12", parse_outcome({"outcome": "escalated", "escalation_class": "knowledge", "missing_tool": "a tool"}),
                       actor="agent@example.com")
        with pytest.raises(TicketError) as caught:
            log_dev_time(console_db, "T-12", actor="dev@example.com", minutes=minutes)
    assert caught.value.field == "minutes"


def test_time_is_logged_on_escalations_only(app, console_db):
    with app.app_context():
        record_outcome(console_db, "T-13", parse_outcome({"outcome": "resolved"}), actor="agent@example.com")
        with pytest.raises(TicketError, match="escalated tickets only"):
            log_dev_time(console_db, "T-13", actor="dev@example.com", minutes=5)
        with pytest.raises(TicketError, match="no ticket"):
            log_dev_time(console_db, "T-unknown", actor="dev@example.com", minutes=5)


def test_open_escalations_are_counted_up_to_a_cap(app, console_db):
    from console.deflection.workflow import count_open_escalations

    with app.app_context():
        for ref in ("C-1", "C-2", "C-3"):
            record_outcome(console_db, ref, parse_outcome({"outcome": "escalated", "escalation_class": "knowledge", "missing_tool": "a tool"}),
                           actor="agent@example.com")
        record_outcome(console_db, "C-3", parse_outcome({"outcome": "resolved"}), actor="agent@example.com")
    assert count_open_escalations(console_db) == 2
    assert count_open_escalations(console_db, cap=1) == 1
    assert [t.ref for t in open_escalations(console_db, None)] == ["C-1", "C-2"]


def test_open_escalations_come_oldest_or_newest_first_and_count_per_developer(app, console_db):
    from datetime import datetime

    from console.deflection.tickets import add_ticket_event
    from console.deflection.workflow import count_open_escalations

    with app.app_context():
        for minute, (ref, developer) in enumerate([("O-1", "a@example.com"), ("O-2", "b@example.com"),
                                                   ("O-3", "a@example.com")]):
            add_ticket_event(console_db, ref, "escalated", actor="agent@example.com", escalation_class="knowledge",
                             assignee=developer, created_at=datetime(2026, 3, 2, 9, minute))
    assert [t.ref for t in open_escalations(console_db, "a@example.com")] == ["O-1", "O-3"]
    assert [t.ref for t in open_escalations(console_db, "a@example.com", newest_first=True)] == ["O-3", "O-1"]
    assert [t.ref for t in open_escalations(console_db, None, limit=2, newest_first=True)] == ["O-3", "O-2"]
    assert count_open_escalations(console_db, developer="a@example.com") == 2
    assert count_open_escalations(console_db, developer="b@example.com") == 1


def test_the_categories_offered_come_from_the_config_else_the_products_ticket_story(app, monkeypatch):
    with app.app_context():
        assert categories() == ["account", "orders", "payments", "privacy", "general"]  # the demo shop's story
        monkeypatch.setitem(app.config, "TICKET_CATEGORIES", "Billing, accounts ,billing")
        assert categories() == ["billing", "accounts"]
        monkeypatch.setitem(app.config, "TICKET_CATEGORIES", "")
        monkeypatch.setattr(type(app.extensions["product"]), "ticket_story", property(lambda _self: None))
        assert categories() == ["account", "billing", "privacy", "general"]  # nothing of a shop for another product
