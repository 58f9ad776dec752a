"""The demo team's own records: the sprints it completed, and the 5-whys records of the escalations it closed.

Written once, after the ticket history: sprints of SPRINT_DAYS back from yesterday over the history, and a
structured record (with an action, about half of them done) for each root cause the history wrote as text.
"""
from __future__ import annotations

import random
import re
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from console.deflection.models import RootCause, Sprint, Ticket, TicketEvent

# The action each demo root cause calls for, by the words of its fifth why.
ACTIONS = {
    "the deploy runbook": ("runbook", "Add 'resume the retry queue' to the deploy runbook", ""),
    "not categorised": ("task", "A task for the data fix support asks for most", ""),
    "never reviewed": ("product_fix", "Ask to confirm the email address at signup",
                       "https://git.example.com/shop/issues/412"),
}
_WHY = re.compile(r"Why (\d): (.*)")


def load_team_records(session: Session, *, today: date, history_days: int, sprint_days: int, seed: int) -> list[str]:
    """Add the demo sprints and root-cause records unless there are some already; report lines. No commit."""
    if session.scalar(select(func.count(Sprint.id))) or session.scalar(select(func.count(RootCause.id))):
        return ["Sprints and root causes: already recorded"]
    rng = random.Random(seed)
    sprints, end = [], today - timedelta(days=1)
    while end - timedelta(days=sprint_days - 1) >= today - timedelta(days=history_days):
        start = end - timedelta(days=sprint_days - 1)
        sprints.append((start, end))
        end = start - timedelta(days=1)
    for number, (start, end) in enumerate(reversed(sprints), 1):
        planned = rng.randint(30, 42)
        session.add(Sprint(name=f"Sprint {number}", starts_on=start, ends_on=end, planned_points=planned,
                           completed_points=planned - rng.randint(0, 12), created_by="demo-data"))
    records = 0
    for ticket_id, created_at, actor, note in session.execute(
            select(TicketEvent.ticket_id, TicketEvent.created_at, TicketEvent.actor, TicketEvent.note)
            .join(Ticket, Ticket.id == TicketEvent.ticket_id).where(TicketEvent.kind == "root_cause")):
        whys = dict(match.groups() for match in map(_WHY.fullmatch, note.splitlines()) if match)
        action = next((value for words, value in ACTIONS.items() if words in whys.get("5", "")), None)
        if len(whys) != 5 or action is None:
            continue
        kind, what, link = action
        done = rng.random() < 0.5
        session.add(RootCause(ticket_id=ticket_id, created_at=created_at, actor=actor,
                              **{f"why_{n}": whys[str(n)].rstrip(".") for n in range(1, 5)},
                              root_cause=whys["5"].rstrip("."), root_key=whys["5"].rstrip(".").casefold(),
                              action_kind=kind, action=what, action_link=link,
                              action_done_at=created_at + timedelta(days=3) if done else None,
                              action_done_by=actor if done else ""))
        records += 1
    return [f"Sprints and root causes: {len(sprints)} sprints, {records} root-cause records"]
