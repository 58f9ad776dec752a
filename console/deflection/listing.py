"""Finding tickets: the one query behind the ticket list page and `GET /api/v1/tickets`.

Newest first (by id, the order tickets were opened in), paged by keyset: `after` is the
cursor the previous page gave as `next`, never an offset, so a page costs the same however
deep it is. `category` keeps one category; `mine` keeps the tickets the caller worked on (any event of theirs: a task run, a
runbook read, an outcome) or that are assigned to them; `q` finds a ticket by its reference
(a pasted helpdesk URL too) or by its customer's email.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from console.deflection.models import OUTCOMES, Ticket, TicketEvent
from console.deflection.ticket_refs import TicketError, clean_ref, helpdesk_url
from console.deflection.tickets import clean_category
from console.formatting import masked

PAGE_SIZE = 50
MAX_QUERY = 254
MAX_CURSOR = 2**31 - 1  # ids are 32-bit integers, and PostgreSQL casts parameters to them


@dataclass(frozen=True)
class TicketQuery:
    """What the caller narrowed the list to; empty fields match every ticket."""

    status: str = ""
    category: str = ""
    mine: str = ""  # the caller's email when only their tickets are wanted
    q: str = ""
    after: int | None = None
    limit: int = PAGE_SIZE


def _flag(value: str, name: str) -> bool:
    if value in ("", "0"):
        return False
    if value == "1":
        return True
    raise TicketError(name, f"{name} must be 1 or 0, not {value[:20]!r}")


def parse_cursor(value: str) -> int | None:
    """A page cursor (`after`) as given in `next`; TicketError("after") when it is not one."""
    if not value:
        return None
    if not (value.isascii() and value.isdigit()) or len(value) > 10 or not 0 < int(value) <= MAX_CURSOR:
        raise TicketError("after", f"after must be a cursor given as `next` by an earlier page, not {value[:40]!r}")
    return int(value)


def parse_query(args, me: str) -> TicketQuery:
    """Read `status`, `mine`, `q` and `after` from query arguments; TicketError names the first bad one."""
    values = {name: (args.get(name) or "").strip() for name in ("status", "category", "mine", "q", "after")}
    status = values["status"]
    if status and status not in OUTCOMES:
        raise TicketError("status", "status must be one of: " + ", ".join(OUTCOMES))
    for name, limit in (("q", MAX_QUERY), ("category", 60)):
        if len(values[name]) > limit:
            raise TicketError(name, f"{name} is at most {limit} characters")
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in values[name]):
            raise TicketError(name, f"{name} cannot contain control characters")
    q = values["q"]
    return TicketQuery(status=status, category=clean_category(values["category"]), mine=me if _flag(values["mine"], "mine") else "", q=q,
                       after=parse_cursor(values["after"]))


def _matches(q: str):
    """A reference (or a helpdesk URL of one) or a customer's email."""
    conditions = [Ticket.customer == q.lower()] if "@" in q else []
    try:
        conditions.append(Ticket.ref == clean_ref(q))
    except TicketError:
        pass  # not a reference: only the customer can match
    return or_(*conditions) if conditions else None


def find_tickets(session: Session, query: TicketQuery) -> tuple[list[Ticket], int | None]:
    """(a page of tickets, newest first; the cursor of the next page or None)."""
    statement = select(Ticket).order_by(Ticket.id.desc()).limit(query.limit + 1)
    if query.status:
        statement = statement.where(Ticket.outcome == query.status)
    if query.category:
        statement = statement.where(Ticket.category == query.category)
    if query.mine:
        worked_on = select(TicketEvent.ticket_id).where(TicketEvent.actor == query.mine)
        statement = statement.where(or_(Ticket.assignee == query.mine, Ticket.id.in_(worked_on)))
    if query.q:
        matches = _matches(query.q)
        if matches is None:
            return [], None
        statement = statement.where(matches)
    if query.after is not None:
        statement = statement.where(Ticket.id < query.after)
    tickets = list(session.scalars(statement))
    if len(tickets) <= query.limit:
        return tickets, None
    tickets = tickets[:query.limit]
    return tickets, tickets[-1].id


def ticket_summary(ticket: Ticket) -> dict:
    """One row of the API's list; the customer masked, as in the run API (a search takes the whole address)."""
    return {"ref": ticket.ref, "outcome": ticket.outcome, "category": ticket.category, "assignee": ticket.assignee,
            "customer": masked(ticket.customer, "email") or "", "updated_at": ticket.updated_at.isoformat(timespec="seconds") + "Z",
            "helpdesk_url": helpdesk_url(ticket.ref)}
