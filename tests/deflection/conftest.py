"""Helpers for the deflection tests: events on tickets, and the rollup totals read back."""
from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from console.deflection.models import TicketRollup

T0 = datetime(2026, 3, 2, 9, 0)  # a Monday


def story(*steps) -> list[SimpleNamespace]:
    """Plain event objects for the pure outcome rules: story(("task_run", {"task": "x", ...}), ...)."""
    events = []
    for number, step in enumerate(steps):
        kind, fields = step if isinstance(step, tuple) else (step, {})
        base = {"task": "", "run_id": None, "run_status": "", "undo_of": None, "runbook": "", "escalation_class": "",
                "category": "", "missing_tool": "", "assignee": "", "note": "", "minutes": 0,
                "created_at": T0 + timedelta(minutes=10 * number), "actor": "agent@example.com"}
        events.append(SimpleNamespace(kind=kind, **(base | fields)))
    return events


@pytest.fixture
def event(app, console_db):
    """event(ref, kind, minutes_after_T0=0, **fields): add a ticket event inside the app, as the runner does."""
    from console.deflection.tickets import add_ticket_event

    def add(ref: str, kind: str, at: float = 0, *, actor: str = "agent@example.com", **fields):
        with app.app_context():
            return add_ticket_event(console_db, ref, kind, actor=actor, created_at=T0 + timedelta(minutes=at),
                                    **fields)

    return add


def rollup_by_outcome(session, grain: str = "d") -> dict[str, int]:
    rows = session.execute(select(TicketRollup.outcome, func.sum(TicketRollup.tickets))
                           .where(TicketRollup.grain == grain).group_by(TicketRollup.outcome))
    return {outcome: int(total) for outcome, total in rows if total}

