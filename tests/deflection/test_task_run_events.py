"""add_task_run_events: a chunk of runs' events at once, the same as each added with add_ticket_event."""
from __future__ import annotations

import random

import pytest
from sqlalchemy import func, select

from console.deflection.models import EventRollup, Ticket, TicketEvent, TicketRollup
from console.deflection.outcome import derive_facts
from console.deflection.tickets import (FACT_FIELDS, _earlier_events, _FactRow, add_task_run_events, add_ticket_event,
                                        ticket_events)

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


@pytest.mark.parametrize("seed", range(4))
def test_chunks_of_run_events_among_other_events_keep_the_facts_of_all_events(app, console_db, seed):
    """The events kept between chunks (only those added since are read) give what derive_facts gives over every
    event read afresh, whatever comes between: other kinds of events, rollbacks, undos, reopens, escalations."""
    rng = random.Random(seed)
    run_ids, succeeded = iter(range(1000, 100000)), []
    with app.app_context():
        for _ in range(40):
            if rng.random() < 0.6:
                runs = []
                for _ in range(rng.randint(1, 6)):
                    undo = rng.choice(succeeded) if succeeded and rng.random() < 0.15 else None
                    status = rng.choice(("succeeded", "succeeded", "refused", "failed"))
                    runs.append({"task": rng.choice(("unlock_account", "refund_order")), "run_id": next(run_ids),
                                 "run_status": status, "undo_of": undo})
                    if status == "succeeded" and undo is None:
                        succeeded.append(runs[-1]["run_id"])
                add_task_run_events(console_db, "T-RAND", runs, actor="agent@example.com")
            else:
                kind = rng.choice(("resolved", "reopened", "escalated", "runbook_viewed", "dev_time", "task_run"))
                fields = {"escalated": {"escalation_class": "bug", "category": "orders"}, "dev_time": {"minutes": 5},
                          "runbook_viewed": {"runbook": "unlock"},
                          "task_run": {"task": "refund_order", "run_id": next(run_ids), "run_status": "succeeded"},
                          }.get(kind, {})
                add_ticket_event(console_db, "T-RAND", kind, actor="agent@example.com", **fields)
            if rng.random() < 0.25:
                console_db.rollback()
            else:
                console_db.commit()
            ticket = console_db.scalar(select(Ticket).where(Ticket.ref == "T-RAND"))
            if ticket is None:
                continue
            every = ticket_events(console_db, ticket)
            facts = derive_facts(every)
            assert {name: getattr(ticket, name) for name in FACT_FIELDS if name != "category" or facts.category} == \
                {name: getattr(facts, name) for name in FACT_FIELDS if name != "category" or facts.category}
            assert [tuple(row) for row in _earlier_events(console_db, ticket.id)] == \
                [tuple(getattr(event, name) for name in _FactRow._fields) for event in every]
            console_db.rollback()
