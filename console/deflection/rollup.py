"""The rollup rows behind the dashboard: what each ticket and event adds, and the upserts.

A decided ticket counts once in `ticket_rollup`, under the key made of its current facts, and
once in `ticket_outcome_rollup`, the same key without task and missing tool (fewer rows).
When an event changes those facts, the ticket moves: minus one under the old key, plus one
under the new. Events count in `ticket_event_rollup` under the day they happened. Both are
applied as `INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n`, so concurrent writers
add up instead of overwriting each other.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from types import SimpleNamespace

from sqlalchemy import bindparam, insert, select, union_all
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from console.deflection.models import EventRollup, OutcomeRollup, TicketEvent, TicketRollup
from console.deflection.outcome import TERMINAL_RUN_STATUSES
from console.direct import send

TICKET_KEY = ("grain", "day", "team", "category", "outcome", "escalation_class", "task", "false_deflection", "missing_tool")
TICKET_MEASURES = ("tickets", "dev_minutes", "timed")
OUTCOME_KEY = ("grain", "day", "team", "category", "outcome", "escalation_class")
OUTCOME_MEASURES = ("tickets",)
EVENT_KEY = ("grain", "day", "team", "category", "kind", "subject", "status")
EVENT_MEASURES = ("events", "minutes")
CHUNK = 5000
_ADD_EVENT = insert(TicketEvent.__table__)  # the model's defaults fill what an event's row leaves out
# The most event-rollup rows that take a new event along in one statement (a single event makes two: day, week).
WITH_EVENT_ROWS = 8


def ticket_entry(ticket) -> tuple[tuple, tuple] | None:
    """The (key, measures) a ticket adds to ticket_rollup, or None while it is open."""
    if ticket.outcome == "open" or ticket.closed_at is None:
        return None
    escalated = ticket.outcome == "escalated"
    key = (ticket.closed_at.date(), ticket.team or "", ticket.category or "", ticket.outcome,
           (ticket.escalation_class or "") if escalated else "", ticket.task or "",
           bool(ticket.false_deflection), (ticket.missing_tool or "") if escalated else "")
    minutes = ticket.dev_minutes or 0
    return key, (1, minutes, 1 if minutes else 0)


def event_entries(event, ticket, *, first_escalation: bool = False, runbooks_before=()) -> list[tuple[tuple, tuple]]:
    """The (key, measures) an event adds to ticket_event_rollup."""
    day: date = event.created_at.date()
    team, category = ticket.team or "", event.category or ticket.category or ""
    kind, subject, status = event.kind, "", ""
    if kind == "task_run":
        if event.run_status not in TERMINAL_RUN_STATUSES:
            return []  # pending approval is not a use yet; its decision comes as another event
        kind = ("undo" if getattr(event, "undo_of", None) is not None
                else "bulk_item" if getattr(event, "bulk_id", None) is not None else "task_run")
        subject, status = event.task, event.run_status
    elif kind == "runbook_viewed":
        subject = event.runbook
    elif kind == "escalated":
        subject, status = event.assignee or "", event.escalation_class
    elif kind == "dev_time":
        subject = event.actor
    minutes = (event.minutes or 0) if kind == "dev_time" else 0
    entries = [((day, team, category, kind, subject, status), (1, minutes))]
    if first_escalation:
        entries += [((day, team, category, "runbook_then_escalated", runbook, ""), (1, 0))
                    for runbook in sorted(set(runbooks_before)) if runbook]
    return entries


class RollupDeltas:
    """Pending additions to both rollups, summed per key and written in one go."""

    def __init__(self):
        self.tickets: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
        self.events: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])

    def add_ticket(self, entry, sign: int = 1) -> None:
        if entry is None:
            return
        key, measures = entry
        total = self.tickets[key]
        for index, value in enumerate(measures):
            total[index] += sign * value

    def move_ticket(self, before, after) -> None:
        if before == after:
            return
        self.add_ticket(before, -1)
        self.add_ticket(after, 1)

    def add_events(self, entries) -> None:
        for key, measures in entries:
            total = self.events[key]
            for index, value in enumerate(measures):
                total[index] += value

    def write(self, session, *, event: dict | None = None) -> None:
        """Apply the pending additions, per day and per week, in the session's transaction.

        `session` may be a session's Connection, where no ORM change is pending that the session's
        autoflush would have to write first: the upserts then skip the ORM's execution layer.
        `event`: a ticket event's row to insert too; on PostgreSQL it goes in the
        event rollup's upsert, as a data-modifying CTE: a round trip fewer for every task run's outcome.
        """
        tickets = by_grain(self.tickets, len(TICKET_MEASURES))
        events = by_grain(self.events, len(EVENT_MEASURES))
        if event is not None and not _upsert_with_event(session, events, event):
            session.execute(_ADD_EVENT, event)
            event = None
        _upsert(session, TicketRollup, TICKET_KEY, TICKET_MEASURES, tickets)
        _upsert(session, OutcomeRollup, OUTCOME_KEY, OUTCOME_MEASURES, outcomes_of(tickets))
        if event is None:
            _upsert(session, EventRollup, EVENT_KEY, EVENT_MEASURES, events)
        self.tickets.clear()
        self.events.clear()


def outcomes_of(tickets: dict[tuple, list[int]]) -> dict[tuple, list[int]]:
    """The ticket-rollup additions projected on the outcome rollup's key."""
    outcomes: dict[tuple, list[int]] = defaultdict(lambda: [0])
    positions = [TICKET_KEY.index(name) for name in OUTCOME_KEY]
    for key, measures in tickets.items():
        outcomes[tuple(key[position] for position in positions)][0] += measures[0]
    return outcomes


def by_grain(deltas: dict[tuple, list[int]], width: int) -> dict[tuple, list[int]]:
    """Each (day, ...) addition as a daily one and as one to its week (keyed by the Monday)."""
    expanded: dict[tuple, list[int]] = defaultdict(lambda: [0] * width)
    for (day, *rest), measures in deltas.items():
        for key in (("d", day, *rest), ("w", day - timedelta(days=day.weekday()), *rest)):
            total = expanded[key]
            for index, value in enumerate(measures):
                total[index] += value
    return expanded


_UPSERTS: dict[tuple[str, str], object] = {}


def _upsert_statement(dialect: str, model, key_columns, measure_columns):
    """INSERT ... ON CONFLICT (key) DO UPDATE SET n = n + excluded.n, built once per table and dialect."""
    cache_key = (dialect, model.__tablename__)
    if cache_key not in _UPSERTS:
        table = model.__table__
        statement = (pg_insert if dialect == "postgresql" else sqlite_insert)(table)
        _UPSERTS[cache_key] = statement.on_conflict_do_update(
            index_elements=list(key_columns),
            set_={name: table.c[name] + statement.excluded[name] for name in measure_columns},
        )
    return _UPSERTS[cache_key]


def _rows(key_columns, measure_columns, deltas: dict) -> list[dict]:
    rows = [dict(zip(key_columns, key)) | dict(zip(measure_columns, measures))
            for key, measures in deltas.items() if any(measures)]
    # Sorted keys make concurrent writers take row locks in the same order (no deadlocks).
    rows.sort(key=lambda row: tuple(str(row[name]) for name in key_columns))
    return rows


def _dialect(session) -> str:
    return (session.dialect if isinstance(session, Connection) else session.get_bind().dialect).name


_WITH_EVENT: dict[tuple[int, tuple], object] = {}


def _upsert_with_event(session, deltas: dict, event: dict) -> bool:
    """On PostgreSQL, the event rollup's upsert of a few rows as one statement that inserts
    `event` in a CTE; False, with nothing written, where that does not apply."""
    if _dialect(session) != "postgresql":
        return False
    rows = _rows(EVENT_KEY, EVENT_MEASURES, deltas)
    if not 0 < len(rows) <= WITH_EVENT_ROWS:
        return False
    names, event_names = EVENT_KEY + EVENT_MEASURES, tuple(sorted(event))
    statement = _WITH_EVENT.get((len(rows), event_names))
    if statement is None:
        # The rows as a UNION ALL of one-row SELECTs: a multi-row VALUES has no cache key, so SQLAlchemy
        # would compile it again at every run (about a millisecond).
        table = EventRollup.__table__
        rows_in = union_all(*(select(*(bindparam(f"row{i}_{name}", type_=table.c[name].type) for name in names))
                              for i in range(len(rows))))
        upsert = pg_insert(table).from_select(list(names), rows_in)
        added = _ADD_EVENT.values({name: bindparam(f"event_{name}") for name in event_names})
        statement = _WITH_EVENT.setdefault((len(rows), event_names), upsert.on_conflict_do_update(
            index_elements=list(EVENT_KEY), set_={name: table.c[name] + upsert.excluded[name] for name in EVENT_MEASURES}
        ).add_cte(added.cte("event")))
    values = {f"event_{name}": value for name, value in event.items()}
    for i, row in enumerate(rows):
        values.update((f"row{i}_{name}", value) for name, value in row.items())
    send(session, statement, values)
    return True


def _upsert(session, model, key_columns, measure_columns, deltas: dict) -> None:
    rows = _rows(key_columns, measure_columns, deltas)
    if not rows:
        return
    statement = _upsert_statement(_dialect(session), model, key_columns, measure_columns)
    for start in range(0, len(rows), CHUNK):
        session.execute(statement, rows[start:start + CHUNK])


def replay(events: list, team: str, category: str = "") -> list[tuple[tuple, tuple]]:
    """The event-rollup entries of a ticket's whole history, as add_ticket_event would have added them.

    `category` is the one the ticket was opened with; each event then counts under the latest
    category known when it happened, as it does when events arrive one by one.
    """
    entries, runbooks = [], []
    escalation_seen = decided = False  # the outcome is `escalated` exactly when both hold (outcome.py)
    for event in events:
        category = event.category or category
        first = event.kind == "escalated" and not (escalation_seen and decided)
        if event.kind == "runbook_viewed":
            runbooks.append(event.runbook)
        moment = SimpleNamespace(team=team, category=category)
        entries += event_entries(event, moment, first_escalation=first, runbooks_before=runbooks)
        if event.kind == "escalated":
            escalation_seen = decided = True
        elif event.kind == "resolved":
            decided = True
        elif event.kind == "reopened":
            decided = False
    return entries
