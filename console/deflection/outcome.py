"""A ticket's outcome, derived from its events (oldest first) and never typed in.

The rules:

- `open`: nothing decisive yet.
- Any escalation makes the ticket `escalated`, even one after a resolution, and it stays
  `escalated` once decided again (a developer closing the escalation resolves it, and the
  outcome is still `escalated`: the ticket cost developer time).
- `reopened` sends the ticket back to `open` until the next resolution or escalation, and a
  reopened ticket no longer counts as deflected: the task runs and runbook views before the
  reopen did not settle it, so only those after the reopen can deflect it again.
- Resolved with a succeeded task run (since the last reopen): `deflected_by_task`, credited to
  the last such task; else with a runbook viewed: `deflected_by_runbook`; else plain `resolved`.
- An undo run (a task_run event with `undo_of`) cancels the run it undid: that run no longer
  deflects anything.
- An escalation after a succeeded task run is a **false deflection** of that task (the last
  one that succeeded before the escalation, reopens included): the tool looked like it had
  solved the ticket, and it had not.
- `closed_at` is when the outcome was reached: the first escalation for `escalated` (it never
  moves afterwards), else the last resolution.
- An escalation is closed for the developer by a resolution after it; a later escalation
  opens it again. Developer minutes add up over every `dev_time` event.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

TERMINAL_RUN_STATUSES = ("succeeded", "failed", "refused", "rejected", "interrupted")


@dataclass
class TicketFacts:
    """Everything the stats need about one ticket, folded from its events."""

    outcome: str = "open"
    closed_at: datetime | None = None
    task: str = ""
    false_deflection: bool = False
    category: str = ""
    escalation_class: str = ""
    missing_tool: str = ""
    assignee: str = ""
    escalated_at: datetime | None = None
    escalation_closed_at: datetime | None = None
    dev_minutes: int = 0


def derive_facts(events: Iterable) -> TicketFacts:
    """Fold events (objects with the TicketEvent attributes, oldest first) into TicketFacts."""
    facts = TicketFacts()
    escalated = resolved = decided = runbook_since_reopen = False
    resolved_at = first_escalated_at = None
    succeeded: dict[int | str, str] = {}  # every live succeeded run -> its task
    since_reopen: dict[int | str, str] = {}
    attempted = ""
    for number, event in enumerate(events):
        kind = event.kind
        if event.category:
            facts.category = event.category
        if kind == "task_run":
            attempted = event.task or attempted
            if event.run_status == "succeeded":
                undo_of = getattr(event, "undo_of", None)
                if undo_of is not None:
                    succeeded.pop(undo_of, None)
                    since_reopen.pop(undo_of, None)
                else:
                    key = event.run_id if event.run_id is not None else f"event-{number}"
                    succeeded[key] = since_reopen[key] = event.task
        elif kind == "runbook_viewed":
            runbook_since_reopen = True
        elif kind == "escalated":
            if succeeded:
                facts.false_deflection = True
                facts.task = list(succeeded.values())[-1]
            if first_escalated_at is None:
                first_escalated_at = event.created_at
            escalated = decided = True
            facts.escalation_class = event.escalation_class
            facts.missing_tool = event.missing_tool
            facts.assignee = getattr(event, "assignee", "") or facts.assignee
            facts.escalated_at = event.created_at
            facts.escalation_closed_at = None
        elif kind == "resolved":
            resolved = decided = True
            resolved_at = event.created_at
            if escalated and facts.escalation_closed_at is None:
                facts.escalation_closed_at = event.created_at
        elif kind == "reopened":
            resolved = decided = False
            since_reopen.clear()
            runbook_since_reopen = False
        elif kind == "dev_time":
            facts.dev_minutes += event.minutes or 0
    if not facts.task:
        facts.task = list(since_reopen.values())[-1] if since_reopen else attempted
    if not decided:
        facts.outcome = "open"
    elif escalated:
        facts.outcome, facts.closed_at = "escalated", first_escalated_at
    elif resolved:
        facts.closed_at = resolved_at
        if since_reopen:
            facts.outcome = "deflected_by_task"
        else:
            facts.outcome = "deflected_by_runbook" if runbook_since_reopen else "resolved"
    return facts


def derive_outcome(events: Iterable) -> str:
    """The outcome alone: `open`, `deflected_by_task`, `deflected_by_runbook`, `resolved` or `escalated`."""
    return derive_facts(events).outcome
