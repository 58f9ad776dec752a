"""Runbooks on a ticket: the views that deflection counts, checklist ticks, and outcomes after viewing."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.db import utcnow
from console.deflection.models import Ticket, TicketEvent
from console.deflection.tickets import add_ticket_event, find_ticket, open_ticket
from console.runbooks.models import RunbookTick

RESOLVED_OUTCOMES = ("deflected_by_task", "deflected_by_runbook", "resolved")


def record_view(session: Session, ref: str, slug: str, *, actor: str) -> bool:
    """Add a `runbook_viewed` event unless this runbook was already viewed since the last reopen (no commit)."""
    ticket = find_ticket(session, ref)
    if ticket is not None:
        recent = session.execute(
            select(TicketEvent.kind, TicketEvent.runbook)
            .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind.in_(("runbook_viewed", "reopened")))
            .order_by(TicketEvent.id.desc())
        )
        for kind, runbook in recent:
            if kind == "reopened":
                break
            if runbook == slug:
                return False
    add_ticket_event(session, ref, "runbook_viewed", actor=actor, runbook=slug)
    return True


def ticked_items(session: Session, ref: str, slug: str) -> set[str]:
    """The checklist items of a runbook that are ticked on a ticket."""
    ticket = find_ticket(session, ref)
    if ticket is None:
        return set()
    state: dict[str, bool] = {}
    rows = session.execute(
        select(RunbookTick.check_id, RunbookTick.ticked)
        .where(RunbookTick.ticket_id == ticket.id, RunbookTick.runbook == slug)
        .order_by(RunbookTick.id)
    )
    for check_id, ticked in rows:
        state[check_id] = ticked
    return {check_id for check_id, ticked in state.items() if ticked}


def set_tick(session: Session, ref: str, slug: str, check_id: str, ticked: bool, *, actor: str) -> RunbookTick:
    """Record a tick or untick of one checklist item on a ticket (flushes, no commit)."""
    ticket = open_ticket(session, ref)
    tick = RunbookTick(ticket_id=ticket.id, runbook=slug, check_id=check_id, ticked=bool(ticked), actor=actor,
                       created_at=utcnow())
    session.add(tick)
    session.flush()
    return tick


@dataclass(frozen=True)
class RunbookOutcomes:
    """What became of the tickets on which a runbook was viewed."""

    tickets: int = 0
    resolved: int = 0
    deflected_by_runbook: int = 0
    escalated: int = 0
    open: int = 0


def outcomes_after_viewing(session: Session, slug: str) -> RunbookOutcomes:
    """Count the tickets that viewed this runbook, by their outcome."""
    viewed = (
        select(TicketEvent.ticket_id)
        .where(TicketEvent.kind == "runbook_viewed", TicketEvent.runbook == slug)
        .distinct()
        .subquery()
    )
    rows = session.execute(
        select(Ticket.outcome, func.count(Ticket.id))
        .join(viewed, viewed.c.ticket_id == Ticket.id)
        .group_by(Ticket.outcome)
    )
    by_outcome = {outcome: count for outcome, count in rows}
    return RunbookOutcomes(
        tickets=sum(by_outcome.values()),
        resolved=sum(by_outcome.get(outcome, 0) for outcome in RESOLVED_OUTCOMES),
        deflected_by_runbook=by_outcome.get("deflected_by_runbook", 0),
        escalated=by_outcome.get("escalated", 0),
        open=by_outcome.get("open", 0),
    )
