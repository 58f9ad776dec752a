"""The 5-whys record of an escalation a developer closes, and the action that keeps it from coming back.

Five fields, `why_1` to `why_4` and `root_cause` (the fifth why), and an action: a runbook to write,
a task to build, or a product fix (with a link to the issue or change). Closing an escalation needs
one, unless the ticket already has one. The record is also a `root_cause` ticket event (audited, in
the ticket's history); marking its action done is audited too. The dashboard groups records by root
cause, its case and spacing folded.
"""
from __future__ import annotations

import re

from datetime import datetime, time, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from console.audit.chain import append as audit
from console.db import utcnow
from console.deflection.metrics import StatsFilter
from console.deflection.models import ACTION_KIND_LABELS, ACTION_KINDS, RootCause, Ticket
from console.deflection.ticket_refs import TicketError
from console.deflection.tickets import add_ticket_event

WHYS = ("why_1", "why_2", "why_3", "why_4", "root_cause")
FIELDS = WHYS + ("action_kind", "action", "action_link")
MAX_WHY = 1000
MAX_GROUPS = 20


def _one_line(data: dict, name: str, limit: int) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TicketError(name, f"{name} must be text")
    if len(value) > limit:  # as written, as the API's schema counts it
        raise TicketError(name, f"{name} is at most {limit} characters")
    return " ".join(value.split())


# An http(s) address whose host part is plain ASCII (what issue trackers hand out); the API's schema uses the same
# expression, so a link the schema admits is one this accepts. Brackets and non-ASCII hosts are refused here
# rather than left to urlsplit, which raises on some of them.
LINK = r"https?://[A-Za-z0-9._~:@!$&'()*+,;=%-]+(?:[/?#][\s\S]*)?"


def _web_address(link: str) -> bool:
    return re.fullmatch(LINK, link) is not None


def parse_five_whys(data: dict) -> dict:
    """The record's fields; TicketError names the first missing or bad one."""
    values = {name: _one_line(data, name, MAX_WHY if name in WHYS[:4] else 300 if name != "action_link" else 500)
              for name in FIELDS}
    for number, name in enumerate(WHYS, 1):
        if not values[name]:
            what = "the root cause (the fifth why)" if name == "root_cause" else f"why number {number}"
            raise TicketError(name, f"{name} is required: a 5-whys record has five answers, and {what} is missing")
    if values["action_kind"] not in ACTION_KINDS:
        raise TicketError("action_kind", "action_kind must be one of: " + ", ".join(ACTION_KINDS))
    if not values["action"]:
        raise TicketError("action", f"action is required: what is {ACTION_KIND_LABELS[values['action_kind']]}?")
    link = values["action_link"]
    if link:
        if not _web_address(link):
            raise TicketError("action_link", "action_link must be an http:// or https:// address")
    elif values["action_kind"] == "product_fix":
        raise TicketError("action_link", "action_link is required for a product fix: the issue or change that fixes it")
    return values


def given(form: dict) -> dict | None:
    """A form's 5-whys fields, or None when all of them were left empty (time logged without a record)."""
    values = {name: form.get(name) for name in FIELDS}
    return values if any((value or "").strip() for value in values.values()) else None


def has_record(session: Session, ticket: Ticket) -> bool:
    return session.scalar(select(RootCause.id).where(RootCause.ticket_id == ticket.id).limit(1)) is not None


def record(session: Session, ticket: Ticket, values: dict, *, actor: str) -> RootCause:
    """Store the record and its `root_cause` ticket event (audited) in the caller's transaction."""
    entry = RootCause(ticket_id=ticket.id, actor=actor, root_key=values["root_cause"].casefold()[:300],
                      **{name: values[name] for name in FIELDS})
    session.add(entry)
    lines = [f"Why {n}: {values[name]}" for n, name in enumerate(WHYS[:4], 1)]
    lines += [f"Root cause: {values['root_cause']}",
              f"Action ({ACTION_KIND_LABELS[values['action_kind']]}): {values['action']}"
              + (f" {values['action_link']}" if values["action_link"] else "")]
    add_ticket_event(session, ticket.ref, "root_cause", actor=actor, note="\n".join(lines))
    return entry


def records_of(session: Session, ticket: Ticket) -> list[RootCause]:
    return list(session.scalars(select(RootCause).where(RootCause.ticket_id == ticket.id).order_by(RootCause.id)))


def mark_done(session: Session, ref: str, record_id, *, actor: str) -> RootCause:
    """Mark a record's action done (once), audited; TicketError when there is no such record on the ticket."""
    try:
        record_id = int(str(record_id))
    except ValueError:
        raise TicketError("root_cause_id", "root_cause_id must be a whole number") from None
    entry = session.get(RootCause, record_id)
    ticket = session.get(Ticket, entry.ticket_id) if entry is not None else None
    if ticket is None or ticket.ref != ref:
        raise TicketError("root_cause_id", f"ticket {ref} has no root cause {record_id}")
    if entry.action_done_at is None:
        entry.action_done_at, entry.action_done_by = utcnow(), actor
        audit(session, actor=actor, action="ticket.root_cause_action_done", subject_type="ticket", subject_id=ref,
              ticket=ref, details={"root_cause": entry.id, "action_kind": entry.action_kind, "action": entry.action,
                                   "action_link": entry.action_link})
    return entry


def by_root_cause(session: Session, stats_filter: StatsFilter, limit: int = MAX_GROUPS) -> list[dict]:
    """Records made in the range, grouped by root cause (most escalations first), with their distinct actions.

    One aggregate over the range's records (ix_root_causes_created), not the records themselves: a
    history of a million tickets holds tens of thousands of them.
    """
    since = datetime.combine(stats_filter.start, time.min)
    until = datetime.combine(stats_filter.end + timedelta(days=1), time.min)
    done = func.sum(case((RootCause.action_done_at.is_not(None), 1), else_=0))
    query = (select(RootCause.root_key, func.min(RootCause.root_cause), RootCause.action_kind,
                    func.min(RootCause.action), RootCause.action_link, func.count(RootCause.id), done)
             .where(RootCause.created_at >= since, RootCause.created_at < until)
             .group_by(RootCause.root_key, RootCause.action_kind, func.lower(RootCause.action),
                       RootCause.action_link))
    if stats_filter.category or stats_filter.team:
        query = query.join(Ticket, Ticket.id == RootCause.ticket_id)
    if stats_filter.category:
        query = query.where(Ticket.category == stats_filter.category)
    if stats_filter.team:
        query = query.where(Ticket.team == stats_filter.team)
    groups: dict[str, dict] = {}
    for key, cause, kind, action, link, count, done_count in session.execute(query):
        group = groups.setdefault(key, {"root_cause": cause, "escalations": 0, "actions": [], "done": 0})
        group["escalations"] += int(count)
        group["done"] += int(done_count or 0)
        group["actions"].append({"kind": kind, "action": action, "link": link, "escalations": int(count),
                                 "done": int(done_count or 0)})
    rows = sorted(groups.values(), key=lambda group: (-group["escalations"], group["root_cause"]))
    for row in rows:
        row["actions"].sort(key=lambda action: (-action["escalations"], action["action"]))
    return rows[:limit]
