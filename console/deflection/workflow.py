"""What staff do to a ticket: resolve, escalate, reopen, log developer time, write a root cause.

Every function validates first (TicketError names the field), then records the ticket events,
each with its audit entry, in the caller's transaction; the caller commits.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, has_app_context
from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from console.deflection import rootcause
from console.deflection.models import ESCALATION_CLASSES, Ticket, TicketEvent
from console.deflection.story import run_stories, story_to_dict
from console.formatting import masked
from console.deflection.ticket_refs import TicketError, clean_ref, helpdesk_url
from console.deflection.tickets import add_ticket_event, clean_category, find_ticket, open_ticket, ticket_events

RECORDABLE_OUTCOMES = ("resolved", "escalated", "reopened")
# Without TICKET_CATEGORIES: those of the product's demo ticket story (the demo shop's are account, orders,
# payments, privacy, general), else these, which any product's support has.
DEFAULT_CATEGORIES = ("account", "billing", "privacy", "general")
MAX_NOTE = 4000
MAX_DEV_MINUTES = 24 * 60


@dataclass
class OutcomeRequest:
    """A recorded outcome as the API and the forms send it."""

    outcome: str
    escalation_class: str = ""
    category: str = ""
    missing_tool: str = ""
    note: str = ""
    urgent: bool = False  # an escalation that cannot wait for the daily digest


class TicketStateError(TicketError):
    """The request is valid but the ticket's state does not allow it (a 409 over the API)."""


def categories() -> list[str]:
    """The categories offered in the forms (config TICKET_CATEGORIES)."""
    configured = current_app.config.get("TICKET_CATEGORIES") if has_app_context() else None
    if isinstance(configured, str):
        configured = [name for name in configured.split(",") if name.strip()]
    found = [clean_category(name) for name in (configured or _product_categories() or DEFAULT_CATEGORIES)]
    return [name for name in dict.fromkeys(found) if name]


def _product_categories() -> list[str]:
    product = current_app.extensions.get("product") if has_app_context() else None
    story = product.ticket_story if product is not None else None
    return [problem.category for problem in story.problems] if story is not None else []


def _text(data: dict, name: str, limit: int, *, one_line: bool = False) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TicketError(name, f"{name} must be text")
    value = value.strip()
    if one_line:
        value = " ".join(value.split())
    if len(value) > limit:
        raise TicketError(name, f"{name} is at most {limit} characters")
    return value


def _flag(data: dict, name: str) -> bool:
    """A yes/no field: JSON true/false (or null), or a form's checkbox ("on", "1", "true"; absent: no)."""
    value = data.get(name)
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("", "0", "false", "off", "no"):
        return False
    if isinstance(value, str) and value.strip().lower() in ("1", "true", "on", "yes"):
        return True
    raise TicketError(name, f"{name} must be true or false")


def parse_outcome(data: dict) -> OutcomeRequest:
    """Validate an outcome body: TicketError names the first bad field."""
    outcome = data.get("outcome")
    if outcome not in RECORDABLE_OUTCOMES:
        raise TicketError("outcome", "outcome must be one of: " + ", ".join(RECORDABLE_OUTCOMES))
    escalation_class = data.get("escalation_class")
    if escalation_class is None:
        escalation_class = ""
    if escalation_class != "" and escalation_class not in ESCALATION_CLASSES:
        raise TicketError("escalation_class", "escalation_class must be one of: " + ", ".join(ESCALATION_CLASSES))
    if outcome == "escalated" and not escalation_class:
        raise TicketError("escalation_class", "escalation_class is required when the outcome is escalated: "
                          + ", ".join(ESCALATION_CLASSES))
    category = _text(data, "category", 60, one_line=True)
    missing_tool = _text(data, "missing_tool", 200, one_line=True)  # checked even when it is then dropped
    if outcome == "escalated" and not missing_tool:
        # The product owner's ranking is built from these answers: an escalation without one is lost to it.
        raise TicketError("missing_tool", "missing_tool is required when the outcome is escalated: the task or "
                          "runbook that would have let you resolve the ticket yourself")
    return OutcomeRequest(
        outcome=outcome,
        escalation_class=escalation_class if outcome == "escalated" else "",
        category=clean_category(category),
        missing_tool=missing_tool if outcome == "escalated" else "",
        note=_text(data, "note", MAX_NOTE),
        urgent=_flag(data, "urgent") and outcome == "escalated",
    )


def allowed_outcomes(ticket: Ticket | None) -> tuple[str, ...]:
    """What the ticket's state lets an agent record next; the ticket page offers only these.

    An open ticket is resolved or escalated; an escalation still open is resolved (which closes it),
    never escalated again; anything decided is reopened first.
    """
    if ticket is None or ticket.outcome == "open":
        return ("resolved", "escalated")
    if ticket.outcome == "escalated" and ticket.escalation_closed_at is None:
        return ("resolved",)
    return ("reopened",)


def _last_decision(events: list[TicketEvent]) -> TicketEvent | None:
    decisive = [event for event in events if event.kind in RECORDABLE_OUTCOMES]
    return decisive[-1] if decisive else None


def _is_repeat(last: TicketEvent | None, request: OutcomeRequest) -> bool:
    if last is None or last.kind != request.outcome:
        return False
    if request.outcome != "escalated":
        return True
    return (last.escalation_class, last.missing_tool, last.note, last.urgent) == (
        request.escalation_class, request.missing_tool, request.note, request.urgent) and (
        not request.category or last.category == request.category)


def record_outcome(session: Session, ref: str, request: OutcomeRequest, *, actor: str) -> tuple[Ticket, bool]:
    """Record a resolution, escalation or reopening; a repeat of the last one changes nothing.

    Returns (ticket, changed). Reopening a ticket that is already open changes nothing either.
    """
    ref = clean_ref(ref)
    ticket = open_ticket(session, ref, actor=actor)
    events = ticket_events(session, ticket)
    last = _last_decision(events)
    if _is_repeat(last, request) or (request.outcome == "reopened" and ticket.outcome == "open"):
        return ticket, False
    fields = {"category": request.category, "note": request.note}
    if request.outcome == "escalated":
        fields.update(escalation_class=request.escalation_class, missing_tool=request.missing_tool,
                      urgent=request.urgent)
    add_ticket_event(session, ref, request.outcome, actor=actor, **fields)
    return ticket, True


def parse_minutes(value) -> int:
    """Developer minutes: a whole number from 1 to 1440."""
    try:
        minutes = int(str(value).strip())
    except (TypeError, ValueError):
        raise TicketError("minutes", "minutes must be a whole number") from None
    if not 1 <= minutes <= MAX_DEV_MINUTES:
        raise TicketError("minutes", f"minutes must be between 1 and {MAX_DEV_MINUTES}")
    return minutes


def log_dev_time(session: Session, ref: str, *, actor: str, minutes, note: str = "", five_whys: dict | None = None,
                 close: bool = False) -> Ticket:
    """A developer logs time on an escalation, may add its 5-whys record, and may close it.

    Closing needs the 5-whys record (console.deflection.rootcause), given now or earlier; `five_whys`,
    when given, must be whole.
    """
    minutes = parse_minutes(minutes)
    note = _text({"note": note}, "note", MAX_NOTE)
    whys = rootcause.parse_five_whys(five_whys) if five_whys is not None else None
    ticket = find_ticket(session, clean_ref(ref))
    if ticket is None:
        raise TicketError("ticket", f"no ticket {ref!r}")
    if ticket.outcome != "escalated" and ticket.escalated_at is None:
        raise TicketStateError("ticket", "time is logged on escalated tickets only")
    closing = close and ticket.outcome == "escalated" and ticket.escalation_closed_at is None
    if closing and whys is None and not rootcause.has_record(session, ticket):
        raise TicketStateError("five_whys", "closing an escalation needs its 5-whys record: why_1 to why_4, the "
                               "root_cause, and an action (a runbook to write, a task to build or a product fix)")
    add_ticket_event(session, ticket.ref, "dev_time", actor=actor, minutes=minutes, note=note)
    if whys is not None:
        rootcause.record(session, ticket, whys, actor=actor)
    if closing:
        add_ticket_event(session, ticket.ref, "resolved", actor=actor, note="escalation closed by the developer")
    return ticket


def open_escalations(session: Session, developer: str | None, limit: int = 50, *,
                     newest_first: bool = False) -> list[Ticket]:
    """Escalations routed to this developer (None: to anyone) that nobody has closed yet, oldest first
    (the queue to work through) or newest first (what just came in)."""
    # Inline the literal: a partial index only serves queries whose WHERE visibly implies its own.
    escalated = literal("escalated", literal_execute=True)
    order = Ticket.escalated_at.desc() if newest_first else Ticket.escalated_at
    query = (select(Ticket).where(Ticket.outcome == escalated, Ticket.escalation_closed_at.is_(None))
             .order_by(order).limit(limit))
    if developer is not None:
        query = query.where(Ticket.assignee == developer)
    return list(session.scalars(query))


def urgent_ids(session: Session, tickets: list[Ticket]) -> set[int]:
    """Which of these tickets were escalated as urgent (one query), for the lists developers work from."""
    ids = [ticket.id for ticket in tickets]
    if not ids:
        return set()
    return set(session.scalars(select(TicketEvent.ticket_id).where(
        TicketEvent.ticket_id.in_(ids), TicketEvent.kind == "escalated", TicketEvent.urgent.is_(True))))


def count_open_escalations(session: Session, cap: int = 10_000, *, developer: str | None = None) -> int:
    """How many escalations nobody has closed yet (routed to `developer`, when given), counting at most `cap`."""
    escalated = literal("escalated", literal_execute=True)
    # Ordered like the index of open escalations, so that the planner reads that small index.
    open_ones = (select(Ticket.id).where(Ticket.outcome == escalated, Ticket.escalation_closed_at.is_(None))
                 .order_by(Ticket.escalated_at))
    if developer is not None:
        open_ones = open_ones.where(Ticket.assignee == developer)
    return session.scalar(select(func.count()).select_from(open_ones.limit(cap).subquery())) or 0


def ticket_to_dict(session: Session, ticket: Ticket) -> dict:
    """The API's view of a ticket and its events."""
    events = ticket_events(session, ticket)
    return {
        "ref": ticket.ref,
        "outcome": ticket.outcome,
        "category": ticket.category,
        "team": ticket.team,
        "task": ticket.task,
        "false_deflection": ticket.false_deflection,
        "escalation_class": ticket.escalation_class,
        "missing_tool": ticket.missing_tool,
        "assignee": ticket.assignee,
        "dev_minutes": ticket.dev_minutes,
        "created_at": _iso(ticket.created_at),
        "closed_at": _iso(ticket.closed_at),
        "escalation_closed_at": _iso(ticket.escalation_closed_at),
        "helpdesk_url": helpdesk_url(ticket.ref),
        "customer": masked(ticket.customer, "email") or "",
        "events": [event_to_dict(event) for event in events],
        "runs": [story_to_dict(story) for story in run_stories(session, ticket, events)],
    }


def event_to_dict(event: TicketEvent) -> dict:
    data = {"id": event.id, "kind": event.kind, "at": _iso(event.created_at), "actor": event.actor}
    for name in ("task", "run_id", "run_status", "undo_of", "runbook", "escalation_class", "category",
                 "missing_tool", "assignee", "note", "minutes", "urgent", "bulk_id"):
        value = getattr(event, name)
        if value not in (None, "", 0):
            data[name] = value
    return data


def _iso(value):
    return value.isoformat(timespec="seconds") + "Z" if value else None
