"""Opening tickets and recording their events: the one way anything is linked to a ticket.

`add_ticket_event` also appends the event's audit entry, keeps the ticket's derived facts and
both rollups current, assigns a new escalation to the developer on support duty, and queues
the escalation's webhook message in the same transaction: it is sent only if the event commits.
Events are append-only at the database (migration 0007_t15_audit): a note, once written, stays
as written.
"""
from __future__ import annotations

import threading
import weakref
from collections import OrderedDict, namedtuple
from types import SimpleNamespace

from flask import current_app, has_app_context
from sqlalchemy import event as orm_event, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from console.audit.chain import append as audit
from console.db import reserve_ids, utcnow
from console.deflection.digest import notifies_at_once
from console.deflection.models import EVENT_KINDS, Ticket, TicketEvent
from console.deflection.outcome import derive_facts
from console.deflection.rollup import RollupDeltas, event_entries, ticket_entry
from console.deflection.rotation import duty_for
from console.deflection.ticket_refs import TicketError, clean_ref
from console.deflection.ticket_rows import earlier_events, lock_ticket, team_in_sql, update_ticket
from console.webhooks.outbox import notify

EVENT_FIELDS = frozenset({"task", "run_id", "run_status", "undo_of", "runbook", "escalation_class", "category",
                          "missing_tool", "assignee", "note", "minutes", "urgent", "bulk_id"})
TEXT_LIMITS = {"task": 100, "run_status": 30, "runbook": 120, "escalation_class": 20, "category": 60,
               "missing_tool": 200, "assignee": 254}
FACT_FIELDS = ("outcome", "closed_at", "task", "false_deflection", "category", "escalation_class", "missing_tool",
               "assignee", "escalated_at", "escalation_closed_at", "dev_minutes")
AUDITED_FIELDS = ("runbook", "escalation_class", "category", "missing_tool", "assignee", "note", "minutes", "urgent")
# A task run's event is audited by the run's own entry, which the runner writes in the same commit.
AUDITED_ELSEWHERE = frozenset({"task_run"})


def clean_category(value: str) -> str:
    """Categories are compared as lower-case words: 'Orders ' and 'orders' are one category."""
    return " ".join((value or "").split()).lower()[:60]


def find_ticket(session: Session, ref: str) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.ref == (ref or "").strip()))


def open_ticket(session: Session, ref: str, *, actor: str = "", lock: bool = False) -> Ticket:
    """Return the ticket with this reference, creating it when new (flushes, no commit).

    A new ticket belongs to the team of the staff member who opened it.
    """
    return _open_ticket(session, ref, actor=actor, lock=lock)[0]


def _open_ticket(session: Session, ref: str, *, actor: str, lock: bool) -> tuple[Ticket, bool]:
    """(the ticket, whether this call created it)."""
    ref = clean_ref(ref)
    query = select(Ticket).where(Ticket.ref == ref)
    if lock:
        # Sessions keep objects across commits (expire_on_commit=False): reload the row we lock.
        query = query.with_for_update().execution_options(populate_existing=True)
    ticket = session.scalar(query)
    if ticket is not None:
        return ticket, False
    now = utcnow()
    # ON CONFLICT DO NOTHING: when another request creates it first, theirs is the one we read.
    # RETURNING gives the new row (locked, as we inserted it) without reading it back.
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    created = session.scalar(insert(Ticket).values(ref=ref, created_at=now, updated_at=now, team=team_in_sql())
                             .on_conflict_do_nothing(index_elements=[Ticket.ref]).returning(Ticket),
                             {"actor": actor or ""})
    if created is not None:
        return created, True
    return session.scalar(query.execution_options(populate_existing=True)), False


def ticket_events(session: Session, ticket: Ticket) -> list[TicketEvent]:
    return list(session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                .order_by(TicketEvent.id)))


def _clean_fields(fields: dict) -> dict:
    unknown = set(fields) - EVENT_FIELDS
    if unknown:
        noun = "field" if len(unknown) == 1 else "fields"
        raise TicketError(sorted(unknown)[0], f"unknown ticket event {noun}: {', '.join(sorted(unknown))}")
    for name, limit in TEXT_LIMITS.items():
        if name in fields:
            fields[name] = str(fields[name] or "")[:limit]
    if "category" in fields:
        fields["category"] = clean_category(fields["category"])
    return fields


def _config():
    return current_app.config if has_app_context() else {}


def _assignee(session: Session, ticket: Ticket, when, category: str) -> str:
    """Keep the developer of an escalation still open; otherwise whoever is on duty now for its category."""
    if ticket.outcome == "escalated" and ticket.escalation_closed_at is None and ticket.assignee:
        return ticket.assignee
    duty = duty_for(session, when, category, _config())
    return duty.developer if duty else ""


def add_ticket_event(session: Session, ref: str, kind: str, *, actor: str = "", customer: str = "",
                     **fields) -> TicketEvent:
    """Record an event on the ticket (created if new) and refresh its derived facts; no commit.

    `customer` (a task run's) becomes the ticket's customer, by which agents find it, unless it has one.
    """
    if kind not in EVENT_KINDS:
        raise TicketError("kind", f"unknown ticket event {kind!r}")
    created_at = fields.pop("created_at", None) or utcnow()
    fields = _clean_fields(fields)
    ticket, created = _open_ticket(session, ref, actor=actor, lock=True)
    if customer and not ticket.customer:
        ticket.customer = customer.strip().lower()[:254]
    events = [] if created else ticket_events(session, ticket)
    first_escalation = kind == "escalated" and ticket.outcome != "escalated"
    if kind == "escalated" and not fields.get("assignee"):
        fields["assignee"] = _assignee(session, ticket, created_at, fields.get("category") or ticket.category)
    at_once = kind == "escalated" and notifies_at_once(bool(fields.get("urgent")), _config())
    if kind == "escalated":
        fields["batched"] = not at_once
    event = TicketEvent(ticket_id=ticket.id, kind=kind, actor=actor or "", created_at=created_at, **fields)
    session.add(event)
    session.flush()
    events.append(event)
    deltas = RollupDeltas()
    _refresh(ticket, events, deltas)
    runbooks = [earlier.runbook for earlier in events if earlier.kind == "runbook_viewed"]
    deltas.add_events(event_entries(event, ticket, first_escalation=first_escalation, runbooks_before=runbooks))
    deltas.write(session)
    if first_escalation and at_once:
        _notify_escalation(session, ticket, event)
    if kind not in AUDITED_ELSEWHERE:
        _audit_event(session, ticket, event)
    return event


def add_run_event(session: Session, ref: str, *, actor: str, task: str, run_id: int, run_status: str,
                  undo_of: int | None = None, bulk_id: int | None = None, customer: str = "") -> None:
    """`add_ticket_event(session, ref, "task_run", ...)` for one task run, in Core statements (ticket_rows): the
    same event, derived facts and rollups, with no ORM object made or flushed. No commit.

    A task run's event is never an escalation, and its audit entry is the run's own.
    """
    fields = _clean_fields({"task": task, "run_id": run_id, "run_status": run_status, "undo_of": undo_of,
                            "bulk_id": bulk_id})
    ref, customer, now = clean_ref(ref), customer.strip().lower()[:254], utcnow()
    values = {"kind": "task_run", "actor": actor or "", "created_at": now, **fields}
    event = SimpleNamespace(category="", escalation_class="", missing_tool="", assignee="", minutes=0, **values)

    def opening() -> dict:  # a ticket this event opens is written with its facts: they follow from the event alone
        facts = derive_facts([event])
        return {"created_at": now, "updated_at": now, "customer": customer,
                **{name: getattr(facts, name) for name in FACT_FIELDS}}

    ticket, created = lock_ticket(session, ref, opening, actor=actor)
    deltas = RollupDeltas()
    if created:
        deltas.add_ticket(ticket_entry(ticket))
    else:
        earlier = earlier_events(session, ticket.id)
        changed = {}
        if customer and not ticket.customer:
            ticket.customer = changed["customer"] = customer
        before = {name: getattr(ticket, name) for name in FACT_FIELDS}
        _refresh(ticket, [*earlier, event], deltas)
        changed.update({name: getattr(ticket, name) for name in FACT_FIELDS
                        if getattr(ticket, name) != before[name]}, updated_at=ticket.updated_at)
        update_ticket(session, ticket.id, changed)
    deltas.add_events(event_entries(event, ticket))
    deltas.write(session.connection(), event={"ticket_id": ticket.id, **values})  # the event is written here


# What `derive_facts` reads of an event: the earlier events of a ticket are read as these columns alone.
_FACT_COLUMNS = tuple(getattr(TicketEvent, name) for name in (
    "id", "kind", "created_at", "category", "task", "run_id", "run_status", "undo_of", "escalation_class",
    "missing_tool", "assignee", "minutes"))


def add_task_run_events(session: Session, ref: str, runs: list[dict], *, actor: str = "",
                        customer: str = "") -> list[TicketEvent]:
    """`add_ticket_event(session, ref, "task_run", **fields)` for each of many runs on one ticket, in order: the
    same events, derived facts and rollups, with one lock, one read of the earlier events and one insert (a
    bulk's chunk of runs, whose ticket may already hold thousands of events). `customer`: the first run's that
    has one. No commit."""
    if not runs:
        return []
    created_at = utcnow()
    runs = [_clean_fields(dict(fields)) for fields in runs]
    ticket, created = _open_ticket(session, ref, actor=actor, lock=True)
    if customer and not ticket.customer:
        ticket.customer = customer.strip().lower()[:254]
    earlier = [] if created else _earlier_events(session, ticket.id)
    # Under the ticket's lock, as ids given at insert are: `_earlier_events` counts on a later holder's being larger.
    ids = reserve_ids(session, TicketEvent.__table__, len(runs)) or [None] * len(runs)
    events = [TicketEvent(id=event_id, ticket_id=ticket.id, kind="task_run", actor=actor or "", created_at=created_at,
                          **fields) for event_id, fields in zip(ids, runs)]
    session.add_all(events)
    session.flush()
    _keep_events(session, ticket.id, [*earlier, *(_fact_row(event) for event in events)])
    deltas = RollupDeltas()
    _refresh(ticket, [*earlier, *events], deltas)
    for event in events:  # a task run's event is never an escalation, and its audit entry is the run's own
        deltas.add_events(event_entries(event, ticket))
    deltas.write(session)
    return events


# The events of the tickets a bulk writes to, as `_FACT_COLUMNS` rows, kept between its chunks by this
# process: each chunk then reads only the events added since (by any process), not the thousands before.
# Exact because events are append-only (migration 0007) and every event of an existing ticket is added under
# the ticket's row lock, which the reader holds: a later holder's events get larger ids. Only committed
# events are kept (`_promote`, after the commit); the newest one kept must still be there, unchanged, else
# (a database made again, ids given again after a rollback) every event is read again.
_KEPT: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine -> {ticket id: [rows]}, newest last
_KEPT_LOCK = threading.Lock()
_KEPT_TICKETS = 8
_PENDING_EVENTS = "deflection_pending_events"


_FactRow = namedtuple("_FactRow", [column.key for column in _FACT_COLUMNS])


def _fact_row(event: TicketEvent) -> _FactRow:
    return _FactRow._make(getattr(event, name) for name in _FactRow._fields)


def _earlier_events(session: Session, ticket_id: int) -> list:
    """Every event of the ticket, oldest first, as `_FACT_COLUMNS` rows (the caller holds the ticket's lock)."""
    engine = session.get_bind()
    with _KEPT_LOCK:
        kept = _KEPT.get(engine, {}).get(ticket_id)
    query = select(*_FACT_COLUMNS).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
    if kept:
        since = [_FactRow._make(row) for row in session.execute(query.where(TicketEvent.id >= kept[-1][0]))]
        if since and since[0] == kept[-1]:
            return [*kept, *since[1:]]
    return [_FactRow._make(row) for row in session.execute(query)]


def _keep_events(session: Session, ticket_id: int, rows: list[tuple]) -> None:
    """Keep the ticket's events for the next chunk once this transaction commits."""
    session.info.setdefault(_PENDING_EVENTS, {})[(session.get_bind(), ticket_id)] = rows


@orm_event.listens_for(Session, "after_commit")
def _promote(session: Session) -> None:
    pending = session.info.pop(_PENDING_EVENTS, None)
    if not pending:
        return
    with _KEPT_LOCK:
        for (engine, ticket_id), rows in pending.items():
            tickets = _KEPT.setdefault(engine, OrderedDict())
            tickets[ticket_id] = rows
            tickets.move_to_end(ticket_id)
            while len(tickets) > _KEPT_TICKETS:
                tickets.popitem(last=False)


@orm_event.listens_for(Session, "after_transaction_end")
def _drop_pending(session: Session, transaction) -> None:
    """Whatever ends the transaction without a commit (a rollback, a close) drops what it would have kept."""
    if transaction.parent is None:
        session.info.pop(_PENDING_EVENTS, None)


def _audit_event(session: Session, ticket: Ticket, event: TicketEvent) -> None:
    """One audit entry per event, with its note or root cause as written, in the caller's transaction."""
    details = {"event": event.id}
    for name in AUDITED_FIELDS:
        value = getattr(event, name)
        if value not in (None, "", 0):
            details[name] = value
    audit(session, actor=event.actor, action=f"ticket.{event.kind}", subject_type="ticket", subject_id=ticket.ref,
          ticket=ticket.ref, outcome=ticket.outcome, details=details)


def _refresh(ticket: Ticket, events: list[TicketEvent], deltas: RollupDeltas) -> str:
    before = ticket_entry(ticket)
    facts = derive_facts(events)
    for name in FACT_FIELDS:
        value = getattr(facts, name)
        if name == "category" and not value:
            continue  # keep a category given when the ticket was opened
        setattr(ticket, name, value)
    ticket.updated_at = utcnow()
    deltas.move_ticket(before, ticket_entry(ticket))
    return ticket.outcome


def refresh_outcome(session: Session, ticket: Ticket) -> str:
    """Recompute a ticket's derived facts from its events and move it in the rollup; no commit."""
    deltas = RollupDeltas()
    outcome = _refresh(ticket, ticket_events(session, ticket), deltas)
    deltas.write(session)
    return outcome


def _notify_escalation(session: Session, ticket: Ticket, event: TicketEvent) -> None:
    # The note stays out: it may hold customer details, and chat is no place for them.
    template = ("URGENT: new" if event.urgent else "New") + " escalation on ticket {ticket} ({kind}) for {assignee}"
    fields = {"ticket": ticket.ref, "assignee": event.assignee or "nobody on duty",
              "kind": ", ".join(filter(None, (event.escalation_class or "no class", event.category)))}
    if event.missing_tool:
        template, fields["tool"] = template + "; missing tool: {tool}", event.missing_tool
    notify(session, "escalation.created", template, **fields)
