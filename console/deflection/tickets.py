"""Opening tickets and recording their events: the one way anything is linked to a ticket."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from console.db import utcnow
from console.deflection.models import EVENT_KINDS, Ticket, TicketEvent
from console.deflection.outcome import derive_outcome

MAX_REF_LENGTH = 120


class TicketError(ValueError):
    """A ticket request that breaks a rule; `field` names the offending field."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def clean_ref(ref: str) -> str:
    """A helpdesk reference, trimmed; refuse empty, overlong or control characters."""
    ref = (ref or "").strip()
    if not ref:
        raise TicketError("ticket", "a ticket reference is required")
    if len(ref) > MAX_REF_LENGTH:
        raise TicketError("ticket", f"a ticket reference is at most {MAX_REF_LENGTH} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in ref):
        raise TicketError("ticket", "a ticket reference cannot contain control characters or newlines")
    return ref


def find_ticket(session: Session, ref: str) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.ref == ref.strip()))


def open_ticket(session: Session, ref: str) -> Ticket:
    """Return the ticket with this reference, creating it when new (flushes, no commit)."""
    ref = clean_ref(ref)
    ticket = find_ticket(session, ref)
    if ticket is None:
        ticket = Ticket(ref=ref, created_at=utcnow(), updated_at=utcnow())
        session.add(ticket)
        session.flush()
    return ticket


def add_ticket_event(session: Session, ref: str, kind: str, *, actor: str = "", **fields) -> TicketEvent:
    """Record an event on the ticket (created if new) and refresh its derived outcome; no commit."""
    if kind not in EVENT_KINDS:
        raise TicketError("kind", f"unknown ticket event {kind!r}")
    ticket = open_ticket(session, ref)
    event = TicketEvent(ticket_id=ticket.id, kind=kind, actor=actor, created_at=fields.pop("created_at", utcnow()),
                        **fields)
    session.add(event)
    session.flush()
    refresh_outcome(session, ticket)
    return event


def ticket_events(session: Session, ticket: Ticket) -> list[TicketEvent]:
    return list(session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                .order_by(TicketEvent.id)))


def refresh_outcome(session: Session, ticket: Ticket) -> str:
    events = ticket_events(session, ticket)
    ticket.outcome = derive_outcome(events)
    ticket.updated_at = utcnow()
    if events and events[-1].category:
        ticket.category = events[-1].category
    ticket.closed_at = ticket.updated_at if ticket.outcome != "open" else None
    return ticket.outcome
