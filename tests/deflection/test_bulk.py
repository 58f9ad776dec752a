"""A bulk-loaded history is indistinguishable from the same events added one by one."""
import json
from datetime import datetime

from sqlalchemy import func, select

from console.audit.models import AuditEntry
from console.deflection.bulk import insert_history
from console.deflection.models import EventRollup, OutcomeRollup, Ticket, TicketEvent, TicketRollup
from console.deflection.tickets import FACT_FIELDS, add_ticket_event
from admin_tasks.shop import DEMO_TICKETS
from console.demo.history import HistoryWriter

EVENT_FIELDS = ("task", "run_id", "run_status", "undo_of", "runbook", "escalation_class", "category", "missing_tool",
                "assignee", "note", "minutes")


def snapshot(session):
    tickets = {t.ref: tuple(getattr(t, name) for name in FACT_FIELDS + ("team",))
               for t in session.scalars(select(Ticket))}
    tickets_rollup = {tuple(getattr(r, c) for c in ("grain", "day", "team", "category", "outcome", "escalation_class", "task",
                                                    "false_deflection", "missing_tool")): (r.tickets, r.dev_minutes,
                                                                                          r.timed)
                      for r in session.scalars(select(TicketRollup)) if r.tickets}
    outcomes = {(r.grain, r.day, r.team, r.category, r.outcome, r.escalation_class): r.tickets
                for r in session.scalars(select(OutcomeRollup)) if r.tickets}
    events_rollup = {(r.grain, r.day, r.team, r.category, r.kind, r.subject, r.status): (r.events, r.minutes)
                     for r in session.scalars(select(EventRollup)) if r.events}
    return tickets, tickets_rollup, events_rollup, outcomes


def test_bulk_and_one_by_one_agree(app, console_db):
    tickets = HistoryWriter(DEMO_TICKETS, 5, 8, datetime(2026, 3, 20, 12), ["dev@example.com", "dev2@example.com"],
                            {"SPRINT_DAYS": 14}).generate()
    assert insert_history(console_db, tickets, actor="import@example.com") > 400
    bulk = snapshot(console_db)
    console_db.rollback()  # events are append-only: undo the load rather than delete it
    with app.app_context():
        for ticket in tickets:
            console_db.add(Ticket(ref=ticket["ref"], team=ticket["team"], created_at=ticket["created_at"],
                                  updated_at=ticket["created_at"]))
            console_db.flush()
            for event in ticket["events"]:
                add_ticket_event(console_db, ticket["ref"], event.kind, actor=event.actor, created_at=event.created_at,
                                 **{name: getattr(event, name) for name in EVENT_FIELDS})
    one_by_one = snapshot(console_db)
    assert len(bulk[0]) > 100 and len(bulk[2]) > 30 and len(bulk[3]) > 30
    assert one_by_one == bulk


def test_a_load_is_one_audit_entry(console_db):
    tickets = HistoryWriter(DEMO_TICKETS, 5, 3, datetime(2026, 3, 20, 12), ["dev@example.com"],
                            {"SPRINT_DAYS": 14}).generate()
    events = insert_history(console_db, tickets, actor="import@example.com")
    [entry] = console_db.scalars(select(AuditEntry)).all()
    details = json.loads(entry.details)
    assert (entry.action, entry.actor) == ("ticket.history_load", "import@example.com")
    assert (details["tickets"], details["events"]) == (len(tickets), events)
    first, last = details["event_ids"]
    assert last - first + 1 == events == console_db.scalar(select(func.count(TicketEvent.id)))
