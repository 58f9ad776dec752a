"""add_task_run_events: a chunk of runs' events at once, the same as each added with add_ticket_event."""
from __future__ import annotations

from sqlalchemy import func, select

from console.deflection.models import EventRollup, Ticket, TicketEvent, TicketRollup
from console.deflection.tickets import FACT_FIELDS, add_task_run_events, add_ticket_event

RUNS = [{"task": "unlock_account", "run_id": 11, "run_status": "succeeded", "undo_of": None},
        {"task": "unlock_account", "run_id": 12, "run_status": "refused", "undo_of": None},
        {"task": "refund_order", "run_id": 13, "run_status": "succeeded", "undo_of": None}]


def _facts(session, ref: str) -> dict:
    ticket = session.scalar(select(Ticket).where(Ticket.ref == ref))
    events = session.execute(select(TicketEvent.kind, TicketEvent.task, TicketEvent.run_id, TicketEvent.run_status,
                                    TicketEvent.actor).where(TicketEvent.ticket_id == ticket.id)
                             .order_by(TicketEvent.id)).all()
    return {"customer": ticket.customer, "events": [tuple(event) for event in events],
            **{name: getattr(ticket, name) for name in FACT_FIELDS if name not in ("closed_at",)}}


def _rollup_events(session) -> dict:
    return dict(session.execute(select(EventRollup.status, func.sum(EventRollup.events))
                                .where(EventRollup.grain == "d", EventRollup.kind == "task_run")
                                .group_by(EventRollup.status)).all())


def test_a_chunk_of_run_events_is_the_same_as_each_one_added_alone(console_db):
    for fields in RUNS:
        add_ticket_event(console_db, "T-ONE", "task_run", actor="agent@example.com", customer="Buyer@Example.com",
                         **fields)
    add_ticket_event(console_db, "T-ONE", "resolved", actor="agent@example.com")
    alone = _rollup_events(console_db)
    tickets_alone = console_db.scalar(select(func.sum(TicketRollup.tickets)).where(TicketRollup.grain == "d"))

    add_task_run_events(console_db, "T-MANY", [dict(fields) for fields in RUNS], actor="agent@example.com",
                        customer="Buyer@Example.com")
    add_ticket_event(console_db, "T-MANY", "resolved", actor="agent@example.com")

    assert _facts(console_db, "T-MANY") == _facts(console_db, "T-ONE")
    assert _facts(console_db, "T-MANY")["outcome"] == "deflected_by_task"
    assert _rollup_events(console_db) == {status: 2 * count for status, count in alone.items()}
    assert console_db.scalar(select(func.sum(TicketRollup.tickets)).where(TicketRollup.grain == "d")) == \
        2 * tickets_alone
