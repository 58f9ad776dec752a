"""add_ticket_event: the ticket's facts, the rollups, routing to the developer on duty, the notification."""
import json
from datetime import date

import pytest
from sqlalchemy import func, select

from console.audit.models import AuditEntry
from console.deflection.models import EventRollup, Ticket, TicketEvent, TicketRollup
from console.deflection.ticket_refs import TicketError, clean_ref
from console.deflection.tickets import add_ticket_event, open_ticket
from tests.deflection.conftest import rollup_by_outcome


def direct_counts(session) -> dict[str, int]:
    rows = session.execute(select(Ticket.outcome, func.count(Ticket.id)).where(Ticket.outcome != "open")
                           .group_by(Ticket.outcome))
    return dict(rows.all())


@pytest.mark.parametrize("ref, message", [("", "required"), ("  ", "required"), ("x" * 121, "at most 120"),
                                          ("T-1\nX", "control characters"), (12, "must be text")])
def test_bad_references_are_refused_naming_the_ticket_field(ref, message):
    with pytest.raises(TicketError) as caught:
        clean_ref(ref)
    assert caught.value.field == "ticket" and message in str(caught.value)


def test_unknown_kinds_and_fields_are_refused(app, console_db):
    with app.app_context(), pytest.raises(TicketError) as caught:
        add_ticket_event(console_db, "T-1", "deleted")
    assert caught.value.field == "kind"
    with app.app_context(), pytest.raises(TicketError) as caught:
        add_ticket_event(console_db, "T-1", "resolved", colour="red")
    assert caught.value.field == "colour"


def test_a_new_ticket_belongs_to_the_team_of_whoever_opened_it(make_user, console_db):
    agent = make_user("agent", team="night-shift")
    assert open_ticket(console_db, "T-team", actor=agent.email).team == "night-shift"
    assert open_ticket(console_db, "T-nobody").team == "support"


def test_the_ticket_moves_in_the_rollup_as_its_outcome_changes(event, console_db):
    event("T-1", "task_run", 0, task="unlock_account", run_status="succeeded")
    assert rollup_by_outcome(console_db) == {}  # still open: not counted
    event("T-1", "resolved", 5, category="Account ")
    assert rollup_by_outcome(console_db) == {"deflected_by_task": 1} == direct_counts(console_db)
    event("T-1", "reopened", 60)
    assert rollup_by_outcome(console_db) == {} == direct_counts(console_db)
    event("T-1", "resolved", 70)
    assert rollup_by_outcome(console_db) == {"resolved": 1} == direct_counts(console_db)
    event("T-1", "escalated", 80, escalation_class="small_change", missing_tool="a better unlock")
    assert rollup_by_outcome(console_db) == {"escalated": 1} == direct_counts(console_db)
    assert rollup_by_outcome(console_db, "w") == {"escalated": 1}
    row = console_db.scalars(select(TicketRollup).where(TicketRollup.tickets > 0, TicketRollup.grain == "d")).one()
    assert (row.day, row.category, row.task, row.false_deflection) == (date(2026, 3, 2), "account", "unlock_account",
                                                                     True)


def test_developer_minutes_follow_the_ticket_into_the_rollup(event, console_db, make_user):
    make_user("developer", email="oncall@example.com")
    event("T-2", "escalated", 0, escalation_class="specialist", category="payments")
    event("T-2", "dev_time", 90, actor="oncall@example.com", minutes=40)
    event("T-2", "dev_time", 95, actor="oncall@example.com", minutes=20)
    row = console_db.scalars(select(TicketRollup).where(TicketRollup.tickets > 0, TicketRollup.grain == "w")).one()
    assert (row.day, row.tickets, row.dev_minutes, row.timed) == (date(2026, 3, 2), 1, 60, 1)
    logged = console_db.scalar(select(func.sum(EventRollup.minutes)).where(EventRollup.kind == "dev_time",
                                                                          EventRollup.grain == "d",
                                                                          EventRollup.subject == "oncall@example.com"))
    assert logged == 60


def test_task_runs_count_once_they_are_final_and_undos_apart(event, console_db):
    event("T-3", "task_run", 0, task="cancel_order", run_id=None, run_status="pending_approval")
    event("T-3", "task_run", 1, task="cancel_order", run_status="succeeded")
    event("T-3", "task_run", 2, task="cancel_order", run_status="succeeded", undo_of=12345)
    rows = console_db.execute(select(EventRollup.kind, EventRollup.status, EventRollup.events)
                              .where(EventRollup.subject == "cancel_order", EventRollup.grain == "d")).all()
    assert sorted(rows) == [("task_run", "succeeded", 1), ("undo", "succeeded", 1)]


def test_a_runbook_read_before_the_first_escalation_is_counted_once(event, console_db):
    event("T-4", "runbook_viewed", 0, runbook="refund-request")
    event("T-4", "escalated", 5, escalation_class="knowledge")
    event("T-4", "escalated", 9, escalation_class="specialist")  # a reclassification, not a new escalation
    count = console_db.scalar(select(EventRollup.events).where(EventRollup.kind == "runbook_then_escalated",
                                                               EventRollup.grain == "d"))
    assert count == 1


def test_an_escalation_goes_to_the_developer_on_duty_and_stays_with_them(app, event, console_db, make_user,
                                                                          monkeypatch):
    make_user("developer", email="a-dev@example.com")
    make_user("developer", email="b-dev@example.com")
    monkeypatch.setitem(app.config, "SUPPORT_ROTATION", ["b-dev@example.com", "a-dev@example.com"])
    monkeypatch.setitem(app.config, "SPRINT_START", date(2026, 3, 2))
    monkeypatch.setitem(app.config, "SPRINT_DAYS", 14)
    first = event("T-5", "escalated", 0, escalation_class="small_change")
    assert first.assignee == "b-dev@example.com"
    later = event("T-5", "escalated", 60 * 24 * 20, escalation_class="specialist")  # next sprint, still open
    assert later.assignee == "b-dev@example.com"
    other = event("T-6", "escalated", 60 * 24 * 20, escalation_class="knowledge")
    assert other.assignee == "a-dev@example.com"
    assert console_db.scalar(select(Ticket.assignee).where(Ticket.ref == "T-6")) == "a-dev@example.com"


def test_a_new_escalation_is_queued_in_its_own_transaction(app, console_db, webhook_outbox):
    with app.app_context():
        add_ticket_event(console_db, "T-7", "escalated", escalation_class="small_change", category="orders",
                         missing_tool="a split task", note="private details", urgent=True)
        console_db.commit()
        add_ticket_event(console_db, "T-8", "escalated", escalation_class="knowledge", urgent=True)
        console_db.rollback()  # the escalation did not happen, so neither does its message
        add_ticket_event(console_db, "T-7", "escalated", escalation_class="specialist", urgent=True)  # not new
        console_db.commit()
    assert webhook_outbox() == [("escalation.created", "URGENT: new escalation on ticket T-7 (small_change, orders) for nobody on "
                                               "duty; missing tool: a split task")]


def test_events_keep_their_order_and_fields(event, console_db):
    event("T-9", "runbook_viewed", 0, runbook="cannot-log-in")
    event("T-9", "resolved", 3, note="done")
    kinds = console_db.scalars(select(TicketEvent.kind).join(Ticket).where(Ticket.ref == "T-9")
                               .order_by(TicketEvent.id)).all()
    assert kinds == ["runbook_viewed", "resolved"]
    ticket = console_db.scalar(select(Ticket).where(Ticket.ref == "T-9"))
    assert ticket.outcome == "deflected_by_runbook"


def ticket_audit(session, ref: str) -> list[tuple[str, str, dict]]:
    rows = session.execute(select(AuditEntry.action, AuditEntry.actor, AuditEntry.details)
                           .where(AuditEntry.ticket == ref).order_by(AuditEntry.seq))
    return [(action, actor, json.loads(details)) for action, actor, details in rows]


def test_every_event_is_audited_in_the_same_transaction_with_its_note(app, console_db):
    with app.app_context():
        viewed = add_ticket_event(console_db, "T-audit", "runbook_viewed", actor="agent@example.com",
                                  runbook="cannot-log-in")
        escalated = add_ticket_event(console_db, "T-audit", "escalated", actor="agent@example.com",
                                     escalation_class="knowledge", note="Customer says the card was charged twice",
                                     assignee="dev@example.com")
        cause = add_ticket_event(console_db, "T-audit", "root_cause", actor="dev@example.com",
                                 note="Why 1: the retry queue was paused")
    assert ticket_audit(console_db, "T-audit") == [
        ("ticket.runbook_viewed", "agent@example.com", {"event": viewed.id, "runbook": "cannot-log-in"}),
        ("ticket.escalated", "agent@example.com", {"event": escalated.id, "escalation_class": "knowledge",
                                                   "assignee": "dev@example.com",
                                                   "note": "Customer says the card was charged twice"}),
        ("ticket.root_cause", "dev@example.com", {"event": cause.id, "note": "Why 1: the retry queue was paused"}),
    ]
    console_db.rollback()  # nothing is committed: the entries went with the events
    assert ticket_audit(console_db, "T-audit") == []


def test_a_task_run_event_is_left_to_the_run_s_own_audit_entry(event, console_db):
    event("T-run", "task_run", task="unlock_account", run_status="succeeded")
    assert ticket_audit(console_db, "T-run") == []
