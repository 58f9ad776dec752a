"""Recompute every ticket's derived facts and both rollups from the events (repair, and after migrations)."""
from __future__ import annotations

from itertools import groupby

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from console.deflection.models import EventRollup, OutcomeRollup, Ticket, TicketEvent, TicketRollup
from console.deflection.outcome import derive_facts
from console.deflection.rollup import RollupDeltas, replay, ticket_entry
from console.deflection.tickets import FACT_FIELDS

BATCH = 2000


def rebuild(session: Session) -> int:
    """Rebuild facts and rollups in the session's transaction; return the number of tickets. No commit."""
    session.execute(delete(TicketRollup))
    session.execute(delete(OutcomeRollup))
    session.execute(delete(EventRollup))
    deltas = RollupDeltas()
    count, last_id = 0, 0
    while True:
        tickets = list(session.scalars(select(Ticket).where(Ticket.id > last_id).order_by(Ticket.id).limit(BATCH)))
        if not tickets:
            break
        last_id = tickets[-1].id
        events = session.scalars(select(TicketEvent)
                                 .where(TicketEvent.ticket_id.between(tickets[0].id, last_id))
                                 .order_by(TicketEvent.ticket_id, TicketEvent.id))
        by_ticket = {ticket_id: list(group) for ticket_id, group in groupby(events, key=lambda e: e.ticket_id)}
        for ticket in tickets:
            history = by_ticket.get(ticket.id, [])
            opened_with = "" if any(event.category for event in history) else ticket.category
            facts = derive_facts(history)
            for name in FACT_FIELDS:
                if name != "category" or facts.category:
                    setattr(ticket, name, getattr(facts, name))
            deltas.add_ticket(ticket_entry(ticket))
            deltas.add_events(replay(history, ticket.team, opened_with))
        count += len(tickets)
        session.flush()
        session.expunge_all()
    deltas.write(session)
    return count
