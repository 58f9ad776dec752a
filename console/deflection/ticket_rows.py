"""A ticket's row and its events, read and written with prebuilt Core statements.

A task run records an event on its ticket every time it settles: through the ORM (loading the
ticket as an object, adding the event, flushing both) that cost more than the rest of the run's
outcome. The models (console.deflection.models) stay the one place that defines the tables, their
columns and their defaults; the statements are built from them. Every statement runs on the
session's connection, in its transaction, so the event commits with the run's outcome or not at all.
"""
from __future__ import annotations

from types import SimpleNamespace
from typing import Callable

from sqlalchemy import bindparam, func, literal_column, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from console.auth.models import StaffUser
from console.deflection.models import Ticket, TicketEvent
from console.direct import send

_TICKETS = Ticket.__table__
_EVENTS = TicketEvent.__table__
# What the derived facts and the rollups read of a ticket, and what an event changes of it.
TICKET_COLUMNS = ("id", "ref", "outcome", "category", "team", "customer", "closed_at", "task", "false_deflection",
                  "escalation_class", "missing_tool", "assignee", "escalated_at", "escalation_closed_at",
                  "dev_minutes")
# What `derive_facts` reads of an event: a ticket's earlier events are read as these columns alone.
FACT_COLUMNS = ("id", "kind", "created_at", "category", "task", "run_id", "run_status", "undo_of", "escalation_class",
                "missing_tool", "assignee", "minutes")
_LOCKED = (select(*(_TICKETS.c[name] for name in TICKET_COLUMNS)).where(_TICKETS.c.ref == bindparam("ref"))
           .with_for_update())
_EARLIER = (select(*(_EVENTS.c[name] for name in FACT_COLUMNS)).where(_EVENTS.c.ticket_id == bindparam("ticket_id"))
            .order_by(_EVENTS.c.id))
_UPDATES: dict[frozenset, object] = {}
_CREATES: dict[str, object] = {}
# A new ticket belongs to the team of whoever opened it, "support" when they have none (or there is no one).
DEFAULT_TEAM = "support"


def team_in_sql():
    """The opener's team (the `actor` parameter, an email) as a subquery of the INSERT that opens a ticket:
    read by the statement itself, never by a query before it."""
    team = select(StaffUser.team).where(StaffUser.email == bindparam("actor")).scalar_subquery()
    return func.coalesce(func.nullif(team, ""), DEFAULT_TEAM)


def _open_statement(dialect: str):
    """The statement that opens a ticket, built once per dialect.

    PostgreSQL: INSERT ... ON CONFLICT (ref) DO UPDATE (a no-op, which locks the row as FOR UPDATE would)
    RETURNING the ticket, new or not, and whether it is new (a row this statement inserted has no xmax):
    one round trip. Elsewhere: INSERT ... ON CONFLICT DO NOTHING RETURNING it, after a read that missed;
    when another request creates it first, theirs is the one read (locked) instead.
    """
    if dialect not in _CREATES:
        columns = [_TICKETS.c[name] for name in TICKET_COLUMNS]
        if dialect == "postgresql":
            # Every column but the key a value of its own, as opening() gives them: compiled once, sent as it is.
            given = (*TICKET_COLUMNS, "created_at", "updated_at")
            statement = pg_insert(_TICKETS).values({name: team_in_sql() if name == "team" else bindparam(name)
                                                    for name in given if name != "id"})
            _CREATES[dialect] = (statement.on_conflict_do_update(index_elements=[_TICKETS.c.ref],
                                                                 set_={"ref": statement.excluded.ref})
                                 .returning(*columns, literal_column("xmax = 0").label("created")))
        else:
            _CREATES[dialect] = (sqlite_insert(_TICKETS).values(team=team_in_sql())
                                 .on_conflict_do_nothing(index_elements=[_TICKETS.c.ref]).returning(*columns))
    return _CREATES[dialect]


def lock_ticket(session: Session, ref: str, opening: Callable[[], dict], *, actor: str) -> tuple[SimpleNamespace, bool]:
    """(the ticket's row, locked, as a plain record; whether this call created it).

    `ref` is clean already. `opening()` gives the columns of the ticket if it is new (its facts included, so
    that a new ticket needs no second write) but its team, which is `actor`'s; the table's defaults fill the rest.
    """
    conn = session.connection()
    dialect = conn.dialect.name
    if dialect == "postgresql":
        row = send(conn, _open_statement(dialect), {**opening(), "ref": ref, "actor": actor or ""}).one()._asdict()
        return SimpleNamespace(**row), row.pop("created")
    row = conn.execute(_LOCKED, {"ref": ref}).first()
    if row is None:
        row = conn.execute(_open_statement(dialect), {**opening(), "ref": ref, "actor": actor or ""}).first()
        if row is not None:
            return SimpleNamespace(**row._mapping), True
        row = conn.execute(_LOCKED, {"ref": ref}).one()
    return SimpleNamespace(**row._mapping), False


def earlier_events(session: Session, ticket_id: int) -> list:
    """The ticket's events so far, oldest first, as the columns the derived facts read."""
    return list(session.connection().execute(_EARLIER, {"ticket_id": ticket_id}))


def update_ticket(session: Session, ticket_id: int, changed: dict) -> None:
    """Write the ticket's changed columns. A Ticket object of the session is expired, so that it is read anew."""
    if not changed:
        return
    keys = frozenset(changed)
    statement = _UPDATES.get(keys)
    if statement is None:
        statement = _UPDATES.setdefault(keys, update(_TICKETS).where(_TICKETS.c.id == bindparam("ticket_id"))
                                        .values({key: bindparam(key) for key in keys}))
    session.connection().execute(statement, {**changed, "ticket_id": ticket_id})
    loaded = session.identity_map.get(session.identity_key(Ticket, ticket_id))
    if loaded is not None:
        session.expire(loaded)
