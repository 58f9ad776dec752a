"""Loading whole ticket histories at once (demo data, benchmarks, imports from a helpdesk).

Each ticket comes with all its events; its facts and rollup entries are computed by the same
functions add_ticket_event uses, so a bulk-loaded ticket is indistinguishable from one built
event by event. Rows go in through COPY on PostgreSQL and a prepared executemany on SQLite;
SQLAlchemy's per-row parameter processing cost more than the inserts themselves. A load is
audited as one entry (its actor, how many tickets and events, the range of event ids), not one
per event: a history imported in bulk was recorded elsewhere first.
"""
from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from console.audit.chain import append as audit
from console.deflection.models import Ticket, TicketEvent
from console.deflection.outcome import derive_facts
from console.deflection.rollup import RollupDeltas, replay, ticket_entry
from console.deflection.tickets import FACT_FIELDS

TICKET_COLUMNS = ("id", "ref", "outcome", "category", "team", "customer", "created_at", "updated_at", "closed_at",
                  "task", "false_deflection", "escalation_class", "missing_tool", "assignee", "escalated_at",
                  "escalation_closed_at", "dev_minutes")
EVENT_COLUMNS = ("id", "ticket_id", "kind", "created_at", "actor", "task", "run_id", "run_status", "undo_of", "runbook",
                 "escalation_class", "category", "missing_tool", "assignee", "note", "minutes", "urgent", "batched",
                 "bulk_id")
EVENT_DEFAULTS = {"urgent": False, "batched": False}  # history loaded in bulk was sent at once, as before digests
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores DateTime in SQLite


def insert_history(session: Session, tickets: list[dict], *, actor: str) -> int:
    """Insert new tickets, each a dict of Ticket columns plus "events" (oldest first); return the events inserted.

    Ids are given here, after the highest in use: run it while nothing else writes tickets. The
    load is one audit entry by `actor`. No commit.
    """
    next_ticket = (session.scalar(select(func.max(Ticket.id))) or 0) + 1
    next_event = (session.scalar(select(func.max(TicketEvent.id))) or 0) + 1
    deltas = RollupDeltas()
    ticket_rows, event_rows = [], []
    for ticket in tickets:
        history = ticket["events"]
        row = {"id": next_ticket, "ref": ticket["ref"], "team": ticket.get("team") or "support",
               "category": ticket.get("category", ""), "customer": ticket.get("customer", ""),
               "created_at": ticket["created_at"],
               "updated_at": history[-1].created_at if history else ticket["created_at"]}
        next_ticket += 1
        facts = derive_facts(history)
        for name in FACT_FIELDS:
            if name != "category" or facts.category:
                row[name] = getattr(facts, name)
        fact_row = SimpleNamespace(**row)
        deltas.add_ticket(ticket_entry(fact_row))
        deltas.add_events(replay(history, row["team"], ticket.get("category", "")))
        ticket_rows.append(tuple(row[name] for name in TICKET_COLUMNS))
        for event in history:
            values = EVENT_DEFAULTS | vars(event) | {"id": next_event, "ticket_id": row["id"]}
            event_rows.append(tuple(values.get(name) for name in EVENT_COLUMNS))
            next_event += 1
    _write(session, Ticket.__table__, TICKET_COLUMNS, ticket_rows)
    _write(session, TicketEvent.__table__, EVENT_COLUMNS, event_rows)
    deltas.write(session)
    if session.get_bind().dialect.name == "postgresql":
        for table in ("tickets", "ticket_events"):
            session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"(SELECT max(id) FROM {table}))"))
    if ticket_rows:
        first_event = event_rows[0][0] if event_rows else None
        audit(session, actor=actor, action="ticket.history_load", subject_type="ticket",
              details={"tickets": len(ticket_rows), "events": len(event_rows), "first_ticket": ticket_rows[0][1],
                       "last_ticket": ticket_rows[-1][1], "event_ids": [first_event, next_event - 1]})
    return len(event_rows)


def _write(session: Session, table, columns: tuple[str, ...], rows: list[tuple]) -> None:
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        with connection.connection.driver_connection.cursor() as cursor:
            with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    elif dialect.name == "sqlite":
        statement = insert(table).compile(dialect=dialect, column_keys=list(columns))
        if tuple(statement.positiontup or ()) != columns:
            raise RuntimeError(f"{table.name}: INSERT parameters {statement.positiontup} are not in column order")
        connection.exec_driver_sql(str(statement), [tuple(_sqlite_value(value) for value in row) for row in rows])
    else:
        connection.execute(insert(table), [dict(zip(columns, row)) for row in rows])


def _sqlite_value(value):
    if isinstance(value, datetime):
        return value.strftime(SQLITE_DATETIME)
    if isinstance(value, bool):
        return int(value)
    return value
