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

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from console.deflection.models import EventRollup, OutcomeRollup, TicketRollup
from console.deflection.outcome import TERMINAL_RUN_STATUSES

TICKET_KEY = ("grain", "day", "team", "category", "outcome", "escalation_class", "task", "false_deflection", "missing_tool")
TICKET_MEASURES = ("tickets", "dev_minutes", "timed")
OUTCOME_KEY = ("grain", "day", "team", "category", "outcome", "escalation_class")
OUTCOME_MEASURES = ("tickets",)
EVENT_KEY = ("grain", "day", "team", "category", "kind", "subject", "status")
EVENT_MEASURES = ("events", "minutes")
CHUNK = 5000


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

    def write(self, session) -> None:
        """Apply the pending additions, per day and per week, in the session's transaction.

        `session` may be a session's Connection, where no ORM change is pending that the session's
        autoflush would have to write first: the upserts then skip the ORM's execution layer.
        """
        tickets = by_grain(self.tickets, len(TICKET_MEASURES))
        _upsert(session, TicketRollup, TICKET_KEY, TICKET_MEASURES, tickets)
        _upsert(session, OutcomeRollup, OUTCOME_KEY, OUTCOME_MEASURES, outcomes_of(tickets))
        _upsert(session, EventRollup, EVENT_KEY, EVENT_MEASURES, by_grain(self.events, len(EVENT_MEASURES)))
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


def _upsert(session, model, key_columns, measure_columns, deltas: dict) -> None:
    rows = [dict(zip(key_columns, key)) | dict(zip(measure_columns, measures))
            for key, measures in deltas.items() if any(measures)]
    if not rows:
        return
    dialect = session.dialect if isinstance(session, Connection) else session.get_bind().dialect
    statement = _upsert_statement(dialect.name, model, key_columns, measure_columns)
    # Sorted keys make concurrent writers take row locks in the same order (no deadlocks).
    rows.sort(key=lambda row: tuple(str(row[name]) for name in key_columns))
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
